-- ARGV: parent, name
local parent, name = ARGV[3], ARGV[4]
need_dir(parent)
local t, ino, m = entry(parent, name)
if not t then fail('ENOENT', name .. ' not found in ' .. parent) end
if t == 'd' then fail('EISDIR', name .. ' is a directory') end
redis.call('ZREM', dk(parent), m)
drop_link(parent, ino)
touch_dir(parent)
return 1
