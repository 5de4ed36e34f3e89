"""Ticket files for tests: the Freshservice shape with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.contract.atomic import write_json_atomic

# A fixed "now" for table tests: 2026-11-28 12:00:00 UTC.
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0
MINUTE = 60.0


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ticket_json(ident: int = 1, **fields: Any) -> dict[str, Any]:
    """A ticket as GET /api/v2/tickets/{id}?include=stats returns it. Times may be floats."""
    stats = {
        "first_responded_at": None,
        "agent_responded_at": None,
        "requester_responded_at": None,
        "ticket_id": 900000 + ident,  # not the ticket id, as in the real API
    }
    stats.update(fields.pop("stats", {}))
    data: dict[str, Any] = {
        "id": ident,
        "subject": f"Ticket {ident}",
        "description": f"<p>Description of ticket {ident}</p>",
        "description_text": f"Description of ticket {ident}",
        "status": 2,
        "priority": 2,
        "type": "Incident",
        "responder_id": None,
        "requester_id": 100,
        "group_id": None,
        "created_at": NOW - 2 * HOUR,
        "updated_at": NOW - 1 * MINUTE,
        "due_by": NOW + 48 * HOUR,
        "fr_due_by": NOW + 24 * HOUR,
        "stats": stats,
    }
    data.update(fields)
    for key in ("created_at", "updated_at", "due_by", "fr_due_by"):
        if isinstance(data.get(key), float | int) and not isinstance(data.get(key), bool):
            data[key] = iso(float(data[key]))
    for key, value in list(data["stats"].items()):
        if key != "ticket_id" and isinstance(value, float | int):
            data["stats"][key] = iso(float(value))
    return data


def write_ticket(folder: Path, ident: int = 1, **fields: Any) -> Path:
    path = folder / f"{ident}.json"
    write_json_atomic(path, ticket_json(ident, **fields))
    return path
