-- ARGV: min, max (ZRANGEBYLEX bounds of the key index, byte order), limit. Returns key, value, version for
-- each record of the range, flat, read in one go so no record pairs a value with another write's version.
local keys = redis.call('ZRANGEBYLEX', RKEYS, ARGV[3], ARGV[4], 'LIMIT', 0, tonumber(ARGV[5]))
if #keys == 0 then return {} end
local vals = redis.call('HMGET', RVAL, unpack(keys))
local vers = redis.call('HMGET', RVER, unpack(keys))
local out = {}
for i, k in ipairs(keys) do
  if not vals[i] or not vers[i] then fail('EIO', 'corrupt repository: indexed key without record') end
  out[#out + 1] = k
  out[#out + 1] = vals[i]
  out[#out + 1] = vers[i]
end
return out
