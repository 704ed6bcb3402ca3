-- Prepended to every script. KEYS[1] is the volume's settings key: it only routes the call to the node
-- that owns the volume's hash slot; every other key is derived from the prefix ARGV[1].
-- ARGV[2] is the engine clock in ns, kept as a string: Lua numbers are doubles and ns times exceed 2^53.
-- Scripts validate everything before their first write: Redis does not roll back a script that fails.
local P, NOW = ARGV[1], ARGV[2]

local function fail(code, msg)
  error({err = code .. ' ' .. msg})
end

local function num(n)
  return string.format('%d', n)
end

local function ik(ino) return P .. 'i' .. ino end
local function dk(ino) return P .. 'd' .. ino end
local function xk(ino) return P .. 'x' .. ino end
local function sk(ino) return P .. 's' .. ino end
local function pk(ino) return P .. 'p' .. ino end
local function ck(ino, idx) return P .. 'c' .. ino .. '_' .. num(idx) end
-- The indexes of the chunks a file holds (sorted set, score = index): unlink, truncate and clone walk only
-- the chunks that exist, so their work follows the data stored, never the file's length.
local function cik(ino) return P .. 'C' .. ino end
local SETTING, SLICEREF, SLICES, DELSLICES, DELFILES, OPENS =
  P .. 'setting', P .. 'sliceRef', P .. 'slices', P .. 'delSlices', P .. 'delFiles', P .. 'opens'
-- The largest file length (MetadataEngine.MAX_FILE_SIZE, 2^50): exact in a Lua double.
local MAX_FILE_SIZE = 1125899906842624

-- Usage is counted in 4 KiB units, as a block device would report it.
local function space(len)
  return math.ceil(len / 4096) * 4096
end

local function chunk_size()
  return tonumber(redis.call('HGET', SETTING, 'chunkSize'))
end

local function setting_limit(field)
  return tonumber(redis.call('HGET', SETTING, field) or '0')
end

local function counter(name)
  return tonumber(redis.call('GET', P .. name) or '0')
end

local function need_inode(ino)
  local t = redis.call('HGET', ik(ino), 't')
  if not t then fail('ENOENT', 'no inode ' .. ino) end
  return t
end

local function need_dir(ino)
  if need_inode(ino) ~= 'd' then fail('ENOTDIR', 'inode ' .. ino .. ' is not a directory') end
end

-- A directory is a sorted set of members "name NUL type ino" (all scores 0): the lexicographic order is
-- the listing order, and one name is found with a range query since names hold no NUL.
local function entry(dir, name)
  local r = redis.call('ZRANGEBYLEX', dk(dir), '[' .. name .. '\0', '(' .. name .. '\1', 'LIMIT', 0, 1)
  if #r == 0 then return nil end
  local m = r[1]
  return string.sub(m, #name + 2, #name + 2), string.sub(m, #name + 3), m
end

local function member(name, t, ino)
  return name .. '\0' .. t .. ino
end

local function split_member(m)
  local z = string.find(m, '\0', 1, true)
  return string.sub(m, 1, z - 1), string.sub(m, z + 1, z + 1), string.sub(m, z + 2)
end

local function touch_dir(dir)
  redis.call('HSET', ik(dir), 'mt', NOW, 'ct', NOW)
end

local function check_inodes(n)
  local limit = setting_limit('inodeLimit')
  if limit > 0 and counter('usedInodes') + n > limit then
    fail('ENOSPC', 'inode limit of ' .. num(limit) .. ' reached')
  end
end

local function check_space(delta)
  local cap = setting_limit('capacityBytes')
  if delta > 0 and cap > 0 and counter('usedSpace') + delta > cap then
    fail('ENOSPC', 'capacity of ' .. num(cap) .. ' bytes reached')
  end
end

-- EINVAL if dir is ino itself or lies below it (a directory moved or cloned into its own subtree).
local function check_not_below(ino, dir)
  local cur, hops = dir, 0
  while cur ~= '1' do
    if cur == ino then fail('EINVAL', 'inode ' .. ino .. ' would move below itself') end
    cur = redis.call('HGET', ik(cur), 'p')
    hops = hops + 1
    if not cur or hops > 100000 then fail('EIO', 'broken parent chain above ' .. dir) end
  end
  if ino == '1' then fail('EINVAL', 'the root cannot move below itself') end
end

-- Slice records are 24 bytes: id u64, size u32, off u32, len u32, pos u32, big-endian. Each record of a
-- stored slice (id > 0) holds one reference in sliceRef; at zero the slice is queued for block deletion.
-- Every slice with blocks in the store (referenced or waiting for deletion) is also in the sorted set
-- `slices` (score = id), so fsck can walk slices in id order, page by page.
local function incref(rec)
  local id, size = struct.unpack('>I8I4', rec)
  if id == 0 then return end
  local f = num(id) .. '_' .. num(size)
  if redis.call('HINCRBY', SLICEREF, f, 1) == 1 then redis.call('ZADD', SLICES, id, f) end
end

local function decref(rec)
  local id, size = struct.unpack('>I8I4', rec)
  if id == 0 then return end
  local f = num(id) .. '_' .. num(size)
  if redis.call('HINCRBY', SLICEREF, f, -1) <= 0 then
    redis.call('HDEL', SLICEREF, f)
    redis.call('ZADD', DELSLICES, 'NX', 0, f)
  end
end

local function drop_chunk(ino, idx)
  local key = ck(ino, idx)
  for _, rec in ipairs(redis.call('LRANGE', key, 0, -1)) do decref(rec) end
  redis.call('DEL', key)
  redis.call('ZREM', cik(ino), num(idx))
end

-- The indexes (numbers) of the chunks of ino from index `from` on, in order.
local function chunks_from(ino, from)
  local out = {}
  for i, m in ipairs(redis.call('ZRANGEBYSCORE', cik(ino), num(from), '+inf')) do out[i] = tonumber(m) end
  return out
end

local function nchunks(len, cs)
  return math.ceil(len / cs)
end

-- Deletes an inode with everything it owns and gives back its usage.
local function reclaim(ino)
  local a = redis.call('HMGET', ik(ino), 't', 'l')
  if not a[1] then return end
  if a[1] == 'f' then
    local len = tonumber(a[2])
    for _, idx in ipairs(chunks_from(ino, 0)) do drop_chunk(ino, idx) end
    redis.call('DECRBY', P .. 'usedSpace', num(space(len)))
  end
  redis.call('DEL', ik(ino), xk(ino), sk(ino), pk(ino), dk(ino), cik(ino))
  redis.call('ZREM', DELFILES, ino)
  redis.call('DECR', P .. 'usedInodes')
end

-- Hard-link parents: a file linked from more than one place keeps parent 0 in its attributes and the
-- count of its names per directory in p<ino>; back to one name, the parent is restored.
local function add_parent(ino, dir)
  if redis.call('EXISTS', pk(ino)) == 0 then
    redis.call('HSET', pk(ino), redis.call('HGET', ik(ino), 'p'), 1)
  end
  redis.call('HINCRBY', pk(ino), dir, 1)
  redis.call('HSET', ik(ino), 'p', '0')
end

local function drop_parent(ino, dir, nlink)
  if redis.call('EXISTS', pk(ino)) == 0 then return end
  if redis.call('HINCRBY', pk(ino), dir, -1) <= 0 then redis.call('HDEL', pk(ino), dir) end
  if nlink <= 1 then
    local rest = redis.call('HKEYS', pk(ino))
    redis.call('HSET', ik(ino), 'p', rest[1] or '0')
    redis.call('DEL', pk(ino))
  end
end

local function move_parent(ino, from, to)
  if redis.call('EXISTS', pk(ino)) == 0 then
    redis.call('HSET', ik(ino), 'p', to)
  else
    if redis.call('HINCRBY', pk(ino), from, -1) <= 0 then redis.call('HDEL', pk(ino), from) end
    redis.call('HINCRBY', pk(ino), to, 1)
  end
end

-- Removes one name of a non-directory (the entry itself is removed by the caller). The last name of an
-- inode that some session holds open parks it in delFiles until the last release.
local function drop_link(dir, ino)
  local n = redis.call('HINCRBY', ik(ino), 'n', -1)
  redis.call('HSET', ik(ino), 'ct', NOW)
  if n > 0 then
    drop_parent(ino, dir, n)
  elseif redis.call('HEXISTS', OPENS, ino) == 1 then
    redis.call('DEL', pk(ino))
    redis.call('ZADD', DELFILES, 0, ino)
  else
    reclaim(ino)
  end
end

-- An empty directory removed from dir.
local function drop_dir(dir, ino)
  redis.call('HINCRBY', ik(dir), 'n', -1)
  reclaim(ino)
end

local function close_session(sid)
  local so = P .. 'so' .. sid
  local opened = redis.call('HGETALL', so)
  for i = 1, #opened, 2 do
    local ino = opened[i]
    if redis.call('HINCRBY', OPENS, ino, -tonumber(opened[i + 1])) <= 0 then
      redis.call('HDEL', OPENS, ino)
      if redis.call('ZSCORE', DELFILES, ino) then reclaim(ino) end
    end
  end
  redis.call('DEL', so)
  redis.call('ZREM', P .. 'sessions', sid)
  redis.call('HDEL', P .. 'sessionInfo', sid)
end

local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
