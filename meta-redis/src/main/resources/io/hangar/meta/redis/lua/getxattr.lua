-- ARGV: ino, name
local ino, name = ARGV[3], ARGV[4]
need_inode(ino)
local v = redis.call('HGET', xk(ino), name)
if not v then fail('ENODATA', 'no attribute ' .. name .. ' on ' .. ino) end
return v
