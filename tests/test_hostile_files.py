"""Nothing in tickets/ or mappings/ can freeze, blind or stop the board (issue #9).

Special files, a read that hangs, the folder deleted and made again, a status file nested
absurdly deep: the board keeps answering every TV, says what is wrong, and picks up changes again
by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import sys
import threading
import time

import httpx
import pytest
from httpx_sse import aconnect_sse
from support.browser import chromium_page
from support.server import launch_board, serving
from support.sse import EventReader
from support.tickets import ticket_json, write_ticket

from app import create_app
from app.contract.atomic import write_json_atomic
from app.contract.status import WatcherStatus, write_status
from app.contract.times import iso, utc_now_iso
from app.live import inputs
from app.live.watch import reason_without_paths
from app.rules.filters import RowFilter
from app.settings import load_settings

NESTED = "[" * 200_000 + "]" * 200_000  # deeper than any JSON parser's recursion limit


async def timed_get(client: httpx.AsyncClient, url: str) -> tuple[int, float]:
    started = time.monotonic()
    response = await client.get(url)
    return response.status_code, time.monotonic() - started


@contextlib.asynccontextmanager
async def sse(url: str):
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=10.0)) as client,
        aconnect_sse(client, "GET", url) as source,
    ):
        yield source.aiter_sse()


async def next_event(events, timeout: float = 5.0):
    """(kind, data) of the next event that is not a heartbeat."""
    async with asyncio.timeout(timeout):
        async for event in events:
            if event.event != "heartbeat":
                return event.event, event.json()
    raise AssertionError("the stream ended")


async def next_of(events, kind: str, timeout: float = 5.0):
    async with asyncio.timeout(timeout):
        async for event in events:
            if event.event == kind:
                return event.json()
    raise AssertionError(f"the stream ended before a {kind} event")


async def test_a_fifo_named_like_a_ticket_or_the_status_file_freezes_nothing(folders, tmp_path):
    tickets, mappings = folders
    write_ticket(tickets, 1)
    os.mkfifo(tickets / "79.json")
    os.mkfifo(tickets / ".watcher.json")
    os.mkfifo(mappings / "agents.txt")
    with serving(tickets, mappings, log_dir=tmp_path / "logs") as server:
        async with httpx.AsyncClient(timeout=5.0) as client:
            for path in ("/", "/api/tickets", "/healthz"):
                status, seconds = await timed_get(client, server.url + path)
                assert status == (503 if path == "/healthz" else 200)
                assert seconds < 1.0
            board = (await client.get(server.url + "/api/tickets")).json()
        assert [r["id"] for r in board["sections"]["open"]] == [1]
        assert board["malformed"]["files"] == [".watcher.json", "79.json", "mappings/agents.txt"]
        async with sse(server.url + "/events") as events:
            await next_of(events, "snapshot")
            write_ticket(tickets, 2)  # the board still sees changes
            assert [r["id"] for r in (await next_of(events, "patch"))["upsert"]] == [2]


async def test_a_read_that_hangs_blocks_no_tv_and_its_change_arrives_when_it_returns(
    folders, monkeypatch
):
    """A stalled network filesystem: the read of one file does not return. The board keeps
    serving, /healthz says the folder is not answering, and nothing is lost when it answers."""
    tickets, mappings = folders
    write_ticket(tickets, 1)
    release = threading.Event()
    real_read = inputs.read_ticket_files

    def read_that_hangs_for_ticket_80(tickets_dir, ident, max_bytes, known=None):
        if ident == 80:
            release.wait(10)  # the kernel does not answer
        return real_read(tickets_dir, ident, max_bytes, known)

    monkeypatch.setattr(inputs, "read_ticket_files", read_that_hangs_for_ticket_80)
    settings = load_settings(
        {"tickets_dir": tickets, "mappings_dir": mappings, "read_stall_seconds": 0.3}, environ={}
    )
    app = create_app(settings)
    async with app.test_app() as test_app:
        live = app.live
        await asyncio.wait_for(live.watching.wait(), 5)
        client = test_app.test_client()
        async with client.request("/events") as connection:
            await connection.send_complete()
            events = EventReader(connection)
            await events.next_of("snapshot")
            write_ticket(tickets, 80)
            status = await events.next_of("status", timeout=3)
            assert "not answering" in status["problem"]
            started = time.monotonic()
            health = await client.get("/healthz")
            assert time.monotonic() - started < 0.1
            assert health.status_code == 503
            assert "not answering" in (await health.get_json())["reason"]
            assert (await client.get("/api/tickets")).status_code == 200
            release.set()
            patch = await events.next_of("patch", timeout=5)
            assert [r["id"] for r in patch["upsert"]] == [80]
            await connection.disconnect()
        write_status(tickets, WatcherStatus(source="test", last_success=utc_now_iso()))
        async with asyncio.timeout(5):
            while (await client.get("/healthz")).status_code != 200:
                await asyncio.sleep(0.05)


@pytest.mark.parametrize("how", ["deleted and made again", "renamed away and back"])
async def test_the_watch_heals_when_the_folder_is_replaced(folders, tmp_path, how):
    tickets, mappings = folders
    write_ticket(tickets, 1)
    write_status(tickets, WatcherStatus(source="test", last_success=utc_now_iso()))
    with serving(tickets, mappings, log_dir=tmp_path / "logs") as server:
        async with sse(server.url + "/events") as events, httpx.AsyncClient() as client:
            await next_of(events, "snapshot")
            if how == "deleted and made again":
                shutil.rmtree(tickets)
                await asyncio.sleep(0.6)  # the board notices the folder is gone
                health = (await client.get(server.url + "/healthz")).json()
                assert health["status"] == "unhealthy"
                assert "to exist" in health["reason"]
                tickets.mkdir()
            else:
                os.rename(tickets, tmp_path / "elsewhere")
                await asyncio.sleep(0.6)
                os.rename(tmp_path / "elsewhere", tickets)
            write_status(tickets, WatcherStatus(source="test", last_success=utc_now_iso()))
            written = time.monotonic()
            write_ticket(tickets, 2, subject="after the folder came back")
            async with asyncio.timeout(5):
                while True:
                    patch = await next_of(events, "patch")
                    if any(r["id"] == 2 for r in patch["upsert"]):
                        break
            assert time.monotonic() - written < 1.0
            async with asyncio.timeout(3):
                while (await client.get(server.url + "/healthz")).status_code != 200:
                    await asyncio.sleep(0.05)


def test_a_status_file_nested_absurdly_deep_does_not_stop_the_board_starting(folders, tmp_path):
    tickets, mappings = folders
    write_ticket(tickets, 1)
    (tickets / ".watcher.json").write_text(NESTED)
    with serving(tickets, mappings, log_dir=tmp_path / "logs") as server:
        board = httpx.get(server.url + "/api/tickets", timeout=5).json()
        assert [r["id"] for r in board["sections"]["open"]] == [1]
        assert board["malformed"]["files"] == [".watcher.json"]
        assert board["watcher"] is None


async def test_a_ticket_change_beside_a_broken_status_file_is_published(folders):
    """Both land in one batch: the ticket is applied and every TV gets it."""
    tickets, mappings = folders
    settings = load_settings({"tickets_dir": tickets, "mappings_dir": mappings}, environ={})
    app = create_app(settings)
    async with app.test_app() as test_app:
        await asyncio.wait_for(app.live.watching.wait(), 5)
        client = test_app.test_client()
        async with client.request("/events") as connection:
            await connection.send_complete()
            events = EventReader(connection)
            await events.next_of("snapshot")
            (tickets / ".watcher.json").write_text(NESTED)
            write_json_atomic(tickets / "5.json", ticket_json(5, now=time.time()))
            patch = await events.next_of("patch")
            assert [r["id"] for r in patch["upsert"]] == [5]
            await connection.disconnect()
        snap = await (await client.get("/api/tickets")).get_json()
        assert [r["id"] for r in snap["sections"]["open"]] == [5]
        assert ".watcher.json" in snap["malformed"]["files"]


async def test_the_page_says_stale_while_the_board_cannot_see_the_folder(folders, tmp_path):
    """The screen never lies: with tickets/ gone, the TV shows STALE and why, then recovers."""
    tickets, mappings = folders
    write_ticket(tickets, 1)
    write_status(tickets, WatcherStatus(source="test", last_success=utc_now_iso()))
    with serving(tickets, mappings, log_dir=tmp_path / "logs") as server:
        async with chromium_page() as page:
            await page.goto(server.url + "/")
            await page.wait_for_selector("#conn.conn-live")
            assert await page.is_hidden("#stale-banner")
            shutil.rmtree(tickets)
            await page.wait_for_function(
                "() => document.getElementById('stale-reason').textContent"
                ".startsWith('the board cannot see changes: waiting for')",
                timeout=5000,
            )
            assert await page.is_visible("#stale-banner")
            tickets.mkdir()
            write_status(tickets, WatcherStatus(source="test", last_success=utc_now_iso()))
            await page.wait_for_selector("#stale-banner[hidden]", state="attached", timeout=5000)


async def test_a_status_time_far_in_the_future_is_not_a_fresh_sync(folders):
    """A watcher on a skewed clock, or a hand-made status file, must not hide a dead watcher."""
    tickets, mappings = folders
    write_ticket(tickets, 1)
    ahead = time.time() + 3 * 3600
    write_status(tickets, WatcherStatus(source="test", last_success=iso(ahead)))
    settings = load_settings({"tickets_dir": tickets, "mappings_dir": mappings}, environ={})
    app = create_app(settings)
    async with app.test_app() as test_app:
        await asyncio.wait_for(app.live.watching.wait(), 5)
        await asyncio.sleep(0.05)  # the watch reports itself live right after
        health = await test_app.test_client().get("/healthz")
        assert health.status_code == 503
        reason = (await health.get_json())["reason"]
        assert reason.startswith("the watcher's last sync is 10") and reason.endswith(
            "s in the future (clock?)"
        )


async def test_a_folder_of_unreadable_tickets_is_a_problem_not_an_all_clear(folders):
    tickets, mappings = folders
    for ident in range(1, 6):
        (tickets / f"{ident}.json").write_text('{"id": ')  # truncated, every one
    write_status(tickets, WatcherStatus(source="test", last_success=utc_now_iso()))
    settings = load_settings({"tickets_dir": tickets, "mappings_dir": mappings}, environ={})
    app = create_app(settings)
    async with app.test_app() as test_app:
        await asyncio.wait_for(app.live.watching.wait(), 5)
        await asyncio.sleep(0.05)  # the watch reports itself live right after
        health = await test_app.test_client().get("/healthz")
        assert health.status_code == 503
        assert (await health.get_json())["reason"] == "5 of 5 ticket files cannot be read"
        for ident in range(1, 4):
            write_ticket(tickets, ident)  # most are good again: no longer a problem
        await app.live.rescan()
        assert (await test_app.test_client().get("/healthz")).status_code == 200


async def test_malformed_files_of_a_replaced_folder_are_forgotten(folders, tmp_path):
    tickets, mappings = folders
    write_ticket(tickets, 1)
    (tickets / "2.json").write_text("{broken")
    settings = load_settings({"tickets_dir": tickets, "mappings_dir": mappings}, environ={})
    app = create_app(settings)
    async with app.test_app():
        live = app.live
        assert live.folder.malformed.to_json()["files"] == ["2.json"]
        os.rename(tickets, tmp_path / "old-tickets")
        tickets.mkdir()  # a new folder (or a filesystem mounted over the old one)
        write_ticket(tickets, 3)
        await live.rescan()
        assert live.folder.malformed.to_json() == {"count": 0, "files": []}
        shown = {r["id"] for rows in live.visible_rows(RowFilter()).values() for r in rows}
        assert shown == {3}


def test_a_ticket_id_a_browser_cannot_hold_is_counted_not_ignored(folders, tmp_path):
    tickets, mappings = folders
    big = 2**53
    (tickets / f"{big}.json").write_text(json.dumps(ticket_json(1) | {"id": big}))
    write_ticket(tickets, 1)
    with serving(tickets, mappings, log_dir=tmp_path / "logs") as server:
        board = httpx.get(f"{server.url}/api/tickets", timeout=5).json()
    assert [r["id"] for r in board["sections"]["open"]] == [1]
    assert board["malformed"]["files"] == [f"{big}.json"]


async def test_when_the_board_runs_out_of_file_descriptors_no_ticket_leaves_the_board(
    folders, tmp_path
):
    """Connections take every file descriptor the board has: a ticket rewritten meanwhile
    cannot be opened. It must stay on every TV as it was (not 'malformed', not removed), the
    board must say it cannot read, and the change must arrive once descriptors are free."""
    tickets, mappings = folders
    for ident in range(1, 6):
        write_ticket(tickets, ident, subject=f"ticket {ident}")
    write_status(tickets, WatcherStatus(source="test", last_success=utc_now_iso()))
    limit = 64
    board = launch_board(
        tickets,
        mappings,
        log_dir=tmp_path / "logs",
        python="/usr/bin/prlimit",
        args=[f"--nofile={limit}:{limit}", sys.executable, "-m", "app"],
    )
    hogs: list[socket.socket] = []
    try:
        board.wait_ready(30)
        async with sse(board.url + "/events") as events:
            await next_of(events, "snapshot")
            for _ in range(limit):  # idle connections until the board has no descriptor left
                hog = socket.create_connection(("127.0.0.1", board.port))
                hogs.append(hog)
            await asyncio.sleep(0.5)
            write_ticket(tickets, 3, subject="rewritten while the board had no descriptor")
            status = await next_of(events, "status", timeout=5)
            assert status["problem"].startswith("cannot read the ticket folder right now")
            for hog in hogs:
                hog.close()
            hogs.clear()
            async with asyncio.timeout(10):
                while True:
                    kind, data = await next_event(events)
                    assert not (kind == "patch" and 3 in data["remove"]), "ticket 3 was dropped"
                    if kind == "patch" and any(r["id"] == 3 for r in data["upsert"]):
                        assert data["upsert"][0]["subject"].startswith("rewritten")
                        break
        assert "malformed ticket file 3.json" not in board.output()
    finally:
        for hog in hogs:
            hog.close()
        board.stop()


def test_what_healthz_says_of_a_failed_watch_names_no_path():
    failed = FileNotFoundError('No such file or directory (os error 2) about ["/srv/noc/tickets"]')
    assert reason_without_paths(failed) == "No such file or directory (os error 2)"
    denied = PermissionError("Permission denied: '/etc/ticket-dash/x' in /srv/noc")
    assert "/srv" not in reason_without_paths(denied) and "/etc" not in reason_without_paths(denied)
    assert reason_without_paths(RuntimeError("")) == "RuntimeError"
    spaced = OSError("cannot watch '/srv/my tickets/x': io error: /srv/noc: bad")
    assert reason_without_paths(spaced) == "cannot watch '<path>': io error: <path>: bad"
