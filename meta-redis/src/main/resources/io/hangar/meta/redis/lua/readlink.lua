-- ARGV: ino
local ino = ARGV[3]
if need_inode(ino) ~= 'l' then fail('EINVAL', 'inode ' .. ino .. ' is not a symlink') end
return redis.call('GET', sk(ino))
