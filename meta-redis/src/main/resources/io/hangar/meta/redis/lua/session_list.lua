-- ARGV: limit. {sid, info, ms since its heartbeat by the server's clock, ...}, most recent heartbeat first.
local now = server_ms()
local found = redis.call('ZREVRANGE', P .. 'sessions', 0, tonumber(ARGV[3]) - 1, 'WITHSCORES')
local out = {}
for i = 1, #found, 2 do
  out[#out + 1] = found[i]
  out[#out + 1] = redis.call('HGET', P .. 'sessionInfo', found[i]) or ''
  out[#out + 1] = tostring(now - tonumber(found[i + 1]))
end
return out
