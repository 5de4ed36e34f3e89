"""The Freshservice watcher against the fake Freshservice (tests/fake_freshservice.py).

    .venv/bin/python bench/bench_watcher.py [--tickets 1000] [--latency-changes 8] [--poll-seconds 15]

(a) API calls and credits per poll in steady state: nothing changed, then N tickets changed.
(b) change in the fake → file on disk, in real time, with the watcher running as a service.
(c) first sync of --tickets active tickets (a third older than 30 days) under the Starter plan's
    limits: time until every ticket is on the board, until every stat is fetched, 429s. Twice:
    stats from the incremental list (a quiet account), and one call per ticket (an account where
    --busy-history tickets changed lately, so listing every change would cost more).
    Simulated clock: the fake and the watcher share a Clock running --speed times faster than
    real time, so 25 simulated minutes take seconds; every rate window, Retry-After and pause is
    in simulated seconds, HTTP itself is real.
(d) the original algorithm on the same fake: every cycle, the filter list then one single-ticket
    call per ticket with a 0.75 s pause (429 → wait Retry-After, retry).

Prints the numbers; docs/freshservice.md quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import aiohttp  # noqa: E402
from fake_freshservice import FakeFreshservice, make_source  # noqa: E402

from watcher.freshservice.clock import Clock  # noqa: E402


def seed(fake: FakeFreshservice, active: int) -> None:
    fake.add_status(6, "Waiting on Customer")
    for i in range(active):
        age = 31 + i % 200 if i % 3 == 0 else i % 30
        fake.add_ticket(status=(2, 3, 6)[i % 3], age_days=age, requester_id=1000 + i % 150)
    for i in range(active // 2):  # resolved and closed history
        fake.add_ticket(status=4 + i % 2, age_days=i % 60)
    for r in range(1000, 1150):
        fake.add_requester(r, f"Person{r}", "Example")


async def once(fake: FakeFreshservice, root: Path, **settings: object) -> None:
    await make_source(fake, root, **settings).run(asyncio.Event(), once=True)


async def steady_state(active: int) -> None:
    print(f"(a) steady state, {active} active tickets, simulated clock")
    async with FakeFreshservice(clock=Clock(speed=600)) as fake:
        seed(fake, active)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            await once(fake, root)
            for changed in (0, 0, 1, 50, 150, 250):
                await fake.clock.sleep(15)  # one poll interval
                for ticket_id in sorted(fake.active_ids())[:changed]:
                    fake.update_ticket(ticket_id, subject=f"changed {time.time()}")
                # tickets changed in the previous poll's overlap come back too: let it pass
                await fake.clock.sleep(61)
                fake.log.clear()
                await once(fake, root)
                credits = sum(r.credits for r in fake.log)
                target = 1 + math.ceil(changed / 100) if changed else 1
                print(
                    f"    changed {changed:4d}: {len(fake.log)} call(s), {credits} credits"
                    f"  (target ≤ {target})"
                )


async def latency(changes: int, poll_seconds: float) -> None:
    print(f"(b) change → file, real time, poll every {poll_seconds:g} s, {changes} changes")
    async with FakeFreshservice() as fake:
        seed(fake, 50)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            await once(fake, root)
            source = make_source(fake, root, poll_seconds=poll_seconds)
            stop = asyncio.Event()
            task = asyncio.create_task(source.run(stop))
            samples = []
            try:
                for n in range(changes):
                    await asyncio.sleep(poll_seconds * (0.37 + 0.61 * ((n * 7919) % 13) / 13))
                    ticket_id = sorted(fake.active_ids())[n]
                    marker = f"latency probe {n}"
                    path = root / "tickets" / f"{ticket_id}.json"
                    fake.update_ticket(ticket_id, subject=marker)
                    t0 = time.monotonic()
                    while json.loads(path.read_text())["subject"] != marker:
                        if time.monotonic() - t0 > poll_seconds + 10:
                            raise RuntimeError("change never reached the file")
                        await asyncio.sleep(0.005)
                    samples.append(time.monotonic() - t0)
            finally:
                stop.set()
                await asyncio.wait_for(task, 10)
    print(
        f"    median {statistics.median(samples):.2f} s, max {max(samples):.2f} s"
        f"  (target ≤ {poll_seconds + 1:g} s)"
    )


async def first_sync(active: int, speed: float, history: int = 0) -> None:
    busy = f", {history} more tickets resolved yesterday" if history else ""
    print(f"(c) first sync of {active} active tickets{busy}, Starter plan, clock ×{speed:g}")
    async with FakeFreshservice(clock=Clock(speed=speed), plan="starter") as fake:
        seed(fake, active)
        for _ in range(history):  # stats then come one call per ticket (cheaper than listing)
            fake.add_ticket(status=4, age_days=1)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            start = fake.clock.monotonic()
            t0 = time.monotonic()
            source = make_source(fake, root)
            await source.run(asyncio.Event(), once=True)
            done = fake.clock.monotonic() - start
            real = time.monotonic() - t0
            # Every filter page is written before the agents are listed.
            board_full = fake.requests("/api/v2/agents")[0].at - start
            lists = [r for r in fake.log if r.kind == "list"]
            views = len(fake.requests(r"/api/v2/tickets/\d+"))
            credits = sum(r.credits for r in fake.log)
            s = source.settings
            print(
                f"    every ticket on the board after {board_full / 60:.1f} min "
                f"({len(lists)} list calls at {s.list_rate_limit_per_minute} a minute)"
            )
            print(
                f"    all stats and requester names after {done / 60:.1f} min "
                f"(budget-bound ≥ {(credits - s.rate_limit_per_minute) / s.rate_limit_per_minute:.1f} min); "
                f"real {real:.1f} s"
            )
            print(
                f"    {len(fake.log)} calls ({views} single-ticket), {credits} credits, "
                f"{len(fake.requests(status=429))} × 429"
            )


async def original(active: int, speed: float) -> None:
    print(f"(d) the original algorithm, same fake, {active} active tickets, clock ×{speed:g}")
    async with FakeFreshservice(clock=Clock(speed=speed), plan="starter") as fake:
        seed(fake, active)
        clock = fake.clock
        auth = {"Authorization": aiohttp.encode_basic_auth(fake.key, "X")}
        headers = {"Accept": "application/json", **auth}
        start = clock.monotonic()
        async with aiohttp.ClientSession(fake.url, headers=headers) as session:

            async def get(path: str, params: dict[str, str]) -> dict:
                while True:
                    async with session.get(path, params=params) as resp:
                        if resp.status == 429:
                            await clock.sleep(float(resp.headers.get("Retry-After", "60")))
                            continue
                        return await resp.json()

            ids: list[int] = []
            page = 1
            while True:
                body = await get(
                    "/api/v2/tickets/filter",
                    {"query": '"status:2 OR status:3 OR status:6"', "page": str(page)},
                )
                ids += [t["id"] for t in body["tickets"]]
                if len(ids) >= body["total"] or not body["tickets"]:
                    break
                page += 1
            for ticket_id in ids:
                await get(f"/api/v2/tickets/{ticket_id}", {"include": "stats"})
                await clock.sleep(0.75)
        cycle = clock.monotonic() - start
        credits = sum(r.credits for r in fake.log)
        print(
            f"    one cycle: {cycle / 60:.1f} min, {len(fake.log) - len(fake.requests(status=429))} "
            f"calls, {credits} credits, {len(fake.requests(status=429))} × 429 "
            f"(it was meant to run every 3 min)"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--speed", type=float, default=50.0)
    parser.add_argument("--latency-changes", type=int, default=8)
    parser.add_argument("--poll-seconds", type=float, default=15.0)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--busy-history", type=int, default=80000)
    args = parser.parse_args()
    await steady_state(300)
    if not args.skip_latency:
        await latency(args.latency_changes, args.poll_seconds)
    await first_sync(args.tickets, args.speed)
    await first_sync(args.tickets, args.speed, history=args.busy_history)
    await original(args.tickets, args.speed)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
