-- ARGV: nconditions, nwrites, nevents, then per condition: key, version (decimal; 0 = absent); per write:
-- key, 'p' value | 'd'; per event: team, user, model (each '' or '=' .. value), detail.
-- Returns 1 when applied, 0 when a condition did not hold (and nothing was written).
local nc, nw, ne = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local i = 6
for _ = 1, nc do
  if (redis.call('HGET', RVER, ARGV[i]) or '0') ~= ARGV[i + 1] then return 0 end
  i = i + 2
end
-- Everything that could make a write fail is checked before the first one: Redis does not roll back.
local w0 = i
for _ = 1, nw do
  local op = ARGV[i + 1]
  if op == 'p' then
    local n = redis.call('HGET', RVER, ARGV[i])
    if n and not string.match(n, '^%d+$') then fail('EIO', 'corrupt repository: bad version ' .. n) end
    i = i + 3
  elseif op == 'd' then
    i = i + 2
  else
    fail('EINVAL', 'bad repository write op')
  end
end
if #ARGV ~= i + 4 * ne - 1 then fail('EINVAL', 'bad repository commit arguments') end
if ne > 0 then
  local s = redis.call('GET', RSEQ)
  if s and not string.match(s, '^%d+$') then fail('EIO', 'corrupt repository: bad audit sequence ' .. s) end
end
i = w0
for _ = 1, nw do
  local k = ARGV[i]
  if ARGV[i + 1] == 'p' then
    redis.call('HSET', RVAL, k, ARGV[i + 2])
    redis.call('HINCRBY', RVER, k, 1)
    redis.call('ZADD', RKEYS, 0, k)
    i = i + 3
  else
    redis.call('HDEL', RVAL, k)
    redis.call('HDEL', RVER, k)
    redis.call('ZREM', RKEYS, k)
    i = i + 2
  end
end
if ne > 0 then
  local ms = num(server_ms())
  for _ = 1, ne do
    local team, user, model = opt(ARGV[i]), opt(ARGV[i + 1]), opt(ARGV[i + 2])
    local seq = redis.call('INCR', RSEQ)
    local s = num(seq)
    local e = rentry(s)
    redis.call('HSET', e, 'ms', ms, 'd', ARGV[i + 3])
    redis.call('ZADD', RALL, seq, s)
    if team then
      redis.call('HSET', e, 't', team)
      redis.call('ZADD', rteam(team), seq, s)
    end
    if user then
      redis.call('HSET', e, 'u', user)
      redis.call('ZADD', ruser(user), seq, s)
    end
    if model then
      redis.call('HSET', e, 'o', model)
      redis.call('ZADD', rmodel(model), seq, s)
    end
    i = i + 4
  end
end
return 1
