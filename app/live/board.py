"""The board: every ticket's current row, each section in display order, and the SLA clock.

All changes go through here and come out as `Change`s (old row, new row), which the hub turns
into patches. Sections are kept sorted incrementally (bisect on the sort key), so one changed
ticket costs O(log n) comparisons, not a re-sort of 10,000 rows. A heap of threshold crossings
says when the next SLA state change is due, so the clock wakes exactly then.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator
from typing import Any

import orjson

from app.contract.ticket import Ticket
from app.rules.categorise import SECTIONS
from app.rules.rows import Change, Row, RowContext, build_row
from app.rules.sla import next_crossing

# A state changes just after its boundary; evaluate this long after it.
CROSSING_EPSILON = 0.001


def _order(row: Row) -> tuple[Any, ...]:
    return tuple(row["key"])


class Board:
    def __init__(self, ctx: RowContext) -> None:
        self.ctx = ctx
        self.tickets: dict[int, Ticket] = {}
        self.rows: dict[int, Row] = {}  # visible rows only
        self._order: dict[str, list[tuple[Any, ...]]] = {s: [] for s in SECTIONS}
        self._crossings: list[tuple[float, int]] = []
        self._scheduled: dict[int, float] = {}
        self._row_json: dict[int, bytes] = {}  # each row's JSON, made when first asked for

    # -- reading ---------------------------------------------------------------------------
    def section_rows(self, section: str) -> Iterator[Row]:
        for key in self._order[section]:
            yield self.rows[int(key[-1])]

    def row_json(self, ident: int) -> bytes:
        """The row's JSON, encoded once per change of the row and shared by every snapshot."""
        encoded = self._row_json.get(ident)
        if encoded is None:
            encoded = self._row_json[ident] = orjson.dumps(self.rows[ident])
        return encoded

    def counts(self) -> dict[str, int]:
        return {s: len(self._order[s]) for s in SECTIONS}

    def next_wake(self) -> float | None:
        """When the SLA clock must next look (a crossing time plus a hair), or None."""
        while self._crossings:
            when, ident = self._crossings[0]
            if self._scheduled.get(ident) == when:
                return when + CROSSING_EPSILON
            heapq.heappop(self._crossings)  # stale entry
        return None

    # -- changing --------------------------------------------------------------------------
    def put(self, ticket: Ticket, now: float) -> Change | None:
        self.tickets[ticket.id] = ticket
        return self._refresh(ticket.id, now)

    def drop(self, ident: int) -> Change | None:
        self.tickets.pop(ident, None)
        self._scheduled.pop(ident, None)
        old = self._remove_row(ident)
        return Change(old, None) if old is not None else None

    def refresh_all(self, now: float, ctx: RowContext | None = None) -> list[Change]:
        """Rebuild every row (after names or settings changed); only real changes come back."""
        if ctx is not None:
            self.ctx = ctx
        changes = [self._refresh(ident, now) for ident in list(self.tickets)]
        return [c for c in changes if c is not None]

    def tick(self, now: float) -> list[Change]:
        """Re-evaluate the tickets whose SLA thresholds have passed by `now`."""
        due: set[int] = set()
        while self._crossings and self._crossings[0][0] + CROSSING_EPSILON <= now:
            when, ident = heapq.heappop(self._crossings)
            if self._scheduled.get(ident) == when:
                del self._scheduled[ident]
                due.add(ident)
        changes = [self._refresh(ident, now) for ident in sorted(due) if ident in self.tickets]
        return [c for c in changes if c is not None]

    # -- inside ----------------------------------------------------------------------------
    def _refresh(self, ident: int, now: float) -> Change | None:
        ticket = self.tickets[ident]
        self._schedule(ticket, now)
        new = build_row(ticket, now, self.ctx)
        old = self.rows.get(ident)
        if new["section"] == "hidden":
            removed = self._remove_row(ident)
            return Change(removed, None) if removed is not None else None
        if old == new:
            return None
        if old is not None:
            self._remove_row(ident)
        self.rows[ident] = new
        self._row_json.pop(ident, None)
        bisect.insort(self._order[new["section"]], _order(new))
        return Change(old, new)

    def _remove_row(self, ident: int) -> Row | None:
        old = self.rows.pop(ident, None)
        self._row_json.pop(ident, None)
        if old is not None:
            keys = self._order[old["section"]]
            key = _order(old)
            i = bisect.bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                del keys[i]
        return old

    def _schedule(self, ticket: Ticket, now: float) -> None:
        when = next_crossing(ticket, now, self.ctx.policy)
        if when is None:
            self._scheduled.pop(ticket.id, None)
            return
        if self._scheduled.get(ticket.id) != when:
            self._scheduled[ticket.id] = when
            heapq.heappush(self._crossings, (when, ticket.id))
            self._compact_crossings()

    def _compact_crossings(self) -> None:
        """Drop the stale entries a reschedule leaves behind. They leave the heap only when they
        reach its top, and an update due days away takes days to: a busy board piled up one per
        change (the soak bench: +17 MB an hour). Rebuilt once they outnumber the live ones, so
        the heap stays under twice the tickets, at O(1) amortised per change."""
        if len(self._crossings) > 2 * len(self._scheduled) + 64:
            self._crossings = [(when, ident) for ident, when in self._scheduled.items()]
            heapq.heapify(self._crossings)
