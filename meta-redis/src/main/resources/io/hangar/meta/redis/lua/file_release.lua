-- ARGV: session, ino. Releasing what the session does not hold open is a no-op.
local sid, ino = ARGV[3], ARGV[4]
local so = P .. 'so' .. sid
if not redis.call('HGET', so, ino) then return 0 end
if redis.call('HINCRBY', so, ino, -1) <= 0 then redis.call('HDEL', so, ino) end
if redis.call('HINCRBY', OPENS, ino, -1) <= 0 then
  redis.call('HDEL', OPENS, ino)
  if redis.call('ZSCORE', DELFILES, ino) then reclaim(ino) end
end
return 1
