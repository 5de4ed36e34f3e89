"""Shared pieces of the benchmarks: realistic ticket files, a real server, a lean SSE client.

Not a test helper: the benchmarks print numbers (docs/benchmarks.md). Everything here is bounded
(timeouts on every wait) and cleans up after itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "tests"):  # the app, and the tests' helpers the benchmarks share
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from server import free_port  # noqa: E402

HOUR = 3600.0
MINUTE = 60.0

# ---- the machine ------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "memory": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def print_machine() -> None:
    m = machine()
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "?"
    print(
        f"machine: {m['nproc']} cores, {m['cpu']}, {m['memory']} RAM, "
        f"Python {m['python']}, Linux {m['kernel']}; load average now {load}"
    )


def raise_nofile(want: int = 16384) -> int:
    """Raise this process's open-file limit (children inherit it); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- numbers ------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


@dataclass
class Result:
    name: str
    value: float
    unit: str
    target: float | None = None  # value must be <= target
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        if self.value != self.value:  # NaN: nothing measured
            return "MISS"
        return "PASS" if self.value <= self.target else "MISS"


def fmt(value: float, unit: str) -> str:
    if value != value:
        return "n/a"
    if unit in ("B", "KiB", "clients", "events"):
        return f"{value:,.0f} {unit}" if unit != "KiB" else f"{value:,.1f} {unit}"
    return f"{value:,.2f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def print_table(title: str, results: list[Result]) -> None:
    rows = [
        (
            r.name,
            fmt(r.value, r.unit),
            "" if r.target is None else f"<= {fmt(r.target, r.unit)}",
            r.verdict,
            r.note,
        )
        for r in results
    ]
    heads = ("measure", "value", "target", "verdict", "note")
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads)]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))
    print(f"\n== {title} ==")
    print_machine()
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(flush=True)


def summary_line(title: str, results: list[Result]) -> str:
    """One machine-readable line run_all.py collects: BENCH-JSON {...}."""
    return "BENCH-JSON " + json.dumps(
        {
            "bench": title,
            "results": [
                {
                    "name": r.name,
                    "value": r.value,
                    "unit": r.unit,
                    "target": r.target,
                    "verdict": r.verdict,
                    "note": r.note,
                }
                for r in results
            ],
        }
    )


# ---- ticket files -------------------------------------------------------------------------------

WORDS = (
    "printer vpn laptop outlook password reset teams licence monitor docking station wifi "
    "sharepoint onedrive access request new starter leaver phone mfa token badge server "
    "backup restore slow login error crash update install software hardware network drive "
    "permissions calendar mailbox shared folder excel macro invoice payroll portal citrix"
).split()
SENTENCES = (
    "The user reports that the problem started after this morning's update.",
    "They have already restarted the machine twice without any change.",
    "Screenshots of the error message are attached to the original email.",
    "This is blocking the whole team from finishing the month-end close.",
    "Please call back on the desk phone rather than the mobile number.",
    "The same issue was reported last week and closed without a root cause.",
    "Other people in the office do not seem to be affected at the moment.",
    "The device is on the latest build and the antivirus scan came back clean.",
    "Steps to reproduce: open the application, sign in, wait about thirty seconds.",
    "Manager has approved the request; cost centre is in the form below.",
)
AGENTS = 40
GROUPS = 12
REQUESTERS = 800

# status id -> name (statuses.txt). 2 open, 3 pending, 6 waiting on agent (by name), 7 on hold,
# 4/5 resolved/closed (hidden).
STATUSES = {
    2: "Open",
    3: "Pending",
    4: "Resolved",
    5: "Closed",
    6: "Waiting on Agent",
    7: "On Hold",
}
STATUS_WEIGHTS = [(2, 50), (3, 15), (6, 15), (7, 10), (4, 5), (5, 5)]


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pick_status(rng: random.Random) -> int:
    roll = rng.uniform(0, sum(w for _, w in STATUS_WEIGHTS))
    for status, weight in STATUS_WEIGHTS:
        roll -= weight
        if roll <= 0:
            return status
    return 2


def ticket_data(ident: int, rng: random.Random, now: float, subject: str | None = None) -> dict:
    """A realistic Freshservice v2 ticket (GET /tickets/{id}?include=stats): ~1.5-2 KB as JSON.

    Spread over statuses, priorities and SLA states: some tickets still need a first response
    (overdue / critical / warning / normal by fr_due_by), others were responded to.
    """
    priority = rng.choice((1, 2, 2, 2, 3, 3, 4))
    status = _pick_status(rng)
    created = now - rng.uniform(0.5 * HOUR, 20 * 24 * HOUR)
    updated = min(now - 30, created + rng.uniform(0, now - created))
    responded = rng.random() < 0.6
    # first-response due: anything from 2 h ago (overdue) to 30 h ahead (normal)
    fr_due = now + rng.choice((-2 * HOUR, 1 * HOUR, 3 * HOUR, 8 * HOUR, 20 * HOUR, 30 * HOUR))
    fr_due += rng.uniform(-900, 900)
    first_resp = min(updated, created + rng.uniform(60, 4 * HOUR)) if responded else None
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7)))
    text = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(4, 7)))
    agent = rng.randint(1, AGENTS) if rng.random() < 0.8 else None
    group = rng.randint(1, GROUPS) if rng.random() < 0.9 else None
    return {
        "id": ident,
        "subject": subject or f"{words.capitalize()} ({ident})",
        "description": "<div><p>" + text.replace(". ", ".</p><p>") + "</p></div>",
        "description_text": text,
        "status": status,
        "priority": priority,
        "type": rng.choice(("Incident", "Incident", "Service Request")),
        "source": rng.choice((1, 2, 3, 4)),
        "responder_id": agent,
        "requester_id": rng.randint(1, REQUESTERS),
        "group_id": group,
        "department_id": rng.randint(1, 20),
        "category": rng.choice(("Hardware", "Software", "Network", "Access", None)),
        "sub_category": None,
        "item_category": None,
        "impact": rng.randint(1, 3),
        "urgency": rng.randint(1, 3),
        "to_emails": None,
        "cc_emails": [],
        "fwd_emails": [],
        "reply_cc_emails": [],
        "fr_escalated": False,
        "is_escalated": False,
        "spam": False,
        "deleted": False,
        "workspace_id": 2,
        "tags": rng.sample(["vip", "onsite", "remote", "hardware", "emea", "apac"], k=2),
        "attachments": [],
        "custom_fields": {"location": rng.choice(("Leeds", "London", "Paris")), "asset": None},
        "created_at": iso(created),
        "updated_at": iso(updated),
        "due_by": iso(created + 3 * 24 * HOUR),
        "fr_due_by": iso(fr_due),
        "stats": {
            "ticket_id": 900000 + ident,
            "first_responded_at": iso(first_resp) if first_resp else None,
            "agent_responded_at": iso(first_resp) if first_resp else None,
            "requester_responded_at": iso(updated) if responded and rng.random() < 0.3 else None,
            "resolved_at": None,
            "closed_at": None,
            "status_updated_at": iso(updated),
            "pending_since": None,
            "opened_at": iso(created),
        },
    }


def dump(data: Any) -> bytes:
    # the same canonical form as watcher/atomic.py (indent=1, sorted keys)
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def write_mappings(mappings_dir: Path) -> None:
    mappings_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    first = "Dana Fox Walter Skinner Monica John Alex Jeff Carla Ravi Mei Olu Sven Ana".split()
    last = "Scully Mulder Reyes Doggett Krycek Spender Byers Frohike Langly Kersh".split()
    (mappings_dir / "agents.txt").write_text(
        "".join(f"{i}:{rng.choice(first)} {rng.choice(last)}\n" for i in range(1, AGENTS + 1))
    )
    (mappings_dir / "requesters.txt").write_text(
        "".join(f"{i}:{rng.choice(first)} {rng.choice(last)}\n" for i in range(1, REQUESTERS + 1))
    )
    (mappings_dir / "groups.txt").write_text(
        "".join(f"{i}:Group {i}\n" for i in range(1, GROUPS + 1))
    )
    (mappings_dir / "statuses.txt").write_text("".join(f"{k}:{v}\n" for k, v in STATUSES.items()))


def write_status(tickets_dir: Path) -> None:
    from app.contract.layout import status_path
    from app.contract.status import WatcherStatus

    now = iso(time.time())
    st = WatcherStatus(source="bench", last_success=now, last_attempt=now, counts={})
    status_path(tickets_dir).write_text(json.dumps(st.to_json()))


def seed_tickets(tickets_dir: Path, count: int, seed: int = 1) -> dict[int, dict]:
    """Write `count` ticket files (plain writes: seeding is not what is measured)."""
    tickets_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    now = time.time()
    tickets: dict[int, dict] = {}
    for ident in range(1, count + 1):
        data = ticket_data(ident, rng, now)
        (tickets_dir / f"{ident}.json").write_bytes(dump(data))
        tickets[ident] = data
    write_status(tickets_dir)
    return tickets


def visible_ids(tickets: dict[int, dict]) -> list[int]:
    return sorted(i for i, t in tickets.items() if t["status"] not in (4, 5))


def rewrite(tickets_dir: Path, data: dict) -> float:
    """Atomically replace a ticket file the way the watcher does (dot-temp + os.replace).

    Returns time.time() taken just before os.replace: the moment the change becomes visible.
    """
    path = tickets_dir / f"{data['id']}.json"
    tmp = tickets_dir / f".{path.name}.bench.tmp"
    tmp.write_bytes(dump(data))
    t = time.time()
    os.replace(tmp, path)
    return t


@contextmanager
def bench_dirs(prefix: str) -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory(prefix=f"ticket-dash-{prefix}-") as tmp:
        tickets, mappings = Path(tmp) / "tickets", Path(tmp) / "mappings"
        tickets.mkdir()
        write_mappings(mappings)
        yield tickets, mappings


# ---- a real server ------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    started: float  # time.monotonic() just before Popen
    started_wall: float  # time.time() just before Popen

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

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
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return -1

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        try:
            self.log_path.unlink()
        except FileNotFoundError:
            pass


def launch_server(
    tickets_dir: Path, mappings_dir: Path, env: dict[str, str] | None = None
) -> Server:
    """Start `python -m app` (hypercorn, one worker) without waiting for it."""
    port = free_port()
    full_env = {
        **os.environ,
        "TICKET_DASH_TICKETS_DIR": str(tickets_dir),
        "TICKET_DASH_MAPPINGS_DIR": str(mappings_dir),
        "TICKET_DASH_BIND": f"127.0.0.1:{port}",
        "TICKET_DASH_ACCESS_CONTROL": "off",
        "TICKET_DASH_RESCAN_SECONDS": "3600",  # the safety rescan must not land mid-measurement
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    log_file = tempfile.NamedTemporaryFile(prefix="ticket-dash-bench-", suffix=".log", delete=False)
    started, started_wall = time.monotonic(), time.time()
    # BENCH_SERVER_SCRIPT: a Python file to run instead of `-m app` (to try a fix without
    # editing app/, e.g. a script that monkeypatches a function and then calls app.__main__.main)
    script = os.environ.get("BENCH_SERVER_SCRIPT")
    process = subprocess.Popen(
        [sys.executable, script] if script else [sys.executable, "-m", "app"],
        cwd=tempfile.gettempdir(),  # no ticket-dash.toml of the checkout is picked up
        env={**full_env, "PYTHONPATH": str(ROOT)},
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    return Server(process, port, Path(log_file.name), started, started_wall)


def wait_ready(server: Server, timeout: float = 30.0) -> None:
    """Until the server accepts a TCP connection (it binds after loading the tickets)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"server exited with {server.process.returncode}:\n{server.output()}"
            )
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"server did not listen within {timeout}s:\n{server.output()}")


@contextmanager
def running_server(tickets_dir: Path, mappings_dir: Path, **kw: Any) -> Iterator[Server]:
    server = launch_server(tickets_dir, mappings_dir, **kw)
    try:
        wait_ready(server)
        yield server
    except BaseException:
        print(f"--- server output ---\n{server.output()[-4000:]}", file=sys.stderr)
        raise
    finally:
        server.stop()


# ---- a lean SSE client (raw asyncio streams: HTTP/1.1, chunked) --------------------------------


@dataclass
class SseEvent:
    event: str
    data: bytes
    text_bytes: int  # the event's SSE text (fields + blank line), before chunk framing
    received: float  # time.time() when the socket read that completed it returned


@dataclass
class SseClient:
    """One GET /events over a plain socket. Much cheaper per client than httpx + httpx-sse, so
    one process can hold hundreds of streams. Parses only the framing; `data` stays bytes.
    `wire_total` counts every byte read from the socket after the response head (chunk framing
    included; TCP/IP headers not)."""

    port: int
    path: str = "/events"
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    wire_total: int = 0
    _raw: bytearray = field(default_factory=bytearray)  # undecoded socket bytes
    _body: bytearray = field(default_factory=bytearray)  # de-chunked SSE text
    _chunked: bool = True
    _scan: int = 0  # _body before this holds no event end
    _pending: list[SseEvent] = field(default_factory=list)

    async def connect(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port, limit=1 << 22
            )
            self.writer.write(
                f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n".encode()
            )
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 200 " not in status + b" ":
            raise RuntimeError(f"/events answered {status!r}")
        self._chunked = b"transfer-encoding: chunked" in head.lower()

    async def next_event(self, timeout: float = 10.0) -> SseEvent:  # noqa: ASYNC109
        assert self.reader is not None
        async with asyncio.timeout(timeout):
            while not self._pending:
                chunk = await self.reader.read(1 << 20)
                if not chunk:
                    raise ConnectionError("stream ended")
                self._feed(chunk, time.time())
        return self._pending.pop(0)

    async def next_of(self, kind: str, timeout: float = 10.0) -> SseEvent:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while True:
                ev = await self.next_event(timeout)
                if ev.event == kind:
                    return ev

    def _feed(self, chunk: bytes, now: float) -> None:
        self.wire_total += len(chunk)
        if not self._chunked:
            self._body += chunk
        else:
            self._raw += chunk
            while True:
                end = self._raw.find(b"\r\n")
                if end < 0:
                    break
                size = int(bytes(self._raw[:end]).split(b";")[0], 16)
                total = end + 2 + size + 2
                if len(self._raw) < total:
                    break
                self._body += self._raw[end + 2 : end + 2 + size]
                del self._raw[:total]
        start = 0
        while True:
            end = self._body.find(b"\n\n", max(start, self._scan))
            if end < 0:
                self._scan = max(0, len(self._body) - 1)
                break
            block = bytes(self._body[start:end])
            event, data = "message", b""
            for line in block.split(b"\n"):
                if line.startswith(b"event: "):
                    event = line[7:].decode()
                elif line.startswith(b"data: "):
                    data = line[6:]
            self._pending.append(SseEvent(event, data, end + 2 - start, now))
            start = end + 2
        if start:
            del self._body[:start]
            self._scan = max(0, len(self._body) - 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
