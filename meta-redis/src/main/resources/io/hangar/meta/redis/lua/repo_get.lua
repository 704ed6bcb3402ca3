-- ARGV: key. Returns {value, version}, or nil if the key is absent; value and version read together.
local k = ARGV[3]
local v = redis.call('HGET', RVAL, k)
if not v then return nil end
local n = redis.call('HGET', RVER, k)
if not n then fail('EIO', 'corrupt repository: record without version') end
return {v, n}
