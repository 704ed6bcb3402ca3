-- ARGV: parent, name, type, mode, uid, gid, rdev, symlink target. Returns the new inode number.
local parent, name, t, target = ARGV[3], ARGV[4], ARGV[5], ARGV[10]
need_dir(parent)
if entry(parent, name) then fail('EEXIST', name .. ' exists in ' .. parent) end
check_inodes(1)
local ino = num(redis.call('INCR', P .. 'nextInode'))
local len = 0
if t == 'l' then
  len = #target
  redis.call('SET', sk(ino), target)
end
redis.call('HSET', ik(ino), 't', t, 'mo', ARGV[6], 'u', ARGV[7], 'g', ARGV[8], 'n', t == 'd' and '2' or '1',
  'l', num(len), 'at', NOW, 'mt', NOW, 'ct', NOW, 'rd', ARGV[9], 'p', parent)
redis.call('ZADD', dk(parent), 0, member(name, t, ino))
if t == 'd' then redis.call('HINCRBY', ik(parent), 'n', 1) end
touch_dir(parent)
redis.call('INCR', P .. 'usedInodes')
return ino
