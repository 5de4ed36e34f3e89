"""Today's numbers, the board now, and the last 24 hours: the `summary` of /api/summary and of
the stream (its shape is docs/stream.md's).

`Summary` holds the three indexes (app.rules.today, app.rules.now_counts, and the trend's
samples) and answers for a view (a TV's filters): group and agent filters narrow everything; a
section filter narrows `now` and `trend` (a resolved ticket has no section, so `today` is the
day of the view's groups and agents). A view's summary is computed once per change of anything
it depends on and shared by every TV with that view.

`yesterday` holds the same numbers as `today`, counted up to the same local time yesterday, so
the wall can say better or worse; it is null while the archive does not reach back to before
yesterday (a new install), because then it would only look better.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.contract.mappings import Names
from app.live.trend_store import SampleRow
from app.rules.day import Day, board_zone
from app.rules.filters import RowFilter
from app.rules.now_counts import Cell, NowCounts
from app.rules.today import DayIndex, Owner
from app.settings import Settings

TREND_HOURS = 24
MAX_VIEWS = 256  # distinct filters whose answers are kept (as app.stream.snapshots)


def _name(names: dict[int, str], ident: int | None) -> str:
    return "" if ident is None else names.get(ident, "")


class Summary:
    def __init__(self, settings: Settings, names: Callable[[], Names]) -> None:
        self.zone_name, self.zone = board_zone(settings.timezone)
        self.step = settings.trend_sample_minutes * 60
        self.retention_seconds = settings.trend_retention_days * 86400
        self.names = names
        self.days = DayIndex()
        self.now = NowCounts()
        self.samples: dict[int, list[SampleRow]] = {}
        self.samples_version = 0
        self.names_version = 0
        self.oldest_archive_day: str | None = None
        self._cells: dict[RowFilter, dict[Cell, bool]] = {}
        self._cache: dict[RowFilter, tuple[tuple[Any, ...], dict[str, Any]]] = {}
        # The slow-moving parts, each cached on what it depends on: a ticket changing does not
        # recompute the trend (samples), nor yesterday (the caller's clock step).
        self._trends: dict[RowFilter, tuple[tuple[Any, ...], list[dict[str, Any]]]] = {}
        self._yesterdays: dict[RowFilter, tuple[tuple[Any, ...], dict[str, Any] | None]] = {}

    # -- which cells and owners a view takes -------------------------------------------------
    def names_changed(self) -> None:
        self.names_version += 1
        self._cells.clear()

    def _cell_test(self, view: RowFilter) -> Callable[[Cell], bool] | None:
        if view == RowFilter():
            return None
        if view not in self._cells and len(self._cells) >= MAX_VIEWS:
            self._cells.clear()  # filters come from URLs: keep what they cost bounded
        memo = self._cells.setdefault(view, {})
        names = self.names()

        def test(cell: Cell) -> bool:
            known = memo.get(cell)
            if known is None:
                group, agent, section = cell
                row = {
                    "section": section,
                    "group_id": group,
                    "group": _name(names.groups, group),
                    "agent_id": agent,
                    "agent": _name(names.agents, agent),
                }
                known = memo[cell] = view.shows(row)
            return known

        return test

    def _owner_test(self, view: RowFilter) -> Callable[[Owner], bool] | None:
        by_owner = replace(view, sections=frozenset())
        cells = self._cell_test(by_owner)
        if cells is None:
            return None
        return lambda owner: cells((owner[0], owner[1], ""))

    # -- the answer --------------------------------------------------------------------------
    def day(self, now: float) -> Day:
        return Day.of(now, self.zone)

    def history_known(self, yesterday: Day) -> bool:
        """The archive reaches back to yesterday's start: its oldest day folder (a UTC date) is
        no later than the UTC date of yesterday's local midnight."""
        oldest = self.oldest_archive_day
        started = datetime.fromtimestamp(yesterday.start, UTC).date().isoformat()
        return oldest is not None and oldest <= started

    def for_view(self, view: RowFilter, now: float, minute: int | None = None) -> dict[str, Any]:
        """The summary for this view at `now`; cached until something it shows may change
        (`minute`: the caller's clock step, for yesterday's moving comparison)."""
        key = (
            self.days.version,
            self.now.version,
            self.samples_version,
            self.names_version,
            self.day(now).date,
            minute if minute is not None else now,
        )
        cached = self._cache.get(view)
        if cached is not None and cached[0] == key:
            return cached[1]
        summary = self._compute(view, now, minute)
        if len(self._cache) >= MAX_VIEWS:  # views come and go with TVs; keep the live ones
            self._cache.clear()
            self._trends.clear()
            self._yesterdays.clear()
        self._cache[view] = (key, summary)
        return summary

    def _compute(self, view: RowFilter, now: float, minute: int | None) -> dict[str, Any]:
        today = self.day(now)
        self.days.set_window(today.start, today.end)
        owners = self._owner_test(view)
        return {
            "date": today.date.isoformat(),
            "timezone": self.zone_name,
            "today": self.days.numbers(today.start, now, owners),
            "yesterday": self._yesterday(view, now, today, minute),
            "now": self.now.numbers(self._cell_test(view)),
            "trend": self._trend(view, now),
            "trend_step_seconds": self.step,
        }

    def _yesterday(
        self, view: RowFilter, now: float, today: Day, minute: int | None
    ) -> dict[str, Any] | None:
        """Yesterday up to this time, computed once per clock step of the caller: it moves
        with the clock, and a ticket changing now rarely changes yesterday."""
        key = (today.date, self.names_version, self.oldest_archive_day, minute)
        cached = self._yesterdays.get(view)
        if minute is not None and cached is not None and cached[0] == key:
            return cached[1]
        yesterday = today.before(self.zone)
        earlier = None
        if self.history_known(yesterday):
            cut = today.same_time(now, yesterday, self.zone)
            earlier = self.days.numbers(yesterday.start, cut, self._owner_test(view))
        self._yesterdays[view] = (key, earlier)
        return earlier

    def _trend(self, view: RowFilter, now: float) -> list[dict[str, Any]]:
        key = (self.samples_version, self.names_version, self.slot(now))
        cached = self._trends.get(view)
        if cached is not None and cached[0] == key:
            return cached[1]
        points = self.trend(view, now)
        self._trends[view] = (key, points)
        return points

    def trend(self, view: RowFilter, now: float) -> list[dict[str, Any]]:
        """One point per sample time of the last 24 hours; a time with no sample (the board was
        down) has nulls, so a chart shows a gap."""
        cells = self._cell_test(view)
        last = self.slot(now)
        first = last - TREND_HOURS * 3600  # the first point: this time yesterday
        points = []
        for t in range(first, last + 1, self.step):
            rows = self.samples.get(t)
            point: dict[str, Any] = {"t": t}
            if rows is None:
                point.update(open=None, waiting=None, other=None, overdue=None)
            else:
                counts = {"open": 0, "waiting": 0, "other": 0, "overdue": 0}
                for (group, agent), section, tickets, overdue in rows:
                    if cells is None or cells((group, agent, section)):
                        counts[section] += tickets
                        counts["overdue"] += overdue
                point.update(counts)
            points.append(point)
        return points

    # -- samples and time ---------------------------------------------------------------------
    def slot(self, now: float) -> int:
        return int(math.floor(now / self.step) * self.step)

    def take_sample(self, now: float) -> tuple[int, list[SampleRow], int]:
        """Record the board now as the current slot's sample; (time, rows, keep-since) for the
        store."""
        t = self.slot(now)
        rows = self.now.sample()
        self.samples[t] = rows
        keep_since = t - self.retention_seconds
        for old in [s for s in self.samples if s < t - TREND_HOURS * 3600]:
            del self.samples[old]  # memory holds a day; the store holds the retention
        self.samples_version += 1
        return t, rows, keep_since

    def took_sample(self, now: float) -> bool:
        return self.slot(now) in self.samples

    def next_wake(self, now: float) -> float:
        """When the summary can next change by the clock alone: a counted moment passing,
        midnight, or the next sample."""
        moments = [self.day(now).end, self.slot(now) + self.step]
        upcoming = self.days.next_change_after(now)
        if upcoming is not None:
            moments.append(upcoming)
        return min(moments)

    def archive_since(self, now: float) -> str:
        """The first archive day folder that can hold a ticket counted today or yesterday."""
        yesterday = self.day(now).before(self.zone)
        utc_date = datetime.fromtimestamp(yesterday.start, UTC).date()
        return (utc_date - timedelta(days=1)).isoformat()
