-- ARGV: name, uuid, storage, blockSize, chunkSize, capacityBytes, inodeLimit, createdMs, rootMode
local uuid = ARGV[4]
local existing = redis.call('HGET', SETTING, 'uuid')
if existing then
  if existing == uuid then return 0 end
  fail('EEXIST', 'already formatted as volume ' .. redis.call('HGET', SETTING, 'name') .. ' (' .. existing .. ')')
end
if redis.call('EXISTS', ik('1')) == 1 then fail('EEXIST', 'keys of an unformatted volume are present') end
redis.call('HSET', SETTING, 'name', ARGV[3], 'uuid', uuid, 'storage', ARGV[5], 'blockSize', ARGV[6],
  'chunkSize', ARGV[7], 'capacityBytes', ARGV[8], 'inodeLimit', ARGV[9], 'createdMs', ARGV[10], 'schema', '2')
redis.call('HSET', ik('1'), 't', 'd', 'mo', ARGV[11], 'u', '0', 'g', '0', 'n', '2', 'l', '0',
  'at', NOW, 'mt', NOW, 'ct', NOW, 'rd', '0', 'p', '1')
redis.call('SET', P .. 'nextInode', '1')
redis.call('SET', P .. 'nextSlice', '0')
redis.call('SET', P .. 'nextSession', '0')
redis.call('SET', P .. 'usedInodes', '1')
redis.call('SET', P .. 'usedSpace', '0')
return 1
