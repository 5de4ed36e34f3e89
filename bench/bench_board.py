"""10,000 ticket files: cold start to first snapshot, one changed file to patch, patch size.

    .venv/bin/python bench/bench_board.py [--tickets 10000] [--changes 200] [--cold-runs 3]

(a) cold start: `python -m app` started → first `snapshot` event read by an SSE client (the
    client retries the connection every 5 ms); also LiveState.load() + snapshot_event() in-process.
(b) one changed file: LiveState.apply_paths_inline() for one rewritten file with all tickets loaded and
    one subscriber (so the patch is encoded), in-process; and end to end, os.replace of the file →
    the patch read by an SSE client over loopback (this includes the watchfiles debounce).
(c) the bytes of that one-ticket patch: the SSE event, and on the wire (HTTP chunk framing too).
Prints a table; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Result,
    SseClient,
    bench_dirs,
    launch_server,
    percentile,
    print_table,
    rewrite,
    running_server,
    seed_tickets,
    summary_line,
    visible_ids,
)

TITLE = "bench_board: 10k tickets, cold start and one-file patches"


async def first_snapshot(port: int, started: float, timeout: float = 30.0) -> tuple[float, int]:  # noqa: ASYNC109
    """Connect as soon as the server listens; seconds from `started` to the snapshot, its bytes."""
    deadline = time.monotonic() + timeout
    while True:
        client = SseClient(port)
        try:
            await client.connect(timeout=timeout)
        except OSError:
            client.close()
            if time.monotonic() > deadline:
                raise TimeoutError("server never listened") from None
            await asyncio.sleep(0.005)
            continue
        try:
            ev = await client.next_of("snapshot", timeout=timeout)
            return time.monotonic() - started, ev.size
        finally:
            client.close()


def cold_start(
    tickets_dir: Path, mappings_dir: Path, runs: int
) -> tuple[list[float], int, list[float]]:
    times: list[float] = []
    loaded: list[float] = []  # process start → "loaded N tickets" in the server's log
    size = 0
    for _ in range(runs):
        server = launch_server(tickets_dir, mappings_dir)
        try:
            seconds, size = asyncio.run(first_snapshot(server.port, server.started))
            times.append(seconds)
            when = server.log_time("loaded ")
            if when is not None:
                loaded.append(when - server.started_wall)
        except BaseException:
            print(server.output()[-3000:], file=sys.stderr)
            raise
        finally:
            server.stop()
    return times, size, loaded


def import_time() -> float:
    """Seconds for a bare `python -c "import app.web.serve"` (part of every cold start)."""
    import subprocess

    from common import ROOT

    t0 = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", "import app.web.run, hypercorn.asyncio"],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    return time.monotonic() - t0


def in_process(
    tickets_dir: Path, mappings_dir: Path, tickets: dict[int, dict], changes: int, profile: bool
) -> dict[str, object]:
    from app.live.state import LiveState
    from app.rules.filters import RowFilter
    from app.settings import load_settings

    settings = load_settings({"tickets_dir": tickets_dir, "mappings_dir": mappings_dir}, environ={})
    out: dict[str, object] = {}

    async def run() -> None:
        live = LiveState(settings)
        t0 = time.perf_counter()
        live.load()
        t1 = time.perf_counter()
        snap = live.snapshot_event(RowFilter())
        t2 = time.perf_counter()
        out["load"] = t1 - t0
        out["snapshot"] = t2 - t1
        out["snapshot_bytes"] = len(snap)
        out["rows"] = sum(live.board.counts().values())

        sub = live.hub.subscribe(RowFilter())
        rng = random.Random(11)
        ids = visible_ids(tickets)
        durations: list[float] = []
        sizes: list[int] = []
        prof = cProfile.Profile() if profile else None
        for n in range(changes):
            ident = rng.choice(ids)
            data = dict(tickets[ident])
            data["subject"] = f"Bench change {n}: {data['subject'][:60]}"
            path = tickets_dir / f"{ident}.json"
            rewrite(tickets_dir, data)
            tickets[ident] = data
            if prof:
                prof.enable()
            t0 = time.perf_counter()
            live.apply_paths_inline([path])
            dt = time.perf_counter() - t0
            if prof:
                prof.disable()
            durations.append(dt)
            sizes += [len(item) for item in sub.items if b"event: patch" in item]
            live.hub.resync(sub)  # drop what was queued: the next change starts afresh
            sub.resync_pending = False
        out["apply"] = durations
        out["patch_bytes"] = sizes
        if prof:
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(15)
            out["profile"] = s.getvalue()
        await live.stop()

    asyncio.run(run())
    return out


async def end_to_end(
    port: int, tickets_dir: Path, tickets: dict[int, dict], changes: int, gap: float
) -> tuple[list[float], list[float], list[int], list[int]]:
    client = SseClient(port)
    await client.connect()
    try:
        await client.next_of("snapshot", timeout=60)
        rng = random.Random(23)
        ids = visible_ids(tickets)
        latencies: list[float] = []
        applied: list[float] = []
        wire: list[int] = []
        text: list[int] = []
        await asyncio.sleep(0.5)  # let the watcher settle
        for n in range(changes):
            ident = rng.choice(ids)
            data = dict(tickets[ident])
            marker = f"E2E change {n} {rng.random():.6f}"
            data["subject"] = marker
            before = client.wire_total
            t_write = rewrite(tickets_dir, data)
            tickets[ident] = data
            while True:
                ev = await client.next_of("patch", timeout=10)
                if marker.encode() in ev.data:
                    break
            latencies.append(ev.received - t_write)
            applied.append(json.loads(ev.data)["server_time"] - t_write)
            wire.append(client.wire_total - before)
            text.append(ev.size)
            await asyncio.sleep(gap * (0.5 + rng.random()))
        return latencies, applied, wire, text
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=200, help="changes measured (each part)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--gap", type=float, default=0.05, help="mean seconds between e2e changes")
    parser.add_argument("--profile", action="store_true", help="cProfile apply_paths")
    args = parser.parse_args(argv)

    results: list[Result] = []
    with bench_dirs("board") as (tickets_dir, mappings_dir):
        t0 = time.monotonic()
        tickets = seed_tickets(tickets_dir, args.tickets)
        sizes = [len(p.read_bytes()) for p in list(tickets_dir.glob("*.json"))[:500]]
        print(
            f"seeded {args.tickets} ticket files in {time.monotonic() - t0:.1f} s "
            f"(mean {statistics.mean(sizes):.0f} B, min {min(sizes)} B, max {max(sizes)} B)",
            flush=True,
        )

        imp = import_time()
        cold, snap_bytes, loaded = cold_start(tickets_dir, mappings_dir, args.cold_runs)
        print(f"cold starts: {', '.join(f'{c:.3f}' for c in cold)} s", flush=True)

        ip = in_process(tickets_dir, mappings_dir, tickets, args.changes, args.profile)
        apply_ms = [d * 1000 for d in ip["apply"]]  # type: ignore[union-attr]
        patch_text = ip["patch_bytes"]

        with running_server(tickets_dir, mappings_dir) as server:
            lat, applied, wire, text = asyncio.run(
                end_to_end(server.port, tickets_dir, tickets, args.changes, args.gap)
            )
        lat_ms = [x * 1000 for x in lat]
    applied_ms = [x * 1000 for x in applied]

    results += [
        Result(
            "(a) cold start → first snapshot (median)",
            statistics.median(cold),
            "s",
            1.0,
            f"{args.cold_runs} runs, min {min(cold):.3f} s, max {max(cold):.3f} s; "
            f"process start incl. imports",
        ),
        Result(
            "    of which start → 'loaded' log line",
            statistics.median(loaded) if loaded else float("nan"),
            "s",
            None,
            "server log timestamp (ms); imports + settings + LiveState.load()",
        ),
        Result(
            "    of which Python imports (app, hypercorn)",
            imp,
            "s",
            None,
            "a bare `python -c import ...`",
        ),
        Result(
            "    in-process LiveState.load()",
            ip["load"],
            "s",
            None,  # type: ignore[arg-type]
            f"{ip['rows']} rows visible of {args.tickets}",
        ),
        Result("    in-process snapshot_event()", ip["snapshot"], "s", None),  # type: ignore[arg-type]
        Result("    in-process load()+snapshot_event()", ip["load"] + ip["snapshot"], "s", 1.0),  # type: ignore[operator]
        Result("    snapshot size", snap_bytes / 1024, "KiB", None, "the SSE event"),
        Result(
            "(b) apply_paths(1 file) p50",
            percentile(apply_ms, 50),
            "ms",
            10.0,
            f"in-process, {len(apply_ms)} changes, {args.tickets} loaded, 1 subscriber",
        ),
        Result("    apply_paths(1 file) p95", percentile(apply_ms, 95), "ms", 10.0),
        Result(
            "    file write → patch at SSE client p50",
            percentile(lat_ms, 50),
            "ms",
            10.0,
            f"{len(lat_ms)} changes, loopback; incl. watchfiles debounce 10 ms + step 10 ms",
        ),
        Result("    file write → patch at SSE client p95", percentile(lat_ms, 95), "ms", 10.0),
        Result(
            "    of which write → server applied (p50)",
            percentile(applied_ms, 50),
            "ms",
            None,
            "patch server_time - write time: watchfiles wake-up + apply_paths",
        ),
        Result("    of which write → server applied (p95)", percentile(applied_ms, 95), "ms", None),
        Result("    file write → patch at SSE client max", max(lat_ms), "ms", None),
        Result(
            "(c) one-ticket patch, SSE event",
            statistics.median(text),
            "B",
            2048,
            f"in-process median {statistics.median(patch_text):.0f} B",
        ),  # type: ignore[arg-type]
        Result(
            "    one-ticket patch on the wire (max)",
            max(wire),
            "B",
            2048,
            f"median {statistics.median(wire):.0f} B; HTTP/1.1 chunk framing incl., TCP/IP not",
        ),
    ]
    print_table(TITLE, results)
    if args.profile:
        print(ip["profile"])
    print(summary_line(TITLE, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
