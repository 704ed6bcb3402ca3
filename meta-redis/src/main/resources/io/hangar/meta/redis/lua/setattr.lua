-- ARGV: ino, then field/value pairs to set (mode, owner, times; ctime is always among them).
local ino = ARGV[3]
need_inode(ino)
local args = {'HSET', ik(ino)}
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
redis.call(unpack(args))
return redis.call('HGETALL', ik(ino))
