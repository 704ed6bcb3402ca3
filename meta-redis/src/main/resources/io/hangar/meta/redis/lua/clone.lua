-- ARGV: srcIno, dstParent, dstName, uid, gid. Copies a file or a whole tree in one script, so the copy
-- appears complete or not at all; data is shared: every slice record gains a reference.
local src, dp, dn, uid, gid = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local st = need_inode(src)
need_dir(dp)
if entry(dp, dn) then fail('EEXIST', dn .. ' exists in ' .. dp) end
if st == 'd' then check_not_below(src, dp) end
if redis.call('HGET', ik(src), 'n') == '0' then fail('ENOENT', 'inode ' .. src .. ' was unlinked') end

-- First pass: size the copy, so the limits are checked before anything is written.
local inodes, bytes, stack = 0, 0, {src}
while #stack > 0 do
  local ino = table.remove(stack)
  local a = redis.call('HMGET', ik(ino), 't', 'l')
  inodes = inodes + 1
  if a[1] == 'f' then bytes = bytes + space(tonumber(a[2])) end
  if a[1] == 'd' then
    for _, m in ipairs(redis.call('ZRANGE', dk(ino), 0, -1)) do
      local _, _, child = split_member(m)
      stack[#stack + 1] = child
    end
  end
end
check_inodes(inodes)
check_space(bytes)

local function copy(ino, parent)
  local new = num(redis.call('INCR', P .. 'nextInode'))
  local a = redis.call('HGETALL', ik(ino))
  local args, t, len = {'HSET', ik(new)}, nil, 0
  for i = 1, #a, 2 do
    local f, v = a[i], a[i + 1]
    if f == 't' then t = v elseif f == 'l' then len = tonumber(v) end
    args[#args + 1] = f
    args[#args + 1] = v
  end
  args[#args + 1] = 'u'; args[#args + 1] = uid
  args[#args + 1] = 'g'; args[#args + 1] = gid
  args[#args + 1] = 'n'; args[#args + 1] = t == 'd' and '2' or '1'
  args[#args + 1] = 'p'; args[#args + 1] = parent
  args[#args + 1] = 'ct'; args[#args + 1] = NOW
  redis.call(unpack(args))
  local x = redis.call('HGETALL', xk(ino))
  if #x > 0 then redis.call('HSET', xk(new), unpack(x)) end
  if t == 'l' then redis.call('SET', sk(new), redis.call('GET', sk(ino))) end
  if t == 'f' then
    for _, idx in ipairs(chunks_from(ino, 0)) do
      local recs = redis.call('LRANGE', ck(ino, idx), 0, -1)
      if #recs > 0 then
        redis.call('ZADD', cik(new), idx, num(idx))
        for _, rec in ipairs(recs) do incref(rec) end
        -- unpack() is bounded by the Lua C stack: push long slice lists in batches.
        for i = 1, #recs, 1000 do
          redis.call('RPUSH', ck(new, idx), unpack(recs, i, math.min(i + 999, #recs)))
        end
      end
    end
  end
  return new, t
end

local root, rt = copy(src, dp)
local queue = {}
if rt == 'd' then queue[1] = {src, root} end
while #queue > 0 do
  local pair = table.remove(queue)
  for _, m in ipairs(redis.call('ZRANGE', dk(pair[1]), 0, -1)) do
    local name, t, child = split_member(m)
    local new = copy(child, pair[2])
    redis.call('ZADD', dk(pair[2]), 0, member(name, t, new))
    if t == 'd' then
      redis.call('HINCRBY', ik(pair[2]), 'n', 1)
      queue[#queue + 1] = {child, new}
    end
  end
end
redis.call('ZADD', dk(dp), 0, member(dn, rt, root))
if rt == 'd' then redis.call('HINCRBY', ik(dp), 'n', 1) end
touch_dir(dp)
redis.call('INCRBY', P .. 'usedInodes', num(inodes))
if bytes > 0 then redis.call('INCRBY', P .. 'usedSpace', num(bytes)) end
return {root, redis.call('HGETALL', ik(root))}
