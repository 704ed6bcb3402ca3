-- ARGV: ino
local ino = ARGV[3]
need_inode(ino)
return redis.call('HKEYS', xk(ino))
