-- ARGV: session
local sid = ARGV[3]
if not redis.call('ZSCORE', P .. 'sessions', sid) then fail('ENOENT', 'session ' .. sid .. ' has ended') end
redis.call('ZADD', P .. 'sessions', server_ms(), sid)
return 1
