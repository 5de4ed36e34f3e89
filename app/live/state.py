"""The one object that owns the live state: tickets, names, subscribers, watcher status.

Built once by `app.web.application.create_app`, started with the server and stopped with it. Three background tasks
keep it true: the folder watcher (watchfiles), the safety rescan, and the SLA clock. Each takes
the same stop event and ends cleanly when it is set or when it is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from app.contract.layout import ticket_id_of_name
from app.contract.mappings import Names
from app.contract.status import WatcherStatus
from app.contract.times import parse_iso_or_none
from app.live.board import Board
from app.live.folder import TicketFolder, read_ticket_files
from app.live.inputs import InputBatch, InputReads, malformed_name, read_inputs
from app.live.reader import BlockingReader
from app.live.summary_feed import SummaryFeed
from app.live.watch import watch_folders
from app.rules.categorise import SECTIONS, SectionRules
from app.rules.filters import RowFilter
from app.rules.rows import Change, Row, RowContext
from app.rules.sla import SlaPolicy
from app.settings import Settings
from app.stream.client import client_stream
from app.stream.encoding import encode_event
from app.stream.gate import SnapshotGate
from app.stream.hub import Hub, StreamPass
from app.stream.snapshots import SectionRows, SnapshotCache, snapshot_chunks

log = logging.getLogger("ticket_dash.live")

RETRY_SECONDS = 1.0  # a read the system refused is tried again this soon


class LiveState:
    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        asset_version: str = "",
    ) -> None:
        self.settings = settings
        self.asset_version = asset_version  # the page reloads itself when this changes
        self.clock = clock
        self.tickets_dir = Path(settings.tickets_dir).absolute()
        self.mappings_dir = Path(settings.mappings_dir).absolute()
        self.names = Names()
        self.board = Board(self._row_context())
        self.folder = TicketFolder(self.tickets_dir, settings.max_file_bytes)
        self.hub = Hub(
            queue_size=settings.client_queue_size,
            client_queue_bytes=settings.client_queue_bytes,
            max_queued_bytes=settings.max_queued_bytes,
        )
        self.watcher_status: WatcherStatus | None = None
        self.seq = 0
        self.status_seq = 0  # counts changes of the status line (watcher, malformed, problem)
        self.loaded = False
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._clock_changed = asyncio.Event()
        self.snapshots = SnapshotCache()
        self.gate = SnapshotGate()  # how many first snapshots are made at once
        self.watching = asyncio.Event()  # set once watchfiles is watching (tests wait on it)
        self.reader = BlockingReader(
            settings.read_stall_seconds, on_stall_change=self.publish_status
        )
        self.watch_problem: str | None = "not started"  # None while the folder watch is live
        self._rescan_now = asyncio.Event()
        self._retry: set[int] = set()  # tickets whose last read the system refused
        self._retry_handle: asyncio.TimerHandle | None = None
        self.read_problem: str | None = None  # set while reads are refused (see apply_reads)
        self.started = asyncio.Event()  # set once the background tasks run
        self.summary = SummaryFeed(settings, self.tickets_dir, lambda: self.names, clock)

    # -- life cycle ------------------------------------------------------------------------
    def load(self) -> None:
        """Read every mapping and ticket file once (cold start, before serving).

        Before serving nothing else runs on the loop, so reading inline is fastest (a thread only
        adds GIL hand-offs with the server's own start-up); the reads are the same guarded ones
        the running board uses, so the board starts whatever state tickets/ is in.
        """
        self.names = Names()
        self.board = Board(self._row_context())
        self.snapshots.clear()
        self.summary.reset()
        batch = InputBatch.everything()
        batch.scan = False
        reads = read_inputs(
            batch, self.tickets_dir, self.mappings_dir, self.settings.max_file_bytes, {}
        )
        now = self.clock()
        self._apply_names_and_status(reads)
        self.board.refresh_all(now, self._row_context())
        try:
            listed = self.folder.changed_since_last_scan()
        except OSError as exc:  # start anyway: the first rescan, once serving, tries again
            listed = set()
            self.read_problem = (
                f"cannot read the ticket folder right now ({exc.strerror}); retrying"
            )
            log.error("%s", self.read_problem)
        with self.summary.loading():
            for ident in sorted(listed):
                files = read_ticket_files(
                    self.tickets_dir, ident, self.settings.max_file_bytes, known=self.folder.seen
                )
                ticket, _ = self.folder.record(files)
                if ticket is not None:
                    self.board.put(ticket, now)
                    self.summary.ticket_put(ticket)
            self.summary.rows_reset(list(self.board.rows.values()))
            self.summary.load()
        self.loaded = True
        counts = self.board.counts()
        log.info(
            "loaded %d tickets from %s (%s); %d malformed files",
            sum(counts.values()),
            self.tickets_dir,
            ", ".join(f"{k} {v}" for k, v in counts.items()),
            len(self.folder.malformed.reasons),
        )

    async def start(self) -> None:
        if not self.loaded:
            # Before serving nothing else runs on the loop, so loading inline is fastest
            # (a worker thread only adds GIL hand-offs with the server's own start-up).
            self.load()
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self._watch_task(), name="ticket-dash-watch"),
            asyncio.create_task(self._rescan_task(), name="ticket-dash-rescan"),
            asyncio.create_task(self._clock_task(), name="ticket-dash-clock"),
            asyncio.create_task(self._heartbeat_task(), name="ticket-dash-heartbeats"),
            asyncio.create_task(self.summary.run(self.hub, self._stop), name="ticket-dash-summary"),
        ]
        self.started.set()

    async def stop(self) -> None:
        """End the streams and the background tasks; safe to call twice."""
        self.hub.close()
        self._stop.set()
        self._clock_changed.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.reader.close()
        self.summary.close()
        self.watch_problem = "stopped"

    @property
    def running_tasks(self) -> list[asyncio.Task[None]]:
        return [t for t in self._tasks if not t.done()]

    def alive(self) -> str | None:
        """None while every background task runs; else which one ended (for the watchdog)."""
        if not self.started.is_set() or self._stop.is_set():
            return "not running"
        ended = [t.get_name() for t in self._tasks if t.done()]
        return f"background task ended: {', '.join(ended)}" if ended else None

    # -- what clients get --------------------------------------------------------------------
    def visible_rows(self, view: RowFilter) -> dict[str, list[Row]]:
        """Each section's rows in display order, as this view shows them."""
        return {s: [r for r in self.board.section_rows(s) if view.shows(r)] for s in SECTIONS}

    def snapshot(self, view: RowFilter) -> dict[str, Any]:
        return {**self.snapshot_head(view), "sections": self.visible_rows(view)}

    def snapshot_chunks(self, view: RowFilter) -> Iterator[bytes]:
        """The snapshot as an SSE event, in chunks made from shared row JSON (see
        app.stream.snapshots); the head (time, watcher status) is fresh."""
        sections = self.snapshots.rows(view, self.seq, self._section_rows_json)
        return snapshot_chunks(self.snapshot_head(view), sections, self.seq)

    def snapshot_event(self, view: RowFilter) -> bytes:
        """The whole snapshot event in one piece (for tests and benches)."""
        return b"".join(self.snapshot_chunks(view))

    def _section_rows_json(self, view: RowFilter) -> SectionRows:
        board = self.board
        return tuple(
            (s, tuple(board.row_json(r["id"]) for r in board.section_rows(s) if view.shows(r)))
            for s in SECTIONS
        )

    def stream(
        self,
        view: RowFilter,
        tag: str = "",
        admission: StreamPass | None = None,
        still_allowed: Callable[[], bool] | None = None,
    ) -> AsyncIterator[bytes]:
        """One client's event stream for this view (see app.stream.client); `tag` names who
        watches (a kiosk key), for the per-login cap; `still_allowed` is asked before the
        snapshot and at every reload (a revoked key's stream ends); `admission`
        (Hub.admit) counts it against the per-login cap until it ends."""
        return client_stream(
            self.hub,
            view,
            self.snapshot_chunks,
            tag=tag,
            admission=admission,
            gate=self.gate,
            still_allowed=still_allowed,
        )

    def snapshot_head(self, view: RowFilter) -> dict[str, Any]:
        """Everything in a snapshot but the rows."""
        return {
            "seq": self.seq,
            "server_time": self.clock(),
            "watcher": self.watcher_json(),
            "malformed": self.folder.malformed.to_json(),
            "problem": self.problem(),
            **self.page_timings(),
            "view": view.to_json(),
            "version": self.asset_version,
            "summary": self.summary.for_view(view),
        }

    def page_timings(self) -> dict[str, float]:
        """What the page judges time by: a reload may change them, and an open page takes them
        from the next snapshot or status event (a TV keeping a 15 s heartbeat when the board
        moved to 60 s would call its stream dead every 30 s and reconnect)."""
        return {
            "stale_after_seconds": self.settings.stale_after_seconds,
            "heartbeat_seconds": self.settings.heartbeat_seconds,
        }

    def status(self) -> dict[str, Any]:
        return {
            "server_time": self.clock(),
            "watcher": self.watcher_json(),
            "malformed": self.folder.malformed.to_json(),
            "problem": self.problem(),
            **self.page_timings(),
        }

    def apply_settings(self, settings: Settings) -> None:
        """Take new settings while running: limits, SLA and section rules, row texts."""
        self.settings = settings
        self.hub.queue_size = settings.client_queue_size
        self.hub.client_queue_bytes = settings.client_queue_bytes
        self.hub.max_queued_bytes = settings.max_queued_bytes
        self.reader.stall_seconds = settings.read_stall_seconds
        now = self.clock()
        self.publish(self.board.refresh_all(now, self._row_context()), now)
        self.publish_status()  # open pages take the new timings (page_timings)
        self._clock_changed.set()  # SLA thresholds may have moved
        self._rescan_now.set()  # and read the mappings and the status again

    def seconds_since_sync(self) -> float | None:
        """Seconds since the watcher's last successful sync, or None if it never reported one
        (negative: the time is ahead of this clock)."""
        status = self.watcher_status
        when = parse_iso_or_none(status.last_success) if status is not None else None
        return None if when is None else self.clock() - when

    def problem(self) -> str | None:
        """Why the board may not be seeing (or showing) tickets right now, in words; None when
        it is. Paths are left out: /healthz says this to anyone."""
        if self.reader.stalled:
            return "the ticket folder is not answering (stalled disk or network filesystem?)"
        if self.watch_problem is not None:
            return self.watch_problem
        if self.read_problem is not None:
            return self.read_problem
        bad = [n for n in self.folder.malformed.reasons if ticket_id_of_name(n) is not None]
        if not bad:  # the usual case, and every snapshot asks: no set of every file name
            return None
        listed = len(self.folder.seen.keys() | set(bad))
        if 2 * len(bad) >= listed:
            return f"{len(bad)} of {listed} ticket files cannot be read"
        return None

    def watcher_json(self) -> dict[str, Any] | None:
        if self.watcher_status is None:
            return None
        st = self.watcher_status
        # Only what the page needs: the cursor and other resume state stay on the server.
        return {
            "source": st.source,
            "last_success": st.last_success,
            "last_attempt": st.last_attempt,
            "last_error": st.last_error,
            "counts": st.counts,
        }

    # -- applying changes --------------------------------------------------------------------
    async def apply_paths(self, paths: Iterable[Path]) -> None:
        """Bring the board up to date with these changed paths and publish what changed.

        The files are read in the reader thread (a stalled disk never blocks the loop); the
        board changes on the loop."""
        await self.apply_batch(InputBatch.of(paths, self.tickets_dir, self.mappings_dir))

    async def apply_batch(self, batch: InputBatch) -> None:
        seen = dict(self.folder.seen) if batch.scan else {}
        max_bytes = self.settings.max_file_bytes
        reads = await self.reader.call(
            lambda: read_inputs(batch, self.tickets_dir, self.mappings_dir, max_bytes, seen)
        )
        self.apply_reads(reads)

    def apply_paths_inline(self, paths: Iterable[Path]) -> None:
        """`apply_paths` reading on the calling thread: for benchmarks and tests, not a server."""
        batch = InputBatch.of(paths, self.tickets_dir, self.mappings_dir)
        self.apply_reads(
            read_inputs(
                batch, self.tickets_dir, self.mappings_dir, self.settings.max_file_bytes, {}
            )
        )

    def apply_reads(self, reads: InputReads) -> None:
        """Apply what was read; whatever fails on the way, every change already applied to the
        board is published (a TV must never miss a change that a new TV would see)."""
        now = self.clock()
        changes: list[Change] = []
        news = False  # the status line (watcher status, malformed files) changed
        failures: list[str] = []
        if reads.scan_failed is not None:
            failures.append(reads.scan_failed)
        try:
            if reads.scanned is not None:
                news |= self._forget_vanished_malformed(reads.scanned)
            for ident, files in reads.tickets.items():
                failed = [f.failed for f in files if f.failed is not None]
                if failed:  # nothing is known about this ticket now: it stays as it was
                    failures += failed
                    self._retry.add(ident)
                    continue
                self._retry.discard(ident)
                ticket, bad = self.folder.record(files)
                news |= bad
                if ticket is not None:
                    self.summary.ticket_put(ticket)
                else:  # gone (or unreadable): its archived copy, if any, counts now; a ticket
                    # archived before the board saw it (a source's fast write-then-archive) too
                    self.summary.ticket_dropped(ident)
                change = self.board.put(ticket, now) if ticket else self.board.drop(ident)
                if change is not None:
                    changes.append(change)
            names_changed, status_news = self._apply_names_and_status(reads)
            news |= status_news
            if names_changed:
                self.summary.names_changed()
                changes.extend(self.board.refresh_all(now, self._row_context()))
            failures += [o.failed for o in reads.mappings.values() if o.failed is not None]
            if reads.status is not None and reads.status.failed is not None:
                failures.append(reads.status.failed)
        finally:
            self.publish(changes, now)
            news |= self._note_read_failures(failures)
            if news:
                self.publish_status()
            if reads.tickets:
                self._clock_changed.set()

    def _forget_vanished_malformed(self, scanned: dict[str, tuple[int, int]]) -> bool:
        before = len(self.folder.malformed.reasons)
        self.folder.changed_in(scanned)
        return len(self.folder.malformed.reasons) != before

    def _note_read_failures(self, failures: list[str]) -> bool:
        """Reads the system refused (too many open files, I/O errors) change nothing; they are
        the board's problem until a retry (in a second) reads everything pending."""
        problem = None
        if failures or self._retry:
            reason = failures[0] if failures else "retrying"
            problem = f"cannot read the ticket folder right now ({reason}); retrying"
            if self._retry_handle is None:
                loop = asyncio.get_running_loop()
                self._retry_handle = loop.call_later(RETRY_SECONDS, self._retry_now)
        if problem == self.read_problem:
            return False
        if problem is not None:
            log.error("%s", problem)
        else:
            log.warning("the ticket folder reads again")
        self.read_problem = problem
        return True

    def _retry_now(self) -> None:
        self._retry_handle = None
        self._rescan_now.set()

    def _apply_names_and_status(self, reads: InputReads) -> tuple[bool, bool]:
        """(names changed, status line changed)."""
        names_changed = news = False
        malformed = self.folder.malformed
        for kind, outcome in reads.mappings.items():
            name = malformed_name(kind)
            if outcome.failed is not None:
                continue  # not read now: keep the names we had
            if outcome.reason is not None:
                news |= malformed.note(name, outcome.reason)
                continue  # keep the names we had: a half-edited file must not blank the board
            news |= malformed.clear(name)
            fresh = outcome.value or {}
            if fresh != getattr(self.names, kind):
                setattr(self.names, kind, fresh)
                names_changed = True
        if reads.status is not None and reads.status.failed is None:
            name = malformed_name("status")
            if reads.status.reason is not None:
                news |= malformed.note(name, reads.status.reason)
                fresh_status = None
            else:
                news |= malformed.clear(name)
                fresh_status = reads.status.value
            news |= fresh_status != self.watcher_status
            self.watcher_status = fresh_status
        return names_changed, news

    def publish_status(self) -> None:
        self.status_seq += 1  # the first paint shows the status line too: a new page is due
        self.hub.publish_all(lambda: encode_event("status", self.status()))

    def publish(self, changes: list[Change], now: float) -> None:
        self.summary.rows_changed(changes)
        if changes:
            self.seq += 1
            self.hub.publish_changes(changes, self.seq, now)

    def _row_context(self) -> RowContext:
        s = self.settings
        return RowContext(
            names=self.names,
            rules=SectionRules.from_settings(s),
            policy=SlaPolicy.from_settings(s),
            link_base=s.ticket_link_base,
            description_chars=s.description_chars,
        )

    # -- background tasks --------------------------------------------------------------------
    async def _watch_task(self) -> None:
        async for paths in watch_folders(
            [self.tickets_dir, self.mappings_dir],
            self.settings,
            self._stop,
            self.watching,
            self.reader.call,
            on_started=self._rescan_now.set,
            on_problem=self._set_watch_problem,
        ):
            try:
                await self.apply_paths(paths)
            except Exception:  # never let one bad batch end the watcher
                log.exception("could not apply a change batch; the rescan will retry")

    def _set_watch_problem(self, problem: str | None) -> None:
        if problem != self.watch_problem:
            self.watch_problem = problem
            self.publish_status()

    async def _rescan_task(self) -> None:
        """Catch what the watcher missed (polling mode drops same-second changes), and read
        everything again whenever the watch (re)starts."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._rescan_now.wait(), self.settings.rescan_seconds)
            self._rescan_now.clear()
            if self._stop.is_set():
                return
            try:
                await self.rescan()
                await self.summary.scan_archive()
            except Exception:
                log.exception("rescan failed; trying again next time")

    async def rescan(self) -> None:
        """Re-read ticket files whose mtime/size changed, every ticket whose last read was
        refused, every name and the status."""
        batch = InputBatch.everything()
        batch.ticket_ids |= self._retry
        await self.apply_batch(batch)

    async def _heartbeat_task(self) -> None:
        """Every quarter of `heartbeat_seconds`, a heartbeat to each stream that was quiet for
        `heartbeat_seconds` (so the longest silence is 1.25 × that; the page allows 2 ×)."""
        while not self._stop.is_set():
            every = self.settings.heartbeat_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), every / 4)
            if self._stop.is_set():
                return
            self.hub.beat(
                lambda: encode_event(
                    "heartbeat", {"server_time": self.clock()}, comment="heartbeat"
                ),
                every,
            )

    async def _clock_task(self) -> None:
        """Wake exactly when the next SLA threshold passes, and publish what changed."""
        while not self._stop.is_set():
            wake = self.board.next_wake()
            timeout = None if wake is None else max(0.0, wake - self.clock())
            self._clock_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._clock_changed.wait(), timeout)
            if self._stop.is_set():
                return
            now = self.clock()
            self.publish(self.board.tick(now), now)
