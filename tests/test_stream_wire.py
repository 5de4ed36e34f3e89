"""The stream on the wire: a real hypercorn on a free port and a real SSE client (httpx-sse)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import httpx
import pytest
from httpx_sse import aconnect_sse
from support.tickets import write_ticket


@pytest.fixture
def server(start_board):
    return start_board()


async def next_event(events, kind: str, timeout: float = 5.0):
    async with asyncio.timeout(timeout):
        async for sse in events:
            if sse.event == kind:
                return sse
    raise AssertionError(f"stream ended before a {kind} event")


@contextlib.asynccontextmanager
async def sse_stream(url: str, headers: dict[str, str] | None = None):
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=30.0)) as client,
        aconnect_sse(client, "GET", url, headers=dict(headers or {})) as source,
    ):
        yield source.response, source.aiter_sse()


async def board_shows(url: str, ident: int) -> None:
    """Wait until the board has applied the ticket's file (the watch takes a few ms)."""
    async with httpx.AsyncClient(timeout=10) as client, asyncio.timeout(10):
        while ident not in [
            r["id"] for r in (await client.get(f"{url}/api/tickets")).json()["sections"]["open"]
        ]:
            await asyncio.sleep(0.02)


async def test_stream_headers_and_snapshot_on_connect(server, folders):
    write_ticket(folders[0], 1)
    await board_shows(server.url, 1)
    async with sse_stream(f"{server.url}/events") as (response, events):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-accel-buffering"] == "no"
        snap = await next_event(events, "snapshot")
        assert snap.retry == 2000
        assert [r["id"] for r in snap.json()["sections"]["open"]] == [1]


async def test_write_change_delete_and_malformed_files_on_the_wire(server, folders):
    tickets = folders[0]
    async with sse_stream(f"{server.url}/events") as (_, events):
        snap = await next_event(events, "snapshot")
        write_ticket(tickets, 3, subject="Core switch down")
        patch = await next_event(events, "patch")
        assert int(patch.id) > int(snap.id)
        assert patch.json()["upsert"][0]["subject"] == "Core switch down"
        write_ticket(tickets, 3, subject="Core switch down", priority=4)
        assert (await next_event(events, "patch")).json()["upsert"][0]["priority_name"] == "Urgent"
        (tickets / "4.json").write_bytes(b"\x00\xff not json")
        status = await next_event(events, "status")
        assert status.json()["malformed"] == {"count": 1, "files": ["4.json"]}
        (tickets / "3.json").unlink()
        assert (await next_event(events, "patch")).json()["remove"] == [3]


async def test_reconnect_with_last_event_id_gets_a_fresh_snapshot(server, folders):
    tickets = folders[0]
    write_ticket(tickets, 1)
    await board_shows(server.url, 1)
    async with sse_stream(f"{server.url}/events") as (_, events):
        await next_event(events, "snapshot")
        write_ticket(tickets, 2)
        last = await next_event(events, "patch")
    write_ticket(tickets, 3)  # while disconnected
    await board_shows(server.url, 3)
    async with sse_stream(f"{server.url}/events", {"Last-Event-ID": last.id}) as (_, events):
        snap = (await next_event(events, "snapshot")).json()
        assert [r["id"] for r in snap["sections"]["open"]] == [1, 2, 3]


async def test_a_stuck_client_does_not_delay_a_reading_one(server, folders):
    tickets = folders[0]
    # A client that connects and never reads: its socket buffers fill, then its queue.
    stuck = socket.create_connection(("127.0.0.1", server.port))
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    big = "x" * 3000
    try:
        async with sse_stream(f"{server.url}/events") as (_, events):
            await next_event(events, "snapshot")
            latencies = []
            for i in range(1, 401):
                started = time.monotonic()
                write_ticket(tickets, i, subject=f"{i} {big}")
                patch = await next_event(events, "patch")
                assert patch.json()["upsert"][0]["id"] == i
                latencies.append(time.monotonic() - started)
            latencies.sort()
            # Generous bound on a shared machine; the point is "not blocked for seconds".
            assert latencies[len(latencies) // 2] < 0.5
        async with httpx.AsyncClient() as client:
            board = (await client.get(f"{server.url}/api/tickets")).json()
        assert len(board["sections"]["open"]) == 400
    finally:
        stuck.close()


async def test_server_time_is_sent_so_the_page_never_trusts_its_own_clock(server):
    before = time.time()
    async with sse_stream(f"{server.url}/events") as (_, events):
        snap = (await next_event(events, "snapshot")).json()
        assert before <= snap["server_time"] <= time.time()  # one machine, one clock
        assert snap["stale_after_seconds"] == 300


def test_api_tickets_is_the_board_as_json(server, folders):
    write_ticket(folders[0], 1, group_id=3)
    write_ticket(folders[0], 2, group_id=4)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        board = httpx.get(f"{server.url}/api/tickets", params={"group": "3"}).json()
        if board["sections"]["open"]:
            break
        time.sleep(0.05)
    assert [r["id"] for r in board["sections"]["open"]] == [1]
    refused = httpx.get(f"{server.url}/api/tickets?section=x")
    assert refused.status_code == 400
    assert refused.json() == {"error": "section must be one of open, waiting, other"}
