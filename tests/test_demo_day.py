"""The simulated helpdesk has a believable day (issue #11): from the first second the board's
"today" numbers are non-zero, they move while it runs, and the archive keeps yesterday.

The numbers are counted here by a small helper that follows the definitions of issue #11 (the
board's own computation lives elsewhere): over the active tickets and the archive, in the NOC's
time zone, leaving out tickets archived as spam or deleted.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.clocks import FrozenClock

from app.contract.ticket import ticket_from_json
from app.settings import Settings
from watcher.demo import DemoSource

START = datetime(2025, 11, 27, 9, 0, 0, tzinfo=UTC)
TODAY, YESTERDAY = START.date(), START.date() - timedelta(days=1)
# Where 09:00 UTC is 09:00, 10:00, 14:30, 18:00 and 04:00: the NOC's day is a few hours old or
# more. (Just after its midnight a NOC's numbers are small, on a real helpdesk too.)
ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "America/New_York")
FIRST_SEEDED_ID = 4101  # the active seed's first id; the seeded past is below it


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    demo = tmp_path / "demo-data"
    return Settings(tickets_dir=demo / "tickets", mappings_dir=demo / "mappings", demo_tickets=40)


def at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass
class Day:
    created: int = 0
    resolved: int = 0
    fr_breached: int = 0
    resolution_breached: int = 0
    first_responses: int = 0
    median_first_response: float | None = None  # seconds


def read_tickets(tickets_dir: Path) -> list[dict[str, Any]]:
    """The active tickets (tickets/<id>.json) and the archived ones (archive/<day>/<id>.json)."""
    paths = [*tickets_dir.glob("[0-9]*.json"), *tickets_dir.glob("archive/*/[0-9]*.json")]
    return [json.loads(p.read_text("utf-8")) for p in paths]


def todays_numbers(tickets_dir: Path, now: datetime, zone: str = "UTC") -> Day:
    """Issue #11's definitions, counted in the NOC's time zone `zone`."""
    tz = ZoneInfo(zone)
    midnight = datetime.combine(now.astimezone(tz).date(), time(), tz)

    def today(moment: datetime | None) -> bool:
        return moment is not None and midnight <= moment <= now

    day, waits = Day(), []
    for t in read_tickets(tickets_dir):
        if t.get("deleted") or t.get("spam"):
            continue
        stats = t.get("stats") or {}
        created, first = at(t["created_at"]), at(stats.get("first_responded_at"))
        resolved = None
        if t["status"] in (4, 5):
            resolved = at(stats.get("resolved_at") or stats.get("closed_at") or t["updated_at"])
        fr_due, due = at(t.get("fr_due_by")), at(t.get("due_by"))
        day.created += today(created)
        day.resolved += today(resolved)
        if fr_due is not None and today(fr_due) and (first is None or first > fr_due):
            day.fr_breached += 1
        if due is not None and today(due) and (resolved is None or resolved > due):
            day.resolution_breached += 1
        if today(first):
            assert first is not None and created is not None
            waits.append((first - created).total_seconds())
    day.first_responses = len(waits)
    day.median_first_response = statistics.median(waits) if waits else None
    return day


def archived(settings: Settings) -> dict[date, list[dict[str, Any]]]:
    found: dict[date, list[dict[str, Any]]] = {}
    for path in sorted((settings.tickets_dir / "archive").glob("*/*.json")):
        found.setdefault(date.fromisoformat(path.parent.name), []).append(
            json.loads(path.read_text("utf-8"))
        )
    return found


# --- the seeded past ----------------------------------------------------------------------------


def test_the_archive_holds_tickets_resolved_today_yesterday_and_the_day_before(
    settings: Settings,
) -> None:
    DemoSource(settings, seed=1, clock=FrozenClock(START)).start()
    days = archived(settings)
    assert sorted(days) == [TODAY - timedelta(days=2), YESTERDAY, TODAY]
    assert len(days[YESTERDAY]) >= 50  # a whole day's work: about a hundred tickets arrive
    for day, tickets in days.items():
        for ticket in tickets:
            ticket_from_json(ticket)  # valid for the board too
            assert ticket["status"] in (4, 5)
            assert ticket["id"] < FIRST_SEEDED_ID
            resolved = at(ticket["stats"]["resolved_at"])
            assert resolved is not None and resolved <= START
            assert resolved.date() == day  # the folder is the UTC date it was resolved
            if ticket["status"] == 5:
                closed = at(ticket["stats"]["closed_at"])
                assert closed is not None and resolved <= closed <= START
    assert {t["status"] for t in days[YESTERDAY]} == {4, 5}


def test_the_past_is_believable_ticket_by_ticket(settings: Settings) -> None:
    DemoSource(settings, seed=2, clock=FrozenClock(START)).start()
    past = [t for tickets in archived(settings).values() for t in tickets]
    for t in past:
        stats = t["stats"]
        created, fr_due, due = at(t["created_at"]), at(t["fr_due_by"]), at(t["due_by"])
        assert created is not None and fr_due is not None and due is not None
        assert created < fr_due < due
        assert at(t["updated_at"]) == max(
            at(stats["resolved_at"]), at(stats["closed_at"]) or created
        )
        if t["spam"] or t["deleted"]:
            continue
        first = at(stats["first_responded_at"])
        assert first is not None and created < first < at(stats["resolved_at"])
        assert t["fr_escalated"] == (first > fr_due)
        assert t["is_escalated"] == (at(stats["resolved_at"]) > due)
    ordinary = [t for t in past if not (t["spam"] or t["deleted"])]
    late_first = [t for t in ordinary if t["fr_escalated"]]
    late_resolution = [t for t in ordinary if t["is_escalated"]]
    assert 0.05 < len(late_first) / len(ordinary) < 0.3  # most are answered in time
    assert 0.05 < len(late_resolution) / len(ordinary) < 0.3
    assert {t["type"] for t in ordinary} == {"Incident", "Service Request"}
    assert {t["priority"] for t in ordinary} == {1, 2, 3, 4}


def test_some_of_the_past_was_marked_spam_or_deleted_and_never_answered(
    settings: Settings,
) -> None:
    DemoSource(settings, seed=3, clock=FrozenClock(START)).start()
    for day in (TODAY, YESTERDAY):
        tickets = archived(settings)[day]
        spam = [t for t in tickets if t["spam"]]
        deleted = [t for t in tickets if t["deleted"]]
        assert spam and deleted, day
        for ticket in spam + deleted:
            assert ticket["status"] == 5
            assert ticket["stats"]["first_responded_at"] is None


@pytest.mark.parametrize("zone", ZONES)
def test_from_the_first_second_every_number_of_the_day_is_there(
    settings: Settings, zone: str
) -> None:
    DemoSource(settings, seed=4, clock=FrozenClock(START)).start()
    day = todays_numbers(settings.tickets_dir, START, zone)
    assert day.created > 0
    assert day.resolved > 0
    assert day.fr_breached > 0
    assert day.resolution_breached > 0
    assert day.median_first_response is not None
    # A NOC's answer within minutes to an hour or two, not seconds nor days.
    assert 5 * 60 < day.median_first_response < 3 * 3600


def test_some_active_tickets_were_created_today_and_some_missed_their_first_response_today(
    settings: Settings,
) -> None:
    DemoSource(settings, seed=5, clock=FrozenClock(START)).start()
    active = read_tickets(settings.tickets_dir)
    active = [t for t in active if t["id"] >= FIRST_SEEDED_ID]
    midnight = datetime.combine(TODAY, time(), UTC)
    assert [t for t in active if at(t["created_at"]) >= midnight]
    assert [
        t
        for t in active
        if t["stats"]["first_responded_at"] is None and midnight <= at(t["fr_due_by"]) < START
    ]


def test_spam_and_deleted_tickets_would_count_if_they_were_not_left_out(
    settings: Settings,
) -> None:
    """The past's spam and deleted tickets arrive today too, unanswered: a count that forgot
    to leave them out would show it."""
    DemoSource(settings, seed=6, clock=FrozenClock(START)).start()
    thrown_away = [t for t in archived(settings)[TODAY] if t["spam"] or t["deleted"]]
    midnight = datetime.combine(TODAY, time(), UTC)
    assert [t for t in thrown_away if at(t["created_at"]) >= midnight]


# --- while it runs -------------------------------------------------------------------------------


def run(source: DemoSource, clock: FrozenClock, seconds: int) -> list[str]:
    """`seconds` of the default speed (about an event a second), one event a second."""
    kinds = []
    for _ in range(seconds):
        clock.advance(seconds=1)
        kinds.append(source.step().kind)
    return kinds


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_within_a_minute_tickets_arrive_are_answered_and_resolved(
    settings: Settings, seed: int
) -> None:
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=seed, clock=clock)
    source.start()
    before = todays_numbers(settings.tickets_dir, clock.now)
    run(source, clock, 60)
    after = todays_numbers(settings.tickets_dir, clock.now)
    assert after.created > before.created
    assert after.resolved > before.resolved
    assert after.first_responses > before.first_responses


def test_within_minutes_first_responses_and_resolutions_fall_due(settings: Settings) -> None:
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=10, clock=clock)
    source.start()
    before = todays_numbers(settings.tickets_dir, clock.now)
    run(source, clock, 3 * 60 + 5)  # the resolution walkers are due within 3 minutes
    middle = todays_numbers(settings.tickets_dir, clock.now)
    assert middle.resolution_breached > before.resolution_breached
    run(source, clock, 3 * 60)  # the first-response walkers within 5
    after = todays_numbers(settings.tickets_dir, clock.now)
    assert after.fr_breached > before.fr_breached


def test_new_tickets_wait_minutes_for_their_first_answer_not_seconds(settings: Settings) -> None:
    """An event a second would answer a new ticket within seconds; a NOC takes minutes, and
    the day's median first response must not sink to seconds while the demo runs."""
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=15, clock=clock)
    source.start()
    run(source, clock, 30 * 60)
    live = [t for t in read_tickets(settings.tickets_dir) if t["id"] >= FIRST_SEEDED_ID + 40]
    waits = [
        (at(t["stats"]["first_responded_at"]) - at(t["created_at"])).total_seconds()
        for t in live
        if t["stats"]["first_responded_at"] is not None
    ]
    assert len(waits) > 50
    assert 2 * 60 < statistics.median(waits) < 15 * 60
    day = todays_numbers(settings.tickets_dir, clock.now)
    assert day.median_first_response is not None and day.median_first_response > 2 * 60


# --- what the archive keeps ----------------------------------------------------------------------


def past_files(settings: Settings) -> dict[str, list[int]]:
    """The seeded past's ids (below the first seeded id) by archive folder."""
    return {
        day.isoformat(): sorted(t["id"] for t in tickets if t["id"] < FIRST_SEEDED_ID)
        for day, tickets in archived(settings).items()
    }


def test_churn_never_pushes_the_past_out_only_its_own_oldest_resolves(
    settings: Settings,
) -> None:
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=12, clock=clock, archive_keep=50)
    source.start()
    past = past_files(settings)
    run(source, clock, 1500)  # some 280 resolves, far beyond the 50 kept
    assert past_files(settings) == past
    churn = [t for ts in archived(settings).values() for t in ts if t["id"] >= FIRST_SEEDED_ID]
    assert len(churn) == 50
    newest = max(int(p.stem) for p in settings.tickets_dir.glob("archive/*/*.json"))
    assert newest in {t["id"] for t in churn}


def test_the_archive_keeps_today_and_two_days_before_as_the_days_pass(
    settings: Settings,
) -> None:
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=13, clock=clock, archive_keep=50)
    source.start()
    past = past_files(settings)
    before_yesterday = (TODAY - timedelta(days=2)).isoformat()
    for days_later in (1, 2):
        clock.now = START + timedelta(days=days_later)
        run(source, clock, 300)
        today = clock.now.date()
        kept = {(today - timedelta(days=n)).isoformat() for n in (0, 1, 2)}
        assert set(past_files(settings)) <= kept  # (a day of churn alone may be thinned out)
        assert kept & set(past)
        for day in kept & set(past):
            assert past_files(settings)[day] == past[day]  # whole days, not a file less
    assert before_yesterday not in past_files(settings)


def test_a_heartbeat_drops_a_day_at_midnight_without_any_event(
    settings: Settings,
) -> None:
    clock = FrozenClock(START)
    source = DemoSource(settings, seed=14, clock=clock)
    source.start()
    clock.now = START + timedelta(days=1)
    source.heartbeat()
    assert (TODAY - timedelta(days=2)).isoformat() not in past_files(settings)
    assert {YESTERDAY.isoformat(), TODAY.isoformat()} <= set(past_files(settings))
