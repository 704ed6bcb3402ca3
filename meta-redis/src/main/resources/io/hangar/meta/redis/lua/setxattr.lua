-- ARGV: ino, name, value, flags (1 CREATE, 2 REPLACE)
local ino, name, value, flags = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
need_inode(ino)
local exists = redis.call('HEXISTS', xk(ino), name) == 1
if flags == 1 and exists then fail('EEXIST', 'attribute ' .. name .. ' exists on ' .. ino) end
if flags == 2 and not exists then fail('ENODATA', 'no attribute ' .. name .. ' on ' .. ino) end
redis.call('HSET', xk(ino), name, value)
redis.call('HSET', ik(ino), 'ct', NOW)
return 1
