"""1,000 concurrent SSE clients on one server worker: one change delivered to all, and memory.

    .venv/bin/python bench/bench_fanout.py [--clients 1000] [--tickets 1000] [--changes 10]
                                           [--procs 2]

The clients are lean raw-socket SSE readers (bench/common.py SseClient), spread over `--procs`
client processes (an httpx + httpx-sse stream per client costs far more CPU than the server on
2 cores). Every change rewrites one ticket file with a numbered subject; each client notes
time.time() when the patch carrying it arrives; latency = that - time.time() just before the
file's os.replace. Server memory per client = (VmRSS with all clients connected and their
snapshots sent - VmRSS before) / clients.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BoardProcess,
    Result,
    SseClient,
    StreamEnded,
    bench_dirs,
    launch_server,
    percentile,
    print_table,
    raise_nofile,
    rewrite,
    running_server,
    seed_tickets,
    summary_line,
    visible_ids,
)

TITLE = "bench_fanout: concurrent SSE clients on one worker"
MARK = re.compile(rb'"subject":"FANOUT (\d+) ')


# ---- a client process ---------------------------------------------------------------------------


def client_process(port: int, count: int, conn: Connection, connect_parallel: int) -> None:
    raise_nofile()
    asyncio.run(_client_main(port, count, conn, connect_parallel))


async def _client_main(port: int, count: int, conn: Connection, connect_parallel: int) -> None:
    received: dict[int, list[float]] = {}
    errors: list[str] = []
    gate = asyncio.Semaphore(connect_parallel)
    stop = asyncio.Event()
    storm = asyncio.Event()
    ready = 0
    rejoined: list[float] = []  # time.time() each client had its snapshot again after the storm

    async def one() -> None:
        nonlocal ready
        client = SseClient(port)
        try:
            async with gate:
                await client.connect(timeout=120)
                await client.next_of("snapshot", timeout=120)
            ready += 1
            while not stop.is_set():
                try:
                    ev = await client.next_event(timeout=1.0)
                except TimeoutError:
                    continue
                except StreamEnded:  # the server restarts: wait for the word, then all at once
                    client.close()
                    if rejoined and not storm.is_set():
                        break  # after the storm: this is the end of the bench
                    await storm.wait()
                    client = SseClient(port)
                    await client.connect(timeout=120)
                    await client.next_of("snapshot", timeout=120)
                    rejoined.append(time.time())
                    continue
                if ev.event != "patch":
                    continue
                for m in MARK.finditer(ev.data):
                    received.setdefault(int(m.group(1)), []).append(ev.received)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            client.close()

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    deadline = time.monotonic() + 170
    while ready + len(errors) < count and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    conn.send(("ready", ready, errors[:5]))
    while True:
        while not conn.poll() and time.monotonic() < deadline + 600:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        word = conn.recv() if conn.poll() else "stop"
        if word != "storm":
            break
        storm.set()
        while len(rejoined) + len(errors) < ready and time.monotonic() < deadline + 600:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        storm.clear()  # the next end of the stream is the bench's own stop
        conn.send(("rejoined", rejoined[:], errors[:5]))
    stop.set()
    await asyncio.wait(tasks, timeout=5)
    for t in tasks:
        t.cancel()
    conn.send(("done", received, errors[:5], len(errors)))


# ---- the parent ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def clients_on_server(port: int) -> int:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return -1
    for line in text.splitlines():
        if line.startswith("ticket_dash_sse_clients "):
            return int(float(line.split()[1]))
    return -1


def start_py_spy(pid: int, seconds: float) -> tuple[subprocess.Popen[bytes], Path]:
    exe = Path(sys.executable).with_name("py-spy")
    fd, name = tempfile.mkstemp(prefix="bench-py-spy-", suffix=".txt")
    os.close(fd)  # py-spy writes it; finish_py_spy removes it
    out = Path(name)
    cmd = [
        str(exe),
        "record",
        "-p",
        str(pid),
        "-r",
        "500",
        "-f",
        "raw",
        "-o",
        str(out),
        "-d",
        str(int(seconds) + 1),
        "--nonblocking",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # attached before the first change
    return proc, out


def finish_py_spy(spy: tuple[subprocess.Popen[bytes], Path], top: int = 25) -> str:
    """Inclusive samples per function (a frame counted once per stack), busiest first."""
    proc, out = spy
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    try:
        for line in out.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not stack:
                continue
            count = int(n)
            frames = stack.split(";")
            if frames[-1].startswith("select") or "(selectors.py" in frames[-1]:
                continue  # idle in the event loop
            total += count
            own[frames[-1]] += count
            for f in set(frames):
                inclusive[f] += count
    finally:
        out.unlink(missing_ok=True)
    lines = [
        f"py-spy: {total} busy samples in the server during the changes (500 Hz)",
        "  inclusive  function",
    ]
    lines += [f"  {100 * c / max(total, 1):7.1f}%  {f}" for f, c in inclusive.most_common(top)]
    lines += ["  self       function"]
    lines += [f"  {100 * c / max(total, 1):7.1f}%  {f}" for f, c in own.most_common(12)]
    return "\n".join(lines)


async def warm_up(port: int) -> None:
    client = SseClient(port)
    await client.connect()
    try:
        await client.next_of("snapshot", timeout=30)
    finally:
        client.close()


def restart_storm(
    server: BoardProcess, folders: tuple[Path, Path], env: dict[str, str], pipes: list[Connection]
) -> tuple[float, float, int]:
    """Stop the board (every stream ends), start it again on the same port, then tell every
    client to reconnect at once. Seconds from the word to the last snapshot, server CPU, count."""
    server.stop()
    server = launch_server(*folders, env, port=server.port)
    try:
        server.wait_ready(60)
        return _storm(server, pipes)
    finally:
        server.stop()


def _storm(server: BoardProcess, pipes: list[Connection]) -> tuple[float, float, int]:
    for pipe in pipes:
        pipe.send("storm")
    said = time.time()
    cpu0 = cpu_seconds(server.pid)
    last, back = said, 0
    for pipe in pipes:
        if not pipe.poll(300):
            raise TimeoutError("client process did not report the storm")
        _, times, _errors = pipe.recv()
        back += len(times)
        last = max([last, *times])
    return last - said, cpu_seconds(server.pid) - cpu0, back


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=1000, help="tickets on the board")
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between changes")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="sample the server with py-spy during the changes; print hot spots",
    )
    parser.add_argument("--workers", type=int, default=1, help="board processes (-w)")
    parser.add_argument(
        "--storm",
        action="store_true",
        help="then restart the board: every client reconnects at once; time to all snapshots",
    )
    parser.add_argument(
        "--connect-parallel", type=int, default=25, help="connects in flight per client process"
    )
    args = parser.parse_args(argv)
    nofile = raise_nofile()  # the server, started below, inherits it
    ctx = mp.get_context("fork")

    results: list[Result] = []
    with bench_dirs("fanout") as (tickets_dir, mappings_dir):
        tickets = seed_tickets(tickets_dir, args.tickets)
        env = {"TICKET_DASH_WORKERS": str(args.workers)}
        with running_server(tickets_dir, mappings_dir, env=env) as server:
            asyncio.run(warm_up(server.port))
            time.sleep(0.5)
            rss_before = server.rss_kib()

            procs = []
            pipes: list[Connection] = []
            per = [
                args.clients // args.procs + (i < args.clients % args.procs)
                for i in range(args.procs)
            ]
            t_connect = time.monotonic()
            cpu0 = cpu_seconds(server.pid)
            for n in per:
                parent_end, child_end = ctx.Pipe()
                p = ctx.Process(
                    target=client_process, args=(server.port, n, child_end, args.connect_parallel)
                )
                p.start()
                procs.append(p)
                pipes.append(parent_end)
            ready = 0
            errors: list[str] = []
            try:
                for pipe in pipes:
                    if not pipe.poll(200):
                        raise TimeoutError("client process never reported ready")
                    _, n_ready, errs = pipe.recv()
                    ready += n_ready
                    errors += errs
                connect_s = time.monotonic() - t_connect
                connect_cpu = cpu_seconds(server.pid) - cpu0
                print(
                    f"{ready}/{args.clients} clients connected with snapshots in "
                    f"{connect_s:.1f} s (server CPU {connect_cpu:.1f} s) {errors[:3]}",
                    flush=True,
                )
                time.sleep(1.0)
                rss_after = server.rss_kib()
                on_server = clients_on_server(server.port)

                rng = random.Random(5)
                ids = visible_ids(tickets)
                writes: dict[int, float] = {}
                spy = start_py_spy(server.pid, args.changes * args.gap + 1) if args.py_spy else None
                cpu1 = cpu_seconds(server.pid)
                for k in range(args.changes):
                    ident = rng.choice(ids)
                    data = dict(tickets[ident])
                    data["subject"] = f"FANOUT {k} {data['subject'][:50]}"
                    writes[k] = rewrite(tickets_dir, data)
                    tickets[ident] = data
                    time.sleep(args.gap)
                time.sleep(1.0)
                change_cpu = (cpu_seconds(server.pid) - cpu1) / max(args.changes, 1)
                spy_report = finish_py_spy(spy) if spy else ""
                storm: tuple[float, float, int] | None = None
                if args.storm:
                    storm = restart_storm(server, (tickets_dir, mappings_dir), env, pipes)
                received: dict[int, list[float]] = {}
                lost_clients = 0
                for pipe in pipes:
                    pipe.send("stop")
                for pipe in pipes:
                    if not pipe.poll(30):
                        raise TimeoutError("client process did not report")
                    _, got, errs, n_err = pipe.recv()
                    lost_clients += n_err
                    errors += errs
                    for k, times in got.items():
                        received.setdefault(k, []).extend(times)
            finally:
                for p in procs:
                    p.join(10)
                    if p.is_alive():
                        p.terminate()
                        p.join(5)

    lat = [(t - writes[k]) * 1000 for k, ts in received.items() if k in writes for t in ts]
    per_change_max = [
        max((t - writes[k]) * 1000 for t in ts) for k, ts in received.items() if k in writes
    ]
    expected = ready * args.changes
    mem = (rss_after - rss_before) / max(ready, 1)
    results += [
        Result(
            "clients connected (snapshot received)",
            ready,
            "clients",
            None,
            f"server counted {on_server}; {args.procs} client processes; nofile {nofile}",
        ),
        Result(
            "connect + snapshot, all clients",
            connect_s,
            "s",
            None,
            f"{args.tickets} tickets; server CPU {connect_cpu:.1f} s",
        ),
        Result(
            "deliveries",
            len(lat),
            "events",
            None,
            f"expected {expected} ({args.changes} changes x {ready}); {lost_clients} client errors",
        ),
        Result("write → client p50", percentile(lat, 50), "ms", None),
        Result(
            "write → client p95",
            percentile(lat, 95),
            "ms",
            250.0 if args.clients <= 1000 else 500.0,  # issue 10: 5,000 clients within 500 ms
            f"over {len(lat)} deliveries",
        ),
        Result("write → client max", max(lat) if lat else float("nan"), "ms", None),
        Result(
            "write → last client, worst change",
            max(per_change_max or [float("nan")]),
            "ms",
            None,
            "time to reach every client",
        ),
        Result("server CPU per change", change_cpu * 1000, "ms", None, "/proc/<pid>/stat"),
        Result("server RSS before clients", rss_before / 1024, "MiB", None),
        Result("server RSS with all clients", rss_after / 1024, "MiB", None),
        Result("server memory per client", mem, "KiB", None, "(after - before) / clients"),
    ]
    if storm is not None:
        all_back, cpu, back = storm
        results += [
            Result(
                "restart storm: every client's snapshot again",
                all_back,
                "s",
                3.0,
                f"{back}/{ready} clients, all reconnecting at once; server CPU {cpu:.1f} s",
            )
        ]
    if len(lat) < expected:
        results.append(Result("undelivered", expected - len(lat), "events", 0))
    if errors:
        print("client errors (first few):", errors[:5])
    print_table(TITLE, results)
    if args.py_spy:
        print(spy_report)
    print(summary_line(TITLE, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
