"""Everything one emulator serves: the model, its rate limits, faults and counters.

The REST handlers, the admin endpoints and the :class:`~.server.GitHubEmulator`
all hold the same :class:`Backend`, so a limit configured in-process and one set
through ``/_emulator/`` are the same limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from remedy.local.emulators.github.faults import Faults
from remedy.local.emulators.github.model import GitHubModel
from remedy.local.emulators.github.ratelimit import PrimaryLimit, SecondaryLimit
from remedy.local.emulators.github.stats import RequestStats


@dataclass
class Backend:
    model: GitHubModel = field(default_factory=GitHubModel)
    primary: PrimaryLimit = field(default_factory=PrimaryLimit)
    secondary: SecondaryLimit = field(default_factory=SecondaryLimit)
    faults: Faults = field(default_factory=Faults)
    stats: RequestStats = field(default_factory=RequestStats)

    def reset(self) -> None:
        """Back to an empty GitHub: no repositories, fresh budgets, nothing armed."""
        self.model.reset()
        self.primary.reset()
        self.secondary.disable()
        self.faults.clear()
        self.stats.reset()
