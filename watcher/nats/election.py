"""One poller per account: `Lease`, the bucket's key `poller`, changed only by compare-and-set.

The holder renews the key every third of `nats_lease_seconds`, each time expecting the revision
it last wrote (a JetStream "expected last subject sequence"), so of two watchers that try at once
exactly one succeeds. A standby watches the key and takes it over, with the same check, once its
revision has not changed for a whole lease *as measured by the standby's own monotonic clock*
(no two hosts' wall clocks are compared). A holder that could not renew for two thirds of a lease
counts itself as stopped, before any standby may start: its own clock started earlier (before
it sent the renewal) than the standby's (after the renewal was stored), and the last third is the
margin. A watcher that stops cleanly deletes the key, and a standby takes over at once.

Failure modes, in docs/deploy.md: a holder cut off from NATS stops polling after 2/3 of a lease
even if Freshservice is reachable (safety first: the standby may have taken over); no watcher
polls while NATS is unreachable for all of them; a holder frozen (SIGSTOP, a VM paused) past its
lease may finish the request in flight when it thaws, before it notices.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import nats.errors
import nats.js.errors
import orjson
from nats.js.kv import KeyValue

from app.contract.times import utc_now_iso
from watcher.nats.connection import Link
from watcher.nats.keys import POLLER_KEY

log = logging.getLogger("watcher.nats.election")

RENEWALS_PER_LEASE = 3
VALID_SHARE = 2 / 3  # of a lease after the last renewal was sent: then the holder stops
RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class Holder:
    ident: str
    lease_seconds: float

    @classmethod
    def parse(cls, raw: bytes | None) -> Holder | None:
        try:
            data = orjson.loads(raw or b"")
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("holder"), str):
            return None
        lease = data.get("lease_seconds")
        if isinstance(lease, bool) or not isinstance(lease, int | float) or lease <= 0:
            lease = 0.0
        return cls(data["holder"], float(lease))


class Lease:
    def __init__(
        self,
        link: Link,
        lease_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.link = link
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.ident = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.revision = 0  # of our last write, while we hold it
        self.renewed_at = 0.0  # our clock when that write was sent
        self.holder = ""  # who holds it, as last seen (for logs and the status)
        self._seen: tuple[int, float] | None = None  # (revision, when first seen) of another's
        self._kv: KeyValue | None = None

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            await self.link.ensure_bucket()
            self._kv = await self.link.js.key_value(self.link.bucket)
        return self._kv

    def _value(self) -> bytes:
        return orjson.dumps(
            {
                "holder": self.ident,
                "lease_seconds": self.lease_seconds,
                "renewed": utc_now_iso(),
            }
        )

    async def _current(self, kv: KeyValue) -> tuple[int, Holder | None]:
        """(revision, holder) of the key; holder None when it is free (absent or deleted)."""
        try:
            entry = await kv.get(POLLER_KEY)
        except nats.js.errors.KeyNotFoundError as exc:
            deleted = exc.entry
            return (deleted.revision or 0) if deleted is not None else 0, None
        return entry.revision or 0, Holder.parse(entry.value)

    async def _take(self, kv: KeyValue, last: int) -> bool:
        sent_at = self.clock()
        try:
            self.revision = await kv.update(POLLER_KEY, self._value(), last=last)
        except nats.js.errors.KeyWrongLastSequenceError:
            return False  # someone else was quicker
        self.renewed_at = sent_at
        self.holder = self.ident
        self._seen = None
        return True

    # --- standing by --------------------------------------------------------------------------
    async def acquire(self) -> None:
        """Return once this watcher holds the lease (callers cancel or bound the wait)."""
        kv = await self._bucket()
        watch = await kv.watch(POLLER_KEY)  # wakes us on every change of the key
        try:
            while True:
                revision, holder = await self._current(kv)
                now = self.clock()
                if holder is None or holder.ident == self.ident:
                    if await self._take(kv, revision):
                        log.info("this watcher holds the lease: it polls")
                        return
                    continue
                if self.holder != holder.ident:
                    log.info("standing by: %s polls", holder.ident)
                    self.holder = holder.ident
                lease = max(self.lease_seconds, holder.lease_seconds)
                if self._seen is None or self._seen[0] != revision:
                    self._seen = (revision, now)
                elif now - self._seen[1] >= lease:
                    log.warning(
                        "%s has not renewed its lease for %.0f s: taking over", holder.ident, lease
                    )
                    if await self._take(kv, revision):
                        return
                    continue
                wait = max(0.01, self._seen[1] + lease - now)
                try:
                    await watch.updates(timeout=wait)  # type: ignore[no-untyped-call]
                except nats.errors.TimeoutError:
                    pass
        finally:
            await watch.stop()  # type: ignore[no-untyped-call]

    # --- holding --------------------------------------------------------------------------------
    def valid_until(self) -> float:
        return self.renewed_at + self.lease_seconds * VALID_SHARE

    async def hold(self) -> None:
        """Renew until the lease is lost or cannot be renewed in time; then return at once (the
        caller stops polling before any standby may start)."""
        kv = await self._bucket()
        interval = self.lease_seconds / RENEWALS_PER_LEASE
        next_renewal = self.renewed_at + interval
        while True:
            await asyncio.sleep(max(0.0, next_renewal - self.clock()))
            sent_at = self.clock()
            remaining = self.valid_until() - sent_at
            if remaining <= 0:
                log.error("could not renew the lease in time: stopped polling")
                return
            try:
                revision = await asyncio.wait_for(
                    kv.update(POLLER_KEY, self._value(), last=self.revision), remaining
                )
            except nats.js.errors.KeyWrongLastSequenceError:
                if await self._still_ours(kv):
                    next_renewal = self.clock()
                    continue
                log.error("another watcher holds the lease now: stopped polling")
                return
            except (nats.errors.Error, TimeoutError, OSError) as exc:
                log.warning("renewing the lease failed (%s); trying again", exc or "timeout")
                next_renewal = min(self.clock() + RETRY_SECONDS, self.valid_until())
                continue
            self.revision = revision
            self.renewed_at = sent_at
            next_renewal = sent_at + interval

    async def _still_ours(self, kv: KeyValue) -> bool:
        """After a renewal that timed out but was stored: the key still names us."""
        try:
            revision, holder = await self._current(kv)
        except (nats.errors.Error, TimeoutError, OSError):
            return False
        if holder is not None and holder.ident == self.ident:
            self.revision = revision
            return True
        return False

    async def release(self) -> None:
        """Give the lease up (a clean stop): a standby takes over at once."""
        if self.revision == 0:
            return
        try:
            kv = await self._bucket()
            await asyncio.wait_for(kv.delete(POLLER_KEY, last=self.revision), 2.0)
            log.info("released the lease")
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            log.warning("could not release the lease (%s): a standby takes over later", exc)
        self.revision = 0
        self.holder = ""
