"""Run every benchmark in turn (default sizes = the targets) and print one summary.

    .venv/bin/python bench/run_all.py          # or: make bench
    .venv/bin/python bench/run_all.py board fanout   # only these (board fanout browser tv watcher shutdown abuse nats summary; soak)

Each script runs in its own process with a time limit; its own table is printed as it comes,
then all PASS/MISS lines together. Exit status 0 even when a target is missed: these print
numbers, they are not tests (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import machine  # noqa: E402

SCRIPTS = {
    "board": "bench_board.py",
    "fanout": "bench_fanout.py",
    "browser": "bench_browser_latency.py",
    "tv": "bench_tv_cost.py",  # the renderer's main thread on the TV, 1,000 tickets
    "watcher": "bench_watcher.py",  # the Freshservice watcher against the fake (~5 min)
    "shutdown": "bench_shutdown.py",  # SIGTERM with 1,000 streams, per Python
    "abuse": "bench_abuse.py",  # guessers, reload storms, stalled clients (issue #9)
    "nats": "bench_nats.py",  # one watcher -> NATS -> three mirrors with boards (issue 12)
    "summary": "bench_summary.py",  # today's numbers, 10k active + 20k archived (issue 11)
}
ONLY_WHEN_NAMED = {"soak": "bench_soak.py"}  # 100 minutes by default: `run_all.py soak`
LIMIT_SECONDS = 420


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("only", nargs="*", help="benchmarks to run")
    args = parser.parse_args(argv)
    names = args.only or list(SCRIPTS)
    known = {**SCRIPTS, **ONLY_WHEN_NAMED}
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown: {unknown}; choose from {list(SCRIPTS)}")
    summaries: list[dict] = []
    failures: list[str] = []
    for name in names:
        script = HERE / known[name]
        print(f"\n##### {script.name}", flush=True)
        started = time.monotonic()
        try:
            proc = subprocess.run(
                [sys.executable, str(script)],
                capture_output=True,
                text=True,
                timeout=LIMIT_SECONDS if name in SCRIPTS else 2 * 3600,
            )
        except subprocess.TimeoutExpired:
            failures.append(f"{script.name}: over {LIMIT_SECONDS} s, stopped")
            continue
        for line in proc.stdout.splitlines():
            if line.startswith("BENCH-JSON "):
                summaries.append(json.loads(line[len("BENCH-JSON ") :]))
            else:
                print(line)
        if proc.returncode != 0:
            failures.append(f"{script.name}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
        print(f"({script.name} took {time.monotonic() - started:.0f} s)", flush=True)

    m = machine()
    print("\n================ summary ================")
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['memory']}, Python {m['python']}")
    for summary in summaries:
        print(f"\n{summary['bench']}")
        for r in summary["results"]:
            if r["target"] is None:
                continue
            print(
                f"  {r['verdict']:<5} {r['name'].strip():<48} {r['value']:>10.2f} {r['unit']:<4}"
                f" (target <= {r['target']:g} {r['unit']})"
            )
    for failure in failures:
        print(f"\nFAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
