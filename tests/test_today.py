"""Today's numbers against their definitions (app/rules/today.py), at the day's edges."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import pytest

from app.contract.ticket import ticket_from_json
from app.rules.day import Day, zone_named
from app.rules.today import DayIndex, day_facts

BERLIN = zone_named("Europe/Berlin")
KIRITIMATI = zone_named("Pacific/Kiritimati")  # UTC+14


def at(text: str, zone: Any = BERLIN) -> float:
    """Unix seconds of a local wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment).astimezone().isoformat()


def ticket(ident: int, created: float, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": ident,
        "subject": f"ticket {ident}",
        "status": 2,
        "priority": 2,
        "created_at": iso(created),
        "updated_at": iso(created),
        "stats": {},
    }
    for key in ("due_by", "fr_due_by"):
        if key in fields:
            data[key] = iso(fields.pop(key))
    for key in ("first_responded_at", "resolved_at", "closed_at"):
        if key in fields:
            data["stats"][key] = iso(fields.pop(key))
    if "updated" in fields:
        data["updated_at"] = iso(fields.pop("updated"))
    data.update(fields)
    return data


def numbers(
    active: list[dict[str, Any]],
    now: float,
    zone: Any = BERLIN,
    archived: list[tuple[str, dict[str, Any]]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    index = DayIndex()
    for data in active:
        index.put_active(data["id"], day_facts(ticket_from_json(data)))
    for day, data in archived:
        index.put_archived(data["id"], day, day_facts(ticket_from_json(data)))
    today = Day.of(now, zone)
    return index.numbers(today.start, now)


def test_a_ticket_created_at_235959_is_yesterdays_and_one_at_midnight_is_todays() -> None:
    late = ticket(1, at("2026-12-05T23:59:59"))
    early = ticket(2, at("2026-12-06T00:00:00"))
    assert numbers([late, early], at("2026-12-06T00:00:00"))["created"] == 1
    assert numbers([late, early], at("2026-12-05T23:59:59"))["created"] == 1
    assert numbers([late], at("2026-12-06T00:00:00"))["created"] == 0


def test_the_day_is_the_boards_zone_even_fourteen_hours_from_utc() -> None:
    # 09:30 UTC on 2026-12-05 is already 23:30 on the 5th in Kiritimati; 10:30 UTC is the 6th.
    before = ticket(1, at("2026-12-05T23:30:00", KIRITIMATI))
    after = ticket(2, at("2026-12-06T00:30:00", KIRITIMATI))
    now = at("2026-12-06T12:00:00", KIRITIMATI)
    assert numbers([before, after], now, KIRITIMATI)["created"] == 1
    assert Day.of(now, KIRITIMATI).date.isoformat() == "2026-12-06"
    assert Day.of(now, zone_named("UTC")).date.isoformat() == "2026-12-05"


@pytest.mark.parametrize(
    ("day", "hours"), [("2026-03-29", 23), ("2026-10-25", 25), ("2026-12-06", 24)]
)
def test_a_dst_change_day_is_23_or_25_hours_long(day: str, hours: int) -> None:
    today = Day.of(at(f"{day}T12:00:00"), BERLIN)
    assert (today.end - today.start) / 3600 == hours
    # a ticket at 23:30 local on that day still counts that day
    late = ticket(1, at(f"{day}T23:30:00"))
    assert numbers([late], at(f"{day}T23:45:00"))["created"] == 1


def test_resolved_counts_on_the_day_it_was_resolved_also_after_a_watcher_outage() -> None:
    now = at("2026-12-06T10:00:00")
    # resolved yesterday evening, noticed and archived this morning (in today's folder)
    yesterday = ticket(
        1, at("2026-12-05T09:00:00"), status=4, resolved_at=at("2026-12-05T18:00:00")
    )
    # resolved this morning
    today = ticket(2, at("2026-12-05T09:00:00"), status=5, closed_at=at("2026-12-06T08:00:00"))
    # resolved, no stats: updated_at says when
    bare = ticket(3, at("2026-12-05T09:00:00"), status=4, updated=at("2026-12-06T09:00:00"))
    got = numbers(
        [], now, archived=[("2026-12-06", yesterday), ("2026-12-06", today), ("2026-12-06", bare)]
    )
    assert got["resolved"] == 2
    index = DayIndex()
    index.put_archived(1, "2026-12-06", day_facts(ticket_from_json(yesterday)))
    before = Day.of(now, BERLIN).before(BERLIN)
    assert index.numbers(before.start, before.end - 1)["resolved"] == 1


def test_deleted_and_spam_tickets_count_nowhere() -> None:
    now = at("2026-12-06T10:00:00")
    created = at("2026-12-06T08:00:00")
    tickets = [
        ticket(1, created, deleted=True, fr_due_by=at("2026-12-06T09:00:00")),
        ticket(2, created, spam=True, status=4, resolved_at=at("2026-12-06T09:00:00")),
        ticket(3, created),
    ]
    got = numbers([], now, archived=[("2026-12-06", t) for t in tickets])
    assert got == {
        "created": 1,
        "resolved": 0,
        "fr_breached": 0,
        "resolution_breached": 0,
        "median_first_response_seconds": None,
    }


def test_a_service_request_breaches_first_response_on_its_own_fr_due_by() -> None:
    created = at("2026-12-06T08:00:00")
    sr = ticket(
        1,
        created,
        type="Service Request",
        fr_due_by=at("2026-12-06T09:00:00"),
        due_by=at("2026-12-08T08:00:00"),
    )
    assert numbers([sr], at("2026-12-06T08:59:59"))["fr_breached"] == 0
    assert numbers([sr], at("2026-12-06T09:00:00"))["fr_breached"] == 1  # fell, up to now
    answered_late = {**sr, "stats": {"first_responded_at": iso(at("2026-12-06T09:30:00"))}}
    got = numbers([answered_late], at("2026-12-06T10:00:00"))
    assert got["fr_breached"] == 1
    assert got["resolution_breached"] == 0  # due_by is two days away
    assert got["median_first_response_seconds"] == 5400.0


def test_a_first_response_exactly_at_the_deadline_is_in_time() -> None:
    due = at("2026-12-06T09:00:00")
    on_time = ticket(1, at("2026-12-06T08:00:00"), fr_due_by=due, first_responded_at=due)
    assert numbers([on_time], at("2026-12-06T10:00:00"))["fr_breached"] == 0


def test_resolution_breach_counts_when_due_by_falls_today_unresolved_or_resolved_late() -> None:
    due = at("2026-12-06T09:00:00")
    created = at("2026-12-04T09:00:00")
    open_ticket = ticket(1, created, due_by=due)
    late = ticket(2, created, due_by=due, status=4, resolved_at=at("2026-12-06T09:10:00"))
    in_time = ticket(3, created, due_by=due, status=4, resolved_at=at("2026-12-06T08:50:00"))
    yesterday_due = ticket(4, created, due_by=at("2026-12-05T09:00:00"))
    got = numbers(
        [open_ticket, yesterday_due],
        at("2026-12-06T12:00:00"),
        archived=[("2026-12-06", late), ("2026-12-06", in_time)],
    )
    assert got["resolution_breached"] == 2
    assert got["resolved"] == 2
    # before 09:00 nothing has fallen yet
    assert numbers([open_ticket], at("2026-12-06T08:59:00"))["resolution_breached"] == 0


def test_median_first_response_is_over_tickets_first_responded_today() -> None:
    created = at("2026-12-06T08:00:00")
    tickets = [
        ticket(i, created, first_responded_at=created + minutes * 60)
        for i, minutes in enumerate((10, 20, 90), start=1)
    ]
    yesterday = ticket(9, at("2026-12-05T08:00:00"), first_responded_at=at("2026-12-05T20:00:00"))
    got = numbers([*tickets, yesterday], at("2026-12-06T12:00:00"))
    assert got["median_first_response_seconds"] == 1200.0


def test_an_active_file_wins_over_its_archived_copy_and_the_latest_archive_day_wins() -> None:
    now = at("2026-12-06T12:00:00")
    resolved = ticket(1, at("2026-12-06T08:00:00"), status=4, resolved_at=at("2026-12-06T09:00:00"))
    reopened = ticket(1, at("2026-12-06T08:00:00"))
    index = DayIndex()
    today = Day.of(now, BERLIN)
    index.put_archived(1, "2026-12-06", day_facts(ticket_from_json(resolved)))
    assert index.numbers(today.start, now)["resolved"] == 1
    index.put_active(1, day_facts(ticket_from_json(reopened)))
    assert index.numbers(today.start, now)["resolved"] == 0
    index.drop_active(1)
    assert index.numbers(today.start, now)["resolved"] == 1
    index.put_archived(1, "2026-12-05", day_facts(ticket_from_json(reopened)))  # older: ignored
    assert index.numbers(today.start, now)["resolved"] == 1
    assert len(index) == 1


def test_the_next_change_is_the_next_due_time_to_fall() -> None:
    index = DayIndex()
    due = at("2026-12-06T15:00:00")
    data = ticket(1, at("2026-12-06T08:00:00"), fr_due_by=due)
    index.put_active(1, day_facts(ticket_from_json(data)))
    assert index.next_change_after(at("2026-12-06T12:00:00")) == due
    assert index.next_change_after(due) is None


def test_the_kept_sorted_first_responses_give_the_same_median_as_counting_afresh() -> None:
    import random

    rng = random.Random(3)
    now = at("2026-12-06T18:00:00")
    today = Day.of(now, BERLIN)
    kept, fresh = DayIndex(), DayIndex()
    kept.set_window(today.start, today.end)
    for ident in range(1, 300):
        created = now - rng.uniform(0, 2 * 86400)
        data = ticket(ident, created, first_responded_at=min(now, created + rng.uniform(0, 9e4)))
        data["group_id"] = rng.randint(1, 4)
        facts = day_facts(ticket_from_json(data))
        for index in (kept, fresh):
            index.put_active(ident, facts)
        if ident % 7 == 0:  # some leave again
            kept.drop_active(ident)
            fresh.drop_active(ident)
    assert kept.numbers(today.start, now) == fresh.numbers(today.start, now)
    group_two = lambda owner: owner[0] == 2  # noqa: E731
    assert kept.numbers(today.start, now, group_two) == fresh.numbers(today.start, now, group_two)
    assert kept.numbers(today.start, now)["median_first_response_seconds"] is not None


def test_loading_many_tickets_at_once_counts_the_same_as_putting_them_one_by_one() -> None:
    import random

    rng = random.Random(5)
    now = at("2026-12-06T18:00:00")
    today = Day.of(now, BERLIN)
    one_by_one, loaded = DayIndex(), DayIndex()
    for index in (one_by_one, loaded):
        index.set_window(today.start, today.end)

    def facts(ident: int):
        created = now - rng.uniform(0, 2 * 86400)
        data = ticket(
            ident,
            created,
            first_responded_at=min(now, created + rng.uniform(0, 9e4)),
            fr_due_by=created + 3600,
            due_by=created + rng.uniform(0, 86400),
        )
        data["group_id"] = rng.randint(1, 4)
        if ident % 5 == 0:
            data["status"] = 4
        return day_facts(ticket_from_json(data))

    steps = []  # a cold start: active files, archived copies, and tickets put again
    for ident in range(1, 400):
        steps.append(("active", ident, facts(ident)))
        if ident % 9 == 0:
            steps.append(("archived", ident, facts(ident)))  # reopened: the active file wins
        if ident % 11 == 0:
            steps.append(("active", ident, facts(ident)))  # read again, changed
        if ident % 13 == 0:
            steps.append(("drop", ident, None))
    for index in (one_by_one, loaded):
        with index.loading() if index is loaded else contextlib.nullcontext():
            for kind, ident, f in steps:
                if kind == "active":
                    index.put_active(ident, f)
                elif kind == "archived":
                    index.put_archived(ident, "2026-12-05", f)
                else:
                    index.drop_active(ident)
    for owners in (None, lambda owner: owner[0] == 2):
        for start in (today.start, today.start - 86400):
            assert loaded.numbers(start, now, owners) == one_by_one.numbers(start, now, owners)
    assert loaded.next_change_after(now - 86400) == one_by_one.next_change_after(now - 86400)
    assert loaded.all == one_by_one.all  # the same sorted moments
    assert loaded.taken_all == one_by_one.taken_all
    # And once loaded, it goes on one ticket at a time.
    again = facts(1)
    for index in (one_by_one, loaded):
        index.put_active(1, again)
    assert loaded.all == one_by_one.all


def summary_of(tickets: list[dict[str, Any]]):
    """A Summary (app/live/summary.py) over these active tickets, on a clock we move."""
    from app.contract.mappings import Names
    from app.live.summary import Summary
    from app.settings import Settings

    summary = Summary(Settings(timezone="Europe/Berlin"), Names)
    for data in tickets:
        summary.days.put_active(data["id"], day_facts(ticket_from_json(data)))
    return summary


def test_the_summary_moves_with_the_clock_past_a_due_time_and_past_midnight() -> None:
    from app.rules.filters import RowFilter

    due = at("2026-12-06T23:37:00")  # between two trend samples (23:30, 23:45)
    data = ticket(1, at("2026-12-06T22:00:00"), fr_due_by=due)
    summary = summary_of([data])
    before = at("2026-12-06T23:00:00")
    assert summary.next_wake(due - 60) == due  # the clock wakes when the breach falls
    assert summary.for_view(RowFilter(), before)["today"]["fr_breached"] == 0
    assert summary.for_view(RowFilter(), due + 1)["today"]["fr_breached"] == 1
    assert summary.for_view(RowFilter(), due + 1)["today"]["created"] == 1
    midnight = at("2026-12-07T00:00:00")
    assert summary.next_wake(at("2026-12-06T23:50:00")) == midnight
    after = summary.for_view(RowFilter(), midnight + 1)
    assert after["date"] == "2026-12-07"
    assert after["today"]["created"] == 0 and after["today"]["fr_breached"] == 0


def test_an_older_archived_copy_counts_again_when_the_newer_one_goes() -> None:
    now = at("2026-12-06T12:00:00")
    today = Day.of(now, BERLIN)
    resolved = ticket(1, at("2026-12-06T08:00:00"), status=4, resolved_at=at("2026-12-06T09:00:00"))
    index = DayIndex()
    index.put_archived(1, "2026-12-05", day_facts(ticket_from_json(resolved)))
    index.put_archived(1, "2026-12-06", day_facts(ticket_from_json({**resolved, "spam": True})))
    assert index.numbers(today.start, now)["resolved"] == 0  # the latest copy says spam
    index.drop_archived(1, "2026-12-06")
    assert index.numbers(today.start, now)["resolved"] == 1


def test_yesterday_is_unknown_on_a_new_install_far_ahead_of_utc() -> None:
    from app.contract.mappings import Names
    from app.live.summary import Summary
    from app.settings import Settings

    summary = Summary(Settings(timezone="Pacific/Kiritimati"), Names)
    now = at("2026-12-07T10:00:00", KIRITIMATI)  # 20:00 UTC on the 6th
    yesterday = Day.of(now, KIRITIMATI).before(KIRITIMATI)
    summary.oldest_archive_day = "2026-12-06"  # archiving began today (UTC)
    assert not summary.history_known(yesterday)
    summary.oldest_archive_day = "2026-12-05"
    assert summary.history_known(yesterday)


def test_an_archive_that_cannot_be_listed_forgets_no_archived_ticket(tmp_path) -> None:
    import shutil

    from app.contract.atomic import write_json_atomic
    from app.live.archive_shelf import ArchiveShelf

    tickets = tmp_path / "tickets"
    day = tickets / "archive" / "2026-12-06"
    day.mkdir(parents=True)
    write_json_atomic(day / "7.json", ticket(7, at("2026-12-06T08:00:00"), status=4))
    shelf = ArchiveShelf(tickets, 1_000_000)
    first = shelf.scan("2026-12-05")
    assert list(first.found) == [("2026-12-06", 7)]
    shutil.rmtree(tickets / "archive")
    (tickets / "archive").write_text("not a folder")  # listing it fails (as an unreadable one)
    again = shelf.scan("2026-12-05")
    assert again.failed is not None
    assert again.gone == set()  # nothing known now: nothing counts as gone
    assert ("2026-12-06", 7) in shelf.known
