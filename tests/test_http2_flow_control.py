"""An HTTP/2 client that grants no flow-control window cannot make the board buffer without
bound (found by an attacker with a kiosk cookie, issue #9): hypercorn 0.18 let a stream's
writer through while the window was zero, so everything sent to it piled up in memory."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.settings
import httpx
from support.server import serving
from support.tickets import BULKY_ROWS_ENV, write_ticket

STREAMS = 12  # of the 16 one HTTP/2 connection may open
CHANGES = 150
BULK = "x" * 60_000  # each change's row: its description, shown whole (BULKY_ROWS_ENV)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class StingyClient:
    """HTTP/2 with prior knowledge, an initial window of 0, and never a WINDOW_UPDATE: it
    answers pings and settings (so the server keeps the connection) and reads nothing else."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        config = h2.config.H2Configuration(client_side=True)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0}
        )
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def open_streams(self, count: int, port: int) -> None:
        for n in range(count):
            stream_id = self.conn.get_next_available_stream_id()
            self.conn.send_headers(
                stream_id,
                [
                    (":method", "GET"),
                    (":path", f"/events?agent=none,{5000 + n}"),
                    (":scheme", "http"),
                    (":authority", f"127.0.0.1:{port}"),
                ],
                end_stream=True,
            )
        self.sock.sendall(self.conn.data_to_send())
        self.thread.start()

    def _read(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            self.conn.receive_data(data)  # acks pings and settings; grants no window
            pending = self.conn.data_to_send()
            if pending:
                self.sock.sendall(pending)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def test_streams_with_no_window_hold_bounded_memory(folders, tmp_path):
    tickets, mappings = folders
    for ident in range(1, 11):
        write_ticket(tickets, ident)
    with serving(tickets, mappings, env=BULKY_ROWS_ENV, log_dir=tmp_path / "logs") as server:
        httpx.get(f"{server.url}/api/tickets", timeout=5)
        baseline = rss_bytes(server.pid)
        client = StingyClient(server.port)
        try:
            client.open_streams(STREAMS, server.port)
            time.sleep(1.0)
            for n in range(CHANGES):
                write_ticket(tickets, 1 + n % 10, subject=f"{n}", description_text=BULK)
                time.sleep(0.01)
            time.sleep(1.5)
            grown = rss_bytes(server.pid) - baseline
            metrics = httpx.get(f"{server.url}/metrics", timeout=5).text
        finally:
            client.close()
    # Unbounded: 12 streams x 150 changes x 60 KB = 108 MB held, and growing with every change.
    assert grown < 60 * 2**20, f"the board grew {grown >> 20} MiB"
    resyncs = next(
        float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("ticket_dash_sse_resyncs_total")
    )
    assert resyncs >= STREAMS  # each stalled stream was dropped to "resync", as an HTTP/1.1 one is
