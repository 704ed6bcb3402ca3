-- ARGV: session, ino
local sid, ino = ARGV[3], ARGV[4]
need_inode(ino)
if not redis.call('ZSCORE', P .. 'sessions', sid) then fail('ENOENT', 'session ' .. sid .. ' has ended') end
redis.call('HINCRBY', P .. 'so' .. sid, ino, 1)
redis.call('HINCRBY', OPENS, ino, 1)
return 1
