"""Free TCP ports on the loopback interface.

Standard ports on this kind of machine are taken by other services, so everything
remedy starts locally binds a free port. A port found free is handed to a process that
binds it a moment later; if the kernel's ephemeral range were used, any outgoing
connection made meanwhile could be given that very port ("Address already in use").
So ports are drawn from below the ephemeral range, where the kernel never assigns
client ports, and only ever collide with another deliberate bind.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000
_ATTEMPTS = 200


def _below_ephemeral() -> range:
    try:
        first = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first = 32_768
    return range(_LOWEST, max(_LOWEST + 1_000, first))


def free_port(host: str = "127.0.0.1") -> int:
    candidates = _below_ephemeral()
    for _ in range(_ATTEMPTS):
        port = random.choice(candidates)  # noqa: S311  (not a secret: spreading binds)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # crowded: let the kernel pick
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


def is_listening(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
