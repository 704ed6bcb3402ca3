-- ARGV: ino, chunk index, count of expected records, expected records (concatenated), replacement
-- records (concatenated). Returns 1 if replaced, 0 if the chunk no longer starts with the expected records.
local ino, idx, n, expected, replacement = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]
local t = need_inode(ino)
if t == 'd' then fail('EISDIR', 'inode ' .. ino .. ' is a directory') end
if t ~= 'f' then fail('EINVAL', 'inode ' .. ino .. ' is not a regular file') end
-- A chunk past the end of the file has nothing to compact (records there would show if the file grew).
if idx * chunk_size() >= tonumber(redis.call('HGET', ik(ino), 'l')) then return 0 end
local key = ck(ino, idx)
if n > 0 then
  local cur = redis.call('LRANGE', key, 0, n - 1)
  if #cur ~= n or table.concat(cur) ~= expected then return 0 end
end
local recs = {}
for i = 1, #replacement, 24 do recs[#recs + 1] = string.sub(replacement, i, i + 23) end
-- References are taken before they are given up, so a record kept by the compaction never drops to zero.
for _, rec in ipairs(recs) do incref(rec) end
if n > 0 then redis.call('LTRIM', key, n, -1) end
for i = #recs, 1, -1 do redis.call('LPUSH', key, recs[i]) end
for i = 1, #expected, 24 do decref(string.sub(expected, i, i + 23)) end
-- The chunk index lists exactly the chunks that hold records: unlink and truncate walk it.
if redis.call('EXISTS', key) == 1 then
  redis.call('ZADD', cik(ino), idx, num(idx))
else
  redis.call('ZREM', cik(ino), num(idx))
end
return 1
