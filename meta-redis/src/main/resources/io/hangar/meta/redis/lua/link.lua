-- ARGV: ino, newParent, newName, most names a file may have. Returns the attributes after linking.
local ino, np, nn, maxLinks = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local t = need_inode(ino)
if t == 'd' then fail('EPERM', 'cannot hard-link directory ' .. ino) end
need_dir(np)
if entry(np, nn) then fail('EEXIST', nn .. ' exists in ' .. np) end
local n = tonumber(redis.call('HGET', ik(ino), 'n'))
if n == 0 then fail('ENOENT', 'inode ' .. ino .. ' was unlinked') end
if n >= maxLinks then fail('EMLINK', 'inode ' .. ino .. ' has ' .. num(n) .. ' names already') end
add_parent(ino, np)
redis.call('HINCRBY', ik(ino), 'n', 1)
redis.call('HSET', ik(ino), 'ct', NOW)
redis.call('ZADD', dk(np), 0, member(nn, t, ino))
touch_dir(np)
return redis.call('HGETALL', ik(ino))
