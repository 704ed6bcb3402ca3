-- ARGV: parent, name. Returns {ino, attribute hash} in one round trip.
local parent, name = ARGV[3], ARGV[4]
need_dir(parent)
local ino
if name == '.' then
  ino = parent
elseif name == '..' then
  ino = redis.call('HGET', ik(parent), 'p')
else
  local t
  t, ino = entry(parent, name)
  if not t then fail('ENOENT', name .. ' not found in ' .. parent) end
end
return {ino, redis.call('HGETALL', ik(ino))}
