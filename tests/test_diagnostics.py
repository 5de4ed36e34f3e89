"""Memory of a board that runs for months: `kill -USR1` tells where it is; a timer's full
garbage collection keeps cyclic garbage from piling up.

The heap picture gives the RSS (and its anonymous part), glibc's memory in use, free and
mmapped, and Python's block count, in one line; with tracemalloc on, the first signal takes a
baseline and the next names what grew since.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import signal
import sys
import time
import weakref

import httpx
from support.server import serving
from support.tickets import write_fresh_status, write_ticket

from app.web import heap, serve

HEAP_LINE = re.compile(
    r"heap: RSS [\d.]+ MiB, [\d.]+ MiB anonymous; glibc malloc: [\d.]+ MiB in use,"
    r" [\d.]+ MiB free, [\d.]+ MiB mmapped; Python: \d+ blocks"
)


def wait_for(board, text: str, count: int = 1, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = board.output()
        if output.count(text) >= count:
            return output
        time.sleep(0.1)
    raise AssertionError(f"no {count} x {text!r} in:\n{board.output()}")


def test_the_heap_picture_sees_a_large_block_and_many_small_objects() -> None:
    before = heap.heap_picture()
    big = bytearray(64 * 2**20)  # glibc maps a block this large on its own
    small = [object() for _ in range(100_000)]  # Python's own arenas
    during = heap.heap_picture()
    assert before.mmapped is not None and during.mmapped is not None  # glibc (Debian, CI)
    assert during.mmapped - before.mmapped >= 64 * 2**20
    assert during.rss - before.rss >= 64 * 2**20  # bytearray() zeroes it: every page touched
    assert during.rss_anonymous - before.rss_anonymous >= 64 * 2**20
    if sys.getallocatedblocks():  # 0 under PYTHONMALLOC=malloc
        assert during.python_blocks - before.python_blocks >= 100_000
    del big, small
    after = heap.heap_picture()
    assert after.mmapped is not None and after.mmapped < during.mmapped - 60 * 2**20
    assert after.rest is not None and 0 <= after.rest < after.rss_anonymous
    assert HEAP_LINE.fullmatch("heap: " + after.line())


def test_sigusr1_logs_the_heap_and_the_board_keeps_serving(folders, tmp_path) -> None:
    tickets, mappings = folders
    write_ticket(tickets, 1)
    write_fresh_status(tickets)
    with serving(tickets, mappings, log_dir=tmp_path) as board:
        os.kill(board.pid, signal.SIGUSR1)
        wait_for(board, "heap: RSS")
        os.kill(board.pid, signal.SIGUSR1)  # signals do not queue: one at a time
        output = wait_for(board, "heap: RSS", count=2)
        assert len(HEAP_LINE.findall(output)) == 2
        assert "tracemalloc" not in output  # untraced: the picture, nothing else
        assert httpx.get(f"{board.url}/healthz", timeout=5).status_code == 200


def test_with_tracemalloc_the_second_sigusr1_names_what_grew(folders, tmp_path) -> None:
    tickets, mappings = folders
    write_ticket(tickets, 1)
    env = {"TICKET_DASH_TRACEMALLOC_FRAMES": "4"}
    with serving(tickets, mappings, log_dir=tmp_path, env=env) as board:
        os.kill(board.pid, signal.SIGUSR1)
        wait_for(board, "tracemalloc baseline taken")
        for ident in range(2, 400):  # something to grow: tickets the board now holds
            write_ticket(tickets, ident, subject=f"Ticket {ident} " + "x" * 200)
        deadline = time.monotonic() + 20
        while "Ticket 399 x" not in httpx.get(f"{board.url}/api/tickets", timeout=5).text:
            assert time.monotonic() < deadline, "the board did not show the new tickets"
            time.sleep(0.2)
        os.kill(board.pid, signal.SIGUSR1)
        output = wait_for(board, "since the baseline", timeout=60)
        wait_for(board, "tracemalloc growth", count=5)
        assert len(HEAP_LINE.findall(output)) == 2
        assert re.search(r"tracemalloc: \+[\d.]+ MB since the baseline", output)


class Node:
    """A cycle's member: only the cyclic garbage collector can free it."""

    def __init__(self) -> None:
        self.me = self


async def test_a_full_collection_runs_on_its_timer_and_frees_cyclic_garbage() -> None:
    """Between Python's own rare full collections (app.web.serve.GC_THRESHOLDS), the board's
    timer collects: cyclic garbage lives one period, not an hour."""
    gc.disable()  # no collection but the timer's
    try:
        stop = asyncio.Event()
        collector = asyncio.create_task(serve._collect_garbage(stop, 0.2))
        node = Node()
        freed = asyncio.Event()
        alive = weakref.ref(node, lambda _: freed.set())
        del node
        assert alive() is not None  # a cycle: still there without a collection
        await asyncio.wait_for(freed.wait(), 5)
        stop.set()
        await asyncio.wait_for(collector, 5)  # and it stops with the board
    finally:
        gc.enable()
