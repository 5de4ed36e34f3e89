"""A TV that stops reading costs the board a bounded number of bytes, and the memory comes back
when it leaves (issue #9): 100 stalled clients, each with a filter of its own, while tickets
with 60 KB descriptions change as fast as they can be written."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
from support.ports import send_queues
from support.server import serving
from support.tickets import BULKY_ROWS_ENV, write_ticket

CLIENTS = 100
CHANGES = 300
BULK = "x" * 60_000  # each change's row: its description, shown whole (BULKY_ROWS_ENV)
MAX_QUEUED = 16_000_000


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def stalled_client(port: int, agent: int) -> socket.socket:
    """An /events client that sends its request and then never reads a byte."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET /events?agent=none,{agent} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock


def test_stalled_clients_hold_bounded_memory_that_is_returned_when_they_leave(folders, tmp_path):
    tickets, mappings = folders
    for ident in range(1, 21):
        write_ticket(tickets, ident, subject=f"ticket {ident}")
    env = {"TICKET_DASH_MAX_QUEUED_BYTES": str(MAX_QUEUED), **BULKY_ROWS_ENV}
    with serving(tickets, mappings, env=env, log_dir=tmp_path / "logs") as server:
        pid = server.process.pid
        for _ in range(3):  # warm up: imports, first renders, allocator pools
            httpx.get(f"{server.url}/api/tickets", timeout=5)
        baseline = rss_bytes(pid)
        clients = [stalled_client(server.port, 1000 + n) for n in range(CLIENTS)]
        try:
            server.wait_for_streams(CLIENTS, why="the clients never connected")
            peak = baseline
            settled = []  # RSS once the board has caught up, after each half of the changes
            for half in range(2):
                for n in range(half * CHANGES // 2, (half + 1) * CHANGES // 2):
                    write_ticket(tickets, 1 + n % 20, subject=f"{n}", description_text=BULK)
                    if n % 10 == 0:
                        peak = max(peak, rss_bytes(pid))
                time.sleep(1.5)  # the board catches up with the last writes
                settled.append(rss_bytes(pid))
                peak = max(peak, settled[-1])
        finally:
            for sock in clients:
                sock.close()
        server.wait_for_streams(0, why="the board never noticed the clients left")
        # The board gives the memory back a second after the last client left.
        deadline = time.monotonic() + 5
        while (after := rss_bytes(pid)) - baseline >= 40 * 2**20 and time.monotonic() < deadline:
            time.sleep(0.1)
    growth, kept = peak - baseline, after - baseline
    print(f"baseline {baseline >> 20} MiB, peak +{growth >> 20} MiB, after +{kept >> 20} MiB")
    print(f"settled after each half: {[(s - baseline) >> 20 for s in settled]} MiB above baseline")
    # Unbounded, this was 100 clients × 256 events × 60 KB = 1.5 GB, and 800 MB stayed after
    # they left. Bounded: the queues' global cap, one 64 KB slice and the server's socket buffer
    # per client, the patches of one batch being encoded for 100 filters, and the allocator's
    # slack: about 150 MiB at most here, measured; the assertion leaves room for a busy machine.
    assert growth < 256 * 2**20
    assert kept < 40 * 2**20


def test_a_client_that_never_reads_gets_a_small_part_of_its_snapshot_not_all_of_it(
    folders, tmp_path
):
    tickets, mappings = folders
    for ident in range(1, 301):
        write_ticket(tickets, ident, description_text="x" * 8_000)
    with serving(tickets, mappings, env=BULKY_ROWS_ENV, log_dir=tmp_path / "logs") as server:
        snapshot_bytes = len(httpx.get(f"{server.url}/api/tickets", timeout=10).content)
        assert snapshot_bytes > 2_000_000
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        try:
            sock.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            # The board writes until the connection takes no more: wait until the queue holds
            # still (or has passed the bound, which fails below).
            queued, still_since, deadline = 0, time.monotonic(), time.monotonic() + 10
            while time.monotonic() < deadline and queued <= 256 * 1024:
                time.sleep(0.1)
                now = send_queues(server.port)[sock.getsockname()[1]]  # the board's end
                if now != queued:
                    queued, still_since = now, time.monotonic()
                elif queued and time.monotonic() - still_since > 0.5:
                    break
        finally:
            sock.close()
    print(
        f"snapshot {snapshot_bytes >> 10} KiB, held in the kernel for the client {queued >> 10} KiB"
    )
    # Left to autotuning the kernel took the whole snapshot (2,000 such clients at 5,000 tickets:
    # 1.7 GB of kernel memory, and 9 s of the board's loop spent copying it). Fixed, a client
    # that never reads holds at most the send buffer (app.web.listen.SEND_BUFFER_BYTES, doubled
    # by Linux).
    assert 0 < queued <= 256 * 1024
