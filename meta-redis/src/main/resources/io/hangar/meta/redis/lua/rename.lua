-- ARGV: srcParent, srcName, dstParent, dstName, flags (1 NOREPLACE, 2 EXCHANGE)
local sp, sn, dp, dn, flags = ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
need_dir(sp)
need_dir(dp)
local st, sino, smem = entry(sp, sn)
if not st then fail('ENOENT', sn .. ' not found in ' .. sp) end
local dt, dino, dmem = entry(dp, dn)

local function reparent(t, ino, from, to)
  if from == to then return end
  if t == 'd' then
    redis.call('HSET', ik(ino), 'p', to)
    redis.call('HINCRBY', ik(from), 'n', -1)
    redis.call('HINCRBY', ik(to), 'n', 1)
  else
    move_parent(ino, from, to)
  end
end

if flags == 2 then
  if not dt then fail('ENOENT', dn .. ' not found in ' .. dp) end
  if sino == dino then return 1 end
  if st == 'd' and sp ~= dp then check_not_below(sino, dp) end
  if dt == 'd' and sp ~= dp then check_not_below(dino, sp) end
  redis.call('ZREM', dk(sp), smem)
  redis.call('ZREM', dk(dp), dmem)
  redis.call('ZADD', dk(sp), 0, member(sn, dt, dino))
  redis.call('ZADD', dk(dp), 0, member(dn, st, sino))
  reparent(st, sino, sp, dp)
  reparent(dt, dino, dp, sp)
  redis.call('HSET', ik(sino), 'ct', NOW)
  redis.call('HSET', ik(dino), 'ct', NOW)
  touch_dir(sp)
  touch_dir(dp)
  return 1
end

if dt then
  if flags == 1 then fail('EEXIST', dn .. ' exists in ' .. dp) end
  -- Two names of one inode: rename(2) does nothing.
  if sino == dino then return 1 end
  if st == 'd' and dt ~= 'd' then fail('ENOTDIR', dn .. ' is not a directory') end
  if st ~= 'd' and dt == 'd' then fail('EISDIR', dn .. ' is a directory') end
  if dt == 'd' and redis.call('ZCARD', dk(dino)) > 0 then fail('ENOTEMPTY', dn .. ' is not empty') end
end
if st == 'd' then check_not_below(sino, dp) end

if dt then
  redis.call('ZREM', dk(dp), dmem)
  if dt == 'd' then drop_dir(dp, dino) else drop_link(dp, dino) end
end
redis.call('ZREM', dk(sp), smem)
redis.call('ZADD', dk(dp), 0, member(dn, st, sino))
reparent(st, sino, sp, dp)
redis.call('HSET', ik(sino), 'ct', NOW)
touch_dir(sp)
if dp ~= sp then touch_dir(dp) end
return 1
