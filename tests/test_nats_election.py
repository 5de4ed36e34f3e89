"""One poller per account (issue 12): of several watchers for one bucket exactly one holds the
lease and polls; a standby takes over within a lease of the poller dying, and never while the
poller may still be polling (a poller cut off from NATS stops first). Against a real nats-server;
the last test kills a real `python -m watcher` with SIGKILL and watches who calls Freshservice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fake_freshservice import FakeFreshservice
from support.nats_server import NatsServer, running_nats
from support.tcp_proxy import TcpProxy

from app.settings import Settings
from watcher.nats.connection import Link
from watcher.nats.election import VALID_SHARE, Lease

pytestmark = pytest.mark.timeout(90)
REPO = Path(__file__).resolve().parents[1]
LEASE = 2.0  # short for the tests, long enough for a busy 2-core box


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    yield from running_nats(tmp_path)


@asynccontextmanager
async def candidate(url: str, lease: float = LEASE) -> AsyncIterator[Lease]:
    link = await Link.open(Settings(nats_url=url), asyncio.Event(), role="test-candidate")
    assert link is not None
    try:
        yield Lease(link, lease)
    finally:
        await link.close()


async def test_of_two_watchers_exactly_one_holds_the_lease_while_it_renews(nats_server):
    async with candidate(nats_server.url) as a, candidate(nats_server.url) as b:
        tasks = {asyncio.create_task(a.acquire()): a, asyncio.create_task(b.acquire()): b}
        done, pending = await asyncio.wait(tasks, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        assert len(done) == 1
        holder, standby = tasks[done.pop()], tasks[next(iter(pending))]
        holding = asyncio.create_task(holder.hold())
        await asyncio.sleep(2 * LEASE)  # two leases of renewals: the standby must still wait
        assert not any(t.done() for t in pending)
        assert standby.holder == holder.ident and not holding.done()
        holding.cancel()
        for task in (*pending, holding):
            task.cancel()
        await asyncio.gather(*pending, holding, return_exceptions=True)


async def test_a_standby_takes_over_within_a_lease_of_the_holder_dying(nats_server):
    async with candidate(nats_server.url) as a, candidate(nats_server.url) as b:
        await asyncio.wait_for(a.acquire(), 10)
        standby = asyncio.create_task(b.acquire())
        died = time.monotonic()  # a dies: no renewal, no release
        await asyncio.wait_for(standby, 10)
        assert time.monotonic() - died <= LEASE + 0.5


async def test_a_released_lease_is_taken_at_once(nats_server):
    async with candidate(nats_server.url, lease=10.0) as a, candidate(nats_server.url) as b:
        await asyncio.wait_for(a.acquire(), 10)
        standby = asyncio.create_task(b.acquire())
        released = time.monotonic()
        await a.release()
        await asyncio.wait_for(standby, 5)
        assert time.monotonic() - released < 2.0  # not the 10 s lease


async def test_a_holder_cut_off_from_nats_stops_before_a_standby_may_start(nats_server):
    proxy = await TcpProxy(nats_server.port).start()
    try:
        async with (
            candidate(f"nats://127.0.0.1:{proxy.port}", lease=2.0) as a,
            candidate(nats_server.url, lease=2.0) as b,
        ):
            await asyncio.wait_for(a.acquire(), 10)
            holding = asyncio.create_task(a.hold())
            standby = asyncio.create_task(b.acquire())
            await asyncio.sleep(0.5)
            cut = time.monotonic()
            proxy.cut()  # a can reach Freshservice, say, but not NATS
            await asyncio.wait_for(holding, 10)
            stopped = time.monotonic()
            await asyncio.wait_for(standby, 10)
            took_over = time.monotonic()
            assert stopped - cut <= 2.0 * VALID_SHARE + 0.5
            assert stopped < took_over  # never two polling at once
    finally:
        await proxy.close()


# --- the real thing: two `python -m watcher` processes, one killed ----------------------------
def watcher_env(fake: FakeFreshservice, api_port: int, nats_url: str, root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKET_DASH_")}
    env.update(
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        TICKET_DASH_FRESHSERVICE_URL=f"http://127.0.0.1:{api_port}",
        TICKET_DASH_FRESHSERVICE_TOKEN=fake.key,
        TICKET_DASH_TICKETS_DIR=str(root / "tickets"),
        TICKET_DASH_MAPPINGS_DIR=str(root / "mappings"),
        TICKET_DASH_NATS_URL=nats_url,
        TICKET_DASH_NATS_LEASE_SECONDS="3",
        TICKET_DASH_POLL_SECONDS="0.5",
    )
    return env


async def test_killing_the_polling_watcher_hands_polling_to_the_standby_and_never_to_both(
    tmp_path, nats_server
):
    async with FakeFreshservice() as fake:
        for i in range(4):
            fake.add_ticket(status=2, requester_id=7, age_days=i)
        fake.add_requester(7, "Dana", "Scully")
        api_port = int(fake.url.rsplit(":", 1)[1])
        proxies = [await TcpProxy(api_port).start() for _ in range(2)]
        procs: list[asyncio.subprocess.Process] = []
        logs = [tmp_path / f"watcher-{i}.log" for i in range(2)]
        try:
            for i, proxy in enumerate(proxies):
                with logs[i].open("wb") as log:
                    procs.append(
                        await asyncio.create_subprocess_exec(
                            sys.executable,
                            "-m",
                            "watcher",
                            env=watcher_env(fake, proxy.port, nats_server.url, tmp_path / str(i)),
                            cwd=tmp_path,
                            stdout=log,
                            stderr=asyncio.subprocess.STDOUT,
                        )
                    )
            first = asyncio.create_task(proxies[0].first_talk.wait())
            second = asyncio.create_task(proxies[1].first_talk.wait())
            done, _ = await asyncio.wait({first, second}, timeout=30, return_when="FIRST_COMPLETED")
            assert done, "no watcher polled"
            leader = 0 if first in done else 1
            standby = 1 - leader
            await asyncio.sleep(4.0)  # more than a lease: the standby stays quiet meanwhile
            assert not proxies[standby].talked, "two watchers polled at once"

            procs[leader].send_signal(signal.SIGKILL)
            await procs[leader].wait()
            killed = time.monotonic()
            await asyncio.wait_for(proxies[standby].first_talk.wait(), 30)
            took_over = proxies[standby].talked[0] - killed
            assert took_over <= 30.0
            assert max(proxies[leader].talked) < proxies[standby].talked[0]
            print(f"standby polled {took_over:.1f} s after the poller was killed (lease 3 s)")
            # It polls from the copy it kept as a standby: the cursor came with it.
            status = (tmp_path / str(standby) / "tickets" / ".watcher.json").read_text()
            assert '"cursor": "' in status
            procs[standby].send_signal(signal.SIGTERM)  # a clean stop: lease released, exit 0
            assert await asyncio.wait_for(procs[standby].wait(), 15) == 0
        except BaseException:
            for log in logs:
                print(f"--- {log.name} ---\n{log.read_text(errors='replace')}", file=sys.stderr)
            raise
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(proc.wait(), 15)
                    except TimeoutError:
                        proc.kill()
                        await proc.wait()
            for proxy in proxies:
                await proxy.close()
