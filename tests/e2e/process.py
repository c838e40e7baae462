"""Starting ``remedy up`` as a newcomer does: its own process tree, real ports, a log.

Both e2e fixtures (test_up's platform and the workflow tests' demo) start it this way:
in its own session (so its whole tree can be signalled), without the caller's cluster,
GitHub or Redis settings, waiting for the state file it writes once everything answers.
A failed start kills whatever it had started and fails with the log's tail.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from tests.support.waiting import eventually

REMEDY = [sys.executable, "-m", "remedy.cli"]
START_TIMEOUT_S = 90
OUTSIDE = {"KUBECONFIG", "REDIS_URLS", "GITHUB_API_URL", "GITHUB_TOKEN"}


@dataclass
class Up:
    proc: subprocess.Popen[bytes]
    workdir: Path
    state_file: Path
    state: dict[str, Any]
    log: IO[str]

    def stop(self, sig: signal.Signals = signal.SIGTERM, *, timeout: float = 30) -> None:
        """Signal the whole tree (if it still runs), wait, close the log."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=timeout)
        self.log.close()


def start_up(workdir: Path, *flags: str, env: dict[str, str] | None = None) -> Up:
    """``remedy up --workdir WORKDIR FLAGS...``, once its state file exists."""
    environment = {k: v for k, v in os.environ.items() if k not in OUTSIDE} | (env or {})
    log = (workdir / "up.log").open("w")
    proc = subprocess.Popen(
        [*REMEDY, "up", "--workdir", str(workdir), *flags],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment,
        start_new_session=True,
    )
    state_file = workdir / "state.json"

    def started() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"remedy up exited with {proc.returncode}")
        return state_file.exists()

    try:
        # polling a file another process writes; no event to wait on
        eventually(started, timeout=START_TIMEOUT_S, every=0.1, what="remedy up's state file")
    except AssertionError as failure:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # and whatever it started
        log.close()
        pytest.fail(
            f"remedy up did not start: {failure}\n{(workdir / 'up.log').read_text()[-4000:]}"
        )
    state = json.loads(state_file.read_text())
    return Up(proc=proc, workdir=workdir, state_file=state_file, state=state, log=log)
