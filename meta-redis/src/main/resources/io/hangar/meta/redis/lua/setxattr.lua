-- ARGV: ino, name, value, flags (1 CREATE, 2 REPLACE), keep_ctime (1: leave ct alone)
local ino, name, value, flags, keep_ctime = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7] == '1'
need_inode(ino)
local exists = redis.call('HEXISTS', xk(ino), name) == 1
if flags == 1 and exists then fail('EEXIST', 'attribute ' .. name .. ' exists on ' .. ino) end
if flags == 2 and not exists then fail('ENODATA', 'no attribute ' .. name .. ' on ' .. ino) end
redis.call('HSET', xk(ino), name, value)
if not keep_ctime then redis.call('HSET', ik(ino), 'ct', NOW) end
return 1
