"""What the board costs the TV: Chromium's renderer main thread, 1,000 tickets, a change a second.

    .venv/bin/python bench/bench_tv_cost.py [--tickets 1000] [--seconds 30] [--trace-seconds 10]

The real page at 1920x1080 in Debian's Chromium (headless, software rendering, as a stick PC
without a GPU would), on a real server with `--tickets` ticket files. Three windows, one after
the other, on the same page:

1. idle: nothing changes for `--idle-seconds` (the clock ticks, pages turn, animations run);
2. busy: one random visible ticket's file is rewritten every second (new subject and
   updated_at, as a sync would) for `--seconds`;
3. trace: the same changes for `--trace-seconds` with a DevTools timeline trace recording.

Windows 1 and 2 read CDP `Performance.getMetrics` before and after: busy = ΔTaskDuration /
Δwall time (the share of one core the renderer's main thread spent running tasks), split into
script, style recalculation and layout. The trace (window 3, kept apart because tracing itself
costs) gives the main thread's self time per event name: the top costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench helpers
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))  # the browser launcher

from common import (
    Result,
    bench_dirs,
    iso,
    print_table,
    rewrite,
    running_server,
    seed_tickets,
    summary_line,
    visible_ids,
)
from support.browser import (
    CHROMIUM as BROWSER_PATH,  # one place for Chromium's path and launch flags
)
from support.browser import CHROMIUM_ARGS

TITLE = "bench_tv_cost: renderer main thread, 1,000 tickets, one change a second"
CHROMIUM = str(BROWSER_PATH)
METRICS = ("TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration")
TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "blink",
    "cc",
    "v8",
]
MAIN_THREAD = "CrRendererMain"


async def metrics(cdp: Any) -> dict[str, float]:
    got = await cdp.send("Performance.getMetrics")
    return {m["name"]: float(m["value"]) for m in got["metrics"]}


def change_one(
    tickets_dir: Path, tickets: dict[int, dict], ids: list[int], rng: random.Random, n: int
) -> None:
    ident = rng.choice(ids)
    data = dict(tickets[ident])
    data["subject"] = f"TV change {n}: {str(data['subject'])[:40]}"
    data["updated_at"] = iso(time.time())
    rewrite(tickets_dir, data)
    tickets[ident] = data


async def churn(
    tickets_dir: Path, tickets: dict[int, dict], seconds: float, rng: random.Random, start: int
) -> int:
    """One change a second for `seconds`; returns how many were written."""
    ids = visible_ids(tickets)
    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        change_one(tickets_dir, tickets, ids, rng, start + n)
        n += 1
        await asyncio.sleep(max(0.0, t0 + n - time.monotonic()))
    return n


async def window(cdp: Any, body: Any) -> dict[str, float]:
    """Run `body` (a coroutine) between two getMetrics; the deltas, and busy shares of a core."""
    before = await metrics(cdp)
    await body
    after = await metrics(cdp)
    wall = after["Timestamp"] - before["Timestamp"]
    out = {name: (after[name] - before[name]) / wall for name in METRICS}
    out["wall"] = wall
    return out


def top_costs(trace: bytes, limit: int = 10) -> tuple[list[tuple[str, float]], float]:
    """Self time per event name on the renderer main thread (ms), largest first; and the span."""
    events = json.loads(trace)
    events = events["traceEvents"] if isinstance(events, dict) else events
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == MAIN_THREAD
    }
    spans = sorted(
        (e for e in events if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in mains),
        key=lambda e: (e["ts"], -e.get("dur", 0)),
    )
    self_us: dict[str, float] = defaultdict(float)
    stack: list[tuple[float, str, list[float]]] = []  # (end, name, [child time])
    for e in spans:
        start, dur = float(e["ts"]), float(e.get("dur", 0))
        while stack and stack[-1][0] <= start:
            _, name, child = stack.pop()
            self_us[name] -= child[0]
        if stack:
            stack[-1][2][0] += dur
        self_us[e["name"]] += dur
        stack.append((start + dur, e["name"], [0.0]))
    while stack:
        _, name, child = stack.pop()
        self_us[name] -= child[0]
    span_us = (spans[-1]["ts"] - spans[0]["ts"]) if spans else 0.0
    ranked = sorted(self_us.items(), key=lambda kv: -kv[1])[:limit]
    return [(name, us / 1000) for name, us in ranked], span_us / 1e6


async def run(
    url: str, tickets_dir: Path, tickets: dict[int, dict], args: argparse.Namespace
) -> tuple[dict[str, float], dict[str, float], list[tuple[str, float]], float, int, int]:
    from playwright.async_api import async_playwright

    w, h = (int(x) for x in args.viewport.split("x"))
    rng = random.Random(17)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context(viewport={"width": w, "height": h})
            context.set_default_timeout(20_000)
            page = await context.new_page()
            await page.goto(url)
            await page.wait_for_selector("#conn.conn-live")
            await page.wait_for_timeout(3000)  # the snapshot applied, the page settled
            rows = await page.evaluate("document.querySelectorAll('main tbody tr').length")
            cdp = await context.new_cdp_session(page)
            await cdp.send("Performance.enable", {"timeDomain": "timeTicks"})
            idle = await window(cdp, asyncio.sleep(args.idle_seconds))
            busy = await window(cdp, churn(tickets_dir, tickets, args.seconds, rng, 0))
            await browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
            await churn(tickets_dir, tickets, args.trace_seconds, rng, 10_000)
            trace = await browser.stop_tracing()
            top, span = top_costs(trace)
            on_screen = await page.evaluate(
                """() => [...document.querySelectorAll('main tbody tr')]
                     .filter(tr => { const r = tr.getBoundingClientRect();
                       return r.height > 0 && r.bottom > 0 && r.top < innerHeight; }).length"""
            )
            await context.close()
            return idle, busy, top, span, rows, on_screen
        finally:
            await browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0, help="busy window")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--trace-seconds", type=float, default=10.0)
    parser.add_argument("--viewport", default="1920x1080")
    parser.add_argument("--query", default="", help="the page's query string, e.g. density=compact")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"needs Chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    with bench_dirs("tv") as (tickets_dir, mappings_dir):
        tickets = seed_tickets(tickets_dir, args.tickets)
        with running_server(tickets_dir, mappings_dir) as server:
            url = f"http://127.0.0.1:{server.port}/" + (f"?{args.query}" if args.query else "")
            idle, busy, top, span, rows, on_screen = asyncio.run(
                run(url, tickets_dir, tickets, args)
            )
    pct = 100.0
    results = [
        Result(
            "rows in the page", rows, "rows", None, f"{args.tickets} ticket files, {args.viewport}"
        ),
        Result("rows on screen", on_screen, "rows", None, "laid out inside the viewport"),
        Result(
            "idle: main thread busy",
            idle["TaskDuration"] * pct,
            "%",
            None,
            "of one core, no changes",
        ),
        Result(
            "one change/s: main thread busy",
            busy["TaskDuration"] * pct,
            "%",
            5.0,
            f"of one core, ΔTaskDuration over {busy['wall']:.0f} s",
        ),
        Result("  of which script", busy["ScriptDuration"] * pct, "%", None),
        Result("  of which style recalculation", busy["RecalcStyleDuration"] * pct, "%", None),
        Result("  of which layout", busy["LayoutDuration"] * pct, "%", None),
    ]
    print_table(TITLE, results)
    print(f"top main-thread costs in the trace ({span:.1f} s, self time, one change/s):")
    for name, ms in top:
        print(f"  {name:<40} {ms:9.1f} ms  {ms / max(span, 1e-9) / 10:6.2f} % of a core")
    print(summary_line(TITLE, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
