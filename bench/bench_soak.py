"""bench_soak: does anything grow while the board runs for hours? (issue #10)

    .venv/bin/python bench/bench_soak.py [--minutes 100] [--warmup 40] [--speed 20] [--clients 100]

The simulated helpdesk at `--speed` events a second writes into a folder; a real board (one
worker) shows it to one real Chromium tab at 1920x1080 and to `--clients` lean SSE clients that
keep connecting and leaving (each stays 5-60 s). Every 30 s: the board's RSS, the tab's JS heap
(after a forced garbage collection) and DOM nodes. After the warm-up the growth per hour is the
slope of a least-squares line. The board runs with tracemalloc; at the end of the warm-up and at
the end it is sent SIGUSR1, and the top growth lines it logs (app.web.diagnostics) are printed,
so whatever grew is named. Untraced (`--trace-frames 0`) it is sent SIGUSR1 at every sample
instead, and the heap picture it logs (app.web.heap) gives three more slopes: glibc's memory in
use, the rest of the anonymous memory (Python's arenas, free heap pages still resident, stacks),
and Python's allocated blocks. A leak grows what is in use or the blocks; the rest growing while
the blocks stay flat is fragmentation.

The warm-up lasts until what the board holds has settled; each sample prints the folder's
active and archived tickets to show it. The board keeps every archived ticket of the last two or
three days for today's numbers (about 1 KB each), so it grows while the archive fills: bounded by
the days, not a leak. At 20 events a second the demo resolves about 30 tickets a minute and
would fill its default 10,000 kept resolves in five hours, so the soak runs it with
`--archive-keep` 1,000: full (with the seeded past, ~1,190 files) after about 37 minutes. Its
active tickets drift meanwhile from 40 to about 180 and stay there (a new ticket waits real
minutes for its answer, so at 20 times the speed more are waiting). Hence the 40-minute warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))

from common import ROOT, Result, bench_dirs, print_table, running_server, summary_line
from support.browser import CHROMIUM, CHROMIUM_ARGS

from app.web.heap import MIB, HeapPicture

TITLE = "bench_soak: flat memory over hours"


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value), in value per hour."""
    if len(points) < 3:
        return float("nan")
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((t - mx) ** 2 for t, _ in points)
    sxy = sum((t - mx) * (v - my) for t, v in points)
    return (sxy / sxx) * 3600 if sxx else float("nan")


def churn_process(port: int, clients: int, seconds: float) -> None:
    """Keep about `clients` SSE connections open, each for 5-60 s, then replaced by a new one."""

    async def one(rng: random.Random, stop_at: float) -> None:
        while time.monotonic() < stop_at:
            life = min(rng.uniform(5, 60), max(0.0, stop_at - time.monotonic()))
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
                await writer.drain()
                deadline = time.monotonic() + life
                while time.monotonic() < deadline:
                    try:
                        async with asyncio.timeout(max(0.01, deadline - time.monotonic())):
                            if not await reader.read(65536):
                                break
                    except TimeoutError:
                        break
                writer.close()
            except OSError:
                await asyncio.sleep(1)

    async def main() -> None:
        stop_at = time.monotonic() + seconds
        rng = random.Random(7)
        await asyncio.gather(*(one(random.Random(rng.random()), stop_at) for _ in range(clients)))

    asyncio.run(main())


async def tab_probe(url: str, samples: list[dict], stop_at: float, every: float) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = await (
            await browser.new_context(viewport={"width": 1920, "height": 1080})
        ).new_page()
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("Performance.enable")
        await page.goto(url)
        started = time.monotonic()
        while time.monotonic() < stop_at:
            await cdp.send("HeapProfiler.collectGarbage")
            heap = await cdp.send("Runtime.getHeapUsage")
            metrics = {
                m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]
            }
            samples.append(
                {
                    "t": time.monotonic() - started,
                    "heap_mb": heap["usedSize"] / 2**20,
                    "nodes": metrics.get("Nodes", float("nan")),
                    "listeners": metrics.get("JSEventListeners", float("nan")),
                }
            )
            await asyncio.sleep(every)
        await browser.close()


HEAP_LINE = re.compile(
    r"^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(?P<ms>\d{3}) .*heap: RSS (?P<rss>[\d.]+) MiB,"
    r" (?P<anon>[\d.]+) MiB anonymous; glibc malloc: (?P<used>[\d.]+) MiB in use,"
    r" (?P<free>[\d.]+) MiB free, (?P<mmapped>[\d.]+) MiB mmapped; Python: (?P<blocks>\d+) blocks",
    re.MULTILINE,
)
SERIES = ("in use", "rest", "Python blocks (thousands)")


def heap_series(output: str, started: float) -> dict[str, list[tuple[float, float]]]:
    """The board's heap pictures (app.web.heap) as series of (seconds since `started`, value):
    glibc's memory in use (its large blocks included); the rest of the anonymous memory
    (Python's arenas, free heap pages still resident, stacks); Python's blocks."""
    series: dict[str, list[tuple[float, float]]] = {name: [] for name in SERIES}
    for match in HEAP_LINE.finditer(output):
        logged = time.mktime(time.strptime(match["when"], "%Y-%m-%d %H:%M:%S"))
        t = logged + int(match["ms"]) / 1000 - started
        picture = HeapPicture(
            rss=round(float(match["rss"]) * MIB),
            rss_anonymous=round(float(match["anon"]) * MIB),
            malloc_in_use=round(float(match["used"]) * MIB),
            malloc_free=round(float(match["free"]) * MIB),
            mmapped=round(float(match["mmapped"]) * MIB),
            python_blocks=int(match["blocks"]),
        )
        series["in use"].append((t, float(match["used"]) + float(match["mmapped"])))
        series["rest"].append((t, (picture.rest or 0) / MIB))  # the line carries glibc's numbers
        series["Python blocks (thousands)"].append((t, picture.python_blocks / 1000))
    return series


def folder_counts(tickets: Path) -> tuple[int, int]:
    """Active ticket files and archived ones: the board's memory follows them, so a warm-up
    lasts until both have settled (the demo's active tickets drift up from its 40 for a while,
    and its archive fills up to `--archive-keep`)."""
    active = sum(1 for p in tickets.glob("*.json"))
    archived = sum(1 for p in (tickets / "archive").glob("*/*.json"))
    return active, archived


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=100.0)
    parser.add_argument("--warmup", type=float, default=40.0)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--every", type=float, default=30.0)
    parser.add_argument(
        "--archive-keep",
        type=int,
        default=1000,
        help="the demo's archived resolves kept (demo_archive_keep); see the docstring",
    )
    parser.add_argument(
        "--trace-frames",
        type=int,
        default=8,
        help="tracemalloc depth in the board (0: no tracing; tracing's own tables grow too)",
    )
    args = parser.parse_args()
    total = args.minutes * 60
    with bench_dirs("soak") as (tickets, mappings):
        demo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "watcher",
                "--source",
                "demo",
                "--tickets-dir",
                str(tickets),
                "--mappings-dir",
                str(mappings),
                "--demo-speed",
                str(args.speed),
            ],
            cwd=ROOT,
            env={**os.environ, "TICKET_DASH_DEMO_ARCHIVE_KEEP": str(args.archive_keep)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(3)
            env = {
                "TICKET_DASH_TRACEMALLOC_FRAMES": str(args.trace_frames),
                "TICKET_DASH_ACCESS_LOG": "false",
                # As in production (the other benches push the rescan out of their way): the
                # rescan is also when the board forgets archived tickets the demo has pruned,
                # and without it a soak measures an hour of resolves remembered.
                "TICKET_DASH_RESCAN_SECONDS": "60",
            }
            with running_server(tickets, mappings, env=env) as server:
                url = f"http://127.0.0.1:{server.port}/"
                churn = mp.get_context("spawn").Process(
                    target=churn_process, args=(server.port, args.clients, total)
                )
                churn.start()
                tab: list[dict] = []
                board: list[tuple[float, float]] = []
                started = time.monotonic()
                stop_at = started + total

                started_wall = time.time()

                async def run() -> None:
                    probe = asyncio.create_task(tab_probe(url, tab, stop_at, args.every))
                    warm = False
                    while time.monotonic() < stop_at:
                        t = time.monotonic() - started
                        board.append((t, server.rss_kib() / 1024))
                        if args.trace_frames == 0:
                            os.kill(server.pid, signal.SIGUSR1)  # the heap picture only
                        elif not warm and t >= args.warmup * 60:
                            os.kill(server.pid, signal.SIGUSR1)  # the tracemalloc baseline
                            warm = True
                        active, archived = folder_counts(tickets)
                        print(
                            f"  {t / 60:5.1f} min  board {board[-1][1]:6.1f} MiB"
                            f"  tickets {active} active, {archived} archived"
                            + (
                                f"  tab heap {tab[-1]['heap_mb']:.1f} MiB nodes {tab[-1]['nodes']:.0f}"
                                if tab
                                else ""
                            ),
                            flush=True,
                        )
                        await asyncio.sleep(args.every)
                    await probe

                asyncio.run(run())
                if args.trace_frames:
                    os.kill(server.pid, signal.SIGUSR1)
                    deadline = time.monotonic() + 60  # comparing snapshots takes a while
                    while (
                        "since the baseline" not in server.output() and time.monotonic() < deadline
                    ):
                        time.sleep(0.5)
                time.sleep(1)
                growth_lines = [ln for ln in server.output().splitlines() if "tracemalloc" in ln]
                heap = heap_series(server.output(), started_wall)
                churn.join(30)
        finally:
            demo.terminate()
            demo.wait(10)
    warm_s = args.warmup * 60
    after_board = [(t, v) for t, v in board if t >= warm_s]
    after_tab = [s for s in tab if s["t"] >= warm_s]
    results = [
        Result(
            "board RSS growth after warm-up",
            slope_per_hour(after_board),
            "MiB/h",
            2.0,
            f"{after_board[0][1]:.0f} -> {after_board[-1][1]:.0f} MiB" if after_board else "",
        ),
        Result(
            "tab JS heap growth after warm-up",
            slope_per_hour([(s["t"], s["heap_mb"]) for s in after_tab]),
            "MiB/h",
            None,
            f"{after_tab[0]['heap_mb']:.1f} -> {after_tab[-1]['heap_mb']:.1f} MiB"
            if after_tab
            else "",
        ),
        Result(
            "tab DOM nodes growth after warm-up",
            slope_per_hour([(s["t"], s["nodes"]) for s in after_tab]),
            "nodes/h",
            None,
            f"{after_tab[0]['nodes']:.0f} -> {after_tab[-1]['nodes']:.0f}" if after_tab else "",
        ),
    ]
    for part, points in heap.items():
        after = [(t, v) for t, v in points if t >= warm_s]
        if after:
            results.append(
                Result(
                    f"board memory '{part}' growth after warm-up",
                    slope_per_hour(after),
                    "thousand/h" if part.startswith("Python") else "MiB/h",
                    None,
                    f"{after[0][1]:.1f} -> {after[-1][1]:.1f}",
                )
            )
    print_table(TITLE, results)
    if heap["in use"]:
        print("the board's heap (minutes: glibc in use MiB / rest MiB / thousand Python blocks):")
        for (t, used), (_, rest), (_, blocks) in zip(*(heap[name] for name in SERIES), strict=True):
            print(f"  {t / 60:5.1f}  {used:6.1f} {rest:6.1f} {blocks:7.0f}")
    print("tracemalloc (top growth between the end of the warm-up and the end):")
    for line in growth_lines:
        print("  " + line.split("ticket_dash.diagnostics: ")[-1])
    print(summary_line(TITLE, results))


if __name__ == "__main__":
    main()
