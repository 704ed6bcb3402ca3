-- ARGV: ino, name
local ino, name = ARGV[3], ARGV[4]
need_inode(ino)
if redis.call('HDEL', xk(ino), name) == 0 then fail('ENODATA', 'no attribute ' .. name .. ' on ' .. ino) end
redis.call('HSET', ik(ino), 'ct', NOW)
return 1
