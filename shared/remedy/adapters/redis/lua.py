"""The Lua the scripts on the Redis masters share, each piece written once.

A script is still one ``EVAL`` (atomic on its master) that reads top to bottom: the
pieces below are prepended as local functions, then the script's own body follows.

- :data:`CLOCK` — ``now_ms()``, the master's ``TIME`` in whole milliseconds, so the
  clients' clocks never matter (the ledger's leases, a fresh fence counter); and
  ``int(x)``, a number as Redis should store it (no exponent, no fraction).
- :data:`LOCK_HELD` — ``lock_held()``: the lock key ``KEYS[1]`` still holds the
  caller's token ``ARGV[1]``. That is Redlock's layout; the push log's fenced write
  checks its grant the same way, so both read it from here.
"""

from __future__ import annotations

CLOCK = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(x) return string.format('%.0f', x) end
"""

LOCK_HELD = """
local function lock_held() return redis.call('GET', KEYS[1]) == ARGV[1] end
"""
