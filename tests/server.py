"""A real hypercorn serving the board on a free port, in a subprocess, for wire and browser tests.

The server's output is kept and printed when a test fails, so a failure says why the server
misbehaved. Starting and stopping are bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> float:
        """SIGTERM and wait; returns the seconds it took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
                raise AssertionError(
                    f"server did not stop within {timeout}s:\n{self.output()}"
                ) from None
        return time.monotonic() - started


def start_server(
    tickets_dir: Path,
    mappings_dir: Path,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    command: list[str] | None = None,
    wait: float = 20.0,
) -> RunningServer:
    port = port or free_port()
    full_env = {
        **os.environ,
        "TICKET_DASH_TICKETS_DIR": str(tickets_dir),
        "TICKET_DASH_MAPPINGS_DIR": str(mappings_dir),
        "TICKET_DASH_BIND": f"127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    cmd = command or [sys.executable, "-m", "app"]
    log_file = tempfile.NamedTemporaryFile(
        prefix="ticket-dash-server-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        cmd, cwd=ROOT, env=full_env, stdout=log_file, stderr=subprocess.STDOUT
    )
    server = RunningServer(f"http://127.0.0.1:{port}", port, process, Path(log_file.name))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{server.output()}")
        try:
            httpx.get(f"{server.url}/healthz", timeout=1.0)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"server did not answer within {wait}s:\n{server.output()}")


@contextmanager
def serving(tickets_dir: Path, mappings_dir: Path, **kwargs: object) -> Iterator[RunningServer]:
    server = start_server(tickets_dir, mappings_dir, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    except BaseException:
        print(f"--- server output ---\n{server.output()}", file=sys.stderr)
        raise
    finally:
        server.stop()
