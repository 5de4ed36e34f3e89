"""A real board over HTTPS in a subprocess, on any Python, and many lean SSE clients against it.

Shared by tests/test_tls_shutdown.py and bench/bench_shutdown.py. The certificate is made with
trustme; the server runs `python -m app` from a virtualenv per Python (cached), so the shutdown
is measured on the interpreter that has the problem (hypercorn issue #308, Python 3.12+).
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import trustme
from factories import write_ticket

from app.credentials import hash_key, hash_password

ROOT = Path(__file__).resolve().parent.parent
VENV_CACHE = Path(
    os.environ.get("TICKET_DASH_VENV_CACHE", Path.home() / ".cache/ticket-dash-venvs")
)
PYENV = Path("/root/.pyenv/versions")
KIOSK_KEY = "probe-kiosk-key-0123456789abcdef"
ADMIN_PASSWORD = "probe admin password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_python(version: str) -> Path | None:
    """The interpreter for `version` ("3.12"): this one, else pyenv's, else None."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return Path(sys.executable)
    for candidate in sorted(PYENV.glob(f"{version}.*"), reverse=True):
        exe = candidate / "bin" / "python3"
        if exe.exists():
            return exe
    return None


def venv_python(version: str) -> Path | None:
    """A cached virtualenv for `version` with the project installed (editable) by pip."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return Path(sys.executable)
    base = find_python(version)
    if base is None:
        return None
    venv = VENV_CACHE / f"py{version}"
    python = venv / "bin" / "python"
    stamp = venv / ".ticket-dash-installed"
    # Editable install: code changes need nothing; a changed dependency list reinstalls.
    wanted = json.dumps(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"])
    if stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        subprocess.run([str(base), "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            str(ROOT),
            "prometheus-client",
        ],
        check=True,
        timeout=600,
    )
    stamp.write_text(wanted)
    return python


@dataclass
class Board:
    process: subprocess.Popen[bytes]
    port: int
    http_port: int
    ca_file: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def _write_folders(root: Path) -> tuple[Path, Path]:
    tickets, mappings = root / "tickets", root / "mappings"
    tickets.mkdir(parents=True)
    mappings.mkdir(parents=True)
    for ident in range(1, 6):
        write_ticket(tickets, ident, subject=f"VPN down for office {ident}", priority=3)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (tickets / ".watcher.json").write_text(json.dumps({"source": "probe", "last_success": now}))
    return tickets, mappings


def start_board(
    python: Path,
    root: Path,
    *,
    workers: int = 1,
    cli: bool = False,
    access_log: bool = False,
    wait: float = 30.0,
) -> Board:
    """`python -m app` over HTTPS; with `cli`, the `hypercorn 'app:create_app()'` command instead."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    cert.private_key_pem.write_to_path(str(root / "key.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    tickets, mappings = _write_folders(root)
    port, http_port = free_port(), free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TICKET_DASH_", "CREDENTIALS_"))
    }
    env.update(
        {
            "TICKET_DASH_TICKETS_DIR": str(tickets),
            "TICKET_DASH_MAPPINGS_DIR": str(mappings),
            "TICKET_DASH_BIND": f"127.0.0.1:{port}",
            "TICKET_DASH_HTTP_REDIRECT_BIND": f"127.0.0.1:{http_port}",
            "TICKET_DASH_CERTFILE": str(root / "cert.pem"),
            "TICKET_DASH_KEYFILE": str(root / "key.pem"),
            "TICKET_DASH_ACCESS_CONTROL": "on",
            "TICKET_DASH_ACCESS_KEYS": json.dumps({"probe-tv": hash_key(KIOSK_KEY)}),
            "TICKET_DASH_ADMIN_USERS": json.dumps({"admin": hash_password(ADMIN_PASSWORD)}),
            "TICKET_DASH_ACCESS_LOG": str(access_log).lower(),
            "TICKET_DASH_WORKERS": str(workers),
            "PYTHONUNBUFFERED": "1",
        }
    )
    log_file = tempfile.NamedTemporaryFile(prefix="ticket-dash-tls-", suffix=".log", delete=False)
    command = [str(python), "-m", "app"]
    if cli:
        command = [str(python), "-m", "hypercorn", "--config", str(ROOT / "deploy/hypercorn.toml")]
        command += ["--bind", f"127.0.0.1:{port}", "--certfile", str(root / "cert.pem")]
        command += ["--keyfile", str(root / "key.pem"), "--graceful-timeout", "2"]
        command += ["--access-logfile", "-", "app:create_app()"]
        env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        command,
        cwd=root,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    board = Board(process, port, http_port, root / "ca.pem", Path(log_file.name))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"board exited with {process.returncode}:\n{board.output()}")
        try:
            httpx.get(f"{board.url}/healthz", verify=board.ssl_context(), timeout=1.0)
            return board
        except httpx.TransportError:
            time.sleep(0.1)
    stop_board(board)
    raise AssertionError(f"board did not answer within {wait}s:\n{board.output()}")


def stop_board(board: Board) -> None:
    if board.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(board.process.pid, signal.SIGKILL)
        board.process.wait(10)


@contextlib.contextmanager
def running_board(python: Path, root: Path, **kwargs: object) -> Iterator[Board]:
    board = start_board(python, root, **kwargs)  # type: ignore[arg-type]
    try:
        yield board
    except BaseException:
        print(f"--- board output ---\n{board.output()}", file=sys.stderr)
        raise
    finally:
        stop_board(board)


def kiosk_cookie(board: Board) -> str:
    response = httpx.get(
        f"{board.url}/?key={KIOSK_KEY}", verify=board.ssl_context(), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return response.headers["set-cookie"].split(";")[0]


# -- many lean clients --------------------------------------------------------------------------
@dataclass
class Stream:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


async def open_stream(board: Board, cookie: str, ctx: ssl.SSLContext) -> Stream:
    """One HTTP/1.1 SSE client over TLS, returned once its snapshot has arrived."""
    reader, writer = await asyncio.open_connection("127.0.0.1", board.port, ssl=ctx)
    writer.write(
        (
            f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{board.port}\r\n"
            f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    seen = b""
    while b"event: snapshot" not in seen:
        chunk = await reader.read(65536)
        if not chunk:
            raise AssertionError(f"stream closed before its snapshot: {seen[:200]!r}")
        seen += chunk
    return Stream(reader, writer)


async def open_streams(board: Board, cookie: str, count: int, batch: int = 50) -> list[Stream]:
    ctx = board.ssl_context()
    streams: list[Stream] = []
    for start in range(0, count, batch):
        size = min(batch, count - start)
        streams += await asyncio.gather(*(open_stream(board, cookie, ctx) for _ in range(size)))
    return streams


async def wait_ended(stream: Stream) -> bool:
    """True once the server ended this stream (EOF or reset)."""
    try:
        while await stream.reader.read(65536):
            pass
    except (ConnectionError, ssl.SSLError):
        pass
    stream.writer.close()
    return True


async def sigterm_and_time(board: Board, streams: list[Stream], limit: float = 15.0) -> float:
    """Send SIGTERM; seconds until the process exited. Every stream must have ended by then."""
    started = time.monotonic()
    board.process.send_signal(signal.SIGTERM)
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.run_in_executor(None, board.process.wait, limit), limit + 1)
    elapsed = time.monotonic() - started
    ended = await asyncio.wait_for(asyncio.gather(*(wait_ended(s) for s in streams)), 10)
    assert all(ended)
    return elapsed


async def silent_connections(board: Board, count: int) -> list[socket.socket]:
    """TCP connections to the HTTPS port that never say anything (no TLS handshake)."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", board.port), timeout=5)
        socks.append(s)
    return socks


def measure_shutdown(
    python: Path, root: Path, streams: int, silent: int = 0, cli: bool = False, limit: float = 15.0
) -> float:
    """Start a board on `python`, open `streams` SSE clients, SIGTERM it: seconds to exit
    (`limit` + 1 when it had not exited by then and was killed)."""

    async def scenario(board: Board) -> float:
        cookie = kiosk_cookie(board)
        opened = await open_streams(board, cookie, streams)
        quiet = await silent_connections(board, silent)
        try:
            return await sigterm_and_time(board, opened, limit)
        except (TimeoutError, subprocess.TimeoutExpired):
            return limit + 1
        finally:
            for s in quiet:
                s.close()

    with running_board(python, root, cli=cli) as board:
        return asyncio.run(scenario(board))
