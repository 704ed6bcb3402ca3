-- ARGV: parent, name
local parent, name = ARGV[3], ARGV[4]
need_dir(parent)
local t, ino, m = entry(parent, name)
if not t then fail('ENOENT', name .. ' not found in ' .. parent) end
if t ~= 'd' then fail('ENOTDIR', name .. ' is not a directory') end
if redis.call('ZCARD', dk(ino)) > 0 then fail('ENOTEMPTY', name .. ' is not empty') end
redis.call('ZREM', dk(parent), m)
drop_dir(parent, ino)
touch_dir(parent)
return 1
