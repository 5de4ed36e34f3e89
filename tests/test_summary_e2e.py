"""Today's numbers on a real board: files in tickets/ and its archive → /api/summary and the
stream's `summary` event agree with the definitions; the trend survives a restart."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from support.tickets import ticket_json, write_ticket
from test_stream_wire import next_event, sse_stream

from app.contract.atomic import write_json_atomic
from app.rules.day import Day, zone_named

ZONE = "Pacific/Kiritimati"  # UTC+14: "today" is not the UTC day for most of it


def archive(tickets: Path, day: str, ident: int, **fields: object) -> None:
    folder = tickets / "archive" / day
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / f"{ident}.json", ticket_json(ident, now=time.time(), **fields))


def write_day(tickets: Path, mappings: Path) -> Day:
    """A small day: what each ticket adds is in its comment."""
    now = time.time()
    today = Day.of(now, zone_named(ZONE))
    start = today.start
    (mappings / "groups.txt").write_text("7:Network\n8:Servers\n")
    utc_today = datetime.now(UTC).date().isoformat()
    yesterday = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
    soon_after = lambda seconds: min(now - 1, start + seconds)  # noqa: E731 - today, before now
    # created today, first response due today and missed: created 1, fr_breached 1 (Network)
    write_ticket(
        tickets, 1, group_id=7, created_at=soon_after(1), fr_due_by=soon_after(2), due_by=now + 9e4
    )
    # created yesterday, first answered today
    write_ticket(
        tickets,
        2,
        group_id=8,
        created_at=start - 3600,
        stats={"first_responded_at": soon_after(3)},
        fr_due_by=now + 9e4,
        due_by=now + 9e4,
    )
    # resolved today, archived today: resolved 1 (Network)
    archive(
        tickets,
        utc_today,
        3,
        group_id=7,
        status=4,
        created_at=start - 86400,
        fr_due_by=start - 80000,
        due_by=now + 9e4,
        stats={"first_responded_at": start - 86000, "resolved_at": soon_after(4)},
    )
    # deleted: counts nowhere
    archive(tickets, utc_today, 4, group_id=7, deleted=True, created_at=soon_after(5))
    # an older archive day: yesterday is known
    archive(
        tickets,
        yesterday,
        5,
        status=5,
        created_at=start - 3 * 86400,
        updated_at=start - 2 * 86400,
        due_by=start - 2 * 86400,
    )
    return today


def status_of(url: str) -> int:
    return httpx.get(url, timeout=10).status_code


def get_summary(url: str, query: str = "") -> dict:
    response = httpx.get(f"{url}/api/summary{query}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


async def test_summary_api_and_stream_follow_the_files_and_the_filters(start_board, folders):
    tickets, mappings = folders
    today = write_day(tickets, mappings)
    board = start_board(env={"TICKET_DASH_TIMEZONE": ZONE})
    got = get_summary(board.url)
    assert got["date"] == today.date.isoformat()
    assert got["timezone"] == ZONE
    assert got["today"]["created"] == 1
    assert got["today"]["resolved"] == 1
    assert got["today"]["fr_breached"] == 1
    assert got["today"]["resolution_breached"] == 0
    assert got["today"]["median_first_response_seconds"] is not None
    assert got["now"]["open"] == 2
    assert got["now"]["overdue"] == 1
    assert got["now"]["unassigned"] == 2
    assert got["yesterday"] is not None
    assert len(got["trend"]) == 24 * 4 + 1  # one point per 15 minutes, 24 h ago to now
    assert got["trend"][-1]["open"] == 2  # sampled at start
    assert got["trend"][0]["open"] is None  # the board was not running: a gap

    network = get_summary(board.url, "?group=Network")
    assert network["today"]["created"] == 1
    assert network["today"]["resolved"] == 1
    assert network["now"]["open"] == 1
    servers = get_summary(board.url, "?group=Servers")
    assert servers["today"]["created"] == 0
    assert servers["today"]["resolved"] == 0
    assert status_of(f"{board.url}/api/summary?section=nope") == 400

    async with sse_stream(f"{board.url}/events?group=Network") as (_, events):
        snap = (await next_event(events, "snapshot")).json()
        assert snap["summary"]["today"] == network["today"]
        # a new Network ticket today, and ticket 1 resolved and archived by its source
        write_ticket(tickets, 6, group_id=7, created_at=time.time() - 1)
        summary = (await next_event(events, "summary", timeout=10)).json()
        while summary["today"]["created"] != 2:
            summary = (await next_event(events, "summary", timeout=10)).json()
        final = ticket_json(
            1,
            now=time.time(),
            group_id=7,
            status=4,
            created_at=today.start + 1,
            stats={"resolved_at": time.time() - 1},
        )
        day_folder = tickets / "archive" / datetime.now(UTC).date().isoformat()
        os.replace(tickets / "1.json", day_folder / "1.json")
        write_json_atomic(day_folder / "1.json", final)
        summary = (await next_event(events, "summary", timeout=10)).json()
        while summary["today"]["resolved"] != 2:
            summary = (await next_event(events, "summary", timeout=10)).json()
        assert summary["now"]["open"] == 1  # ticket 6; ticket 1 left
        assert summary["today"]["created"] == 2  # ticket 1 still counts: it was created today
    await asyncio.sleep(0)


def test_the_trend_survives_a_restart(start_board, folders, tmp_path):
    tickets, _ = folders
    for ident in (1, 2, 3):
        write_ticket(tickets, ident)
    env = {"TICKET_DASH_STATE_DIR": str(tmp_path / "state"), "TICKET_DASH_TIMEZONE": "UTC"}
    board = start_board(env=env)
    first = get_summary(board.url)["trend"]
    assert first[-1]["open"] == 3
    board.stop()
    assert (tmp_path / "state" / "trend.sqlite3").is_file()
    for ident in (1, 2, 3):
        (tickets / f"{ident}.json").unlink()
    again = start_board(env=env, port=board.port)
    summary = get_summary(again.url)
    assert summary["now"]["open"] == 0
    # the sample taken before the restart is still there (if the restart crossed a sample time,
    # the new sample is the next point)
    assert any(p["open"] == 3 for p in summary["trend"])
    assert summary["trend"][0]["open"] is None


def test_two_workers_share_one_trend_store(folders, tmp_path):
    import contextlib
    import sqlite3

    from support.server import serving

    tickets, _ = folders
    write_ticket(tickets, 1, group_id=7)
    write_ticket(tickets, 2, group_id=8)
    state = tmp_path / "state"
    env = {"TICKET_DASH_WORKERS": "2", "TICKET_DASH_STATE_DIR": str(state)}
    with serving(*folders, env=env, log_dir=tmp_path / "logs") as server:
        answers = [get_summary(server.url) for _ in range(8)]  # both workers answer some
        log = "\n".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    for got in answers:
        assert got["trend"][-1]["open"] == 2
    assert "trend store" not in log  # neither worker failed to open or write it
    with contextlib.closing(sqlite3.connect(state / "trend.sqlite3")) as db:
        (sampled,) = db.execute("SELECT COUNT(*) FROM sampled").fetchone()
        rows = db.execute(
            "SELECT t, group_id, section, tickets FROM cells ORDER BY group_id"
        ).fetchall()
    assert sampled >= 1
    last = max(t for t, *_ in rows)
    # each worker wrote the same sample for the same time: one copy of each cell, not two
    assert [(g, s, n) for t, g, s, n in rows if t == last] == [(7, "open", 1), (8, "open", 1)]


def test_a_resolved_ticket_moved_to_the_archive_keeps_counting(start_board, folders):
    """A Resolved ticket has no row: its move to the archive must still be looked up at once."""
    from app.contract.archive import archive_ticket

    tickets, _ = folders
    now = time.time()
    write_ticket(tickets, 3, status=4, created_at=now - 60, stats={"resolved_at": now - 30})
    board = start_board(env={"TICKET_DASH_TIMEZONE": "UTC"})
    if Day.of(now, zone_named("UTC")).start > now - 60:
        return  # just after midnight: the ticket was not created today
    assert get_summary(board.url)["today"]["resolved"] == 1
    archive_ticket(tickets, 3)  # moved as it is, as the demo and a NATS mirror do
    deadline = time.monotonic() + 3
    while True:
        today = get_summary(board.url)["today"]
        if today["resolved"] == 1 and today["created"] == 1 and not (tickets / "3.json").exists():
            break
        assert time.monotonic() < deadline, today
        time.sleep(0.1)
