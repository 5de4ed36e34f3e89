"""A real board (`python -m app`, hypercorn) in a subprocess, on a free port: the one launcher.

    board = launch_board(tickets, mappings, log_dir=tmp_path)   # returns at once (cold starts)
    board.wait_ready()                                           # until it answers over HTTP(S)
    ...
    board.stop()                                                 # SIGTERM, bounded, then SIGKILL

or `with serving(tickets, mappings, log_dir=tmp_path) as board:`, which prints the server's
output when the body fails. The server's output goes to a log file in `log_dir` (a test's
tmp_path, a benchmark's temporary folder), never an open handle in this process. The child gets
a clean environment: no TICKET_DASH_* or systemd credentials from the caller's shell, the
checkout on PYTHONPATH (so another Python's interpreter runs *this* checkout's code), and a
working directory without a ticket-dash.toml. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]  # the checkout


def board_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a board subprocess runs with: this checkout's code, no inherited settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TICKET_DASH_", "CREDENTIALS_DIRECTORY", "PYTHON"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class BoardProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    started: float  # time.monotonic() just before the process was started
    started_wall: float  # time.time() at the same moment
    ssl_context: ssl.SSLContext | None = None  # HTTPS when set (the CA that signed its certificate)
    redirect_port: int | None = None  # the plain-HTTP port that redirects to HTTPS, if any

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self, timeout: float = 20.0) -> float:
        """Until the board answers an HTTP request; seconds since it was started.

        AssertionError, with the server's output, when it exits or does not answer in time.
        """
        deadline = time.monotonic() + timeout
        verify: ssl.SSLContext | bool = self.ssl_context or False
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"board exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                httpx.get(f"{self.url}/healthz", verify=verify, timeout=1.0)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            return time.monotonic() - self.started
        self.kill()
        raise AssertionError(f"board did not answer within {timeout} s:\n{self.output()}")

    def stop(self, timeout: float = 10.0) -> float:
        """SIGTERM and wait; seconds until it exited. Killed (and AssertionError) past `timeout`."""
        began = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(
                    f"board did not stop within {timeout} s:\n{self.output()}"
                ) from None
        return time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL the board and every process it started (its process group); wait for it."""
        if self.process.returncode is None:  # not reaped: the group id is still ours
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)

    def wait_for_streams(self, count: int, timeout: float = 10.0, why: str = "") -> None:
        """Until the board counts `count` open event streams (its /metrics); AssertionError
        saying `why` past `timeout`."""
        verify: ssl.SSLContext | bool = self.ssl_context or False
        expected = f"ticket_dash_sse_clients {count}.0"
        deadline = time.monotonic() + timeout
        while expected not in httpx.get(f"{self.url}/metrics", verify=verify, timeout=5).text:
            assert time.monotonic() < deadline, why or f"the board never had {count} streams"
            time.sleep(0.05)

    def log_time(self, needle: str) -> float | None:
        """time.time() of the first log line containing `needle` (logging's asctime, ms)."""
        for line in self.output().splitlines():
            if needle in line:
                try:
                    stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
                except ValueError:
                    continue
                return stamp.timestamp()
        return None

    def rss_kib(self) -> int:
        """The server's resident memory (VmRSS), KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return -1


def launch_board(
    tickets_dir: Path,
    mappings_dir: Path,
    *,
    log_dir: Path,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    python: Path | str | None = None,
    args: Sequence[str] = ("-m", "app"),
    cwd: Path | None = None,
    ssl_context: ssl.SSLContext | None = None,
    redirect_port: int | None = None,
    pass_fds: Sequence[int] = (),
) -> BoardProcess:
    """Start a board without waiting for it (see `BoardProcess.wait_ready`).

    `python` runs it (default: this interpreter) with `args` (default `-m app`); `env` adds
    TICKET_DASH_* settings; `ssl_context` (the CA) says it serves HTTPS, `redirect_port` where
    it redirects plain HTTP to HTTPS; `pass_fds` hands it listening sockets (as systemd does).
    The output is appended to `log_dir/board-<port>.log`, so a board
    restarted on the same port continues the same log.
    """
    port = port or free_port()
    settings = {
        "TICKET_DASH_TICKETS_DIR": str(tickets_dir),
        "TICKET_DASH_MAPPINGS_DIR": str(mappings_dir),
        "TICKET_DASH_BIND": f"127.0.0.1:{port}",
        **(env or {}),
    }
    if redirect_port is not None:
        settings["TICKET_DASH_HTTP_REDIRECT_BIND"] = f"127.0.0.1:{redirect_port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"board-{port}.log"
    started, started_wall = time.monotonic(), time.time()
    with log_path.open("ab") as log:  # the child has its own copy; ours closes right away
        process = subprocess.Popen(
            [str(python or sys.executable), *args],
            cwd=cwd or log_dir,
            env=board_environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches its workers too
            pass_fds=tuple(pass_fds),
        )
    return BoardProcess(process, port, log_path, started, started_wall, ssl_context, redirect_port)


@contextlib.contextmanager
def serving(
    tickets_dir: Path, mappings_dir: Path, *, log_dir: Path, ready_timeout: float = 20.0, **kw
) -> Iterator[BoardProcess]:
    """A started, ready board; stopped on exit, its output printed if the body raised."""
    board = launch_board(tickets_dir, mappings_dir, log_dir=log_dir, **kw)
    try:
        board.wait_ready(ready_timeout)
        yield board
    except BaseException:
        print(f"--- board output ({board.log_path}) ---\n{board.output()}", file=sys.stderr)
        raise
    finally:
        board.stop()
