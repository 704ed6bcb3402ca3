-- ARGV: info. Heartbeats use the server's clock, so clients with skewed clocks agree on staleness.
local sid = num(redis.call('INCR', P .. 'nextSession'))
redis.call('ZADD', P .. 'sessions', server_ms(), sid)
redis.call('HSET', P .. 'sessionInfo', sid, ARGV[3])
return sid
