"""Keeps the summary (app.live.summary) true and sends it to the TVs whose view it changed for.

What moves it, and how it gets here:
- a ticket file changes or leaves: `ticket_put` / `ticket_dropped`, from the batch that changed
  the board; a ticket that left is looked up in the archive right after (its final state says
  whether and when it was resolved);
- every row change of the board (`rows_changed`), the SLA clock's included: the `now` counts;
- the archive's day folders, read in full at start and on every rescan (`scan_archive`);
- the clock: a counted moment passing (a due time), midnight, the next trend sample.

Sending is coalesced: at most one `summary` event per view every `SEND_EVERY` seconds, and only
when the view's summary differs from the last one sent (a TV that connects gets the current one
in its snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from app.contract.mappings import Names
from app.contract.ticket import Ticket
from app.live.archive_shelf import ArchiveReads, ArchiveShelf
from app.live.reader import BlockingReader
from app.live.summary import Summary
from app.live.trend_store import TrendStore
from app.rules.filters import RowFilter
from app.rules.rows import Change, Row
from app.rules.today import DayIndex, day_facts
from app.settings import Settings
from app.stream.encoding import encode_event
from app.stream.hub import Hub

log = logging.getLogger("ticket_dash.summary")

SEND_EVERY = 2.0  # seconds between two summary events of one view, at most
LOOK_AGAIN = 60.0  # the clock looks at least this often (yesterday's comparison moves too)


class SummaryFeed:
    def __init__(
        self,
        settings: Settings,
        tickets_dir: Any,
        names: Callable[[], Names],
        clock: Callable[[], float],
    ) -> None:
        self.clock = clock
        self.summary = Summary(settings, names)
        self.archive = ArchiveShelf(tickets_dir, settings.max_file_bytes)
        self.reader = BlockingReader(settings.read_stall_seconds, name="ticket-dash-archive")
        self.store = TrendStore(settings.state_dir)
        self.epoch = 0  # bumped each time the feed looks at the clock: cached summaries renew
        self.dirty = asyncio.Event()
        self._left: set[int] = set()
        self._sent: dict[RowFilter, dict[str, Any]] = {}
        self._archive_malformed = 0

    # -- what the board tells it ------------------------------------------------------------
    def ticket_put(self, ticket: Ticket) -> None:
        self.summary.days.put_active(ticket.id, day_facts(ticket))
        self._left.discard(ticket.id)

    def loading(self) -> contextlib.AbstractContextManager[None]:
        """Around a cold start's many `ticket_put`s and `load` (see DayIndex.loading)."""
        return self.summary.days.loading()

    def ticket_dropped(self, ident: int) -> None:
        self.summary.days.drop_active(ident)
        self._left.add(ident)
        self.dirty.set()  # look its archived copy up now (a Resolved ticket had no row to move)

    def rows_changed(self, changes: list[Change]) -> None:
        if changes:
            self.summary.now.apply(changes)
            self.dirty.set()

    def rows_reset(self, rows: list[Row]) -> None:
        self.summary.now.reset(rows)
        self.dirty.set()

    def names_changed(self) -> None:
        self.summary.names_changed()
        self.dirty.set()

    def for_view(self, view: RowFilter) -> dict[str, Any]:
        return self.summary.for_view(view, self.clock(), self.epoch)

    def reset(self) -> None:
        """Forget every ticket (the board loads again from scratch)."""
        self.summary.days = DayIndex()
        self.archive.known.clear()
        self.archive.malformed.clear()

    # -- the archive and the store -------------------------------------------------------------
    def load(self) -> None:
        """Blocking, before serving: the archive's last days and the stored trend."""
        now = self.clock()
        self.apply_archive(self.archive.scan(self.summary.archive_since(now)))
        if self.store.open():
            since = self.summary.slot(now) - 24 * 3600
            self.summary.samples.update(self.store.load(since))
            self.summary.samples_version += 1

    async def scan_archive(self) -> None:
        since = self.summary.archive_since(self.clock())
        self.apply_archive(await self.reader.call(lambda: self.archive.scan(since)))

    async def look_up_left(self) -> None:
        """Read the archived copies of the tickets that just left the board."""
        if not self._left:
            return
        left, self._left = self._left, set()
        since = self.summary.archive_since(self.clock())
        self.apply_archive(await self.reader.call(lambda: self.archive.look_up(left, since)))

    def apply_archive(self, reads: ArchiveReads) -> None:
        days = self.summary.days
        before = days.version
        for (day, ident), facts in sorted(reads.found.items()):
            days.put_archived(ident, day, facts)
        for day, ident in reads.gone:
            days.drop_archived(ident, day)
        if reads.oldest_day is not None or reads.failed is None:
            self.summary.oldest_archive_day = reads.oldest_day
        if reads.failed is not None:
            log.warning("%s; today's numbers may be short", reads.failed)
        malformed = len(self.archive.malformed)
        if malformed != self._archive_malformed:
            self._archive_malformed = malformed
            if malformed:
                place, reason = next(iter(self.archive.malformed.items()))
                log.warning(
                    "%d archived ticket file(s) skipped as malformed (e.g. archive/%s/%s: %s)",
                    malformed,
                    place[0],
                    place[1],
                    reason,
                )
        if days.version != before:
            self.dirty.set()

    async def sample_if_due(self) -> None:
        now = self.clock()
        if self.summary.took_sample(now):
            return
        t, rows, keep_since = self.summary.take_sample(now)
        await asyncio.to_thread(self.store.save, t, rows, keep_since)

    # -- the task ------------------------------------------------------------------------------
    async def run(self, hub: Hub, stop: asyncio.Event) -> None:
        """Sample, look up, send; then sleep until something changes or the clock says so."""
        while not stop.is_set():
            try:
                await self.look_up_left()
                await self.sample_if_due()
                self.epoch += 1
                self.send(hub)
            except Exception:
                log.exception("could not update the summary; trying again")
            now = self.clock()
            timeout = max(0.0, min(self.summary.next_wake(now) - now, LOOK_AGAIN)) + 0.001
            self.dirty.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.dirty.wait(), timeout)
            # Coalesce a burst of changes into one event per view.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SEND_EVERY if self.dirty.is_set() else 0)

    def send(self, hub: Hub) -> None:
        views = {sub.view for sub in hub.subscribers}
        self._sent = {v: s for v, s in self._sent.items() if v in views}

        def payload(view: RowFilter) -> bytes | None:
            summary = self.for_view(view)
            sent = self._sent.get(view)
            if sent == summary:
                return None
            self._sent[view] = summary
            if sent is not None and sent["trend"] == summary["trend"]:
                # The trend moves once a sample (15 min); the rest with every ticket. Leave the
                # unchanged trend out (most of the bytes); the page keeps the one it has.
                summary = {k: v for k, v in summary.items() if k != "trend"}
            return encode_event("summary", summary)

        hub.publish_by_view(payload)

    def close(self) -> None:
        self.reader.close()
        self.store.close()
