-- ARGV: index ('a' all, 't' team, 'u' user, 'o' model: the most selective the query names), afterSeq,
-- budget, limit, team, user, model (each '' = any or '=' .. value), fromMs, toMs.
-- Reads at most `budget` entries of the index after afterSeq and keeps those that match, at most `limit`.
-- Returns {next, end (1/0), then seq, ms, team, user, model, detail per entry}: next is the last seq
-- examined, end is 1 when fewer than `budget` were there to examine.
local index, after, budget, limit = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local team, user, model = opt(ARGV[7]), opt(ARGV[8]), opt(ARGV[9])
local from, to = tonumber(ARGV[10]), tonumber(ARGV[11])
local ikey
if index == 'o' then ikey = rmodel(model)
elseif index == 'u' then ikey = ruser(user)
elseif index == 't' then ikey = rteam(team)
else ikey = RALL end
local seqs = redis.call('ZRANGEBYSCORE', ikey, '(' .. after, '+inf', 'LIMIT', 0, budget)
local out = {after, 0}
local found = 0
local last = after
for _, s in ipairs(seqs) do
  if found == limit then
    out[1], out[2] = last, 0
    return out
  end
  last = s
  local a = redis.call('HMGET', rentry(s), 'ms', 't', 'u', 'o')
  if not a[1] then fail('EIO', 'corrupt repository: audit entry ' .. s .. ' is indexed but missing') end
  local ms = tonumber(a[1])
  if (not team or a[2] == team) and (not user or a[3] == user) and (not model or a[4] == model)
      and ms >= from and ms < to then
    found = found + 1
    local base = 2 + (found - 1) * 6
    out[base + 1], out[base + 2], out[base + 3], out[base + 4], out[base + 5] = s, a[1], a[2], a[3], a[4]
    out[base + 6] = redis.call('HGET', rentry(s), 'd')
  end
end
out[1], out[2] = last, (#seqs < budget) and 1 or 0
return out
