-- ARGV: session. 1 if a session other than it is open (a stale one counts until it is cleaned up), else 0.
local n = redis.call('ZCARD', P .. 'sessions')
if redis.call('ZSCORE', P .. 'sessions', ARGV[3]) then n = n - 1 end
if n > 0 then return 1 end
return 0
