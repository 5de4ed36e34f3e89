"""File written → row patched in headless Chromium, with 1,000 tickets on the board.

    .venv/bin/python bench/bench_browser_latency.py [--tickets 1000] [--changes 60]

The real page (server-rendered, then live over EventSource) at 1920x1080 in Debian's Chromium
driven by Playwright. Each change rewrites one random visible ticket's file with a new subject.
Python takes time.time() just before os.replace; in the page a MutationObserver on <main> takes
Date.now() when that row's `.subject` shows the new text (the DOM is patched), and again in the
next requestAnimationFrame (the frame that paints it). A wrapped EventSource notes when the patch
event reached the page. Browser and Python share the machine's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench helpers

from common import (
    Result,
    bench_dirs,
    percentile,
    print_table,
    rewrite,
    running_server,
    seed_tickets,
    summary_line,
    visible_ids,
)
from support.browser import CHROMIUM as BROWSER_PATH  # one place for Chromium's path and flags
from support.browser import CHROMIUM_ARGS

TITLE = "bench_browser_latency: file write → row patched in Chromium"
CHROMIUM = str(BROWSER_PATH)

# Before the page's scripts: note when a patch carrying the wanted subject arrives.
INIT_SCRIPT = """
(() => {
  window.__want = null;
  window.__seen = {};
  const Orig = window.EventSource;
  function Wrapped(url, opts) {
    const es = new Orig(url, opts);
    es.addEventListener('patch', (ev) => {
      const w = window.__want;
      if (w && ev.data.indexOf(JSON.stringify(w.subject)) >= 0) {
        const s = (window.__seen[w.subject] = window.__seen[w.subject] || {});
        if (s.arrive === undefined) {
          s.arrive = Date.now();
          try { s.server = JSON.parse(ev.data).server_time * 1000; } catch (e) {}
        }
      }
    });
    return es;
  }
  Wrapped.prototype = Orig.prototype;
  Wrapped.CONNECTING = Orig.CONNECTING; Wrapped.OPEN = Orig.OPEN; Wrapped.CLOSED = Orig.CLOSED;
  window.EventSource = Wrapped;
})();
"""

OBSERVE = """
() => {
  const root = document.querySelector('main');
  const check = () => {
    const w = window.__want;
    if (!w) return;
    const s = (window.__seen[w.subject] = window.__seen[w.subject] || {});
    if (s.dom !== undefined) return;
    const tr = document.getElementById('t-' + w.id);
    const subj = tr && tr.querySelector('.subject');
    if (subj && subj.textContent === w.subject) {
      s.dom = Date.now();
      requestAnimationFrame(() => { s.frame = Date.now(); });
    }
  };
  new MutationObserver(check).observe(root, {subtree: true, childList: true, characterData: true});
  return document.querySelectorAll('main tbody tr').length;
}
"""


async def run(
    url: str, tickets_dir: Path, tickets: dict[int, dict], changes: int, gap: float
) -> tuple[list[float], list[float], list[float], list[float], int, int]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context(viewport={"width": 1920, "height": 1080})
            context.set_default_timeout(15_000)
            await context.add_init_script(INIT_SCRIPT)
            page = await context.new_page()
            await page.goto(url)
            await page.wait_for_selector("#conn.conn-live")
            await page.wait_for_timeout(1000)  # the first snapshot applied, page idle
            rows = await page.evaluate(OBSERVE)
            rng = random.Random(31)
            ids = visible_ids(tickets)
            dom: list[float] = []
            frame: list[float] = []
            arrive: list[float] = []
            applied: list[float] = []
            missed = 0
            for n in range(changes):
                ident = rng.choice(ids)
                data = dict(tickets[ident])
                subject = f"Browser change {n} {rng.randrange(10**6)}: {data['subject'][:40]}"
                data["subject"] = subject
                await page.evaluate(
                    "w => { window.__want = w; }", {"id": ident, "subject": subject}
                )
                t_write = rewrite(tickets_dir, data)
                tickets[ident] = data
                try:
                    await page.wait_for_function(
                        "s => window.__seen[s] && window.__seen[s].frame !== undefined",
                        arg=subject,
                        timeout=5_000,
                        polling=20,
                    )
                except Exception:
                    missed += 1
                    continue
                seen = await page.evaluate("s => window.__seen[s]", subject)
                dom.append(seen["dom"] - t_write * 1000)
                frame.append(seen["frame"] - t_write * 1000)
                if "arrive" in seen:
                    arrive.append(seen["arrive"] - t_write * 1000)
                if seen.get("server") is not None:
                    applied.append(seen["server"] - t_write * 1000)
                await asyncio.sleep(gap * (0.5 + rng.random()))
            await context.close()
            return dom, frame, arrive, applied, rows, missed
        finally:
            await browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--gap", type=float, default=0.2, help="mean seconds between changes")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"needs Chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    with bench_dirs("browser") as (tickets_dir, mappings_dir):
        tickets = seed_tickets(tickets_dir, args.tickets)
        with running_server(tickets_dir, mappings_dir) as server:
            dom, frame, arrive, applied, rows, missed = asyncio.run(
                run(
                    f"http://127.0.0.1:{server.port}/", tickets_dir, tickets, args.changes, args.gap
                )
            )
    results = [
        Result("rows on the page", rows, "rows", None, f"{args.tickets} ticket files, 1920x1080"),
        Result(
            "write → server applied it p50",
            percentile(applied, 50),
            "ms",
            None,
            "patch server_time: watchfiles + apply_paths",
        ),
        Result("write → server applied it p95", percentile(applied, 95), "ms", None),
        Result(
            "write → patch event in page p50",
            percentile(arrive, 50),
            "ms",
            None,
            "EventSource 'patch' listener",
        ),
        Result("write → patch event in page p95", percentile(arrive, 95), "ms", None),
        Result(
            "write → row patched in DOM p50",
            percentile(dom, 50),
            "ms",
            None,
            f"MutationObserver, {len(dom)} changes",
        ),
        Result("write → row patched in DOM p95", percentile(dom, 95), "ms", 50.0),
        Result("write → row patched in DOM max", max(dom) if dom else float("nan"), "ms", None),
        Result(
            "write → next animation frame p95",
            percentile(frame, 95),
            "ms",
            None,
            "the frame that paints it",
        ),
    ]
    if missed:
        results.append(Result("changes never seen (5 s)", missed, "events", 0))
    print_table(TITLE, results)
    print(summary_line(TITLE, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
