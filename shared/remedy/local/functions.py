"""Where the functions live and how to run one as Knative runs it.

On Knative each function is a Service whose container runs functions-framework with
``FUNCTION_SOURCE``/``FUNCTION_TARGET``; locally ``remedy up`` (and the benchmarks) run
the same command as a process of its own, on its own port.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS_DIR = REPO_ROOT / "functions"
TARGET = "handle"

NAMES = (
    "webhook-gateway",
    "push-intake",
    "agent-cancel",
    "label-update",
    "workflow-resume",
    "feedback-intake",
    "control-api",
    "reconciler",
)


def source(name: str) -> Path:
    path = FUNCTIONS_DIR / name / "main.py"
    if not path.is_file():
        raise FileNotFoundError(f"no function {name!r} at {path}")
    return path


def available() -> tuple[str, ...]:
    """The functions this checkout implements, in pipeline order."""
    return tuple(name for name in NAMES if (FUNCTIONS_DIR / name / "main.py").is_file())


def argv(name: str, *, port: int, host: str = "127.0.0.1") -> list[str]:
    """functions-framework serving ``name`` (gunicorn, http signature)."""
    return [
        sys.executable, "-m", "functions_framework",
        "--source", str(source(name)),
        "--target", TARGET,
        "--signature-type", "http",
        "--host", host,
        "--port", str(port),
    ]  # fmt: skip


def runtime_env(root: Path, name: str) -> dict[str, str]:
    """A runtime directory of ``name``'s own under ``root``, as ``XDG_RUNTIME_DIR``.

    gunicorn (≥ 25.1) opens a control socket in ``$XDG_RUNTIME_DIR``, else in
    ``~/.gunicorn``: on Knative each pod has its own, but one machine running every
    function would share one path, and all but the first would log an error (a line that
    is neither remedy's nor JSON) at start.
    """
    runtime = root.resolve() / "run" / name
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {"XDG_RUNTIME_DIR": str(runtime)}
