"""One simulated ticket: how it is born and how each helpdesk action changes it.

A ticket is kept as the plain dict that is written to its file, in the shape of docs/ticket.schema.json
(the Freshservice v2 ticket with `stats`), so there is no second model to keep in step. Every
action takes the time it happens at and stamps `updated_at`; the seed replays actions with past
times, the running simulator with the present.
"""

from __future__ import annotations

import html
import random
from datetime import datetime, timedelta
from typing import Any

from app.contract.times import iso_of, parse_iso_datetime
from watcher.demo.catalog import (
    AGENTS,
    CLOSED,
    DEPARTMENT_IDS,
    OPEN,
    REQUESTERS,
    RESOLVED,
    SLA_POLICY_ID,
    TAGS,
    WORKSPACE_ID,
    Problem,
)

Ticket = dict[str, Any]

STATS_ID_BASE = 27_000_000_000  # stats.ticket_id is an internal id, never the ticket's id


def resolution_due(fr_due: datetime, priority: int, ticket_type: str) -> datetime:
    """When a ticket must be resolved: always after its first response is due, as in a real
    helpdesk, Service Requests included (they get twice an Incident's time)."""
    hours = 4 * (5 - priority) * (2 if ticket_type == "Service Request" else 1)
    return fr_due + timedelta(hours=hours)


def new_ticket(
    ident: int,
    problem: Problem,
    *,
    created: datetime,
    fr_due: datetime,
    priority: int,
    requester_id: int,
    responder_id: int | None,
    source: int,
    tags: list[str],
    due: datetime | None = None,
) -> Ticket:
    """An Open ticket nobody has answered yet, first response due at `fr_due`, resolution due at
    `due` (default: `resolution_due`)."""
    due_by = due or resolution_due(fr_due, priority, problem.type)
    body = problem.body
    stamp = iso_of(created)
    assigned = stamp if responder_id is not None else None
    return {
        "id": ident,
        "subject": problem.subject,
        "description": f"<div>{html.escape(body, quote=False)}</div>",
        "description_text": body,
        "type": problem.type,
        "status": OPEN,
        "priority": priority,
        "urgency": min(priority, 3),
        "impact": min(max(priority - 1, 1), 3),
        "source": source,
        "requester_id": requester_id,
        "requested_for_id": requester_id,
        "responder_id": responder_id,
        "group_id": problem.group_id,
        "department_id": DEPARTMENT_IDS[ident % len(DEPARTMENT_IDS)],
        "workspace_id": WORKSPACE_ID,
        "sla_policy_id": SLA_POLICY_ID,
        "email_config_id": None,
        "category": problem.category,
        "sub_category": None,
        "item_category": None,
        "created_at": stamp,
        "updated_at": stamp,
        "due_by": iso_of(due_by),
        "fr_due_by": iso_of(fr_due),
        "is_escalated": False,
        "fr_escalated": False,
        "spam": False,
        "deleted": False,
        "tags": tags,
        "cc_emails": [],
        "fwd_emails": [],
        "reply_cc_emails": [],
        "to_emails": None,
        "attachments": [],
        "resolution_notes": None,
        "resolution_notes_html": None,
        "custom_fields": {"affected_site": None, "monitoring_alert_id": None},
        "stats": {
            "ticket_id": STATS_ID_BASE + ident,
            "created_at": stamp,
            "updated_at": stamp,
            "opened_at": stamp,
            "status_updated_at": stamp,
            "pending_since": None,
            "first_assigned_at": assigned,
            "assigned_at": assigned,
            "first_responded_at": None,
            "agent_responded_at": None,
            "requester_responded_at": None,
            "resolved_at": None,
            "closed_at": None,
        },
    }


def random_agent(rng: random.Random) -> int:
    return rng.choice(list(AGENTS))


def random_ticket(
    ident: int,
    problem: Problem,
    rng: random.Random,
    *,
    created: datetime,
    fr_due: datetime,
    priority: int,
    due: datetime | None = None,
) -> Ticket:
    """`new_ticket` with the rest drawn at random: requester, agent (for some), channel, tags."""
    return new_ticket(
        ident,
        problem,
        created=created,
        fr_due=fr_due,
        priority=priority,
        requester_id=rng.choice(list(REQUESTERS)),
        responder_id=random_agent(rng) if rng.random() < 0.4 else None,
        source=rng.choice((1, 1, 2, 3, 4, 14)),
        tags=sorted(rng.sample(TAGS, rng.randrange(3))),
        due=due,
    )


def _touch(ticket: Ticket, at: datetime) -> None:
    ticket["updated_at"] = iso_of(at)
    ticket["stats"]["updated_at"] = iso_of(at)


def needs_first_response(ticket: Ticket) -> bool:
    return ticket["stats"]["first_responded_at"] is None


def assign(ticket: Ticket, agent_id: int, at: datetime) -> None:
    stats = ticket["stats"]
    ticket["responder_id"] = agent_id
    stats["first_assigned_at"] = stats["first_assigned_at"] or iso_of(at)
    stats["assigned_at"] = iso_of(at)
    _touch(ticket, at)


def agent_reply(ticket: Ticket, agent_id: int, at: datetime) -> None:
    """An agent answers; the first answer is the first response the SLA measures."""
    stats = ticket["stats"]
    if ticket["responder_id"] is None:
        assign(ticket, agent_id, at)
    if stats["first_responded_at"] is None:
        stats["first_responded_at"] = iso_of(at)
        fr_due = ticket["fr_due_by"]
        ticket["fr_escalated"] = fr_due is not None and at > parse_iso_datetime(fr_due)
    stats["agent_responded_at"] = iso_of(at)
    _touch(ticket, at)


def requester_reply(ticket: Ticket, at: datetime) -> None:
    ticket["stats"]["requester_responded_at"] = iso_of(at)
    _touch(ticket, at)


def set_status(ticket: Ticket, status: int, at: datetime) -> None:
    stats = ticket["stats"]
    if ticket["status"] == status:
        return
    ticket["status"] = status
    stats["status_updated_at"] = iso_of(at)
    stats["pending_since"] = None if status in (OPEN, RESOLVED, CLOSED) else iso_of(at)
    if status in (RESOLVED, CLOSED):
        stats["resolved_at"] = stats["resolved_at"] or iso_of(at)
    if status == CLOSED:
        stats["closed_at"] = iso_of(at)
    _touch(ticket, at)


def set_priority(ticket: Ticket, priority: int, at: datetime) -> None:
    ticket["priority"] = priority
    ticket["urgency"] = min(priority, 3)
    _touch(ticket, at)


def resolve(ticket: Ticket, status: int, at: datetime) -> None:
    """Resolved (4) or Closed (5) at `at`; escalated when it was resolved after its due time."""
    set_status(ticket, status, at)
    due, resolved = ticket["due_by"], ticket["stats"]["resolved_at"]
    if due is not None and parse_iso_datetime(resolved) > parse_iso_datetime(due):
        ticket["is_escalated"] = True
