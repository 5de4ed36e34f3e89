"""The ticket-file contract (app.contract), held the same way by the board and by the watcher."""

from __future__ import annotations

import asyncio
import json
import os

from support.tickets import ticket_json, write_ticket

from app.contract.archive import archive_ticket
from app.contract.atomic import write_json_atomic
from app.contract.mappings import Names, read_mapping
from app.contract.status import read_status
from app.live.folder import TicketFolder
from app.live.state import LiveState
from app.rules.filters import RowFilter
from app.settings import load_settings
from watcher.freshservice.names import NameSync
from watcher.freshservice.store import Shape, TicketFiles


def odd_folder(tickets):
    """A folder with every kind of name a careless admin or a crashed writer can leave."""
    write_ticket(tickets, 1)  # a ticket
    (tickets / "2.txt").write_text(json.dumps(ticket_json(2)))  # original name
    write_ticket(tickets, 3)
    (tickets / "3.txt").write_text(json.dumps(ticket_json(3)))  # both names
    (tickets / "007.json").write_text("{}")  # leading zeros: not a ticket name
    (tickets / "0.json").write_text("{}")
    (tickets / ".4.json.abc.tmp").write_text("{}")  # the atomic writer's temp file
    (tickets / "5.JSON").write_text("{}")
    (tickets / "6.json.bak").write_text("{}")
    (tickets / "notes.txt").write_text("hello")
    (tickets / "7.json").mkdir()  # a folder with a ticket's name
    os.symlink(tickets / "1.json", tickets / "8.json")  # a symlink with a ticket's name
    os.mkfifo(tickets / "9.json")  # a FIFO with a ticket's name
    day = tickets / "archive" / "2026-11-27"
    day.mkdir(parents=True)
    write_ticket(day, 10)  # archived: off the board


def test_board_and_watcher_agree_on_which_files_are_tickets(folders):
    tickets, _ = folders
    odd_folder(tickets)
    board_ids = TicketFolder(tickets, 2_000_000).changed_since_last_scan()
    watcher_ids = TicketFiles(tickets).ids()
    assert board_ids == watcher_ids == {1, 2, 3, 7, 8, 9}


async def test_the_board_shows_exactly_those_tickets_and_a_fifo_does_not_hang_it(folders):
    tickets, mappings = folders
    odd_folder(tickets)
    live = LiveState(load_settings({"tickets_dir": tickets, "mappings_dir": mappings}, environ={}))
    await asyncio.wait_for(asyncio.to_thread(live.load), 5)
    shown = {row["id"] for rows in live.visible_rows(RowFilter()).values() for row in rows}
    assert shown == {1, 2, 3}
    assert live.folder.malformed.reasons == {
        "7.json": "is a folder",
        "8.json": "is a symbolic link",
        "9.json": "is a FIFO (named pipe), not a file",
    }


def test_archiving_a_ticket_moves_its_legacy_txt_too_so_it_cannot_come_back(folders):
    tickets, _ = folders
    write_ticket(tickets, 3)
    (tickets / "3.txt").write_text(json.dumps(ticket_json(3)))
    TicketFiles(tickets).archive(3)
    assert not (tickets / "3.json").exists() and not (tickets / "3.txt").exists()
    assert TicketFolder(tickets, 2_000_000).changed_since_last_scan() == set()


def test_a_watcher_write_retires_the_legacy_txt_twin(folders):
    tickets, _ = folders
    (tickets / "4.txt").write_text(json.dumps(ticket_json(4, subject="old")))
    TicketFiles(tickets).upsert(ticket_json(4, subject="new"), Shape.VIEW)
    assert not (tickets / "4.txt").exists()
    archived = list((tickets / "archive").glob("*/4.txt"))
    assert len(archived) == 1
    assert TicketFiles(tickets).read(4)["subject"] == "new"


def test_archive_of_a_legacy_only_ticket_keeps_its_final_state(folders):
    tickets, _ = folders
    (tickets / "5.txt").write_text(json.dumps(ticket_json(5)))
    final = ticket_json(5, status=4)
    target = archive_ticket(tickets, 5, final)
    assert target is not None and target.name == "5.json"
    assert json.loads(target.read_text())["status"] == 4


def test_a_mapping_file_with_a_byte_that_is_not_utf8_reads_on_both_sides(folders):
    _, mappings = folders
    (mappings / "requesters.txt").write_bytes(b"1:Jos\xe9 Garc\xeda\n2:Ann\n")
    (mappings / "agents.txt").write_bytes(b"\xff\xfe garbage\n17:Dana\n")
    expected = {1: "Jos\ufffd Garc\ufffda", 2: "Ann"}
    assert read_mapping(mappings / "requesters.txt") == expected
    assert Names.load(mappings).requesters == expected
    names = NameSync(client=None, mappings_dir=mappings, workspace_id="")
    assert names.requesters == expected and names.agents == {17: "Dana"}


def test_a_status_file_that_is_a_fifo_or_nested_absurdly_reads_as_no_status(folders):
    tickets, _ = folders
    (tickets / ".watcher.json").write_text("[" * 100_000 + "]" * 100_000)
    assert read_status(tickets) is None
    (tickets / ".watcher.json").unlink()
    os.mkfifo(tickets / ".watcher.json")
    assert read_status(tickets) is None


def test_the_atomic_writer_replaces_a_fifo_instead_of_waiting_on_it(folders):
    tickets, _ = folders
    os.mkfifo(tickets / "1.json")
    assert write_json_atomic(tickets / "1.json", ticket_json(1))
    assert (tickets / "1.json").is_file()
