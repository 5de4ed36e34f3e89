"""A ticket as the page shows it: one JSON-ready row (the shape is in docs/stream.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.contract.mappings import Names
from app.contract.ticket import Ticket
from app.rules.categorise import SectionRules, categorise
from app.rules.sla import (
    PRIORITY_NAMES,
    Deadline,
    SlaPolicy,
    first_response_due,
    needs_first_response,
    next_deadline,
    state_of,
    update_due,
)

Row = dict[str, Any]  # JSON-ready; the shape is docs/stream.md's

# Stands in for "no deadline" in the sort key (JSON has no infinity).
NO_DUE = 9_999_999_999.0


@dataclass(frozen=True, slots=True)
class Change:
    """One ticket's row before and after a change, which the hub turns into patches."""

    old: Row | None  # None: the ticket was not on the board
    new: Row | None  # None: the ticket left the board


@dataclass(frozen=True, slots=True)
class RowContext:
    """Everything besides the ticket and the clock that shapes a row."""

    names: Names
    rules: SectionRules
    policy: SlaPolicy
    link_base: str
    description_chars: int


def sort_key(ticket: Ticket) -> list[float]:
    """Needs first response first, then the next deadline (none last), then priority, then
    oldest update, then id. It does not depend on the time, so a section stays sorted."""
    return _sort_key(ticket, next_deadline(ticket))


def _sort_key(ticket: Ticket, deadline: Deadline | None) -> list[float]:
    return [
        0 if needs_first_response(ticket) else 1,
        NO_DUE if deadline is None else deadline.at,
        -ticket.priority,
        ticket.updated_at,
        ticket.id,
    ]


def _person(names: dict[int, str], ident: int | None, kind: str, none: str) -> str:
    if ident is None:
        return none
    return names.get(ident) or f"{kind} #{ident}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def build_row(ticket: Ticket, now: float, ctx: RowContext) -> Row:
    name = ctx.names.status_name(ticket.status)
    section, reason = categorise(ticket, name, now, ctx.rules, ctx.policy)
    due = update_due(ticket, ctx.policy)
    deadline = next_deadline(ticket)
    return {
        "id": ticket.id,
        "section": section,
        "key": _sort_key(ticket, deadline),
        "subject": ticket.subject,
        "description": _shorten(ticket.description_text, ctx.description_chars),
        "url": f"{ctx.link_base}{ticket.id}" if ctx.link_base else "",
        "status": ticket.status,
        "status_name": name,
        "priority": ticket.priority,
        "priority_name": PRIORITY_NAMES[ticket.priority],
        "type": ticket.type,
        "agent_id": ticket.responder_id,
        "agent": _person(ctx.names.agents, ticket.responder_id, "Agent", ""),
        "requester": _person(ctx.names.requesters, ticket.requester_id, "Requester", ""),
        "group_id": ticket.group_id,
        "group": _person(ctx.names.groups, ticket.group_id, "Group", ""),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "sla": "none" if deadline is None else state_of(deadline.at - now, ctx.policy),
        "sla_kind": None if deadline is None else deadline.kind,
        "sla_due": None if deadline is None else deadline.at,
        "fr_due": first_response_due(ticket),
        "update_due": due,
        "update_overdue": now > due,
        "waiting_reason": reason,
    }
