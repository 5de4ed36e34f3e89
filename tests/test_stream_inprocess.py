"""The stream's logic, in-process: Quart's test client against a real folder and watchfiles."""

from __future__ import annotations

import asyncio
import contextlib
import time

from support.inprocess import board_settings, started
from support.sse import EventReader
from support.tickets import HOUR, write_fresh_status, write_ticket

from app.contract.mappings import write_mapping


@contextlib.asynccontextmanager
async def running_app(folders, **overrides):
    async with started(board_settings(folders, **overrides)) as app:
        yield app, app.live


@contextlib.asynccontextmanager
async def stream(app, path="/events"):
    client = app.test_client()
    async with client.request(path) as connection:
        await connection.send_complete()
        yield EventReader(connection)
        await connection.disconnect()


def rows(snapshot, section):
    return [r["id"] for r in snapshot["sections"][section]]


async def test_connect_gets_a_snapshot_of_the_board(folders):
    write_ticket(folders[0], 1)
    write_ticket(folders[0], 2, status=3)
    async with running_app(folders) as (app, _):
        before = time.time()
        async with stream(app) as events:
            event, snap = await events.next()
            after = time.time()
        assert event == "snapshot"
        assert rows(snap, "open") == [1] and rows(snap, "other") == [2]
        assert snap["seq"] == 0  # nothing has changed since the board loaded the folder
        assert before <= snap["server_time"] <= after


async def test_written_changed_and_deleted_files_arrive_as_patches(folders):
    tickets = folders[0]
    async with running_app(folders) as (app, _), stream(app) as events:
        await events.next_of("snapshot")
        write_ticket(tickets, 7, subject="Mail is down")
        patch = await events.next_of("patch")
        assert [r["subject"] for r in patch["upsert"]] == ["Mail is down"]
        write_ticket(tickets, 7, subject="Mail is down", status=3)
        patch = await events.next_of("patch")
        assert patch["upsert"][0]["section"] == "other"
        (tickets / "7.json").unlink()
        patch = await events.next_of("patch")
        assert patch["remove"] == [7] and patch["upsert"] == []


async def test_one_ticket_change_sends_only_that_ticket(folders):
    for i in range(1, 51):
        write_ticket(folders[0], i)
    async with running_app(folders) as (app, _), stream(app) as events:
        await events.next_of("snapshot")
        write_ticket(folders[0], 25, subject="changed")
        patch = await events.next_of("patch")
        assert [r["id"] for r in patch["upsert"]] == [25]


async def test_malformed_file_is_counted_and_the_stream_goes_on(folders):
    tickets = folders[0]
    async with running_app(folders) as (app, live), stream(app) as events:
        await events.next_of("snapshot")
        (tickets / "9.json").write_text('{"id": 9, "subj')
        status = await events.next_of("status")
        assert status["malformed"] == {"count": 1, "files": ["9.json"]}
        write_ticket(tickets, 10)
        patch = await events.next_of("patch")
        assert patch["upsert"][0]["id"] == 10
        write_ticket(tickets, 9)  # fixed: it appears and the counter clears
        patch = await events.next_of("patch")
        assert [r["id"] for r in patch["upsert"]] == [9]
        assert live.folder.malformed.to_json()["count"] == 0


async def test_renamed_agent_re_renders_the_rows_that_use_it(folders):
    tickets, mappings = folders
    write_ticket(tickets, 1, responder_id=17)
    write_ticket(tickets, 2, responder_id=18)
    async with running_app(folders) as (app, _), stream(app) as events:
        snap = await events.next_of("snapshot")
        assert snap["sections"]["open"][0]["agent"] == "Agent #17"
        write_mapping(mappings / "agents.txt", {17: "Dana Scully"})
        patch = await events.next_of("patch")
        assert [(r["id"], r["agent"]) for r in patch["upsert"]] == [(1, "Dana Scully")]


async def test_sla_state_changes_on_the_clock_without_a_file_change(folders):
    # Critical begins 4 h before the due time; make that 2 s from now (ISO times are whole seconds).
    due = int(time.time()) + 4 * HOUR + 2
    write_ticket(folders[0], 1, fr_due_by=due)
    async with running_app(folders) as (app, _), stream(app) as events:
        snap = await events.next_of("snapshot")
        assert snap["sections"]["open"][0]["sla"] == "warning"
        patch = await events.next_of("patch", timeout=5)
        assert patch["upsert"][0]["sla"] == "critical"


async def test_watcher_status_changes_are_streamed(folders):
    async with running_app(folders) as (app, _), stream(app) as events:
        snap = await events.next_of("snapshot")
        assert snap["watcher"] is None
        write_fresh_status(folders[0], source="demo")
        status = await events.next_of("status")
        assert status["watcher"]["source"] == "demo"
        assert "cursor" not in status["watcher"]


async def test_filtered_view_gets_only_its_rows_and_a_removal_when_one_leaves(folders):
    tickets = folders[0]
    write_ticket(tickets, 1, group_id=3)
    write_ticket(tickets, 2, group_id=4)
    async with running_app(folders) as (app, _), stream(app, "/events?group=3") as events:
        snap = await events.next_of("snapshot")
        assert rows(snap, "open") == [1]
        write_ticket(tickets, 2, group_id=4, subject="not ours")
        write_ticket(tickets, 1, group_id=4)
        patch = await events.next_of("patch")
        assert patch["remove"] == [1] and patch["upsert"] == []


async def test_heartbeats_keep_coming_while_nothing_changes(folders):
    async with running_app(folders, heartbeat_seconds=0.2) as (app, _):
        async with stream(app) as events:
            await events.next_of("snapshot")
            before = time.time()
            for _ in range(3):  # one every 0.2 s, each with the server's time
                event, beat = await events.next(timeout=2)
                assert event == "heartbeat"
                assert before <= beat["server_time"] <= time.time()
                before = beat["server_time"]


async def test_api_tickets_answers_a_bad_section_with_a_clear_400(folders):
    async with running_app(folders) as (app, _):
        response = await app.test_client().get("/api/tickets?section=nope")
        assert response.status_code == 400
        assert "section must be one of" in (await response.get_json())["error"]


async def test_a_tvs_stream_ignores_an_unknown_section_and_streams_the_rest(folders):
    write_ticket(folders[0], 1)
    write_ticket(folders[0], 2, status=3)
    async with (
        running_app(folders) as (app, _),
        stream(app, "/events?section=nope&section=other") as events,
    ):
        snap = await events.next_of("snapshot")
        assert rows(snap, "open") == [] and rows(snap, "other") == [2]


async def test_api_tickets_and_healthz_answer(folders):
    write_ticket(folders[0], 1)
    write_ticket(folders[0], 2, status=3)
    write_fresh_status(folders[0])
    async with running_app(folders) as (app, _):
        client = app.test_client()
        board = await (await client.get("/api/tickets?section=open")).get_json()
        assert rows(board, "open") == [1]
        assert rows(board, "other") == []  # the filter applies
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert (await health.get_json())["status"] == "ok"


async def test_rescan_catches_a_change_the_watcher_missed(folders):
    async with running_app(folders) as (_, live):
        live._stop.set()  # the watcher stops: only the rescan can see the next file
        await asyncio.sleep(0.1)
        write_ticket(folders[0], 5)
        await live.rescan()
        assert 5 in live.board.rows


async def test_stopping_ends_streams_and_background_tasks(folders):
    async with running_app(folders) as (app, live):
        async with stream(app) as events:
            await events.next_of("snapshot")
            await live.stop()
            assert live.running_tasks == []
            assert await events.until_ended() == []  # the response ends, nothing sent after
            assert live.hub.client_count == 0


async def test_a_client_that_disconnects_is_forgotten(folders):
    async with running_app(folders) as (app, live):
        async with stream(app) as events:
            await events.next_of("snapshot")
            assert live.hub.client_count == 1
        # The disconnect cancels the handler; its generator's finally has unsubscribed it.
        assert live.hub.client_count == 0
        write_ticket(folders[0], 1)  # publishing to nobody is fine
        await live.rescan()  # applied now, whether or not the watcher has seen it yet
        async with stream(app) as events:
            snap = await events.next_of("snapshot")
            assert (snap["seq"], rows(snap, "open")) == (1, [1])
            assert live.hub.client_count == 1
