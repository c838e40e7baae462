"""How the CLI shows control-api's answers to a person: aligned plain-text tables.

Standard library only. Every cell is text someone else wrote (a reason, an outcome, a
repository name), so control characters are replaced before they reach a terminal —
a reason cannot move the cursor or recolour the screen — and long cells are cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from remedy.tools.control_client import (
    Cancellation,
    CancellationCounts,
    Remediation,
    TaskDetail,
    TaskSummary,
)

MAX_CELL = 60
_FRACTION = re.compile(r"\.\d+Z$")


def clean(value: object, *, width: int = MAX_CELL) -> str:
    """``value`` as one printable line of at most ``width`` characters."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns aligned by the widest cell, two spaces apart, no trailing blanks."""
    cells = [[clean(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [list(headers), *cells]
    ]
    return "\n".join(lines)


def when(value: str | None) -> str:
    """An RFC 3339 time to the second, or ``-``."""
    return _FRACTION.sub("Z", value) if value else "-"


def short(sha: str | None) -> str:
    return sha[:12] if sha else "-"


def counts(found: CancellationCounts | Mapping[str, int]) -> str:
    listed = [f"{n} {status}" for status, n in found.items() if n]
    return ", ".join(listed) or "-"


def tasks(items: Sequence[TaskSummary]) -> str:
    if not items:
        return "no tasks"
    return table(
        (
            "TASK",
            "REPOSITORY",
            "STAGE",
            "EPOCH",
            "HEAD",
            "CANCELLING",
            "CANCELLATIONS",
            "LAST CHANGE",
        ),
        (
            (
                item["task_id"],
                item["repository"],
                item["stage"] or "-",
                item["epoch"],
                short(item["head"]),
                "yes" if item["cancellation_requested"] else "no",
                counts(item["cancellations"]),
                when(item["last_change"]),
            )
            for item in items
        ),
    )


def task(detail: TaskDetail) -> str:
    cancellations = list(detail["cancellations"].values())
    requested = [c for c in cancellations if c["epoch"] == detail["epoch"]]
    waiting = sum(1 for c in requested if c["status"] == "requested")
    pr = f"#{detail['pr_number']}" if detail.get("pr_number") else "-"
    parts = [
        table(
            ("TASK", "REPOSITORY", "BRANCH", "PR", "STAGE", "EPOCH"),
            [
                (
                    detail["task_id"],
                    detail["repository"],
                    detail.get("branch") or "-",
                    pr,
                    detail.get("stage") or "-",
                    detail["epoch"],
                )
            ],
        ),
        f"cancellation requested: {'yes' if waiting else 'no'}"
        + (f" ({waiting} of epoch {detail['epoch']} not stopped yet)" if waiting else ""),
        "",
        "REMEDIATIONS (newest first)",
        *(_remediation(entry) for entry in detail.get("timeline", [])),
    ]
    if not detail.get("timeline"):
        parts.append("none")
    parts += ["", "CANCELLATIONS", cancellations_table(cancellations)]
    return "\n".join(parts)


def _remediation(entry: Remediation) -> str:
    heading = (
        f"epoch {entry['epoch']}: {short(entry['before'])} → {short(entry['head'])} "
        f"pushed {when(entry['pushed_at'])} (delivery {clean(entry['delivery'])})"
    )
    if not entry["steps"]:
        return heading + "\n  (no steps recorded)"
    steps = table(
        ("AT", "STEP", "OUTCOME"),
        ((when(s["at"]), s["step"], s["outcome"]) for s in entry["steps"]),
    )
    return heading + "\n" + "\n".join("  " + line for line in steps.splitlines())


def cancellations_table(cancellations: Sequence[Cancellation]) -> str:
    if not cancellations:
        return "none"
    ordered = sorted(cancellations, key=lambda c: (c["epoch"], c["namespace"], c["name"]))
    return table(
        ("RUN", "AGENT", "STATUS", "EPOCH", "REQUESTED BY", "REASON", "FOR HEAD", "DEADLINE"),
        (
            (
                f"{c['namespace']}/{c['name']}",
                c["agent"],
                c["status"],
                c["epoch"],
                c.get("requested_by") or "-",
                c.get("reason") or "-",
                short(c["for_head"]),
                when(c["deadline"]),
            )
            for c in ordered
        ),
    )


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What changed between two watch lines, one line each."""
    lines = []
    if before.get("epoch") != after.get("epoch"):
        lines.append(f"epoch {before.get('epoch')} → {after.get('epoch')}")
    old = {_key(c): c for c in before.get("cancellations", [])}
    for c in after.get("cancellations", []):
        previous = old.get(_key(c))
        if previous is None:
            lines.append(f"{clean(_key(c))}: {clean(c['status'])} ({clean(c.get('outcome'))})")
        elif previous["status"] != c["status"]:
            lines.append(
                f"{clean(_key(c))}: {clean(previous['status'])} → {clean(c['status'])} "
                f"({clean(c.get('outcome'))})"
            )
    return lines


def _key(cancellation: Mapping[str, Any]) -> str:
    return f"{cancellation['namespace']}/{cancellation['name']}"
