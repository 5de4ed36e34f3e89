"""Shared pieces of the benchmarks: machine facts, result tables, seeded ticket folders.

Not a test helper: the benchmarks print numbers (docs/benchmarks.md). The real server, the lean
SSE client and the ticket factory are the tests' own (tests/support), so a benchmark measures
exactly what the tests check. Everything here is bounded (timeouts on every wait) and cleans up
after itself.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "tests"):  # the app, and the support code the tests share
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from support.server import BoardProcess as BoardProcess  # noqa: E402
from support.server import launch_board  # noqa: E402
from support.sse_client import SseClient as SseClient  # noqa: E402  (for the bench scripts)
from support.sse_client import StreamEnded as StreamEnded  # noqa: E402
from support.tickets import (  # noqa: E402
    HIDDEN_STATUSES,
    realistic_ticket,
    write_realistic_mappings,
)

from app.contract.atomic import dump_json  # noqa: E402
from app.contract.status import WatcherStatus  # noqa: E402
from app.contract.status import write_status as write_status_file  # noqa: E402
from app.contract.times import iso  # noqa: E402

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


def write_status(tickets_dir: Path) -> None:
    now = iso(time.time())
    status = WatcherStatus(source="bench", last_success=now, last_attempt=now)
    write_status_file(tickets_dir, status)


def seed_tickets(tickets_dir: Path, count: int, seed: int = 1) -> dict[int, dict]:
    """Write `count` ticket files (plain writes: seeding is not what is measured)."""
    tickets_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    now = time.time()
    tickets: dict[int, dict] = {}
    for ident in range(1, count + 1):
        data = realistic_ticket(ident, rng, now)
        (tickets_dir / f"{ident}.json").write_bytes(dump_json(data))
        tickets[ident] = data
    write_status(tickets_dir)
    return tickets


def visible_ids(tickets: dict[int, dict]) -> list[int]:
    return sorted(i for i, t in tickets.items() if t["status"] not in HIDDEN_STATUSES)


def rewrite(tickets_dir: Path, data: dict) -> float:
    """Atomically replace a ticket file the way the watcher does (dot-temp + os.replace).

    Returns time.time() taken just before os.replace: the moment the change becomes visible.
    """
    path = tickets_dir / f"{data['id']}.json"
    tmp = tickets_dir / f".{path.name}.bench.tmp"
    tmp.write_bytes(dump_json(data))
    t = time.time()
    os.replace(tmp, path)
    return t


@contextmanager
def bench_dirs(prefix: str) -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory(prefix=f"ticket-dash-{prefix}-") as tmp:
        tickets, mappings = Path(tmp) / "tickets", Path(tmp) / "mappings"
        tickets.mkdir()
        write_realistic_mappings(mappings)
        yield tickets, mappings


# ---- a real server ------------------------------------------------------------------------------

# What every benchmark's server runs with: open on loopback, no safety rescan mid-measurement.
BENCH_ENV = {"TICKET_DASH_ACCESS_CONTROL": "off", "TICKET_DASH_RESCAN_SECONDS": "3600"}


def launch_server(
    tickets_dir: Path,
    mappings_dir: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> BoardProcess:
    """Start `python -m app` (hypercorn, one worker) without waiting for it: `started` is the
    moment before the process began, for timing a cold start. Its log goes next to the folders.

    BENCH_SERVER_SCRIPT: a Python file to run instead of `-m app` (to try a fix without editing
    app/, e.g. a script that monkeypatches a function and then calls app.__main__.main).
    """
    script = os.environ.get("BENCH_SERVER_SCRIPT")
    return launch_board(
        tickets_dir,
        mappings_dir,
        log_dir=tickets_dir.parent,
        env={**BENCH_ENV, **(env or {})},
        args=[str(Path(script).resolve())] if script else ["-m", "app"],
        port=port,
    )


@contextmanager
def running_server(
    tickets_dir: Path, mappings_dir: Path, env: dict[str, str] | None = None
) -> Iterator[BoardProcess]:
    """A ready server (see `launch_server`); stopped on exit, its output printed on failure."""
    server = launch_server(tickets_dir, mappings_dir, env)
    try:
        server.wait_ready(60)
        yield server
    except BaseException:
        print(f"--- server output ---\n{server.output()[-4000:]}", file=sys.stderr)
        raise
    finally:
        server.stop()
