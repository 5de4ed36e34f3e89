"""The snapshot gate: a few first snapshots at a time, in arrival order, and no client can keep
it shut (app.stream.gate)."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
from httpx_sse import connect_sse
from support.server import serving
from support.tickets import BULKY_ROWS_ENV, write_ticket

from app.stream.gate import SnapshotGate


async def test_at_most_the_slots_are_held_and_the_rest_wait_in_arrival_order():
    gate = SnapshotGate(slots=2, hold_seconds=10)
    first, second = await gate.enter(), await gate.enter()
    order: list[int] = []

    async def wait(n: int) -> None:
        slot = await gate.enter()
        order.append(n)
        slot.release()

    waiting = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    assert (gate.busy, gate.waiting, order) == (2, 3, [])
    first.release()
    first.release()  # twice is once
    await asyncio.gather(*waiting)
    assert order == [0, 1, 2]
    second.release()
    assert (gate.busy, gate.waiting, gate.admitted) == (0, 0, 5)


async def test_a_client_that_holds_its_slot_too_long_lets_the_next_one_in():
    gate = SnapshotGate(slots=1, hold_seconds=0.05)
    await gate.enter()  # and never released: a client that stopped reading
    started = asyncio.get_running_loop().time()
    slot = await asyncio.wait_for(gate.enter(), 2)
    assert asyncio.get_running_loop().time() - started >= 0.04
    assert gate.timed_out == 1
    slot.release()
    assert gate.busy == 0


async def test_a_client_that_leaves_while_waiting_takes_no_slot_with_it():
    gate = SnapshotGate(slots=1, hold_seconds=10)
    holder = await gate.enter()
    leaving = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    assert gate.waiting == 1
    holder.release()  # handed to the waiter...
    leaving.cancel()  # ...which leaves before it runs: the slot goes back
    await asyncio.gather(leaving, return_exceptions=True)
    assert (gate.busy, gate.waiting) == (0, 0)
    holder = await gate.enter()
    gone = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    gone.cancel()  # leaves while still in the queue
    await asyncio.gather(gone, return_exceptions=True)
    assert gate.waiting == 0
    holder.release()
    slot = await asyncio.wait_for(gate.enter(), 1)  # nothing left queued in front
    slot.release()


def test_clients_that_never_read_cannot_keep_a_tv_from_its_snapshot(folders, tmp_path):
    tickets, mappings = folders
    for ident in range(1, 201):
        write_ticket(tickets, ident, description_text="x" * 4_000)
    with serving(tickets, mappings, env=BULKY_ROWS_ENV, log_dir=tmp_path / "logs") as server:
        stalled = []
        try:
            for _ in range(48):  # three times the gate's slots, each connected and silent
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect(("127.0.0.1", server.port))
                sock.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                stalled.append(sock)
            # Every one of them gets through the gate although none reads: a slot is held for
            # 50 ms at most (slots held until the snapshot was taken would keep 16 forever, and
            # the rest, and this TV, waiting behind them).
            server.wait_for_streams(48, why="stalled clients kept the gate shut")
            began = time.monotonic()
            with (
                httpx.Client(timeout=30) as client,
                connect_sse(client, "GET", f"{server.url}/events") as source,
            ):
                first = next(source.iter_sse())
            waited = time.monotonic() - began
        finally:
            for sock in stalled:
                sock.close()
    assert first.event == "snapshot"
    assert len(first.json()["sections"]["open"]) == 200
    assert waited < 10
