"""Today's numbers: created, resolved, breached, and how fast the first response came.

The definitions (issue #11; docs/stream.md's `summary` event), over active and archived tickets
alike; a ticket deleted or marked spam counts nowhere:

- `created`: created_at today;
- `resolved`: status Resolved or Closed (4, 5) and resolved today (stats.resolved_at, else
  stats.closed_at, else updated_at);
- `fr_breached`: fr_due_by fell today, up to now, and the first response is missing or came
  after it;
- `resolution_breached`: due_by fell today, up to now, and the ticket was not resolved by then;
- `median_first_response_seconds`: first_responded_at − created_at, over tickets first-responded
  today (None if none).

Each ticket is reduced to the moments it counts at (`DayFacts`): whether a breach happened is
known from the ticket alone, only *when* it counts depends on the clock. The moments are kept in
sorted lists per (group, agent), so a day's numbers are a few binary searches however many
tickets there are, one ticket changing is a few list inserts, and a filter by group or agent
sums the lists of the (group, agent) pairs it matches.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.contract.ticket import Ticket

RESOLVED_STATUSES = frozenset({4, 5})  # Freshservice's built-in Resolved and Closed

Owner = tuple[int | None, int | None]  # (group_id, agent_id)

TODAY_FIELDS = (
    "created",
    "resolved",
    "fr_breached",
    "resolution_breached",
    "median_first_response_seconds",
)


@dataclass(frozen=True, slots=True)
class DayFacts:
    """The moments one ticket counts at, and whose it is."""

    owner: Owner
    created_at: float
    resolved_at: float | None  # None: not resolved
    fr_breach_at: float | None  # fr_due_by, when the first response missed it
    resolution_breach_at: float | None  # due_by, when resolution missed it
    first_responded_at: float | None
    first_response_seconds: float | None


def resolved_time(ticket: Ticket) -> float | None:
    """When a Resolved/Closed ticket was resolved; None for any other status."""
    if ticket.status not in RESOLVED_STATUSES:
        return None
    for moment in (ticket.resolved_at, ticket.closed_at):
        if moment is not None:
            return moment
    return ticket.updated_at


def day_facts(ticket: Ticket) -> DayFacts | None:
    """None for a ticket that counts nowhere (deleted or spam)."""
    if ticket.discarded:
        return None
    resolved = resolved_time(ticket)
    responded = ticket.first_responded_at
    fr_due, due = ticket.fr_due_by, ticket.due_by
    return DayFacts(
        owner=(ticket.group_id, ticket.responder_id),
        created_at=ticket.created_at,
        resolved_at=resolved,
        fr_breach_at=fr_due
        if fr_due is not None and (responded is None or responded > fr_due)
        else None,
        resolution_breach_at=due
        if due is not None and (resolved is None or resolved > due)
        else None,
        first_responded_at=responded,
        first_response_seconds=None
        if responded is None
        else max(0.0, responded - ticket.created_at),
    )


def _count(moments: list[float], start: float, cut: float) -> int:
    """How many moments lie in [start, cut]."""
    return bisect.bisect_right(moments, cut) - bisect.bisect_left(moments, start)


def _remove(sorted_list: list[Any], item: Any) -> None:
    i = bisect.bisect_left(sorted_list, item)
    if i < len(sorted_list) and sorted_list[i] == item:
        del sorted_list[i]


def _remove_unordered(items: list[Any], item: Any) -> None:
    """While loading: a linear search. Rare there (a ticket read twice, an archived copy that
    a later one replaces), so cheaper than keeping 50,000 moments sorted for it."""
    with contextlib.suppress(ValueError):
        items.remove(item)


@dataclass
class Moments:
    """Sorted moments of one owner's tickets (or of all tickets)."""

    created: list[float] = field(default_factory=list)
    resolved: list[float] = field(default_factory=list)
    fr_breached: list[float] = field(default_factory=list)
    resolution_breached: list[float] = field(default_factory=list)
    responded: list[tuple[float, float]] = field(default_factory=list)  # (when, seconds taken)
    # False while loading (DayIndex.loading): moments are appended, and sorted once at the end.
    ordered: bool = True

    def add(self, facts: DayFacts) -> None:
        put = bisect.insort if self.ordered else list.append
        put(self.created, facts.created_at)
        for moments, moment in self._optional(facts):
            if moment is not None:
                put(moments, moment)
        if facts.first_responded_at is not None and facts.first_response_seconds is not None:
            put(self.responded, (facts.first_responded_at, facts.first_response_seconds))

    def remove(self, facts: DayFacts) -> None:
        take = _remove if self.ordered else _remove_unordered
        take(self.created, facts.created_at)
        for moments, moment in self._optional(facts):
            if moment is not None:
                take(moments, moment)
        if facts.first_responded_at is not None and facts.first_response_seconds is not None:
            take(self.responded, (facts.first_responded_at, facts.first_response_seconds))

    def put_in_order(self) -> None:
        for moments in (self.created, self.resolved, self.fr_breached, self.resolution_breached):
            moments.sort()
        self.responded.sort()
        self.ordered = True

    def _optional(self, facts: DayFacts) -> list[tuple[list[float], float | None]]:
        return [
            (self.resolved, facts.resolved_at),
            (self.fr_breached, facts.fr_breach_at),
            (self.resolution_breached, facts.resolution_breach_at),
        ]

    def __bool__(self) -> bool:
        return bool(self.created)

    def next_after(self, moment: float) -> float | None:
        """The first moment after `moment` at which any count can change."""
        found: float | None = None
        for moments in (self.created, self.resolved, self.fr_breached, self.resolution_breached):
            i = bisect.bisect_right(moments, moment)
            if i < len(moments) and (found is None or moments[i] < found):
                found = moments[i]
        i = bisect.bisect_right(self.responded, (moment, float("inf")))
        if i < len(self.responded) and (found is None or self.responded[i][0] < found):
            found = self.responded[i][0]
        return found


def day_numbers(
    moments: Iterable[Moments],
    start: float,
    cut: float,
    sorted_taken: Iterable[list[float]] | None = None,
) -> dict[str, Any]:
    """The day's numbers counted over [start, cut] (cut: now, or the same time another day).
    `sorted_taken`: the first-response times of the day, already sorted per owner (the index
    keeps them for its current day), instead of collecting and sorting them here."""
    created = resolved = fr_breached = resolution_breached = 0
    collected: list[float] = []
    for m in moments:
        created += _count(m.created, start, cut)
        resolved += _count(m.resolved, start, cut)
        fr_breached += _count(m.fr_breached, start, cut)
        resolution_breached += _count(m.resolution_breached, start, cut)
        if sorted_taken is None:
            lo = bisect.bisect_left(m.responded, (start, -1.0))
            hi = bisect.bisect_right(m.responded, (cut, float("inf")))
            collected += [seconds for _, seconds in m.responded[lo:hi]]
    if sorted_taken is not None:
        lists = [t for t in sorted_taken if t]
        merged = lists[0] if len(lists) == 1 else sorted(itertools.chain.from_iterable(lists))
        median = _median_sorted(merged)
    else:
        median = statistics.median(collected) if collected else None
    return {
        "created": created,
        "resolved": resolved,
        "fr_breached": fr_breached,
        "resolution_breached": resolution_breached,
        "median_first_response_seconds": None if median is None else round(median, 1),
    }


def _median_sorted(values: list[float]) -> float | None:
    n = len(values)
    if n == 0:
        return None
    middle = n // 2
    return values[middle] if n % 2 else (values[middle - 1] + values[middle]) / 2


class DayIndex:
    """Every ticket's `DayFacts`, active tickets over archived ones, by owner.

    A ticket is active (a file in tickets/) or archived (tickets/archive/<day>/); a reopened
    ticket can be both for a while, and then its active file is what counts. Of several archived
    copies, the one in the latest day folder counts.
    """

    def __init__(self) -> None:
        self.by_owner: dict[Owner, Moments] = {}
        self.all = Moments()
        self._active: dict[int, DayFacts | None] = {}
        self._archived: dict[int, dict[str, DayFacts | None]] = {}  # by archive day
        self._counted: dict[int, DayFacts] = {}
        self.version = 0  # changes whenever a count may have changed
        # The first-response times of the tickets first answered within `window` (the current
        # day), sorted, per owner and in all: the median is then the middle, not a sort.
        self.window: tuple[float, float] = (0.0, 0.0)
        self.taken_by_owner: dict[Owner, list[float]] = {}
        self.taken_all: list[float] = []
        self._loading = False

    def __len__(self) -> int:
        return len(self._counted)

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        """Put many tickets at once (a cold start reads every file and the archive): their
        moments are appended and sorted once at the end, instead of a sorted insert each (10,000
        tickets: ~50,000 inserts into growing lists)."""
        self._loading = True
        for moments in (self.all, *self.by_owner.values()):
            moments.ordered = False
        try:
            yield
        finally:
            self._loading = False
            for moments in (self.all, *self.by_owner.values()):
                moments.put_in_order()
            self.taken_all.sort()
            for taken in self.taken_by_owner.values():
                taken.sort()

    def put_active(self, ident: int, facts: DayFacts | None) -> None:
        self._active[ident] = facts
        self._recount(ident)

    def drop_active(self, ident: int) -> None:
        if self._active.pop(ident, None) is not None or ident in self._counted:
            self._recount(ident)

    def put_archived(self, ident: int, day: str, facts: DayFacts | None) -> None:
        self._archived.setdefault(ident, {})[day] = facts
        self._recount(ident)

    def drop_archived(self, ident: int, day: str) -> None:
        copies = self._archived.get(ident)
        if copies is not None and day in copies:
            del copies[day]
            if not copies:
                del self._archived[ident]
            self._recount(ident)  # an older copy, if any, counts again

    def set_window(self, start: float, end: float) -> None:
        """Keep the first-response times of [start, end) sorted (once a day: at midnight)."""
        if self.window == (start, end):
            return
        self.window = (start, end)
        self.taken_by_owner = {}
        self.taken_all = []
        for facts in self._counted.values():
            self._take(facts, 1)

    def _take(self, facts: DayFacts, sign: int) -> None:
        at, seconds = facts.first_responded_at, facts.first_response_seconds
        if at is None or seconds is None or not self.window[0] <= at < self.window[1]:
            return
        owned = self.taken_by_owner.setdefault(facts.owner, [])
        if sign > 0:
            put = list.append if self._loading else bisect.insort
            put(owned, seconds)
            put(self.taken_all, seconds)
        else:
            take = _remove_unordered if self._loading else _remove
            take(owned, seconds)
            take(self.taken_all, seconds)
            if not owned:
                del self.taken_by_owner[facts.owner]

    def _recount(self, ident: int) -> None:
        if ident in self._active:
            facts = self._active[ident]
        else:
            copies = self._archived.get(ident)
            facts = copies[max(copies)] if copies else None  # the latest day's copy
        old = self._counted.get(ident)
        if old == facts:
            return
        if old is not None:
            self._take(old, -1)
            self.all.remove(old)
            owned = self.by_owner[old.owner]
            owned.remove(old)
            if not owned:
                del self.by_owner[old.owner]
        if facts is None:
            self._counted.pop(ident, None)
        else:
            self._counted[ident] = facts
            self._take(facts, 1)
            self.all.add(facts)
            mine = self.by_owner.get(facts.owner)
            if mine is None:
                mine = self.by_owner[facts.owner] = Moments(ordered=not self._loading)
            mine.add(facts)
        self.version += 1

    def numbers(
        self, start: float, cut: float, owners: Callable[[Owner], bool] | None = None
    ) -> dict[str, Any]:
        """The numbers over [start, cut], of every ticket or of the owners `owners` accepts.
        Within the current window (today) the median comes from the kept sorted times, which
        hold every first response of the day (one later than `cut` is a clock's skew)."""
        current = start == self.window[0] and cut < self.window[1]
        if owners is None:
            return day_numbers([self.all], start, cut, [self.taken_all] if current else None)
        mine = [owner for owner in self.by_owner if owners(owner)]
        taken = [self.taken_by_owner.get(owner, []) for owner in mine] if current else None
        return day_numbers([self.by_owner[owner] for owner in mine], start, cut, taken)

    def next_change_after(self, moment: float) -> float | None:
        return self.all.next_after(moment)
