"""Run ``step_script.sh`` — the original system's remediation — against the platform.

The script does for one task what the original sensor and its workflow steps did
with ``kubectl``, ``gh`` and ``argo``: each step a process (kubectl and curl here,
with the same emulators and kubeconfig remedy uses). Its wall time per remediation is
what remedy's latency is compared with. kubectl's discovery cache is warmed first
(a workflow pod would pay for discovery on every step; the baseline is not charged it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.kubectl import KUBECTL, kubectl_binary

SCRIPT = Path(__file__).with_name("step_script.sh")
PROCESSES = (
    *("kubectl get coderuns", "kubectl delete coderuns"),
    *("curl GET pulls", "curl GET labels", "curl DELETE label", "curl POST labels"),
    *("kubectl get workflows", "kubectl patch workflow (stage)", "kubectl patch (argo resume)"),
)
"""The processes the script starts for one remediation (besides sh, date)."""


class Baseline:
    """The step script with its environment; ``run(task)`` is one timed remediation."""

    def __init__(self, state: dict[str, object], *, repo: str, agent_ns: str, argo_ns: str) -> None:
        if shutil.which("curl") is None:
            raise RuntimeError("the baseline needs curl on PATH")
        kubectl_binary()
        self._home = Path(tempfile.mkdtemp(prefix="remedy-baseline-"))
        self._env = {
            "PATH": f"{KUBECTL.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self._home),
            "KUBECTL": str(KUBECTL),
            "KUBECONFIG": str(state["kubeconfig"]),
            "KUBECACHEDIR": str(self._home / "kube-cache"),
            "REPO": repo,
            "GITHUB_API_URL": str(state["github_api_url"]),
            "GITHUB_TOKEN": str(state["github_token"]),
            "AGENT_NS": agent_ns,
            "ARGO_NS": argo_ns,
        }

    def warm(self) -> None:
        """Fill kubectl's discovery cache (CodeRun and Workflow are found by discovery)."""
        for kind in ("coderuns", "workflows"):
            subprocess.run(
                [str(KUBECTL), "--cache-dir", self._env["KUBECACHEDIR"], "get", kind, "-A"],
                env=self._env,
                check=True,
                capture_output=True,
                timeout=60,
            )

    def run(self, *, task: int, branch: str) -> float:
        """Seconds the script took for ``task``; raises with its stderr if it failed."""
        started = time.monotonic()
        done = subprocess.run(
            ["sh", str(SCRIPT)],
            check=False,
            env={**self._env, "TASK_ID": str(task), "BRANCH": branch},
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
        if done.returncode != 0:
            raise RuntimeError(f"baseline step script failed for task {task}: {done.stderr[-500:]}")
        return elapsed

    def close(self) -> None:
        shutil.rmtree(self._home, ignore_errors=True)
