"""bench_abuse: the board under abuse (issue #9) — what a TV sees while others misbehave.

    .venv/bin/python bench/bench_abuse.py [--seconds 10] [--only abcd]

(a) 16 password guessers, as fast as they can, against a real board with a TV on it: p99 of the
    TV's `/healthz`, `/` and `/events` (time to its snapshot). Twice: with the default throttle
    (5 failures a minute per address: the guessers soon get 429) and with the throttle off (every
    guess costs a scrypt, one at a time off the event loop; past 8 waiting, 429 "busy").
(b) 5,000 tickets, 10 TVs loading `/` at once, ten rounds with a change between them (each round
    renders a new page): p99 of `/healthz` meanwhile.
(c) 100 stalled `/events` clients, each with its own filter, while 300 tickets with 60 KB subjects
    are written: server RSS growth at the peak and after they left.
(d) 5,000 tickets, 2,000 `/events` clients opened at once that never read (from this machine, so
    the per-address cap does not apply: the worst case): `/healthz` p99 and worst while they
    connect and sit, what the kernel holds for them (send queues, from /proc/net/tcp), and the
    server's RSS at the peak and after they left.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import multiprocessing
import os
import random
import socket
import time
from pathlib import Path
from typing import Any

import httpx
from common import (
    Result,
    bench_dirs,
    percentile,
    print_table,
    raise_nofile,
    running_server,
    seed_tickets,
    summary_line,
)
from support.ports import send_queues
from support.tickets import BULKY_ROWS_ENV

from app.credentials import hash_key, hash_password

TITLE = "bench_abuse: guessers, reload storms, stalled clients"
KIOSK_KEY = "bench-kiosk-key-0123456789abcdef"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def guess_forever(url: str, stop: asyncio.Event, counts: dict[int, int]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        n = 0
        while not stop.is_set():
            n += 1
            response = await client.get(f"{url}/api/tickets", headers=basic("alice", f"guess {n}"))
            counts[response.status_code] = counts.get(response.status_code, 0) + 1


async def tv_probe(url: str, cookie: dict[str, str], seconds: float) -> dict[str, list[float]]:
    """What a TV sees: /healthz and / every 50 ms, a fresh /events every 0.5 s (to its snapshot)."""
    times: dict[str, list[float]] = {"/healthz": [], "/": [], "/events": []}
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30, cookies=cookie) as client:
        last_stream = 0.0
        while time.monotonic() < deadline:
            for path in ("/healthz", "/"):
                started = time.monotonic()
                await client.get(url + path)
                times[path].append((time.monotonic() - started) * 1000)
            if time.monotonic() - last_stream > 0.5:
                last_stream = time.monotonic()
                started = time.monotonic()
                async with client.stream("GET", url + "/events") as response:
                    async for line in response.aiter_lines():
                        if line.startswith("event: snapshot"):
                            break
                times["/events"].append((time.monotonic() - started) * 1000)
            await asyncio.sleep(0.05)
    return times


def guessers_process(url: str, seconds: float, out: Any) -> None:
    """16 guessers in a process of their own, niced: an attacker elsewhere on the network does
    not compete with the board for its CPU, so neither should this one."""
    os.nice(10)

    async def run() -> dict[int, int]:
        stop = asyncio.Event()
        counts: dict[int, int] = {}
        tasks = [asyncio.create_task(guess_forever(url, stop, counts)) for _ in range(16)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return counts

    out.put(asyncio.run(run()))


async def guessers_scenario(url: str, seconds: float) -> tuple[dict[str, list[float]], dict]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{url}/?key={KIOSK_KEY}", follow_redirects=False)
        cookie = dict(response.cookies)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    guessers = ctx.Process(target=guessers_process, args=(url, seconds + 1.5, out))
    guessers.start()
    await asyncio.sleep(1.0)  # the guessing is in full swing
    times = await tv_probe(url, cookie, seconds)
    counts = await asyncio.to_thread(out.get, True, 30)
    guessers.join(10)
    return times, counts


def secured_env(throttle: int) -> dict[str, str]:
    import json

    return {
        "TICKET_DASH_ACCESS_CONTROL": "on",
        "TICKET_DASH_ACCESS_KEYS": json.dumps({"tv": hash_key(KIOSK_KEY)}),
        "TICKET_DASH_ADMIN_USERS": json.dumps({"alice": hash_password("the real one")}),
        "TICKET_DASH_FAILED_LOGINS_PER_MINUTE": str(throttle),
        "TICKET_DASH_ACCESS_LOG": "false",
    }


def reloading_tvs_process(url: str, tickets: Path, data: dict[int, dict], rounds: int) -> None:
    """The 10 TVs, in a process of their own like the guessers: reading 10 pages of 4 MB is the
    TVs' work, not the board's, and must not delay the probe that measures the board."""
    from common import rewrite

    async def run() -> None:
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            for n in range(rounds):
                ticket = data[1 + n]
                ticket["subject"] = f"storm round {n}"
                rewrite(tickets, ticket)
                await asyncio.sleep(0.2)  # the change is on the board: the next page is new
                pages = await asyncio.gather(*(client.get(url + "/") for _ in range(10)))
                assert all(page.status_code == 200 for page in pages)

    asyncio.run(run())


async def reload_storm(url: str, tickets: Path, data: dict[int, dict], rounds: int) -> list[float]:
    health: list[float] = []
    ctx = multiprocessing.get_context("spawn")
    tvs = ctx.Process(target=reloading_tvs_process, args=(url, tickets, data, rounds))
    tvs.start()
    async with httpx.AsyncClient(timeout=30) as client:
        while tvs.is_alive():
            started = time.monotonic()
            await client.get(url + "/healthz")
            health.append((time.monotonic() - started) * 1000)
            await asyncio.sleep(0.01)
    tvs.join()
    if tvs.exitcode != 0:
        raise SystemExit(f"the reloading TVs failed (exit {tvs.exitcode})")
    return health


def stalled_memory(server, tickets: Path) -> tuple[float, float]:
    from common import rewrite

    def rss() -> int:
        return server.rss_kib() * 1024

    with httpx.Client(timeout=10) as client:
        client.get(f"http://127.0.0.1:{server.port}/api/tickets")
    base = rss()
    socks = []
    for n in range(100):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(f"GET /events?agent=none,{9000 + n} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        socks.append(sock)
    time.sleep(1.0)
    peak = base

    from support.tickets import realistic_ticket

    rng = random.Random(3)
    for n in range(300):
        data = realistic_ticket(1 + n % 20, rng, time.time(), subject=f"{n}")
        data["description_text"] = "x" * 60_000  # shown whole: BULKY_ROWS_ENV
        data["responder_id"] = None
        data["status"] = 2
        rewrite(tickets, data)
        if n % 10 == 0:
            peak = max(peak, rss())
    time.sleep(1.0)
    peak = max(peak, rss())
    for sock in socks:
        sock.close()
    time.sleep(3.0)
    return (peak - base) / 2**20, (rss() - base) / 2**20


def stalled_streams_process(port: int, clients: int, hold: float) -> None:
    """Open `clients` /events connections at once, read nothing for `hold` seconds, close."""
    raise_nofile(clients + 1000)

    async def run() -> None:
        async def one() -> asyncio.StreamWriter:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            sock = writer.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            writer.write(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            return writer

        writers = await asyncio.gather(*(one() for _ in range(clients)))
        await asyncio.sleep(hold)
        for writer in writers:
            writer.close()

    asyncio.run(run())


async def stalled_streams(server, clients: int, hold: float) -> dict[str, Any]:
    url = f"http://127.0.0.1:{server.port}"
    health: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            while not stop.is_set():
                began = time.perf_counter()
                await client.get(url + "/healthz")
                health.append((time.perf_counter() - began) * 1000)
                await asyncio.sleep(0.05)

    base = server.rss_kib()
    probing = asyncio.create_task(probe())
    attack = multiprocessing.get_context("spawn").Process(
        target=stalled_streams_process, args=(server.port, clients, hold)
    )
    attack.start()
    peak, queued = base, 0
    began = time.monotonic()
    while time.monotonic() - began < hold:
        await asyncio.sleep(1)
        # In a thread: /proc/net/tcp with 4,000 sockets takes a while to read, and the probe
        # shares this loop.
        peak = max(peak, await asyncio.to_thread(server.rss_kib))
        held = await asyncio.to_thread(send_queues, server.port)
        queued = max(queued, sum(held.values()))
    await asyncio.to_thread(attack.join, 60)
    with contextlib.suppress(AssertionError):  # until the board has seen them go (60 s at most)
        await asyncio.to_thread(server.wait_for_streams, 0, 60)
    await asyncio.sleep(2)  # the memory goes back a second after the last one left
    stop.set()
    await probing
    return {
        "health": health,
        "queued_mib": queued / 2**20,
        "peak_mib": (peak - base) / 1024,
        "after_mib": (server.rss_kib() - base) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", default="abcd", help="the parts to run, e.g. `b` (default abcd)")
    args = parser.parse_args()
    results: list[Result] = []

    if "a" in args.only:
        for label, throttle in (("throttled", 5), ("throttle off", 1_000_000)):
            with bench_dirs("abuse") as (tickets, mappings):
                seed_tickets(tickets, 200)
                with running_server(tickets, mappings, env=secured_env(throttle)) as server:
                    url = f"http://127.0.0.1:{server.port}"
                    times, counts = asyncio.run(guessers_scenario(url, args.seconds))
            note = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
            for path in ("/healthz", "/", "/events"):
                results.append(
                    Result(
                        f"(a) 16 guessers, {label}: TV {path} p99",
                        percentile(times[path], 99),
                        "ms",
                        50.0,
                        note if path == "/healthz" else f"n={len(times[path])}",
                    )
                )

    if "b" in args.only:
        with bench_dirs("storm") as (tickets, mappings):
            data = seed_tickets(tickets, 5000)
            with running_server(
                tickets, mappings, env={"TICKET_DASH_ACCESS_LOG": "false"}
            ) as server:
                url = f"http://127.0.0.1:{server.port}"
                httpx.get(url + "/", timeout=60)
                health = asyncio.run(reload_storm(url, tickets, data, rounds=10))
        results.append(
            Result(
                "(b) 5,000 tickets, 10 TVs load / at once: /healthz p99",
                percentile(health, 99),
                "ms",
                100.0,
                f"max {max(health):.0f} ms, n={len(health)}",
            )
        )

    if "c" in args.only:
        with bench_dirs("stalled") as (tickets, mappings):
            seed_tickets(tickets, 20)
            env = {"TICKET_DASH_ACCESS_LOG": "false", **BULKY_ROWS_ENV}  # rows of 60 KB
            with running_server(tickets, mappings, env=env) as server:
                peak, after = stalled_memory(server, tickets)
        results.append(
            Result("(c) 100 stalled clients, 60 KB rows: RSS growth at peak", peak, "MiB", None)
        )
        results.append(Result("(c)   after they left", after, "MiB", None))

    if "d" in args.only:
        raise_nofile(8192)  # the board (a child) inherits it: 2,000 connections and then some
        with bench_dirs("stalled-streams") as (tickets, mappings):
            seed_tickets(tickets, 5000)
            with running_server(
                tickets, mappings, env={"TICKET_DASH_ACCESS_LOG": "false"}
            ) as server:
                httpx.get(f"http://127.0.0.1:{server.port}/api/tickets", timeout=60)
                found = asyncio.run(stalled_streams(server, 2000, hold=15))
        health = found["health"]
        results += [
            Result(
                "(d) 2,000 stalled streams at once, 5,000 tickets: /healthz p99",
                percentile(health, 99),
                "ms",
                100.0,
                f"max {max(health):.0f} ms, n={len(health)}",
            ),
            Result("(d)   held in the kernel for them", found["queued_mib"], "MiB", None),
            Result("(d)   server RSS growth at the peak", found["peak_mib"], "MiB", None),
            Result("(d)   after they left", found["after_mib"], "MiB", None),
        ]

    print_table(TITLE, results)
    print(summary_line(TITLE, results))


if __name__ == "__main__":
    main()
