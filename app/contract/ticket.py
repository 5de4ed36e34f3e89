"""One ticket file's content, checked once.

Ticket files come from sources we do not control, so every field the board uses is checked here,
once; anything else in the file is ignored. A file that fails is `MalformedTicket` with a reason
a person can act on. The fields and their rules are docs/ticket-format.md's table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from app.contract.text import MAX_NAME_CHARS, MAX_SUBJECT_CHARS, clipped, shown_text
from app.contract.times import parse_iso

PRIORITIES = (1, 2, 3, 4)
MAX_TICKET_ID = 2**53 - 1  # the largest integer a browser's JSON keeps exact
DEFAULT_TYPE = "Incident"


class MalformedTicket(ValueError):
    """The file cannot be shown; the message says why."""


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    subject: str
    description_text: str
    status: int
    priority: int
    type: str
    responder_id: int | None
    requester_id: int | None
    group_id: int | None
    created_at: float
    updated_at: float
    due_by: float | None
    fr_due_by: float | None
    first_responded_at: float | None
    agent_responded_at: float | None
    requester_responded_at: float | None
    # For today's numbers (app.rules.today): when the ticket was resolved or closed, and whether
    # it was deleted or marked spam (such a ticket counts nowhere).
    resolved_at: float | None = None
    closed_at: float | None = None
    discarded: bool = False


def _time(data: dict[str, Any], key: str, name: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedTicket(f"{name} is not a time string")
    try:
        return parse_iso(value)
    except ValueError:
        raise MalformedTicket(f"{name} is not an ISO time: {value[:40]!r}") from None


def _required_time(data: dict[str, Any], name: str) -> float:
    value = _time(data, name, name)
    if value is None:
        raise MalformedTicket(f"{name} is missing")
    return value


def _int(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedTicket(f"{name} is not a whole number")
    return value


def _required_int(data: dict[str, Any], name: str) -> int:
    value = _int(data, name)
    if value is None:
        raise MalformedTicket(f"{name} is missing")
    return value


def _text(
    data: dict[str, Any], name: str, *, required: bool = False, limit: int | None = None
) -> str:
    value = data.get(name)
    if value is None:
        if required:
            raise MalformedTicket(f"{name} is missing")
        return ""
    if not isinstance(value, str):
        raise MalformedTicket(f"{name} is not text")
    text = shown_text(value)
    return text if limit is None else clipped(text, limit)


def ticket_from_json(data: Any) -> Ticket:
    if not isinstance(data, dict):
        raise MalformedTicket("the file does not hold a JSON object")
    stats = data.get("stats")
    if stats is None:
        stats = {}
    if not isinstance(stats, dict):
        raise MalformedTicket("stats is not an object")
    ident = _required_int(data, "id")
    if ident < 1:
        raise MalformedTicket("id is not positive")
    if ident > MAX_TICKET_ID:
        raise MalformedTicket(
            f"id is larger than {MAX_TICKET_ID} (a browser could not tell it apart)"
        )
    priority = _required_int(data, "priority")
    if priority not in PRIORITIES:
        raise MalformedTicket(f"priority {priority} is not 1-4")
    return Ticket(
        id=ident,
        subject=_text(data, "subject", required=True, limit=MAX_SUBJECT_CHARS),
        description_text=_text(data, "description_text"),
        status=_required_int(data, "status"),
        priority=priority,
        type=_text(data, "type", limit=MAX_NAME_CHARS) or DEFAULT_TYPE,
        responder_id=_int(data, "responder_id"),
        requester_id=_int(data, "requester_id"),
        group_id=_int(data, "group_id"),
        created_at=_required_time(data, "created_at"),
        updated_at=_required_time(data, "updated_at"),
        due_by=_time(data, "due_by", "due_by"),
        fr_due_by=_time(data, "fr_due_by", "fr_due_by"),
        first_responded_at=_time(stats, "first_responded_at", "stats.first_responded_at"),
        agent_responded_at=_time(stats, "agent_responded_at", "stats.agent_responded_at"),
        requester_responded_at=_time(
            stats, "requester_responded_at", "stats.requester_responded_at"
        ),
        resolved_at=_time(stats, "resolved_at", "stats.resolved_at"),
        closed_at=_time(stats, "closed_at", "stats.closed_at"),
        discarded=data.get("deleted") is True or data.get("spam") is True,
    )


def ticket_from_bytes(raw: bytes) -> Ticket:
    try:
        data = orjson.loads(raw)  # validates UTF-8 too; about twice as fast as json.loads
    except orjson.JSONDecodeError as exc:
        if "UTF-8" in exc.msg:
            raise MalformedTicket("the file is not UTF-8") from None
        raise MalformedTicket(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise MalformedTicket("nested too deeply") from None
    return ticket_from_json(data)
