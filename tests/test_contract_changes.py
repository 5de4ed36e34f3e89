"""The one writer path tells an observer what changed (app/contract/changes.py): what NATS
publishing hangs on. Without an observer nothing is reported and nothing else changes."""

from __future__ import annotations

import asyncio
from datetime import date

from support.tickets import ticket_json

from app.contract.archive import archive_ticket, remove_ticket
from app.contract.atomic import dump_json, write_atomic, write_json_atomic
from app.contract.changes import Archived, Change, Removed, Written, observed_by
from app.contract.mappings import write_mapping
from app.contract.status import WatcherStatus, write_status


def test_a_written_file_is_reported_once_with_its_bytes_and_an_unchanged_one_not_at_all(folders):
    tickets, _ = folders
    seen: list[Change] = []
    with observed_by(seen.append):
        write_json_atomic(tickets / "1.json", ticket_json(1))
        write_json_atomic(tickets / "1.json", ticket_json(1))  # same bytes: no write, no report
    assert seen == [Written(tickets / "1.json", dump_json(ticket_json(1)))]


def test_status_and_mapping_files_are_reported_like_ticket_files(folders):
    tickets, mappings = folders
    seen: list[Change] = []
    with observed_by(seen.append):
        write_status(tickets, WatcherStatus(source="demo"))
        write_mapping(mappings / "agents.txt", {7: "Dana"})
    assert [c.path.name for c in seen if isinstance(c, Written)] == [".watcher.json", "agents.txt"]


def test_an_archived_ticket_is_reported_with_its_day_and_final_content(folders):
    tickets, _ = folders
    write_json_atomic(tickets / "5.json", ticket_json(5))
    final = ticket_json(5, status=4)
    seen: list[Change] = []
    with observed_by(seen.append):
        archive_ticket(tickets, 5, final, day=date(2026, 11, 27))
        archive_ticket(tickets, 6)  # no file: nothing changed, nothing reported
    assert seen[-1] == Archived(tickets, 5, date(2026, 11, 27), dump_json(final))
    assert [c for c in seen if isinstance(c, Archived)] == [seen[-1]]


def test_a_removed_ticket_is_reported_once_whatever_its_suffixes(folders):
    tickets, _ = folders
    write_json_atomic(tickets / "8.json", ticket_json(8))
    write_atomic(tickets / "8.txt", b"{}")
    seen: list[Change] = []
    with observed_by(seen.append):
        assert remove_ticket(tickets, 8)
        assert not remove_ticket(tickets, 8)
    assert seen == [Removed(tickets, 8)]
    assert not list(tickets.iterdir())


def test_without_an_observer_nothing_is_reported_and_writing_works(folders):
    tickets, _ = folders
    assert write_json_atomic(tickets / "2.json", ticket_json(2))
    assert remove_ticket(tickets, 2)


async def test_the_observer_follows_the_source_into_threads_and_tasks_but_not_beyond(folders):
    tickets, _ = folders
    seen: list[Change] = []

    def write(ident: int) -> None:
        write_json_atomic(tickets / f"{ident}.json", ticket_json(ident))

    with observed_by(seen.append):
        await asyncio.to_thread(write, 1)
        task = asyncio.create_task(asyncio.to_thread(write, 2))
    await task
    await asyncio.to_thread(write, 3)  # outside: not observed
    assert sorted(c.path.name for c in seen if isinstance(c, Written)) == ["1.json", "2.json"]


def test_a_file_written_without_fsync_holds_the_same_bytes(folders):
    tickets, _ = folders
    assert write_atomic(tickets / "3.json", b"{}\n", durable=False)
    assert (tickets / "3.json").read_bytes() == b"{}\n"
