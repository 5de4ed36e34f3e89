"""Publishing what a source writes: `Publisher`, the contract's observer (app/contract/changes).

The source writes its files exactly as on a single host; every change the contract reports is
mapped to its key (`keys.outgoing`) and queued, latest state per key, and a background task sends
the queue to the bucket. So the source never waits for NATS, and while NATS is away changes
accumulate (at most one per key) and go out once it is back. The queue is sent in batches: every
key of a batch concurrently, except the status, which goes last and only once everything before
it was stored, so a mirror never holds a status (and its poll cursor) newer than its tickets.

A bucket that has no status was never written by a source (a new bucket, or one the server lost):
`start` then publishes the whole folder first, and deletes ticket keys the folder does not have.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import OrderedDict
from pathlib import Path

import nats.errors
import nats.js.errors

from app.contract.changes import Change
from app.contract.layout import LEGACY_SUFFIX, MAPPING_FILES, status_path, ticket_path
from app.contract.reading import UnreadableFile, read_regular_file, ticket_ids
from app.settings import Settings
from watcher.nats.connection import Link
from watcher.nats.keys import (
    STATUS_KEY,
    TICKET_PREFIX,
    Outgoing,
    mapping_key,
    outgoing,
    ticket_key,
)

log = logging.getLogger("watcher.nats.publish")

IN_FLIGHT = 128  # messages awaiting their acknowledgement at once
RETRY_SECONDS = 1.0
RECONNECT_WAIT_SECONDS = 30.0  # then it tries again anyway
MAX_FILE_BYTES = 64_000_000


class Publisher:
    def __init__(self, link: Link, settings: Settings) -> None:
        self.link = link
        self.tickets_dir = Path(settings.tickets_dir)
        self.mappings_dir = Path(settings.mappings_dir)
        self.published = 0  # messages stored
        self.bytes = 0  # payload and header bytes of those messages
        self._pending: OrderedDict[str, Outgoing] = OrderedDict()
        self._lock = threading.Lock()  # the observer runs in the source's threads too
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._check_bucket = False  # after a reconnect: is the bucket still there?
        self._stop_listening = link.on_change(self._on_link_change)

    # --- the observer: called by the writer, in whatever thread it runs -----------------------
    def observe(self, change: Change) -> None:
        item = outgoing(change, self.tickets_dir, self.mappings_dir)
        if item is not None:
            self._queue(item)

    def _queue(self, item: Outgoing) -> None:
        with self._lock:
            self._pending.pop(item.key, None)
            self._pending[item.key] = item
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._mark_busy()
        else:
            self._loop.call_soon_threadsafe(self._mark_busy)

    def _on_link_change(self, up: bool) -> None:
        if up:  # a server that restarted without its storage has lost the bucket
            self._check_bucket = True
            self._mark_busy()

    def _mark_busy(self) -> None:
        self._idle.clear()
        self._wake.set()

    # --- running ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Make sure the bucket exists (publishing the folder into a fresh one), then send
        changes in the background until `stop`."""
        await self.link.ensure_bucket()
        if not await self._has_status():
            log.info("the bucket %s holds no status yet: publishing the folder", self.link.bucket)
            await self.queue_folder()
        self._task = asyncio.create_task(self._run(), name="nats-publisher")

    async def stop(self, flush_seconds: float = 0.0) -> bool:
        """Stop sending; first wait up to `flush_seconds` for the queue to drain. True if it did."""
        flushed = self._idle.is_set()
        if flush_seconds > 0 and not flushed:
            try:
                await asyncio.wait_for(self.flushed(), flush_seconds)
                flushed = True
            except TimeoutError:
                log.warning("stopping with %d change(s) not yet in NATS", self.backlog())
        self._stop_listening()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        return flushed

    async def flushed(self) -> None:
        """Wait until everything queued so far is stored (callers bound the wait)."""
        await self._idle.wait()

    def backlog(self) -> int:
        with self._lock:
            return len(self._pending)

    async def _restore_bucket(self) -> bool:
        """After a reconnect or a publish nobody stored: recreate a lost bucket and republish
        the folder into it. True when the bucket is there (again)."""
        try:
            await self.link.ensure_bucket()
            if not await self._has_status():
                log.warning(
                    "the bucket %s lost its content: publishing the folder", self.link.bucket
                )
                await self.queue_folder()
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            log.debug("checking the bucket failed: %s", exc)
            return False
        self._check_bucket = False
        return True

    async def _has_status(self) -> bool:
        try:
            await self.link.js.get_msg(self.link.stream, subject=self.link.prefix + STATUS_KEY)
        except nats.js.errors.NotFoundError:
            return False
        return True

    async def queue_folder(self) -> None:
        """Queue every file of the folders, and every ticket key of the bucket, to be sent as the
        disk has it *when sent* (a file gone by then: a delete), so a source writing meanwhile
        can never be overtaken by an older copy."""
        on_disk = await asyncio.to_thread(ticket_ids, self.tickets_dir)
        info = await self.link.stream_info(subjects_filter=f"{self.link.prefix}{TICKET_PREFIX}>")
        ids = set(on_disk)
        for subject in (info.state.subjects or {}) if info else {}:
            digits = subject[len(self.link.prefix) + len(TICKET_PREFIX) :]
            if digits.isdigit():
                ids.add(int(digits))
        for ticket_id in sorted(ids):
            path = ticket_path(self.tickets_dir, ticket_id)
            self._queue(Outgoing(ticket_key(ticket_id), None, from_disk=path))
        for kind, name in MAPPING_FILES.items():
            self._queue(Outgoing(mapping_key(kind), None, from_disk=self.mappings_dir / name))
        self._queue(Outgoing(STATUS_KEY, None, from_disk=status_path(self.tickets_dir)))

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                if self._check_bucket and not await self._restore_bucket():
                    await self._retry_pause()
                    continue
                with self._lock:
                    batch = list(self._pending.values())
                    self._pending.clear()
                if not batch:
                    break
                unsent = await self._send_batch(batch)
                if unsent:
                    self._requeue(unsent)
                    await self._retry_pause()
            with self._lock:
                if not self._pending:
                    self._idle.set()

    async def _send_batch(self, batch: list[Outgoing]) -> list[Outgoing]:
        """Send a batch, the status only after all else was stored; returns what was not."""
        if any(i.from_disk is not None for i in batch):
            batch = await asyncio.to_thread(_resolved, batch)
        status = [i for i in batch if i.key == STATUS_KEY]
        others = [i for i in batch if i.key != STATUS_KEY]
        window = asyncio.Semaphore(IN_FLIGHT)

        async def send(item: Outgoing) -> bool:
            async with window:
                return await self._send(item)

        done = await asyncio.gather(*(send(i) for i in others))
        unsent = [item for item, ok in zip(others, done, strict=True) if not ok]
        if unsent:
            return unsent + status
        for item in status:
            if not await self._send(item):
                return [item]
        return []

    async def _send(self, item: Outgoing) -> bool:
        """True once the key is stored, or when it never can be (then logged); False: retry."""
        payload = item.payload()
        headers = item.headers()
        try:
            await self.link.js.publish(self.link.prefix + item.key, payload, headers=headers)
        except (nats.errors.MaxPayloadError, nats.js.errors.BadRequestError) as exc:
            log.error("NATS refused %s (%d bytes): %s; not retried", item.key, len(payload), exc)
            return True
        except nats.js.errors.NoStreamResponseError:
            self._check_bucket = True  # no bucket to store it: recreated before the next try
            return False
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            log.debug("publishing %s failed: %s", item.key, exc)
            return False
        self.published += 1
        self.bytes += len(payload) + sum(len(k) + len(v) + 4 for k, v in (headers or {}).items())
        return True

    def _requeue(self, unsent: list[Outgoing]) -> None:
        """Put back what was not stored, unless a newer state of its key is already queued."""
        with self._lock:
            for item in unsent:
                self._pending.setdefault(item.key, item)
        log.warning(
            "NATS did not store %d change(s); retrying (%s)", len(unsent), self.link.servers
        )

    async def _retry_pause(self) -> None:
        """While disconnected: until the link is back. Connected but not stored: a second."""
        if self.link.up.is_set():
            await asyncio.sleep(RETRY_SECONDS)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.link.up.wait(), RECONNECT_WAIT_SECONDS)


def _resolved(batch: list[Outgoing]) -> list[Outgoing]:
    """Items that send what the disk holds, read now: a ticket without a file is deleted (its
    legacy `<id>.txt` counts as its file); a missing mapping or status file is not sent."""
    resolved = []
    for item in batch:
        if item.from_disk is None:
            resolved.append(item)
            continue
        content = _read(item.from_disk)
        if item.key.startswith(TICKET_PREFIX):
            if content is None:
                content = _read(item.from_disk.with_suffix(LEGACY_SUFFIX))
            resolved.append(Outgoing(item.key, content))
        elif content is not None:
            resolved.append(Outgoing(item.key, content))
    return resolved


def _read(path: Path) -> bytes | None:
    try:
        raw, _ = read_regular_file(path, MAX_FILE_BYTES)
    except (FileNotFoundError, UnreadableFile):
        return None
    return raw
