"""Where a simulated ticket's first-response deadline sits relative to the board's SLA thresholds.

The board colours an unanswered ticket by the time left to its deadline: Overdue (< 0),
Critical (< `fr_critical_hours`), Warning (< `fr_warning_hours`), Normal. A seed that shows every
state, and tickets that cross a threshold a few minutes after start ("walkers"), need deadlines
placed against the thresholds the board actually uses, so they are computed here from them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

WALK_MINUTES = (2.0, 5.0)  # a walker crosses its next threshold this many minutes after birth
DUE_WALK_MINUTES = (0.5, 3.0)  # a resolution walker's due time passes this soon after the start


@dataclass(frozen=True)
class Thresholds:
    warning: timedelta
    critical: timedelta

    @classmethod
    def from_hours(cls, warning: float, critical: float) -> Thresholds:
        return cls(timedelta(hours=warning), timedelta(hours=critical))


class Slot(NamedTuple):
    """One seeded ticket's role: the SLA state it starts in, whether it is a month old, and for
    some answered tickets a twist that today's numbers show (issue #11): `young` (created and
    answered within the last hour), `due_passed` (its resolution due time passed 10 minutes to
    2 hours ago), `due_soon` (a resolution walker: due within the first minutes, not resolved
    before)."""

    target: str  # overdue | critical | warning | normal | responded | to_warning | to_critical | to_overdue
    old: bool = False
    twist: str = ""  # responded only: "" | young | due_passed | due_soon


# Thirteen slots (a prime, so the four priorities and three types rotate across all of them).
SEED_PLAN: tuple[Slot, ...] = (
    Slot("responded", old=True),
    Slot("overdue"),
    Slot("critical"),
    Slot("warning"),
    Slot("normal"),
    Slot("responded", twist="due_soon"),
    Slot("to_critical"),
    Slot("to_overdue"),
    Slot("responded", twist="due_passed"),
    Slot("overdue", old=True),
    Slot("to_warning"),
    Slot("responded", twist="young"),
    Slot("normal"),
)


class Deadline(NamedTuple):
    fr_due: datetime
    crossing: datetime | None  # when a walker crosses into its next state; None otherwise


def place_deadline(target: str, now: datetime, th: Thresholds, rng: random.Random) -> Deadline:
    """A first-response deadline that puts a ticket in `target` state at `now`."""
    walk = timedelta(minutes=rng.uniform(*WALK_MINUTES))
    if target == "overdue":  # earlier today, mostly (the month-old slots are the forgotten ones)
        return Deadline(now - timedelta(minutes=rng.uniform(10, 240)), None)
    if target == "critical":
        return Deadline(now + th.critical * rng.uniform(0.25, 0.9), None)
    if target == "warning":
        return Deadline(
            now + th.critical + (th.warning - th.critical) * rng.uniform(0.25, 0.9), None
        )
    if target == "normal":
        return Deadline(now + th.warning + timedelta(hours=rng.uniform(2, 48)), None)
    if target == "to_warning":
        return Deadline(now + th.warning + walk, now + walk)
    if target == "to_critical":
        return Deadline(now + th.critical + walk, now + walk)
    if target == "to_overdue":
        return Deadline(now + walk, now + walk)
    raise ValueError(f"no deadline for SLA target {target!r}")


def first_response_target(priority: int, th: Thresholds, rng: random.Random) -> timedelta:
    """How long after creation a new ticket's first response is due, by priority.

    High sits a few minutes above the Critical threshold, so every new High ticket visibly turns
    from Warning to Critical on a running board.
    """
    if priority >= 4:
        return timedelta(hours=1)
    if priority == 3:
        return th.critical + timedelta(minutes=rng.uniform(*WALK_MINUTES))
    if priority == 2:
        return timedelta(hours=8)
    return timedelta(hours=24)
