-- The hottest path (every path component a client resolves), so it runs without the shared prelude:
-- building the prelude's closures would cost more than the lookup itself.
-- ARGV: prefix, clock (unused), parent, name. Returns {ino, attribute hash} in one round trip.
local P, parent, name = ARGV[1], ARGV[3], ARGV[4]
local t = redis.call('HGET', P .. 'i' .. parent, 't')
if not t then return redis.error_reply('ENOENT no inode ' .. parent) end
if t ~= 'd' then return redis.error_reply('ENOTDIR inode ' .. parent .. ' is not a directory') end
local ino
if name == '.' then
  ino = parent
elseif name == '..' then
  ino = redis.call('HGET', P .. 'i' .. parent, 'p')
else
  -- Members are "name NUL type ino": the only member in [name NUL, name \1) is this name's.
  local r = redis.call('ZRANGEBYLEX', P .. 'd' .. parent, '[' .. name .. '\0', '(' .. name .. '\1', 'LIMIT', 0, 1)
  if #r == 0 then return redis.error_reply('ENOENT ' .. name .. ' not found in ' .. parent) end
  ino = string.sub(r[1], #name + 3)
end
return {ino, redis.call('HGETALL', P .. 'i' .. ino)}
