-- ARGV: timeout ms, batch size. Ends up to one batch of stale sessions; returns how many.
local cutoff = server_ms() - tonumber(ARGV[3])
local stale = redis.call('ZRANGEBYSCORE', P .. 'sessions', '-inf', '(' .. num(cutoff), 'LIMIT', 0, tonumber(ARGV[4]))
for _, sid in ipairs(stale) do close_session(sid) end
return #stale
