"""The board tells systemd it is ready and well, and stops telling it when it is not (#10).

The tests play systemd: a unix datagram socket of their own as NOTIFY_SOCKET, WATCHDOG_USEC set,
and they read what the board sends."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
from support.ports import free_port
from support.server import serving
from support.tickets import write_ticket

from app.settings import load_settings
from app.web.application import create_app
from app.web.listen import bind_sockets, hypercorn_config
from app.web.serve import serve_board
from app.web.systemd import Notifier


class FakeSystemd:
    """A NOTIFY_SOCKET that keeps every datagram with the time it came."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def env(self, watchdog_seconds: float) -> dict[str, str]:
        return {"NOTIFY_SOCKET": str(self.path), "WATCHDOG_USEC": str(int(watchdog_seconds * 1e6))}

    def times_of(self, line: str) -> list[float]:
        return [t for t, text in list(self.messages) if line in text.split("\n")]

    def wait_for(self, line: str, timeout: float = 20.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.times_of(line)
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"systemd never heard {line!r}; it heard {self.messages}")

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(2)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_ready_once_serving_then_watchdog_pings_at_half_the_interval(folders, tmp_path):
    write_ticket(folders[0], 1)
    systemd = FakeSystemd(tmp_path)
    try:
        env = systemd.env(watchdog_seconds=1.0)
        with serving(*folders, env=env, log_dir=tmp_path / "logs") as server:
            ready = systemd.wait_for("READY=1")
            assert httpx.get(f"{server.url}/api/tickets", timeout=5).status_code == 200
            time.sleep(2.2)
            pings = [t for t in systemd.times_of("WATCHDOG=1") if t >= ready]
            assert len(pings) >= 4
            assert max(gaps(pings)) < 0.8  # half of WatchdogSec, with room for a busy machine
            server.process.send_signal(signal.SIGTERM)
            systemd.wait_for("STOPPING=1", timeout=10)
    finally:
        systemd.close()


def test_several_workers_are_ready_together_and_pinged_for_by_the_supervisor(folders, tmp_path):
    write_ticket(folders[0], 1)
    systemd = FakeSystemd(tmp_path)
    try:
        env = {**systemd.env(watchdog_seconds=1.0), "TICKET_DASH_WORKERS": "2"}
        with serving(*folders, env=env, log_dir=tmp_path / "logs"):
            systemd.wait_for("READY=1")
            time.sleep(1.5)
            assert len(systemd.times_of("WATCHDOG=1")) >= 2
            assert len(systemd.times_of("READY=1")) == 1
    finally:
        systemd.close()


def worker_pids(supervisor: int) -> list[int]:
    """The board's worker processes (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [
        int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def test_a_silent_worker_stops_the_supervisors_pings_within_seconds(folders, tmp_path):
    write_ticket(folders[0], 1)
    systemd = FakeSystemd(tmp_path)
    try:
        # WatchdogSec=12: a ping every 6 s; workers beat every second and count as silent
        # after 5 s (app.web.supervisor.SILENT_AFTER_BEATS), well before systemd's 12 s.
        env = {**systemd.env(watchdog_seconds=12.0), "TICKET_DASH_WORKERS": "2"}
        with serving(*folders, env=env, log_dir=tmp_path / "logs") as server:
            systemd.wait_for("WATCHDOG=1")
            (worker, _) = worker_pids(server.pid)
            os.kill(worker, signal.SIGSTOP)  # wedged: alive, but its loop does nothing
            stopped_at = time.monotonic()
            try:
                time.sleep(12.5)  # two pings' worth: at least one falls after the 5 s
            finally:
                os.kill(worker, signal.SIGCONT)
            resumed_at = time.monotonic()
            pings = systemd.times_of("WATCHDOG=1")
            assert [t for t in pings if stopped_at + 6 < t < resumed_at] == []
            time.sleep(2)
            assert [t for t in systemd.times_of("WATCHDOG=1") if t > resumed_at]
            assert server.output().count("not telling systemd the board is well") == 1
    finally:
        systemd.close()


async def test_a_wedged_event_loop_stops_the_pings(folders, tmp_path, monkeypatch):
    """In-process, so the test can wedge the board's own loop with a blocking call."""
    write_ticket(folders[0], 1)
    systemd = FakeSystemd(tmp_path)
    monkeypatch.setenv("NOTIFY_SOCKET", str(systemd.path))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    settings = load_settings(
        {"tickets_dir": folders[0], "mappings_dir": folders[1], "bind": f"127.0.0.1:{free_port()}"},
        environ={},
    )
    app = create_app(settings)
    sockets = bind_sockets(hypercorn_config(settings), "the board")
    board = asyncio.create_task(serve_board(app, settings, sockets=sockets, notifier=Notifier()))
    try:
        await asyncio.to_thread(systemd.wait_for, "READY=1")
        await asyncio.sleep(0.6)
        wedged_at = time.monotonic()
        time.sleep(1.5)  # noqa: ASYNC251 - the point: a blocking call wedges the board's loop
        resumed_at = time.monotonic()
        await asyncio.sleep(0.6)
        pings = systemd.times_of("WATCHDOG=1")
        during = [t for t in pings if wedged_at + 0.05 < t < resumed_at - 0.05]
        assert during == []  # systemd would have restarted it after WatchdogSec
        assert any(t < wedged_at for t in pings) and any(t > resumed_at for t in pings)
    finally:
        if not board.done():
            os.kill(os.getpid(), signal.SIGTERM)  # serve_board's own handler stops it
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(board, 10)
        systemd.close()


async def test_a_dead_background_task_stops_the_pings(folders, tmp_path, monkeypatch):
    write_ticket(folders[0], 1)
    systemd = FakeSystemd(tmp_path)
    monkeypatch.setenv("NOTIFY_SOCKET", str(systemd.path))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    settings = load_settings(
        {"tickets_dir": folders[0], "mappings_dir": folders[1], "bind": f"127.0.0.1:{free_port()}"},
        environ={},
    )
    app = create_app(settings)
    sockets = bind_sockets(hypercorn_config(settings), "the board")
    board = asyncio.create_task(serve_board(app, settings, sockets=sockets, notifier=Notifier()))
    try:
        await asyncio.to_thread(systemd.wait_for, "READY=1")
        watch = next(t for t in app.live.running_tasks if t.get_name() == "ticket-dash-watch")
        watch.cancel()  # the folder watch is gone
        killed_at = time.monotonic()
        await asyncio.sleep(1.0)
        assert [t for t in systemd.times_of("WATCHDOG=1") if t > killed_at + 0.1] == []
    finally:
        if not board.done():
            os.kill(os.getpid(), signal.SIGTERM)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(board, 10)
        systemd.close()


def test_without_notify_socket_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled and not notifier.ready() and not notifier.watchdog()
