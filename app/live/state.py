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
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from app.contract.layout import (
    MAPPING_FILES,
    is_status_path,
    mapping_kind,
    status_path,
    ticket_id_of,
    ticket_path,
)
from app.contract.mappings import Names
from app.contract.status import WatcherStatus, read_status
from app.live.board import Board
from app.live.folder import TicketFolder
from app.live.watch import watch_folders
from app.rules.categorise import SECTIONS, SectionRules
from app.rules.filters import RowFilter
from app.rules.rows import Change, Row, RowContext
from app.rules.sla import SlaPolicy
from app.settings import Settings
from app.stream.client import client_stream
from app.stream.encoding import RETRY_MS, encode_event, encode_json_event, to_json
from app.stream.hub import Hub

log = logging.getLogger("ticket_dash.live")

SNAPSHOT_CACHE_VIEWS = 64


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
        self.hub = Hub(queue_size=settings.client_queue_size)
        self.watcher_status: WatcherStatus | None = None
        self.seq = 0
        self.loaded = False
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._clock_changed = asyncio.Event()
        self._sections_json: dict[RowFilter, tuple[int, str]] = {}
        self.watching = asyncio.Event()  # set once watchfiles is watching (tests wait on it)

    # -- life cycle ------------------------------------------------------------------------
    def load(self) -> None:
        """Read every mapping and ticket file once (cold start)."""
        self.names = Names.load(self.mappings_dir)
        self.board = Board(self._row_context())
        self._sections_json.clear()
        self.watcher_status = read_status(self.tickets_dir)
        now = self.clock()
        for ident in sorted(self.folder.changed_since_last_scan()):
            ticket, _ = self.folder.read(ident, known_only=True)
            if ticket is not None:
                self.board.put(ticket, now)
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
        ]

    async def stop(self) -> None:
        """End the streams and the background tasks."""
        self.hub.close()
        self._stop.set()
        self._clock_changed.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    @property
    def running_tasks(self) -> list[asyncio.Task[None]]:
        return [t for t in self._tasks if not t.done()]

    # -- what clients get --------------------------------------------------------------------
    def visible_rows(self, view: RowFilter) -> dict[str, list[Row]]:
        """Each section's rows in display order, as this view shows them."""
        return {s: [r for r in self.board.section_rows(s) if view.shows(r)] for s in SECTIONS}

    def snapshot(self, view: RowFilter) -> dict[str, Any]:
        return {**self.snapshot_head(view), "sections": self.visible_rows(view)}

    def snapshot_event(self, view: RowFilter) -> bytes:
        """The snapshot as an SSE event. The rows' JSON is cached per view until the board
        changes (`seq`), so a reconnect storm after a restart encodes each view once, not once
        per TV; the small parts (time, watcher status) are fresh every time."""
        cached = self._sections_json.get(view)
        if cached is None or cached[0] != self.seq:
            rows = self.visible_rows(view)
            if len(self._sections_json) >= SNAPSHOT_CACHE_VIEWS:
                self._sections_json.clear()  # views come from URLs: keep the cache bounded
            cached = (self.seq, to_json(rows))
            self._sections_json[view] = cached
        head = self.snapshot_head(view)
        data_json = to_json(head)[:-1] + ',"sections":' + cached[1] + "}"
        return encode_json_event("snapshot", data_json, event_id=self.seq, retry=RETRY_MS)

    def stream(self, view: RowFilter) -> AsyncIterator[bytes]:
        """One client's event stream for this view (see app.stream.client)."""
        return client_stream(
            self.hub,
            view,
            self.snapshot_event,
            heartbeat_seconds=self.settings.heartbeat_seconds,
            clock=self.clock,
        )

    def snapshot_head(self, view: RowFilter) -> dict[str, Any]:
        """Everything in a snapshot but the rows."""
        return {
            "seq": self.seq,
            "server_time": self.clock(),
            "watcher": self.watcher_json(),
            "malformed": self.folder.malformed.to_json(),
            "stale_after_seconds": self.settings.stale_after_seconds,
            "view": view.to_json(),
            "version": self.asset_version,
        }

    def status(self) -> dict[str, Any]:
        return {
            "server_time": self.clock(),
            "watcher": self.watcher_json(),
            "malformed": self.folder.malformed.to_json(),
        }

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
    def apply_paths(self, paths: Iterable[Path]) -> None:
        """Bring the board up to date with these changed paths and publish what changed."""
        ticket_ids: set[int] = set()
        mapping_changed = status_changed = False
        for path in paths:
            ident = ticket_id_of(path, self.tickets_dir)
            if ident is not None:
                ticket_ids.add(ident)
            elif is_status_path(path, self.tickets_dir):
                status_changed = True
            elif (kind := mapping_kind(path, self.mappings_dir)) is not None:
                mapping_changed |= self.names.reload(self.mappings_dir, kind)
        now = self.clock()
        changes: list[Change] = []
        malformed_changed = False
        for ident in sorted(ticket_ids):
            ticket, bad = self.folder.read(ident)
            malformed_changed |= bad
            change = self.board.put(ticket, now) if ticket else self.board.drop(ident)
            if change is not None:
                changes.append(change)
        if mapping_changed:
            changes.extend(self.board.refresh_all(now, self._row_context()))
        if status_changed:
            fresh = read_status(self.tickets_dir)
            status_changed = fresh != self.watcher_status
            self.watcher_status = fresh
        self.publish(changes, now)
        if status_changed or malformed_changed:
            self.hub.publish_all(lambda: encode_event("status", self.status()))
        if ticket_ids:
            self._clock_changed.set()

    def publish(self, changes: list[Change], now: float) -> None:
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
            [self.tickets_dir, self.mappings_dir], self.settings, self._stop, self.watching
        ):
            try:
                self.apply_paths(paths)
            except Exception:  # never let one bad batch end the watcher
                log.exception("could not apply a change batch; the rescan will retry")

    async def _rescan_task(self) -> None:
        """Catch what the watcher missed (polling mode drops same-second changes)."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.rescan_seconds)
            if self._stop.is_set():
                return
            try:
                self.rescan()
            except Exception:
                log.exception("rescan failed; trying again next time")

    def rescan(self) -> int:
        """Re-read ticket files whose mtime/size changed, plus names and status. Returns count."""
        changed = self.folder.changed_since_last_scan()
        paths = [ticket_path(self.tickets_dir, i) for i in changed]
        paths.append(status_path(self.tickets_dir))
        paths += [self.mappings_dir / name for name in MAPPING_FILES.values()]
        self.apply_paths(paths)
        return len(changed)

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
