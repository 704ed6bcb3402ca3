-- The repository store's keys (docs/meta-redis.md, "Repository store"), appended to prelude.lua for the
-- repo_* scripts. Every key is the volume's prefix P, then 'R', so a volume and its repository live in one
-- cluster slot and no repository key collides with one of the engine's (none of which starts with 'R').
local RVAL, RVER, RKEYS, RSEQ, RALL = P .. 'Rval', P .. 'Rver', P .. 'Rkeys', P .. 'Rseq', P .. 'Raa'
-- One hash per audit entry (fields ms, t team, u user, o model, d detail; a null team, user or model is an
-- absent field) and one index per team, user and model value (sorted sets, member and score = seq).
local function rentry(seq) return P .. 'Re' .. seq end
local function rteam(v) return P .. 'Rat' .. v end
local function ruser(v) return P .. 'Rau' .. v end
local function rmodel(v) return P .. 'Ram' .. v end
-- Optional strings travel as '' (null) or '=' .. value, so that an empty string stays distinct from null.
local function opt(a)
  if a == '' then return nil end
  return string.sub(a, 2)
end
