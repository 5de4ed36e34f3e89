"""What `python -m watcher` does when `nats_url` is set: the roles of a host.

- `run_mirror` (`--source nats`): a read-only copy of the bucket in tickets/ and mappings/.
- `run_elected` (Freshservice or the demo): stand by as a mirror until this watcher holds the
  lease (`election`), bring the folder up to the bucket's last revision, then run the source with
  its writes published (`publish`), the same writer path as on one host. Losing the lease stops
  the source at once and returns to standing by; a clean stop releases it for a standby.
- `run_publishing` (`sync-mappings`): a one-off command whose writes are published too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats.errors
import nats.js.errors

from app.contract.changes import observed_by
from app.contract.status import write_status
from app.settings import Settings
from watcher.nats.connection import Link
from watcher.nats.election import Lease
from watcher.nats.keys import STATUS_KEY
from watcher.nats.mirror import Mirror
from watcher.nats.publish import Publisher
from watcher.nats.waiting import first_of
from watcher.source import Source, SourceError

log = logging.getLogger("watcher.nats")

CATCH_UP_SECONDS = 120.0  # a new poller waits this long, at most, for its copy to be current
SOURCE_STOP_SECONDS = 10.0  # a stopping source may finish its file work
FLUSH_SECONDS = 5.0  # a stopping watcher waits this long, at most, for NATS to store its changes
RETRY_SECONDS = 2.0


async def run_mirror(settings: Settings, stop: asyncio.Event, *, once: bool = False) -> int:
    link = await Link.open(settings, stop, role="mirror")
    if link is None:
        return 0
    try:
        await Mirror(link, settings).run(stop, once=once)
    finally:
        await link.close()
    return 0


async def run_publishing(
    settings: Settings, work: Callable[[], Awaitable[int]], stop: asyncio.Event
) -> int:
    """Run `work` with its writes published; wait (bounded) until NATS stored them."""
    link = await Link.open(settings, stop, role="command")
    if link is None:
        return 130  # stopped before NATS answered
    try:
        publisher = Publisher(link, settings)
        await publisher.start()
        with observed_by(publisher.observe):
            code = await work()
        await publisher.stop(flush_seconds=FLUSH_SECONDS)
    finally:
        await link.close()
    return code


async def run_elected(
    settings: Settings,
    make_source: Callable[[], Source],
    stop: asyncio.Event,
    *,
    once: bool = False,
    reconcile: bool = False,
) -> int:
    link = await Link.open(settings, stop, role="watcher")
    if link is None:
        return 0
    lease = Lease(link, settings.nats_lease_seconds)
    try:
        while not stop.is_set():
            mirror = Mirror(link, settings, role="standby")
            standby_stop = asyncio.Event()
            standby = asyncio.create_task(mirror.run(standby_stop), name="nats-standby")
            holding: asyncio.Task[None] | None = None
            try:
                held = await _acquire(lease, stop, once)
                if held:  # renewed from now on: catching up may take longer than a lease
                    holding = asyncio.create_task(lease.hold(), name="nats-lease")
                    held = await _catch_up(link, mirror, lease, holding)
            finally:
                standby_stop.set()
                await asyncio.gather(standby, return_exceptions=True)
                if holding is not None and not held:
                    holding.cancel()
                    await asyncio.gather(holding, return_exceptions=True)
            if not held or holding is None:
                continue
            if mirror.source_status is not None:  # the source's status, without the mirror's
                write_status(Path(settings.tickets_dir), mirror.source_status)
            lost = await _lead(link, lease, holding, settings, make_source, stop, once, reconcile)
            if once or not lost:
                break
    finally:
        if lease.revision:
            await lease.release()
        await link.close()
    return 0


async def _acquire(lease: Lease, stop: asyncio.Event, once: bool) -> bool:
    """Wait for the lease (with `once`: one lease period at most); False if stopped first."""
    while not stop.is_set():
        acquiring = asyncio.ensure_future(lease.acquire())
        try:
            if once:
                ended = await first_of(
                    asyncio.wait_for(acquiring, lease.lease_seconds + 5), stop.wait()
                )
            else:
                ended = await first_of(acquiring, stop.wait())
            if ended.cancelled() or stop.is_set():
                return False
            ended.result()
            return True
        except TimeoutError:
            raise SourceError(
                f"another watcher ({lease.holder}) polls this account; --once does not poll beside it."
            ) from None
        except (nats.errors.Error, OSError) as exc:
            log.warning("the election failed (%s); trying again", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
    return False


async def _catch_up(link: Link, mirror: Mirror, lease: Lease, holding: asyncio.Task[None]) -> bool:
    """Bring the folder to the bucket's last revision before polling (unless no source ever
    wrote the bucket: then this folder is published as it is). False: the lease is gone (lost
    meanwhile, or given back)."""
    try:
        info = await link.stream_info()
        await link.js.get_msg(link.stream, subject=link.prefix + STATUS_KEY)
    except nats.js.errors.NotFoundError:
        return True  # a new bucket: the publisher fills it from this folder
    except (nats.errors.Error, OSError, TimeoutError) as exc:
        log.warning("cannot read the bucket (%s): giving the lease back", exc)
        await lease.release()
        return False
    last = info.state.last_seq if info is not None else 0
    catching = asyncio.ensure_future(asyncio.wait_for(mirror.wait_applied(last), CATCH_UP_SECONDS))
    await asyncio.wait({catching, holding}, return_when=asyncio.FIRST_COMPLETED)
    if not catching.done():  # the lease was lost while catching up
        catching.cancel()
        await asyncio.gather(catching, return_exceptions=True)
        lease.revision = 0
        return False
    if catching.exception() is not None:
        log.error("this copy did not catch up with the bucket in time: giving the lease back")
        await lease.release()
        return False
    return True


async def _lead(
    link: Link,
    lease: Lease,
    holding: asyncio.Task[None],
    settings: Settings,
    make_source: Callable[[], Source],
    stop: asyncio.Event,
    once: bool,
    reconcile: bool,
) -> bool:
    """Run the source, published, while the lease holds (`holding` renews it and ends when it
    is lost). True if the lease was lost."""
    publisher = Publisher(link, settings)
    await publisher.start()
    source = make_source()
    source_stop = asyncio.Event()
    with observed_by(publisher.observe):
        running = asyncio.create_task(
            source.run(source_stop, once=once, reconcile=reconcile), name="source"
        )
    stopping = asyncio.create_task(stop.wait())
    lost = False
    try:
        done, _ = await asyncio.wait(
            {running, holding, stopping}, return_when=asyncio.FIRST_COMPLETED
        )
        if holding in done and running not in done:
            lost = True
            running.cancel()  # not one more request: a standby may start soon
        elif running not in done:
            source_stop.set()
            try:
                await asyncio.wait_for(asyncio.shield(running), SOURCE_STOP_SECONDS)
            except TimeoutError:
                running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    finally:
        for task in (holding, stopping, running):
            task.cancel()
        await asyncio.gather(holding, stopping, running, return_exceptions=True)
        await publisher.stop(flush_seconds=0.0 if lost else FLUSH_SECONDS)
    failure = None if lost or running.cancelled() else running.exception()
    if failure is not None:
        raise failure
    if lost:
        lease.revision = 0
    return lost
