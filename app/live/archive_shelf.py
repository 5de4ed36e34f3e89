"""The part of tickets/archive/ that today's numbers need: the day folders of the last two days.

A ticket leaves the board by moving into tickets/archive/<day>/<id>.json (app.contract.archive),
where <day> is the UTC day it left or the day its source names (its resolve date). Everything a
ticket counts for today or yesterday happened before it was archived, so only folders from the
UTC date of yesterday's local midnight on (one day earlier, for sources that name local dates)
can hold tickets that count. Those are read:

- in full by `scan` (at start and on every rescan; only files whose size or mtime changed are
  read again, so a rescan of 20,000 archived tickets is 20,000 stat calls);
- by id by `look_up`, when a ticket leaves the board: its archived copy is usually already there
  (sources move the file, then write its final state), so "resolved" counts within the batch.

Every method blocks: the board calls them in a reader thread of their own. A malformed archived
file is skipped and counted, like a malformed ticket.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from app.contract.layout import TICKET_SUFFIXES, archive_root, ticket_id_of_name
from app.contract.reading import UnreadableFile, read_regular_file
from app.contract.ticket import MalformedTicket, ticket_from_bytes
from app.rules.today import DayFacts, day_facts

Place = tuple[str, int]  # (day folder name, ticket id)
Signature = tuple[int, int]  # (mtime_ns, size)


@dataclass
class ArchiveReads:
    found: dict[Place, DayFacts | None] = field(default_factory=dict)  # None: counts nowhere
    gone: set[Place] = field(default_factory=set)
    malformed: dict[Place, str] = field(default_factory=dict)
    oldest_day: str | None = None  # the oldest day folder of the whole archive
    failed: str | None = None  # the archive could not be listed


def _is_day(name: str, latest: str) -> bool:
    """A real date, and not after `latest` (a folder named 9999-12-31 would count forever)."""
    try:
        date.fromisoformat(name)
    except ValueError:
        return False
    return len(name) == 10 and name <= latest


class ArchiveShelf:
    def __init__(self, tickets_dir: Path, max_bytes: int) -> None:
        self.root = archive_root(tickets_dir)
        self.max_bytes = max_bytes
        self.known: dict[Place, Signature] = {}
        self.malformed: dict[Place, str] = {}

    def day_folders(self) -> list[str]:
        latest = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
        try:
            with os.scandir(self.root) as entries:
                return sorted(
                    e.name
                    for e in entries
                    if _is_day(e.name, latest) and e.is_dir(follow_symlinks=False)
                )
        except FileNotFoundError:
            return []

    def scan(self, since: str) -> ArchiveReads:
        """Read what changed in the day folders from `since` (YYYY-MM-DD) on."""
        reads = ArchiveReads()
        days = self._days_from(since, reads)
        if reads.failed is not None:
            return reads  # nothing is known now: nothing counts as gone
        listed: dict[Place, Signature] = {}
        for day in days:
            try:
                with os.scandir(self.root / day) as entries:
                    for entry in entries:
                        ident = ticket_id_of_name(entry.name)
                        if ident is None:
                            continue
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        if stat.S_ISREG(st.st_mode):
                            listed[(day, ident)] = (st.st_mtime_ns, st.st_size)
            except OSError:
                continue  # a folder pruned or unreadable now: its tickets count as gone
        for place, signature in listed.items():
            if self.known.get(place) != signature:
                self._read(place, reads)
        reads.gone = set(self.known) - set(listed)
        for place in reads.gone:
            self._forget(place)
        for place in [p for p in self.malformed if p not in listed]:
            del self.malformed[place]  # gone, or never a regular file (noted by a look-up)
        return reads

    def look_up(self, ids: Iterable[int], since: str) -> ArchiveReads:
        """Read the archived copies of these tickets in the day folders from `since` on."""
        reads = ArchiveReads()
        days = self._days_from(since, reads)
        for ident in ids:
            for day in days:
                self._read((day, ident), reads)
        return reads

    def _days_from(self, since: str, reads: ArchiveReads) -> list[str]:
        """The day folders from `since` on; notes in `reads` how far the archive reaches, or
        that it cannot be listed (then none)."""
        try:
            every_day = self.day_folders()
        except OSError as exc:
            reads.failed = f"cannot list the archive ({exc.strerror})"
            return []
        reads.oldest_day = every_day[0] if every_day else None
        return [day for day in every_day if day >= since]

    def _read(self, place: Place, reads: ArchiveReads) -> None:
        day, ident = place
        for suffix in TICKET_SUFFIXES:
            path = self.root / day / f"{ident}{suffix}"
            try:
                raw, st = read_regular_file(path, self.max_bytes)
            except FileNotFoundError:
                continue
            except (UnreadableFile, OSError) as exc:
                self._note_malformed(place, str(exc), reads)
                return
            self.known[place] = (st.st_mtime_ns, st.st_size)
            try:
                ticket = ticket_from_bytes(raw)
            except MalformedTicket as exc:
                self._note_malformed(place, str(exc), reads)
                reads.found[place] = None
                return
            self.malformed.pop(place, None)
            reads.found[place] = day_facts(ticket) if ticket.id == ident else None
            return

    def _note_malformed(self, place: Place, reason: str, reads: ArchiveReads) -> None:
        self.malformed[place] = reason
        reads.malformed[place] = reason

    def _forget(self, place: Place) -> None:
        self.known.pop(place, None)
        self.malformed.pop(place, None)
