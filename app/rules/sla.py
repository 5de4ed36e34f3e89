"""SLA clocks: pure functions of a ticket, the settings and the time.

First response: a ticket nobody has answered yet (`stats.first_responded_at` null) is measured
against `fr_due_by` (a Service Request against `due_by`): Overdue when the time left is below
zero, Critical below `fr_critical_hours`, Warning below `fr_warning_hours`, else Normal. Once
answered it is Responded; with no due time at all it has no SLA ("none").

Update: every active ticket must be touched within `update_sla_minutes[priority]` of its last
update; past that it is "update overdue".

The board re-evaluates a ticket exactly when one of these thresholds passes: `next_crossing`
says when that is, so nothing polls every ticket every second.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.contract.ticket import Ticket
from app.settings import Settings

PRIORITY_NAMES = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}

FR_STATES = ("overdue", "critical", "warning", "normal", "responded", "none")


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


def needs_first_response(ticket: Ticket) -> bool:
    return ticket.first_responded_at is None


def first_response_due(ticket: Ticket) -> float | None:
    """When the first response is due, or None once answered or when there is no due time."""
    if not needs_first_response(ticket):
        return None
    if ticket.type == "Service Request":
        return ticket.due_by if ticket.due_by is not None else ticket.fr_due_by
    return ticket.fr_due_by if ticket.fr_due_by is not None else ticket.due_by


def first_response_state(ticket: Ticket, now: float, policy: SlaPolicy) -> str:
    if not needs_first_response(ticket):
        return "responded"
    due = first_response_due(ticket)
    if due is None:
        return "none"
    left = due - now
    if left < 0:
        return "overdue"
    if left < policy.critical_seconds:
        return "critical"
    if left < policy.warning_seconds:
        return "warning"
    return "normal"


def update_due(ticket: Ticket, policy: SlaPolicy) -> float:
    return ticket.updated_at + policy.update_seconds[ticket.priority]


def update_overdue(ticket: Ticket, now: float, policy: SlaPolicy) -> bool:
    return now > update_due(ticket, policy)


def next_crossing(ticket: Ticket, now: float, policy: SlaPolicy) -> float | None:
    """The first time after `now` at which any SLA state of this ticket can change.

    States change just *after* a boundary (the comparisons are strict), so a caller that wakes
    at the returned time should evaluate a moment later (the board adds a millisecond).
    """
    boundaries = [update_due(ticket, policy)]
    due = first_response_due(ticket)
    if due is not None:
        boundaries += [due - policy.warning_seconds, due - policy.critical_seconds, due]
    future = [b for b in boundaries if b >= now]
    return min(future) if future else None
