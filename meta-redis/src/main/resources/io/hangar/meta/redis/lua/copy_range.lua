-- ARGV: srcIno, srcOff, dstIno, dstOff, len, mtime. Returns the bytes copied (len cut at the source's end).
-- Makes the destination range read as the source range without copying data: a hole over what each
-- touched destination chunk held there, then the source's records clipped and shifted, each with a new
-- reference. Only chunks in the chunk indexes are read, so the work follows the records, not the length.
local src, soff, dst, doff, len, mtime =
  ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local function need_file(ino)
  local t = need_inode(ino)
  if t == 'd' then fail('EISDIR', 'inode ' .. ino .. ' is a directory') end
  if t ~= 'f' then fail('EINVAL', 'inode ' .. ino .. ' is not a regular file') end
end
need_file(src)
need_file(dst)
local n = math.min(len, math.max(0, tonumber(redis.call('HGET', ik(src), 'l')) - soff))
if n <= 0 then return 0 end
if doff + n > MAX_FILE_SIZE then fail('EFBIG', 'copy to ' .. num(doff) .. ' ends past the largest file') end
if src == dst and soff < doff + n and doff < soff + n then fail('EINVAL', 'overlapping ranges of inode ' .. src) end
local old = tonumber(redis.call('HGET', ik(dst), 'l'))
local newLen = math.max(old, doff + n)
local delta = space(newLen) - space(old)
check_space(delta)

local cs = chunk_size()
local out, order = {}, {}
local function put(d, rec)
  if not out[d] then
    out[d] = {}
    order[#order + 1] = d
  end
  local l = out[d]
  l[#l + 1] = rec
end
local function hole(pos, l)
  return struct.pack('>I8I4I4I4I4', 0, l, 0, l, pos)
end
local function chunks(ino, from, to)
  return redis.call('ZRANGEBYSCORE', cik(ino), num(math.floor(from / cs)), num(math.floor((to - 1) / cs)))
end
-- Read everything before the first write: with one inode, the source's records stay as they were.
for _, m in ipairs(chunks(dst, doff, doff + n)) do
  local d = tonumber(m)
  local from, to = math.max(doff, d * cs), math.min(doff + n, (d + 1) * cs)
  put(d, hole(from - d * cs, to - from))
end
local shift = doff - soff
for _, m in ipairs(chunks(src, soff, soff + n)) do
  local c = tonumber(m)
  local base = c * cs
  for _, rec in ipairs(redis.call('LRANGE', ck(src, c), 0, -1)) do
    local id, size, off, l, pos = struct.unpack('>I8I4I4I4I4', rec)
    local from, to = math.max(base + pos, soff), math.min(base + pos + l, soff + n)
    while from < to do
      local at = from + shift
      local d = math.floor(at / cs)
      local piece = math.min(to + shift, (d + 1) * cs) - at
      local p = at - d * cs
      if id == 0 then
        put(d, hole(p, piece))
      else
        put(d, struct.pack('>I8I4I4I4I4', id, size, off + (from - base - pos), piece, p))
      end
      from = from + piece
    end
  end
end
for _, d in ipairs(order) do
  local recs = out[d]
  for _, rec in ipairs(recs) do incref(rec) end
  -- unpack() is bounded by the Lua C stack: push long slice lists in batches.
  for i = 1, #recs, 1000 do
    redis.call('RPUSH', ck(dst, d), unpack(recs, i, math.min(i + 999, #recs)))
  end
  redis.call('ZADD', cik(dst), d, num(d))
end
redis.call('HSET', ik(dst), 'l', num(newLen), 'mt', mtime, 'ct', mtime)
if delta ~= 0 then redis.call('INCRBY', P .. 'usedSpace', num(delta)) end
return n
