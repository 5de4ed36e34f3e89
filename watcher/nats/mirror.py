"""Keeping tickets/ and mappings/ an exact copy of the bucket: `Mirror` (`--source nats`, and a
standby watcher while it waits for the lease).

A session reads the bucket's stream with an ordered consumer and applies every entry through the
contract's writer (`apply`):

- **Snapshot** (first start, another bucket, a bucket that lost messages we had): the latest
  entry of every key, then live updates. Once caught up, every ticket on disk the snapshot did
  not name is archived: it left while nobody was looking.
- **Resume** (after a disconnect or a restart): from the revision after the last one applied.
  History is 1, so every key changed since then arrives once, in its latest state, delete markers
  included. A ticket whose marker already expired (`keys.TOMBSTONE_TTL_SECONDS`) is not in the
  stream at all: the subjects the stream still holds are listed first, and once caught up a
  ticket on disk that is neither among them nor arrived since is archived. No ghosts, no gaps.

Files are written without an fsync each; after a batch, one `syncfs` makes them durable and only
then is the revision recorded (in the status file's `extra`, under `nats_mirror`), so a crash
replays at most a batch (applying twice is harmless). The status file is the source's status as
published, plus the mirror's own state; while NATS is unreachable its `last_error` says so and
its `last_success` stops moving, so the board shows the error and, after `stale_after_seconds`,
STALE. A bucket that holds no status yet was never written by a source: it is not mirrored
(the folder is left as it is) until one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import api

from app.contract.atomic import dump_json, write_atomic
from app.contract.layout import status_path
from app.contract.status import WatcherStatus, read_status, write_status
from app.contract.times import iso, utc_now_iso
from app.settings import Settings
from watcher.nats.apply import FolderWriter
from watcher.nats.connection import Link
from watcher.nats.keys import STATUS_KEY, TICKET_PREFIX, Entry, entry_of
from watcher.nats.waiting import first_of

log = logging.getLogger("watcher.nats.mirror")

STATE_KEY = "nats_mirror"  # the mirror's own state in the status file's `extra`
BATCH = 1000  # entries taken from the consumer's buffer at once
FLUSH_EVERY = 5000  # during a snapshot: record progress at least this often
FLUSH_DELAY_SECONDS = 0.2  # live: record progress this long after the last change
INLINE = 8  # a batch this small (live changes) is written on the event loop itself
WRITERS = 8  # threads writing files in a batch (they wait in system calls; one key, one thread)
WAIT_FOR_SOURCE_SECONDS = 2.0  # re-check a bucket that no source has written yet
RETRY_SECONDS = 1.0
PROBE_SECONDS = 10.0  # how often a running session checks that the bucket still answers
PROBE_TIMEOUT_SECONDS = 5.0


@dataclass
class MirrorState:
    revision: int = 0  # the last revision applied and made durable
    stream_created: str | None = None  # which bucket it belongs to (recreated: another one)

    @classmethod
    def of(cls, status: WatcherStatus | None) -> MirrorState:
        raw = status.extra.get(STATE_KEY) if status is not None else None
        if not isinstance(raw, dict):
            return cls()
        revision = raw.get("revision")
        created = raw.get("stream_created")
        return cls(
            revision if isinstance(revision, int) and not isinstance(revision, bool) else 0,
            created if isinstance(created, str) else None,
        )


def without_mirror_state(status: WatcherStatus) -> WatcherStatus:
    """The source's status as published: the mirror's additions taken out."""
    extra = {k: v for k, v in status.extra.items() if k != STATE_KEY}
    return dataclasses.replace(status, extra=extra)


class Mirror:
    def __init__(self, link: Link, settings: Settings, *, role: str = "mirror") -> None:
        self.link = link
        self.role = role  # "mirror", or "standby" in a watcher waiting for the lease
        self.tickets_dir = Path(settings.tickets_dir)
        self.retention_days = settings.archive_retention_days
        self.writer = FolderWriter(self.tickets_dir, Path(settings.mappings_dir))
        status = read_status(self.tickets_dir)
        self.state = MirrorState.of(status)
        self.source_status = without_mirror_state(status) if status is not None else None
        self.applied = self.state.revision  # applied to the files, maybe not durable yet
        self.mode = ""  # "snapshot" or "resume": how the current session started
        self.waiting_for_source = asyncio.Event()  # the bucket holds no source's status yet
        self.unreachable_since: float | None = None  # connected, but the bucket does not answer
        self.caught_up = asyncio.Event()
        self._progress = asyncio.Event()
        self._down = asyncio.Event()
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Future[None]] = set()
        self._status_task: asyncio.Future[None] | None = None
        self._status_again = False
        self._flush_lock = threading.RLock()  # also orders status writes from threads
        self._pool = ThreadPoolExecutor(WRITERS, thread_name_prefix="nats-mirror")

    # --- running ------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, *, once: bool = False) -> None:
        """Mirror until `stop` (or, with `once`, until caught up). Sessions restart after every
        disconnect; the status file tells the board meanwhile."""
        await asyncio.to_thread(self.writer.prepare)
        stop_listening = self.link.on_change(self._on_link_change)
        try:
            while not stop.is_set():
                if not self.link.up.is_set():
                    self._write_status()
                    await first_of(self.link.up.wait(), stop.wait())
                    continue
                self._down.clear()
                session = asyncio.create_task(self._session(once), name="nats-mirror-session")
                probe = asyncio.create_task(self._probe(), name="nats-mirror-probe")
                ended = await first_of(session, probe, self._down.wait(), stop.wait())
                await asyncio.gather(session, probe, return_exceptions=True)
                error = ended.exception() if ended in (session, probe) else None
                if ended is session and error is None and once:
                    return
                if error is not None:
                    if self.unreachable_since is None:  # said once; the board should know too
                        log.warning("mirror: %s; trying again until it answers", _reason(error))
                        self.unreachable_since = time.time()
                        self.caught_up.clear()
                        self._write_status()
                    else:
                        log.debug("mirror: %s", _reason(error))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
        finally:
            stop_listening()
            if self._status_task is not None:
                await asyncio.gather(self._status_task, return_exceptions=True)
            self._cancel_flush_timer()
            await asyncio.gather(*self._flushing, return_exceptions=True)
            self._flush()
            self._pool.shutdown(wait=True)

    async def wait_applied(self, revision: int) -> None:
        """Wait until caught up and every entry up to `revision` is applied (callers bound it)."""
        while self.applied < revision or not self.caught_up.is_set():
            self._progress.clear()
            await self._progress.wait()

    async def _probe(self) -> None:
        """Raise once the bucket stops answering although the connection stands: a leaf node
        cut off from its hub keeps the connection but delivers nothing."""
        while True:
            await asyncio.sleep(PROBE_SECONDS)
            info = await asyncio.wait_for(self.link.stream_info(), PROBE_TIMEOUT_SECONDS)
            if info is None:
                raise LookupError(f"the bucket {self.link.bucket} is gone")

    def _on_link_change(self, up: bool) -> None:
        if not up:
            self._down.set()
            self.caught_up.clear()
            self._write_status()

    # --- one session: snapshot or resume, then live -------------------------------------------
    async def _session(self, once: bool) -> None:
        info = await self.link.stream_info()
        while info is None or not await self._bucket_has_status():
            if not self.waiting_for_source.is_set():
                log.info(
                    "mirror: bucket %s holds no source's status yet; waiting", self.link.bucket
                )
                self.waiting_for_source.set()
                self._write_status()
            await asyncio.sleep(WAIT_FOR_SOURCE_SECONDS)
            info = await self.link.stream_info()
        self.waiting_for_source.clear()
        created = info.created.isoformat() if info.created is not None else None
        last = info.state.last_seq
        resume = self.state.stream_created == created and 0 < self.state.revision <= last
        present: set[int] | None = None
        config = api.ConsumerConfig()
        if resume:
            present = await self._tickets_in_stream()
            config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = self.state.revision + 1
            self.mode = "resume"
        else:
            config.deliver_policy = api.DeliverPolicy.LAST_PER_SUBJECT
            self.mode = "snapshot"
            self.applied = 0
        if self.state.stream_created != created:
            self.state = MirrorState(0, created)
        log.info(
            "mirror: %s of bucket %s (%s)",
            f"resuming after revision {self.state.revision}" if resume else "snapshot",
            self.link.bucket,
            self.link.servers,
        )
        inbox: deque[Msg] = deque()
        arrived = asyncio.Event()

        async def deliver(msg: Msg) -> None:
            # A callback, not next_msg(): next_msg costs a uuid4 (os.urandom) and a turn of the
            # event loop per message, a third of a cold start. Memory is bounded by the bucket.
            inbox.append(msg)
            arrived.set()

        sub = await self.link.js.subscribe(
            self.link.prefix + ">",
            stream=self.link.stream,
            cb=deliver,
            ordered_consumer=True,
            config=config,
            inactive_threshold=300.0,
        )
        touched: set[int] = set()
        applying: asyncio.Future[None] | None = None  # one batch is written while the next arrives
        try:
            pending = (await sub.consumer_info()).num_pending
            if pending == 0 and sub.delivered == 0:
                await self._caught_up(touched, present)
            if once and self.caught_up.is_set():
                return
            while True:
                await arrived.wait()
                arrived.clear()
                if not inbox:
                    continue
                msgs = [inbox.popleft() for _ in range(min(len(inbox), BATCH))]
                if inbox:
                    arrived.set()
                entries = [self._entry(m) for m in msgs]
                if applying is not None:
                    await applying  # batches are applied in order
                applying = asyncio.ensure_future(self._apply(entries, touched))
                if not self.caught_up.is_set():
                    if msgs[-1].metadata.num_pending == 0:
                        await applying
                        await self._caught_up(touched, present)
                        if once:
                            return
                    elif (
                        self.mode == "resume" and self.applied - self.state.revision >= FLUSH_EVERY
                    ):
                        await asyncio.to_thread(self._flush)  # (a snapshot's order is by key)
                else:
                    await applying  # live: one change at a time, at once
                    self._schedule_flush()
        finally:
            if applying is not None:  # its threads cannot be stopped: let them finish first
                await asyncio.wait({applying})
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            fc_task = getattr(getattr(sub._sub, "_jsi", None), "_fctask", None)
            if fc_task is not None:  # nats-py leaves the flow-control task of an ordered
                fc_task.cancel()  # consumer running after unsubscribe

    def _entry(self, msg: Msg) -> Entry:
        return entry_of(
            msg.subject, self.link.prefix, msg.metadata.sequence.stream, msg.data, msg.headers
        )

    async def _bucket_has_status(self) -> bool:
        try:
            await self.link.js.get_msg(self.link.stream, subject=self.link.prefix + STATUS_KEY)
        except nats.js.errors.NotFoundError:
            return False
        return True

    async def _tickets_in_stream(self) -> set[int]:
        """Ticket ids that still have a message (a value or a delete marker) in the stream."""
        info = await self.link.stream_info(subjects_filter=f"{self.link.prefix}{TICKET_PREFIX}>")
        found: set[int] = set()
        for subject in (info.state.subjects or {}) if info else {}:
            ticket_id = Entry(subject[len(self.link.prefix) :], 0, None).ticket_id
            if ticket_id is not None:
                found.add(ticket_id)
        return found

    async def _apply(self, entries: list[Entry], touched: set[int]) -> None:
        """Apply a batch: files in a few threads (one key stays in one thread, in order), the
        status last."""
        lanes: list[list[Entry]] = [[] for _ in range(WRITERS)]
        status: WatcherStatus | None = None
        for entry in entries:
            if entry.key == STATUS_KEY:
                if entry.value is not None:
                    status = self.writer.apply(entry)
                continue
            lanes[hash(entry.key) % WRITERS].append(entry)
            if entry.ticket_id is not None:
                touched.add(entry.ticket_id)
        if len(entries) <= INLINE:  # live changes: no hop to a thread and back
            for lane in lanes:
                self._apply_lane(lane)
        else:
            loop = asyncio.get_running_loop()
            work = [loop.run_in_executor(self._pool, self._apply_lane, ln) for ln in lanes if ln]
            await asyncio.gather(*work)
        self.applied = max(self.applied, entries[-1].revision)
        if status is not None:
            self.source_status = without_mirror_state(status)
            self._status_changed()
        self._progress.set()

    def _status_changed(self) -> None:
        """Write the status file soon, in a thread, without holding up the next change."""
        self._status_again = True
        if self._status_task is None or self._status_task.done():
            self._status_task = asyncio.ensure_future(self._write_status_soon())

    async def _write_status_soon(self) -> None:
        while self._status_again:
            self._status_again = False
            await asyncio.to_thread(self._write_status, False)  # durable with the next flush
        self._schedule_flush()

    def _apply_lane(self, lane: list[Entry]) -> None:
        for entry in lane:
            self.writer.apply(entry)

    async def _caught_up(self, touched: set[int], present: set[int] | None) -> None:
        keep = touched if present is None else touched | present
        if self.unreachable_since is not None:
            log.info("mirror: the bucket answers again")
            self.unreachable_since = None
        await asyncio.to_thread(self.writer.archive_missing, keep)
        await asyncio.to_thread(self.writer.prune_archive, self.retention_days)
        await asyncio.to_thread(self._flush, True)
        log.info("mirror: caught up at revision %d (%s)", self.applied, self.mode or "no session")
        self.caught_up.set()
        self._progress.set()

    # --- recording progress -------------------------------------------------------------------
    def _schedule_flush(self) -> None:
        if self._flush_timer is None:
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(FLUSH_DELAY_SECONDS, self._flush_now)

    def _cancel_flush_timer(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None

    def _flush_now(self) -> None:
        self._flush_timer = None
        task = asyncio.ensure_future(asyncio.to_thread(self._flush))  # not on the event loop
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    def _flush(self, always: bool = False) -> None:
        """Make what was applied durable, then record its revision (any thread, one at a time)."""
        with self._flush_lock:
            target = self.applied  # every entry up to it is written; later ones may not be
            if target == self.state.revision and not always:
                return
            self.writer.make_durable()
            self.state.revision = target
            self._write_status()

    def _write_status(self, durable: bool = True) -> None:
        with self._flush_lock:  # a flush thread must not overwrite a newer "disconnected"
            self._write_status_locked(durable)

    def _write_status_locked(self, durable: bool) -> None:
        status = self.source_status or WatcherStatus(source="nats-mirror")
        extra: dict[str, Any] = {
            **status.extra,
            STATE_KEY: {
                **dataclasses.asdict(self.state),
                "bucket": self.link.bucket,
                "role": self.role,
                "connected": self.link.up.is_set(),
                "updated": utc_now_iso(),
            },
        }
        error = status.last_error
        if not self.link.up.is_set():
            since = self.link.down_since or time.time()
            error = (
                f"This board's copy is not connected to NATS ({self.link.servers}) since "
                f"{iso(since)}: it shows the last state it received."
            )
        elif self.unreachable_since is not None:
            error = (
                f"This board's copy cannot reach the NATS bucket {self.link.bucket} "
                f"({self.link.servers}) since {iso(self.unreachable_since)}: it shows the last "
                "state it received."
            )
        elif self.waiting_for_source.is_set():
            error = f"No watcher has published to the NATS bucket {self.link.bucket} yet."
        content = dataclasses.replace(status, last_error=error, extra=extra)
        if durable:
            write_status(self.tickets_dir, content)
        else:
            write_atomic(status_path(self.tickets_dir), dump_json(content.to_json()), durable=False)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, nats.errors.TimeoutError | TimeoutError):
        return "NATS did not answer in time"
    if isinstance(exc, nats.js.errors.ServiceUnavailableError | nats.errors.NoRespondersError):
        return "no JetStream answers (a leaf node cut off from its hub, or a wrong nats_domain)"
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]
