-- ARGV: ino, length. Returns the attributes after the change.
local ino, len = ARGV[3], tonumber(ARGV[4])
local t = need_inode(ino)
if t == 'd' then fail('EISDIR', 'inode ' .. ino .. ' is a directory') end
if t ~= 'f' then fail('EINVAL', 'inode ' .. ino .. ' is not a regular file') end
if len > MAX_FILE_SIZE then fail('EFBIG', 'length ' .. num(len) .. ' exceeds the largest file') end
local old = tonumber(redis.call('HGET', ik(ino), 'l'))
local delta = space(len) - space(old)
check_space(delta)
if len < old then
  local cs = chunk_size()
  for _, idx in ipairs(chunks_from(ino, nchunks(len, cs))) do drop_chunk(ino, idx) end
  local pos = len % cs
  if pos > 0 then
    -- The kept part of the last chunk may hold data past the new end: cover it with a hole so that
    -- growing the file again reads zeros there.
    local idx = math.floor(len / cs)
    local holeEnd = math.min(cs, old - idx * cs)
    if redis.call('EXISTS', ck(ino, idx)) == 1 then
      redis.call('RPUSH', ck(ino, idx), struct.pack('>I8I4I4I4I4', 0, holeEnd - pos, 0, holeEnd - pos, pos))
    end
  end
end
redis.call('HSET', ik(ino), 'l', num(len), 'mt', NOW, 'ct', NOW)
if delta ~= 0 then redis.call('INCRBY', P .. 'usedSpace', num(delta)) end
return redis.call('HGETALL', ik(ino))
