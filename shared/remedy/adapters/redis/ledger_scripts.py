"""The ledger's state transitions, each one atomic Lua script on the ledger's master.

An entry is a Redis hash: ``fp`` (payload fingerprint), ``status`` (``in_progress``,
``failed``, ``done``), ``owner`` and ``lease_until`` (ms, the master's clock) while
claimed, ``attempts``, ``steps`` (comma-separated, in first-recorded order),
``recovery_point`` (the last recorded step), ``out:<step>`` (each step's output as
JSON), ``error``, ``result`` (JSON), ``created``/``updated`` (ms). Outputs stay opaque
strings: decoding them in Lua (cjson) would round floats and turn ``[]`` into ``{}``.
Times come from the master's ``TIME`` so clients' clocks never matter.

Every script answers ``{outcome, now_ms, field, value, ...}`` (the whole hash after the
transition), so the client learns the state it acted on in the same round trip.
"""

from __future__ import annotations

from remedy.adapters.redis import lua
from remedy.adapters.redis.fanout import LuaScript

_PRELUDE = (
    lua.CLOCK
    + """
local function answer(outcome, now)
  local all = redis.call('HGETALL', KEYS[1])
  table.insert(all, 1, int(now))
  table.insert(all, 1, outcome)
  return all
end
local function kept(outcome, now, ttl_ms)
  redis.call('PEXPIRE', KEYS[1], ttl_ms)
  return answer(outcome, now)
end
local function owned()
  local state = redis.call('HMGET', KEYS[1], 'status', 'owner')
  return state[1] == 'in_progress' and state[2] == ARGV[1]
end
local now = now_ms()
"""
)
"""What every transition starts from: ``now`` (ms, read once), ``answer(outcome, now)``
(the reply), ``kept(outcome, now, ttl_ms)`` (the entry's TTL refreshed, then the
reply) and ``owned()`` (``ARGV[1]`` holds the claim)."""


def _transition(body: str) -> LuaScript:
    return LuaScript.of(_PRELUDE + body)


# ARGV: fingerprint, owner, lease_ms, ttl_ms.
# new | resume (failed, or claimed with an expired lease) | done | busy | mismatch
BEGIN = _transition("""
local lease_until = int(now + tonumber(ARGV[3]))
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'status', 'in_progress', 'owner', ARGV[2],
    'lease_until', lease_until, 'attempts', 1, 'created', int(now), 'updated', int(now))
  return kept('new', now, ARGV[4])
end
local state = redis.call('HMGET', KEYS[1], 'fp', 'status', 'lease_until')
if state[1] ~= ARGV[1] then return answer('mismatch', now) end
if state[2] == 'done' then return answer('done', now) end
if state[2] == 'in_progress' and tonumber(state[3] or '0') > now then
  return answer('busy', now)
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'in_progress', 'owner', ARGV[2],
  'lease_until', lease_until, 'updated', int(now))
return kept('resume', now, ARGV[4])
""")

# ARGV: owner, step, output_json, lease_ms, ttl_ms. Renews the lease too.
RECORD_STEP = _transition("""
if not owned() then return answer('lost', now) end
local steps = redis.call('HGET', KEYS[1], 'steps') or ''
local listed = false
for name in string.gmatch(steps, '[^,]+') do
  if name == ARGV[2] then listed = true end
end
if not listed then
  if steps == '' then steps = ARGV[2] else steps = steps .. ',' .. ARGV[2] end
end
redis.call('HSET', KEYS[1], 'out:' .. ARGV[2], ARGV[3], 'steps', steps,
  'recovery_point', ARGV[2], 'lease_until', int(now + tonumber(ARGV[4])), 'updated', int(now))
return kept('ok', now, ARGV[5])
""")

# ARGV: owner, lease_ms, ttl_ms.
RENEW = _transition("""
if not owned() then return answer('lost', now) end
redis.call('HSET', KEYS[1], 'lease_until', int(now + tonumber(ARGV[2])), 'updated', int(now))
return kept('ok', now, ARGV[3])
""")

# ARGV: owner, status ('done' or 'failed'), field ('result' or 'error'), value, ttl_ms.
FINISH = _transition("""
if not owned() then return answer('lost', now) end
redis.call('HSET', KEYS[1], 'status', ARGV[2], ARGV[3], ARGV[4], 'updated', int(now))
redis.call('HDEL', KEYS[1], 'owner', 'lease_until')
return kept('ok', now, ARGV[5])
""")

# No ARGV. Read-only view for inspection.
READ = _transition("""
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', int(now)} end
local all = answer('found', now)
table.insert(all, 'ttl_ms')
table.insert(all, tostring(redis.call('PTTL', KEYS[1])))
return all
""")
