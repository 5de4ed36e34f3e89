"""The simulated helpdesk behaves like a real source: valid files, in its own folders, written
atomically, with every SLA state on show and tickets that cross thresholds while you watch."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from support.clocks import FrozenClock

from app.contract.status import WatcherStatus, read_status, write_status
from app.contract.ticket import ticket_from_json
from app.contract.times import parse_iso_datetime
from app.rules.sla import SlaPolicy, next_deadline
from app.rules.sla import sla_state as board_sla_state
from app.settings import Settings, load_settings
from watcher.demo import DemoSource
from watcher.source import SourceError

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "docs" / "ticket.schema.json").read_text("utf-8")
)
VALIDATOR = Draft202012Validator(SCHEMA)
START = datetime(2025, 11, 27, 9, 0, 0, tzinfo=UTC)
SLA_STATES = {"overdue", "critical", "warning", "normal"}
ACTIVE_TICKET = re.compile(r"[0-9]+\.json")
POLICY = SlaPolicy.from_settings(load_settings(environ={}))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    demo = tmp_path / "demo-data"
    return Settings(tickets_dir=demo / "tickets", mappings_dir=demo / "mappings", demo_tickets=40)


def fast(settings: Settings, speed: float = 400.0) -> Settings:
    return dataclasses.replace(settings, demo_speed=speed)


def parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def sla_state(ticket: dict[str, Any], at: datetime) -> str:
    """The board's own SLA state of this ticket file at `at` (default thresholds)."""
    return board_sla_state(ticket_from_json(ticket), at.timestamp(), POLICY)


def sla_kind(ticket: dict[str, Any]) -> str | None:
    """Which deadline the board counts down to: "fr" (first response) or "due" (resolution)."""
    deadline = next_deadline(ticket_from_json(ticket))
    return None if deadline is None else deadline.kind


def active_tickets(settings: Settings) -> dict[int, dict[str, Any]]:
    return {
        int(p.stem): json.loads(p.read_text("utf-8"))
        for p in settings.tickets_dir.iterdir()
        if ACTIVE_TICKET.fullmatch(p.name)
    }


def every_ticket_file(settings: Settings) -> list[Path]:
    """Active and archived ticket files: everything but the status file."""
    return [p for p in settings.tickets_dir.rglob("*.json") if p.name != ".watcher.json"]


def assert_valid(path: Path) -> None:
    errors = [e.message for e in VALIDATOR.iter_errors(json.loads(path.read_text("utf-8")))]
    assert errors == [], f"{path.name}: {errors}"


def signal_after(source: DemoSource, method: str, calls: int = 1) -> asyncio.Event:
    """An event set once `source.<method>` (run in a worker thread) has returned `calls` times."""
    loop = asyncio.get_running_loop()
    reached = asyncio.Event()
    real = getattr(source, method)
    done = 0

    def counted() -> Any:
        nonlocal done
        result = real()
        done += 1
        if done >= calls:
            loop.call_soon_threadsafe(reached.set)
        return result

    setattr(source, method, counted)
    return reached


async def run_until(source: DemoSource, events: int) -> None:
    """Run the source until it has written `events` events, then stop it."""
    stop = asyncio.Event()
    reached = signal_after(source, "step", events)
    task = asyncio.create_task(source.run(stop))
    try:
        await asyncio.wait_for(reached.wait(), 30)
    finally:
        stop.set()
    assert await asyncio.wait_for(task, 2) == 0


# --- the seed ---------------------------------------------------------------------------------


async def test_once_seeds_demo_tickets_files_and_returns_zero(settings: Settings) -> None:
    source = DemoSource(settings, seed=1, clock=FrozenClock(START))
    assert await source.run(asyncio.Event(), once=True) == 0
    tickets = active_tickets(settings)
    assert len(tickets) == 40
    assert all(ident == t["id"] for ident, t in tickets.items())


def test_every_seeded_file_matches_the_ticket_schema(settings: Settings) -> None:
    DemoSource(settings, seed=2, clock=FrozenClock(START)).start()
    for path in every_ticket_file(settings):
        assert_valid(path)


def test_seed_shows_every_sla_state_priority_and_type(settings: Settings) -> None:
    DemoSource(settings, seed=3, clock=FrozenClock(START)).start()
    tickets = active_tickets(settings).values()
    assert {sla_state(t, START) for t in tickets} == SLA_STATES
    assert {(sla_kind(t), sla_state(t, START)) for t in tickets} >= {
        ("due", "normal"),
        ("due", "warning"),
        ("due", "overdue"),
    }  # answered tickets count down to their resolution
    assert {t["priority"] for t in tickets} == {1, 2, 3, 4}
    assert {t["type"] for t in tickets} == {"Incident", "Service Request"}


def test_every_ticket_is_due_for_resolution_after_its_first_response(settings: Settings) -> None:
    DemoSource(settings, seed=3, clock=FrozenClock(START)).start()
    tickets = active_tickets(settings).values()
    assert all(parse(t["fr_due_by"]) <= parse(t["due_by"]) for t in tickets)
    requests = [t for t in tickets if t["type"] == "Service Request"]
    assert any(parse(t["fr_due_by"]) < parse(t["due_by"]) for t in requests)


def test_small_seed_still_shows_every_sla_state(tmp_path: Path) -> None:
    small = Settings(tickets_dir=tmp_path / "t", mappings_dir=tmp_path / "m", demo_tickets=13)
    DemoSource(small, seed=4, clock=FrozenClock(START)).start()
    tickets = active_tickets(small).values()
    assert len(tickets) == 13
    assert {sla_state(t, START) for t in tickets} == SLA_STATES
    assert {t["priority"] for t in tickets} == {1, 2, 3, 4}


def test_seed_spreads_tickets_over_open_pending_and_custom_statuses(settings: Settings) -> None:
    DemoSource(settings, seed=5, clock=FrozenClock(START)).start()
    assert {t["status"] for t in active_tickets(settings).values()} == {2, 3, 6, 7, 8}


def test_seed_has_month_old_tickets_the_list_api_would_miss(settings: Settings) -> None:
    DemoSource(settings, seed=6, clock=FrozenClock(START)).start()
    ages = [START - parse(t["created_at"]) for t in active_tickets(settings).values()]
    assert any(age > timedelta(days=30) for age in ages)
    assert all(age >= timedelta(0) for age in ages)


def test_seed_has_a_subject_that_needs_escaping(settings: Settings) -> None:
    DemoSource(settings, seed=7, clock=FrozenClock(START)).start()
    subjects = [t["subject"] for t in active_tickets(settings).values()]
    assert 'Printer "HP-3" <floor 2> & scanner down' in subjects
    assert not any("onerror" in s for s in subjects)


def test_descriptions_come_as_html_and_plain_text(settings: Settings) -> None:
    DemoSource(settings, seed=8, clock=FrozenClock(START)).start()
    for ticket in active_tickets(settings).values():
        assert ticket["description_text"]
        assert ticket["description"].startswith("<div>")
        assert "<floor" not in ticket["description"]  # the HTML form is escaped HTML


def test_a_customer_replied_ticket_heard_from_the_requester_after_the_agent(
    settings: Settings,
) -> None:
    DemoSource(settings, seed=9, clock=FrozenClock(START)).start()
    replied = [t for t in active_tickets(settings).values() if t["status"] == 8]
    assert replied
    for ticket in replied:
        stats = ticket["stats"]
        assert parse(stats["requester_responded_at"]) > parse(stats["agent_responded_at"])


def test_every_ticket_is_due_for_a_first_response_before_its_resolution(
    settings: Settings,
) -> None:
    """Service Requests too, as in Freshservice: the board measures first responses against
    fr_due_by for every type, so a request whose two due times were equal would look late."""
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=25, clock=clock)
    source.start()
    for _ in range(200):
        clock.advance(seconds=3)
        source.step()
    tickets = [json.loads(p.read_text("utf-8")) for p in every_ticket_file(settings)]
    assert {t["type"] for t in tickets} == {"Incident", "Service Request"}
    for ticket in tickets:
        assert parse(ticket["fr_due_by"]) < parse(ticket["due_by"]), ticket["id"]


def test_the_same_seed_and_clock_write_the_same_files(tmp_path: Path) -> None:
    contents = []
    for name in ("a", "b"):
        s = Settings(tickets_dir=tmp_path / name / "t", mappings_dir=tmp_path / name / "m")
        source = DemoSource(s, seed=10, clock=FrozenClock(START))
        source.start()
        for _ in range(50):
            source.step()
        contents.append({p.name: p.read_bytes() for p in every_ticket_file(s)})
    assert contents[0] == contents[1]


# --- mappings ---------------------------------------------------------------------------------


def read_mapping(path: Path) -> dict[int, str]:
    lines = path.read_text("utf-8").splitlines()
    assert lines and all(re.fullmatch(r"[0-9]+:\S.*", line) for line in lines), lines
    return {int(i): name for i, name in (line.split(":", 1) for line in lines)}


def test_mapping_files_are_id_name_lines_naming_every_id_the_tickets_use(
    settings: Settings,
) -> None:
    DemoSource(settings, seed=11, clock=FrozenClock(START)).start()
    names = {
        f: read_mapping(settings.mappings_dir / f"{f}.txt")
        for f in ("agents", "requesters", "groups", "statuses")
    }
    assert names["statuses"][6] == "Waiting on Customer"
    assert names["statuses"][7] == "On Hold"
    assert names["statuses"][8] == "Customer Replied"
    for ticket in active_tickets(settings).values():
        assert ticket["requester_id"] in names["requesters"]
        assert ticket["group_id"] in names["groups"]
        assert ticket["status"] in names["statuses"]
        assert ticket["responder_id"] is None or ticket["responder_id"] in names["agents"]


# --- churn ------------------------------------------------------------------------------------


def test_simulator_walks_tickets_toward_overdue(settings: Settings) -> None:
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=12, clock=clock)
    source.start()
    before = active_tickets(settings)
    # Six minutes of a busy helpdesk, one event every two seconds.
    for _ in range(180):
        clock.advance(seconds=2)
        source.step()
    after = active_tickets(settings)
    walks = {
        (sla_state(t, START), sla_state(after[i], clock.now))
        for i, t in before.items()
        if i in after
    }
    assert ("normal", "warning") in walks
    assert ("warning", "critical") in walks
    assert ("critical", "overdue") in walks


def test_every_change_stamps_updated_at(settings: Settings) -> None:
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=13, clock=clock)
    source.start()
    kinds = set()
    for _ in range(200):
        clock.advance(seconds=3)
        event = source.step()
        kinds.add(event.kind)
        assert event.ticket["updated_at"] == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert kinds == {
        "new",
        "first_response",
        "customer_reply",
        "agent_reply",
        "status",
        "priority",
        "resolve",
    }


def test_the_status_file_follows_every_event(settings: Settings) -> None:
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=14, clock=clock)
    source.start()
    for _ in range(20):
        clock.advance(seconds=5)
        source.step()
        status = read_status(settings.tickets_dir)
        assert status is not None
        assert status.source == "demo"
        assert status.last_success == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert status.last_error is None
        assert status.counts == {"active": len(active_tickets(settings))}


def test_resolved_tickets_move_to_the_archive_with_their_final_status(settings: Settings) -> None:
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=15, clock=clock)
    source.start()
    resolved = []
    for _ in range(200):
        clock.advance(seconds=3)
        event = source.step()
        if event.kind == "resolve":
            resolved.append((event.ticket, clock.now))
    assert resolved
    assert {t["status"] for t, _ in resolved} == {4, 5}  # Resolved, and now and then Closed
    for ticket, when in resolved:
        ident = ticket["id"]
        assert not (settings.tickets_dir / f"{ident}.json").exists()
        archived = json.loads(
            (
                settings.tickets_dir / "archive" / when.date().isoformat() / f"{ident}.json"
            ).read_text()
        )
        ticket_from_json(archived)
        assert archived == ticket  # the ticket as it was resolved, final status included
        stats = archived["stats"]
        assert stats["resolved_at"] == ticket["updated_at"]
        assert parse_iso_datetime(stats["resolved_at"]) == when
        assert stats["first_responded_at"] is not None
        if archived["status"] == 5:
            assert parse_iso_datetime(stats["closed_at"]) == when


def test_active_count_stays_near_demo_tickets(settings: Settings) -> None:
    helpdesk = DemoSource(settings, seed=16).helpdesk  # in memory: this is about the balance
    now = START
    helpdesk.seed(now, 40)
    counts = []
    for _ in range(2000):
        now += timedelta(seconds=1)
        helpdesk.step(now)
        counts.append(len(helpdesk.tickets))
    assert 30 <= min(counts[100:]) and max(counts[100:]) <= 50


async def test_running_fast_creates_answers_and_resolves_tickets(settings: Settings) -> None:
    source = DemoSource(fast(settings), seed=17)
    started = datetime.now(UTC).replace(microsecond=0)
    await run_until(source, 100)
    seeded = set(range(4101, 4141))
    active = active_tickets(settings)
    archived = [int(p.stem) for p in (settings.tickets_dir / "archive").rglob("*.json")]
    assert set(active) - seeded, "no new tickets"
    assert [i for i in archived if i >= 4101], "nothing resolved (below 4101: the seeded past)"
    # Answered while it ran: the seed's tickets (new ones wait minutes for their first answer).
    answered = [t["stats"]["first_responded_at"] for t in active.values()]
    assert [a for a in answered if a is not None and parse(a) >= started]
    for path in every_ticket_file(settings):
        assert_valid(path)


def files_below(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_it_never_writes_outside_its_folders_nor_leaves_temp_files(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    s = fast(Settings(tickets_dir=demo / "tickets", mappings_dir=demo / "mappings"))
    bystander = tmp_path / "bystander.txt"
    bystander.write_text("untouched")
    await run_until(DemoSource(s, seed=18), 100)
    written = files_below(tmp_path)
    assert [p for p in written if p != bystander and not p.is_relative_to(demo)] == []
    assert [p for p in written if p.name.endswith(".tmp")] == []
    assert bystander.read_text() == "untouched"


# --- stopping ---------------------------------------------------------------------------------


async def test_it_stops_within_a_second_of_stop_being_set(settings: Settings) -> None:
    source = DemoSource(fast(settings, speed=0.05), seed=19)  # the next event is ~20 s away
    stop = asyncio.Event()
    seeded = signal_after(source, "start")
    task = asyncio.create_task(source.run(stop))
    await asyncio.wait_for(seeded.wait(), 5)
    stop.set()
    assert await asyncio.wait_for(task, 1.0) == 0


async def test_it_ends_cleanly_when_cancelled(settings: Settings) -> None:
    source = DemoSource(fast(settings, speed=200), seed=20)
    busy = signal_after(source, "step", 5)
    task = asyncio.create_task(source.run(asyncio.Event()))
    await asyncio.wait_for(busy.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1.0)
    assert [p for p in files_below(settings.tickets_dir) if p.name.endswith(".tmp")] == []


async def test_it_returns_at_once_when_stop_is_already_set(settings: Settings) -> None:
    stop = asyncio.Event()
    stop.set()
    assert await asyncio.wait_for(DemoSource(settings, seed=21).run(stop), 1.0) == 0


# --- its own folder, and nobody else's -----------------------------------------------------


def test_a_restart_replaces_its_own_leftovers_with_a_fresh_seed(settings: Settings) -> None:
    first = DemoSource(settings, seed=22, clock=FrozenClock(START))
    first.start()
    for _ in range(100):
        first.step()
    stray = settings.tickets_dir / "9999.json"
    stray.write_text("{}")
    DemoSource(settings, seed=23, clock=FrozenClock(START)).start()
    assert len(active_tickets(settings)) == 40
    assert not stray.exists()
    # The archive holds the fresh seed's past and nothing of the first run's.
    elsewhere = settings.tickets_dir.parent / "fresh"
    fresh = dataclasses.replace(
        settings, tickets_dir=elsewhere / "tickets", mappings_dir=elsewhere / "mappings"
    )
    DemoSource(fresh, seed=23, clock=FrozenClock(START)).start()
    assert archive_files(settings) == archive_files(fresh)


def test_a_restart_clears_an_archive_it_left_without_active_tickets(settings: Settings) -> None:
    DemoSource(settings, seed=26, clock=FrozenClock(START)).start()
    for path in settings.tickets_dir.glob("*.json"):
        if path.name != ".watcher.json":
            path.unlink()
    stray = settings.tickets_dir / "archive" / "2020-01-01" / "1.json"
    stray.parent.mkdir()
    stray.write_text("{}")
    DemoSource(settings, seed=26, clock=FrozenClock(START)).start()
    assert not stray.parent.exists()


def archive_files(settings: Settings) -> dict[str, bytes]:
    root = settings.tickets_dir / "archive"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.json")}


def test_it_refuses_a_folder_of_tickets_another_source_wrote(settings: Settings) -> None:
    settings.tickets_dir.mkdir(parents=True)
    real = settings.tickets_dir / "4711.json"
    real.write_text('{"id": 4711}')
    with pytest.raises(SourceError, match="did not write"):
        DemoSource(settings, seed=24).start()
    write_status(settings.tickets_dir, WatcherStatus(source="freshservice"))
    with pytest.raises(SourceError):
        DemoSource(settings, seed=24).start()
    assert real.read_text() == '{"id": 4711}'


def test_it_refuses_a_folder_whose_archive_another_source_wrote(settings: Settings) -> None:
    archived = settings.tickets_dir / "archive" / "2025-11-26" / "4711.json"
    archived.parent.mkdir(parents=True)
    archived.write_text('{"id": 4711}')
    with pytest.raises(SourceError, match="did not write"):
        DemoSource(settings, seed=24).start()
    assert archived.read_text() == '{"id": 4711}'
