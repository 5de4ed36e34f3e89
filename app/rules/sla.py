"""SLA clocks: pure functions of a ticket, the settings and the time.

The next unmet deadline: an active ticket has up to two deadlines, the first response
(`fr_due_by`, for every ticket type, Service Requests included) while nobody has answered yet
(`stats.first_responded_at` null), and resolution (`due_by`), which is always unmet while the
ticket is active. Its SLA is the earliest of them (the first response on a tie), kind "fr" or
"due": Overdue when the time left is below zero, Critical below `fr_critical_hours`, Warning
below `fr_warning_hours`, else Normal. The same windows apply to both kinds (the settings keep
their names). A ticket with neither deadline has no SLA ("none").

Update: every active ticket must be touched within `update_sla_minutes[priority]` of its last
update; past that it is "update overdue".

The board re-evaluates a ticket exactly when one of these thresholds passes: `next_crossing`
says when that is, so nothing polls every ticket every second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from app.contract.ticket import Ticket
from app.settings import Settings

PRIORITY_NAMES = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}

SLA_STATES = ("overdue", "critical", "warning", "normal", "none")
SLA_KINDS = ("fr", "due")

DeadlineKind = Literal["fr", "due"]


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    warning_seconds: float
    critical_seconds: float
    update_seconds: dict[int, float]  # by priority 1-4

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaPolicy:
        minutes = settings.update_sla_minutes
        return cls(
            warning_seconds=settings.fr_warning_hours * 3600,
            critical_seconds=settings.fr_critical_hours * 3600,
            update_seconds={
                p: float(minutes[name.lower()]) * 60 for p, name in PRIORITY_NAMES.items()
            },
        )


class Deadline(NamedTuple):
    kind: DeadlineKind  # "fr": first response, "due": resolution
    at: float


def needs_first_response(ticket: Ticket) -> bool:
    return ticket.first_responded_at is None


def first_response_due(ticket: Ticket) -> float | None:
    """When the first response is due (`fr_due_by`, whatever the type), or None once answered
    or when there is no first-response due time."""
    return ticket.fr_due_by if needs_first_response(ticket) else None


def unmet_deadlines(ticket: Ticket) -> list[Deadline]:
    """The deadlines an active ticket has yet to meet, first response before resolution."""
    deadlines: list[Deadline] = []
    fr_due = first_response_due(ticket)
    if fr_due is not None:
        deadlines.append(Deadline("fr", fr_due))
    if ticket.due_by is not None:
        deadlines.append(Deadline("due", ticket.due_by))
    return deadlines


def next_deadline(ticket: Ticket) -> Deadline | None:
    """The earliest unmet deadline (the first response on a tie), or None: no SLA."""
    deadlines = unmet_deadlines(ticket)
    return min(deadlines, key=lambda d: d.at) if deadlines else None  # min keeps the first tie


def state_of(left: float, policy: SlaPolicy) -> str:
    """The state of a deadline with `left` seconds to go (strict comparisons: at 0 s left a
    deadline is not yet overdue)."""
    if left < 0:
        return "overdue"
    if left < policy.critical_seconds:
        return "critical"
    if left < policy.warning_seconds:
        return "warning"
    return "normal"


def sla_state(ticket: Ticket, now: float, policy: SlaPolicy) -> str:
    """The state of the ticket's next unmet deadline at `now`, or "none" without one."""
    deadline = next_deadline(ticket)
    return "none" if deadline is None else state_of(deadline.at - now, policy)


def update_due(ticket: Ticket, policy: SlaPolicy) -> float:
    return ticket.updated_at + policy.update_seconds[ticket.priority]


def update_overdue(ticket: Ticket, now: float, policy: SlaPolicy) -> bool:
    return now > update_due(ticket, policy)


def next_crossing(ticket: Ticket, now: float, policy: SlaPolicy) -> float | None:
    """The first time after `now` at which any SLA state of this ticket can change.

    Every unmet deadline's thresholds count, not only the next one's: cheap, and right whichever
    deadline is next. A first response met is a file change, which re-evaluates the ticket, so it
    needs no crossing. States change just *after* a boundary (the comparisons are strict), so a
    caller that wakes at the returned time should evaluate a moment later (the board adds a
    millisecond).
    """
    boundaries = [update_due(ticket, policy)]
    for deadline in unmet_deadlines(ticket):
        due = deadline.at
        boundaries += [due - policy.warning_seconds, due - policy.critical_seconds, due]
    future = [b for b in boundaries if b >= now]
    return min(future) if future else None
