"""``remedy emulate github`` as a process: the standalone mode of the local platform.

Behaviours covered:
- it binds the given port, prints its base URL, the token and the admin token;
- a real client authenticates with the printed token;
- SIGTERM stops it with exit code 0;
- a bad port or too-short token is refused with exit code 2 and a message;
- the ``emulate`` command tree wires ``github`` to this module.
"""

from __future__ import annotations

import argparse
import queue
import signal
import subprocess
import sys
import threading

import pytest
import requests

from remedy.local.emulators import cli as emulate_cli
from remedy.local.emulators.github import cli as github_cli
from remedy.local.ports import free_port


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_standalone_process_serves_on_the_given_port_until_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "remedy.local.emulators.github.cli",
            "--port",
            str(port),
            "--token",
            "tok-123456789",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _lines(process)
        printed = [lines.get(timeout=20) for _ in range(3)]
        assert printed[0] == f"GitHub emulator: http://127.0.0.1:{port}"
        assert printed[1] == "token (remedy-bot): tok-123456789"
        assert printed[2].startswith("admin token: ")
        answer = requests.get(
            f"http://127.0.0.1:{port}/user",
            headers={"Authorization": "token tok-123456789"},
            timeout=10,
        )
        assert answer.json()["login"] == "remedy-bot"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("argv", [["--port", "70000"], ["--token", "short"]])
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert github_cli.main(argv) == 2  # refused up front: it would block serving otherwise
    assert "must be" in capsys.readouterr().err


def test_emulate_command_tree_has_github() -> None:
    parser = argparse.ArgumentParser()
    emulate_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["emulate", "github", "--port", "0"])
    assert args.func is github_cli.run
    assert args.port == 0
