"""The Lua scripts Redlock runs on each master, and why their fencing tokens are safe.

Each script is one atomic step on one master; :mod:`remedy.adapters.redis.redlock` fans them
out and counts votes. Keys: the lock key holds the holder's random token with a TTL;
the fence key (``remedy:fence:<resource>``) holds a per-resource counter that outlives
the lock (it gets a long TTL, refreshed on every use); the wake key
(``remedy:wake:<resource>``) is a list of at most one token a release leaves, so a
contender blocked on it (``BLPOP``) retries the moment the lock is free instead of
after its back-off.

Fencing tokens strictly increase per resource across all holders. Proof sketch, for
two grants G1 (fence f1, majority Q1) and G2 (fence f2, majority Q2), where G2's
attempt starts after G1 was granted:

1. G1 was granted only after every node n in Q1 was seen, *while G1's lock key was
   alive on n*, holding ``counter(n) >= f1``: either ACQUIRE's INCR on n returned f1
   (f1 is the maximum of those replies), or RAISE wrote ``max(counter, f1)`` on n and
   confirmed, in the same atomic step, that n still held G1's token.
2. Q1 and Q2 are majorities, so some node n is in both. G2's ``SET NX`` on n succeeded,
   so it ran after G1's key on n was gone, hence after step 1 on n. A counter never
   decreases, so G2's INCR on n returned at least f1 + 1, and f2 (a maximum over Q2's
   replies, possibly raised further) is at least f1 + 1.

Losing state breaks step 2 only if the sole common node forgot its counter. Two
defences: RAISE also brings lagging nodes *outside* the quorum up to the fence, so in
steady state every live master holds the latest fence and any majority that excludes
the nodes that lost state since still sees it; and a missing counter (a restarted
master without persistence, or one whose 30-day TTL ran out) restarts from the
master's clock in milliseconds, far above any count reachable since then. For strict
safety through arbitrary crashes, run masters with ``appendfsync always`` or keep a
restarted master out of service for longer than the longest TTL, as the Redlock
analysis advises. Failed attempts also INCR; that only skips numbers.
"""

from __future__ import annotations

from remedy.adapters.redis import lua
from remedy.adapters.redis.fanout import LuaScript

FENCE_PREFIX = "remedy:fence:"
WAKE_PREFIX = "remedy:wake:"
WAKE_TTL_MS = 1000
"""A wake token nobody took is gone after this: at most one early retry, never a stale queue."""

# KEYS: lock, fence. ARGV: token, ttl_ms, fence_ttl_ms.
# Returns {1, fence} when the lock was set here, else {0, current counter}.
ACQUIRE = LuaScript.of(
    lua.CLOCK
    + """
local counter = redis.call('GET', KEYS[2])
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, tonumber(counter or '0')}
end
if counter then
  counter = redis.call('INCR', KEYS[2])
else
  counter = int(now_ms())
  redis.call('SET', KEYS[2], counter)
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, tonumber(counter)}
"""
)

# KEYS: lock, fence. ARGV: token, fence, fence_ttl_ms.
# Raises the counter to at least the fence; returns 1 if the lock here is still ours.
RAISE = LuaScript.of(
    lua.LOCK_HELD
    + """
local counter = tonumber(redis.call('GET', KEYS[2]) or '0')
if counter < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[2])
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if lock_held() then return 1 end
return 0
"""
)

# KEYS: lock, wake. ARGV: token, wake_ttl_ms. Compare-and-delete: only the holder's
# token unlocks; a release leaves one wake token (never more) for the next waiter.
RELEASE = LuaScript.of(
    lua.LOCK_HELD
    + """
if not lock_held() then return 0 end
redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('RPUSH', KEYS[2], '1')
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""
)

# KEYS: lock. ARGV: token, ttl_ms. Compare-and-extend.
EXTEND = LuaScript.of(
    lua.LOCK_HELD
    + """
if lock_held() then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
)

# KEYS: fence. The counter's current value (0 if none).
READ_FENCE = LuaScript.of("""
return tonumber(redis.call('GET', KEYS[1]) or '0')
""")


def fence_key(resource: str) -> str:
    return FENCE_PREFIX + resource


def wake_key(resource: str) -> str:
    """Where a release leaves a token for whoever waits for ``resource`` (``BLPOP``)."""
    return WAKE_PREFIX + resource
