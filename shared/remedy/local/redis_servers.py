"""Real ``redis-server`` processes on free ports, for ``remedy up`` and the tests.

Redlock needs several *independent* masters, so each server is its own process with
persistence switched off (the lock and ledger data are short-lived by design).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from remedy.local.ports import free_port, is_listening

START_TIMEOUT_S = 10.0


class RedisServerError(RuntimeError):
    pass


def redis_server_binary() -> str:
    """The redis-server to run: $REDIS_SERVER, else the one on PATH."""
    explicit = os.environ.get("REDIS_SERVER")
    found = explicit or shutil.which("redis-server")
    if not found:
        raise RedisServerError(
            "redis-server not found: install it (`make deps` does) or set REDIS_SERVER"
        )
    return found


@dataclass
class RedisServer:
    """One redis-server process bound to 127.0.0.1 on a free port."""

    port: int = 0
    host: str = "127.0.0.1"
    workdir: Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> RedisServer:
        last_error = ""
        for _attempt in range(5):
            port = self.port or free_port(self.host)
            argv = [
                redis_server_binary(),
                "--port", str(port),
                "--bind", self.host,
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "no",
                "--loglevel", "warning",
            ]  # fmt: skip
            if self.workdir is not None:
                self.workdir.mkdir(parents=True, exist_ok=True)
                argv += ["--dir", str(self.workdir)]
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline and proc.poll() is None:
                if is_listening(self.host, port):
                    self.port, self._proc = port, proc
                    return self
                time.sleep(0.01)
            proc.kill()
            _, err = proc.communicate()
            last_error = err.decode(errors="replace").strip()
            if self.port:  # a fixed port that failed will not get better
                break
        raise RedisServerError(f"redis-server did not start: {last_error}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self) -> RedisServer:
        """Stop and start again on the same port (to model an outage)."""
        self.stop()
        return self.start()


def start_many(count: int, workdir: Path | None = None) -> list[RedisServer]:
    servers: list[RedisServer] = []
    try:
        for index in range(count):
            sub = workdir / f"redis-{index}" if workdir else None
            servers.append(RedisServer(workdir=sub).start())
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers
