-- ARGV: ino, chunk index, 24-byte record, end of the record in the chunk, mtime
local ino, idx, rec, recEnd, mtime = ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), ARGV[7]
local t = need_inode(ino)
if t == 'd' then fail('EISDIR', 'inode ' .. ino .. ' is a directory') end
if t ~= 'f' then fail('EINVAL', 'inode ' .. ino .. ' is not a regular file') end
local old = tonumber(redis.call('HGET', ik(ino), 'l'))
local finish = idx * chunk_size() + recEnd
if finish > MAX_FILE_SIZE then fail('EFBIG', 'end ' .. num(finish) .. ' exceeds the largest file') end
local len = math.max(old, finish)
local delta = space(len) - space(old)
check_space(delta)
redis.call('RPUSH', ck(ino, idx), rec)
redis.call('ZADD', cik(ino), idx, num(idx))
incref(rec)
redis.call('HSET', ik(ino), 'l', num(len), 'mt', mtime, 'ct', mtime)
if delta ~= 0 then redis.call('INCRBY', P .. 'usedSpace', num(delta)) end
return 1
