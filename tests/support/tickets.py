"""Ticket files for tests and benchmarks: the Freshservice v2 shape, one factory.

`ticket_json` is a ticket as `GET /api/v2/tickets/{id}?include=stats` returns it, with sensible
defaults around `now` (the fixed `NOW` of the table tests unless given); any field can be
overridden, and times may be given as Unix seconds. `write_ticket` writes one for a live board,
so its defaults are around the real clock: an Open, Medium ticket answered by nobody yet, first
response due in a day, updated a minute ago. `realistic_ticket` spreads tickets over statuses, priorities and SLA states the way a
busy helpdesk does (the benchmarks' 10,000 files); it is built on `ticket_json`.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.contract.atomic import write_json_atomic
from app.contract.status import WatcherStatus, write_status
from app.contract.times import iso, utc_now_iso

# A fixed "now" for table tests: 2026-11-28 12:00:00 UTC.
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC).timestamp()
MINUTE = 60.0
HOUR = 3600.0
DAY = 24 * HOUR

TIME_FIELDS = ("created_at", "updated_at", "due_by", "fr_due_by")


def _is_seconds(value: object) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool)


def ticket_json(ident: int = 1, *, now: float = NOW, **fields: Any) -> dict[str, Any]:
    """A ticket as GET /api/v2/tickets/{id}?include=stats returns it, default times around
    `now`. Times may be given as Unix seconds."""
    stats: dict[str, Any] = {
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
        "created_at": now - 2 * HOUR,
        "updated_at": now - 1 * MINUTE,
        "due_by": now + 48 * HOUR,
        "fr_due_by": now + 24 * HOUR,
        "stats": stats,
    }
    data.update(fields)
    for key in TIME_FIELDS:
        if _is_seconds(data.get(key)):
            data[key] = iso(float(data[key]))
    for key, value in list(data["stats"].items()):
        if key != "ticket_id" and _is_seconds(value):
            data["stats"][key] = iso(float(value))
    return data


# A subject is cut at 1,000 characters (app.contract.text): tests and benches that need big rows
# (to fill queues, flow-control windows, socket buffers) carry the bulk in the description, which
# a board started with this environment shows whole.
BULKY_ROWS_ENV = {"TICKET_DASH_DESCRIPTION_CHARS": "100000"}


def write_ticket(folder: Path, ident: int = 1, **fields: Any) -> Path:
    """A ticket file for a live board (default times around the real clock, not `NOW`),
    written atomically to `folder/<ident>.json` as a source does."""
    path = folder / f"{ident}.json"
    write_json_atomic(path, ticket_json(ident, now=time.time(), **fields))
    return path


def write_fresh_status(tickets_dir: Path, source: str = "test", **fields: Any) -> None:
    """A watcher status file saying the last sync succeeded just now (no STALE banner)."""
    write_status(tickets_dir, WatcherStatus(source=source, last_success=utc_now_iso(), **fields))


# ---- a busy helpdesk, realistically spread ------------------------------------------------------

WORDS = (
    "printer vpn laptop outlook password reset teams licence monitor docking station wifi "
    "sharepoint onedrive access request new starter leaver phone mfa token badge server "
    "backup restore slow login error crash update install software hardware network drive "
    "permissions calendar mailbox shared folder excel macro invoice payroll portal citrix"
).split()
SENTENCES = (
    "The user reports that the problem started after this morning's update.",
    "They have already restarted the machine twice without any change.",
    "Screenshots of the error message are attached to the original email.",
    "This is blocking the whole team from finishing the month-end close.",
    "Please call back on the desk phone rather than the mobile number.",
    "The same issue was reported last week and closed without a root cause.",
    "Other people in the office do not seem to be affected at the moment.",
    "The device is on the latest build and the antivirus scan came back clean.",
    "Steps to reproduce: open the application, sign in, wait about thirty seconds.",
    "Manager has approved the request; cost centre is in the form below.",
)
AGENTS = 40
GROUPS = 12
REQUESTERS = 800

# status id -> name (statuses.txt). 2 open, 3 pending, 6 waiting on agent (by name), 7 on hold,
# 4/5 resolved/closed (hidden).
STATUSES = {
    2: "Open",
    3: "Pending",
    4: "Resolved",
    5: "Closed",
    6: "Waiting on Agent",
    7: "On Hold",
}
STATUS_WEIGHTS = [(2, 50), (3, 15), (6, 15), (7, 10), (4, 5), (5, 5)]
HIDDEN_STATUSES = (4, 5)


def _pick_status(rng: random.Random) -> int:
    roll = rng.uniform(0, sum(w for _, w in STATUS_WEIGHTS))
    for status, weight in STATUS_WEIGHTS:
        roll -= weight
        if roll <= 0:
            return status
    return 2


def realistic_ticket(
    ident: int, rng: random.Random, now: float, subject: str | None = None
) -> dict[str, Any]:
    """A realistic Freshservice v2 ticket: ~1.5-2 KB as JSON, all fields a real one carries.

    Spread over statuses, priorities and SLA states: some tickets still need a first response
    (overdue / critical / warning / normal by fr_due_by), others were responded to.
    """
    priority = rng.choice((1, 2, 2, 2, 3, 3, 4))
    status = _pick_status(rng)
    created = now - rng.uniform(0.5 * HOUR, 20 * DAY)
    updated = min(now - 30, created + rng.uniform(0, now - created))
    responded = rng.random() < 0.6
    # first-response due: anything from 2 h ago (overdue) to 30 h ahead (normal)
    fr_due = now + rng.choice((-2 * HOUR, 1 * HOUR, 3 * HOUR, 8 * HOUR, 20 * HOUR, 30 * HOUR))
    fr_due += rng.uniform(-900, 900)
    first_resp = min(updated, created + rng.uniform(60, 4 * HOUR)) if responded else None
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7)))
    text = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(4, 7)))
    agent = rng.randint(1, AGENTS) if rng.random() < 0.8 else None
    group = rng.randint(1, GROUPS) if rng.random() < 0.9 else None
    return ticket_json(
        ident,
        subject=subject or f"{words.capitalize()} ({ident})",
        description="<div><p>" + text.replace(". ", ".</p><p>") + "</p></div>",
        description_text=text,
        status=status,
        priority=priority,
        type=rng.choice(("Incident", "Incident", "Service Request")),
        source=rng.choice((1, 2, 3, 4)),
        responder_id=agent,
        requester_id=rng.randint(1, REQUESTERS),
        group_id=group,
        department_id=rng.randint(1, 20),
        category=rng.choice(("Hardware", "Software", "Network", "Access", None)),
        sub_category=None,
        item_category=None,
        impact=rng.randint(1, 3),
        urgency=rng.randint(1, 3),
        to_emails=None,
        cc_emails=[],
        fwd_emails=[],
        reply_cc_emails=[],
        fr_escalated=False,
        is_escalated=False,
        spam=False,
        deleted=False,
        workspace_id=2,
        tags=rng.sample(["vip", "onsite", "remote", "hardware", "emea", "apac"], k=2),
        attachments=[],
        custom_fields={"location": rng.choice(("Leeds", "London", "Paris")), "asset": None},
        created_at=created,
        updated_at=updated,
        due_by=created + 3 * DAY,
        fr_due_by=fr_due,
        stats={
            "first_responded_at": first_resp,
            "agent_responded_at": first_resp,
            "requester_responded_at": updated if responded and rng.random() < 0.3 else None,
            "resolved_at": None,
            "closed_at": None,
            "status_updated_at": updated,
            "pending_since": None,
            "opened_at": created,
        },
    )


def write_realistic_mappings(mappings_dir: Path, seed: int = 7) -> None:
    """agents.txt, requesters.txt, groups.txt, statuses.txt naming every id realistic tickets use."""
    mappings_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    first = "Dana Fox Walter Skinner Monica John Alex Jeff Carla Ravi Mei Olu Sven Ana".split()
    last = "Scully Mulder Reyes Doggett Krycek Spender Byers Frohike Langly Kersh".split()
    (mappings_dir / "agents.txt").write_text(
        "".join(f"{i}:{rng.choice(first)} {rng.choice(last)}\n" for i in range(1, AGENTS + 1))
    )
    (mappings_dir / "requesters.txt").write_text(
        "".join(f"{i}:{rng.choice(first)} {rng.choice(last)}\n" for i in range(1, REQUESTERS + 1))
    )
    (mappings_dir / "groups.txt").write_text(
        "".join(f"{i}:Group {i}\n" for i in range(1, GROUPS + 1))
    )
    (mappings_dir / "statuses.txt").write_text("".join(f"{k}:{v}\n" for k, v in STATUSES.items()))
