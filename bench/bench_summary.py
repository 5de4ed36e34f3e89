"""Today's numbers at size: 10,000 active and 20,000 archived tickets (issue #11).

    .venv/bin/python bench/bench_summary.py [--active 10000] [--archived 20000] [--runs 50]

The files are written as a source would (active tickets in tickets/, archived ones in today's
and yesterday's archive folders, final states with stats), then loaded by a real LiveState.
(a) the summary of a view computed from scratch (cache cleared), unfiltered and for one group,
    with a full 24 h trend of samples; target <= 50 ms.
(b) one ticket changing (first answered, then resolved): the day index, the now-counts and the
    view's summary brought up to date; target <= 1 ms. The board's own work for the same change
    (read the file, rebuild the row) is printed beside it for scale.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))

from common import Result, bench_dirs, percentile, print_machine, print_table, summary_line
from support.tickets import realistic_ticket, ticket_json

from app.contract.atomic import write_json_atomic
from app.contract.ticket import ticket_from_json
from app.live.state import LiveState
from app.rules.filters import RowFilter
from app.settings import Settings

TITLE = "bench_summary: today's numbers over 10k active + 20k archived tickets"


def write_archive(tickets: Path, count: int, rng: random.Random, now: float) -> None:
    days = [datetime.now(UTC).date() - timedelta(days=d) for d in (0, 1)]
    for day in days:
        (tickets / "archive" / day.isoformat()).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        ident = 1_000_000 + i
        day = days[i % 2]
        resolved = now - rng.uniform(0, 20 * 3600) - (86400 if day != days[0] else 0)
        created = resolved - rng.uniform(600, 3 * 86400)
        data = ticket_json(
            ident,
            now=now,
            status=rng.choice((4, 5)),
            group_id=rng.randint(1, 12),
            responder_id=rng.randint(1, 40),
            created_at=created,
            updated_at=resolved,
            fr_due_by=created + 4 * 3600,
            due_by=created + 24 * 3600,
            deleted=rng.random() < 0.01,
            stats={
                "first_responded_at": created + rng.uniform(60, 8 * 3600),
                "resolved_at": resolved,
            },
        )
        write_json_atomic(tickets / "archive" / day.isoformat() / f"{ident}.json", data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--active", type=int, default=10_000)
    parser.add_argument("--archived", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    print_machine()
    rng = random.Random(11)
    now = time.time()
    with bench_dirs("summary") as (tickets, mappings):
        for ident in range(1, args.active + 1):
            data = realistic_ticket(ident, rng, now)
            data["group_id"] = rng.randint(1, 12)
            write_json_atomic(tickets / f"{ident}.json", data)
        write_archive(tickets, args.archived, rng, now)
        live = LiveState(Settings(tickets_dir=tickets, mappings_dir=mappings, timezone="UTC"))
        started = time.perf_counter()
        live.load()
        load_ms = (time.perf_counter() - started) * 1000
        summary = live.summary.summary
        step = summary.step
        for k in range(24 * 3600 // step + 1):  # a full day of samples
            summary.take_sample(now - k * step)
        counted = len(summary.days)

        views = {"unfiltered": RowFilter(), "one group": RowFilter(groups=frozenset({3}))}
        compute: dict[str, list[float]] = {}
        for name, view in views.items():
            times = []
            for _ in range(args.runs):
                summary._cache.clear()
                summary._trends.clear()
                summary._yesterdays.clear()
                summary.names_changed()
                t0 = time.perf_counter()
                got = summary.for_view(view, now)
                times.append((time.perf_counter() - t0) * 1000)
            compute[name] = times
        print(f"today (unfiltered): {summary.for_view(RowFilter(), now)['today']}")
        print(f"today (one group):  {got['today']}")

        # (b) one ticket changes: answered, then resolved; the summary follows
        update_ms: list[float] = []
        board_ms: list[float] = []
        feed = live.summary
        ids = rng.sample(range(1, args.active + 1), args.runs)
        for ident in ids:
            data = ticket_json(
                ident,
                now=now,
                group_id=3,
                stats={"first_responded_at": now - 5, "resolved_at": now - 1},
                status=rng.choice((2, 4)),
            )
            ticket = ticket_from_json(data)
            t0 = time.perf_counter()
            change = live.board.put(ticket, now)
            t1 = time.perf_counter()
            feed.ticket_put(ticket)
            feed.rows_changed([change] if change is not None else [])
            for view in views.values():
                summary.for_view(view, now, 1)  # as the feed asks: one clock step
            t2 = time.perf_counter()
            board_ms.append((t1 - t0) * 1000)
            update_ms.append((t2 - t1) * 1000)
        live.summary.close()
        live.reader.close()

    results = [
        Result(
            "load: files read, board and day index built",
            load_ms,
            "ms",
            None,
            f"{args.active:,} active + {args.archived:,} archived; {counted:,} tickets count",
        ),
        Result(
            "(a) summary from scratch, unfiltered (median)",
            statistics.median(compute["unfiltered"]),
            "ms",
            50.0,
            f"p95 {percentile(compute['unfiltered'], 95):.2f} ms; 97-point trend included",
        ),
        Result(
            "    summary from scratch, one group (median)",
            statistics.median(compute["one group"]),
            "ms",
            50.0,
            f"p95 {percentile(compute['one group'], 95):.2f} ms",
        ),
        Result(
            "(b) one ticket changes → two views' summaries (p95)",
            percentile(update_ms, 95),
            "ms",
            1.0,
            f"median {statistics.median(update_ms):.3f} ms",
        ),
        Result(
            "    the board's own row update, for scale (p95)", percentile(board_ms, 95), "ms", None
        ),
    ]
    print_table(TITLE, results)
    print(summary_line(TITLE, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
