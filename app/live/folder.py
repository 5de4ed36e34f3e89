"""tickets/ as the board reads it: which tickets changed, and each one read safely.

Which names are tickets, and what makes a file malformed, are the contract's (`app.contract`).
The reading is split in two so that the blocking part can run off the event loop:
`read_ticket_files` only touches the disk (it runs in the reader thread); `TicketFolder.record`
keeps the board's bookkeeping (what it last saw of each file, for the safety rescan, and the
malformed files with their reasons, for the page's counter) and runs on the loop.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from app.contract.layout import TICKET_SUFFIXES, ticket_file_name, ticket_id_of_name
from app.contract.reading import TemporarilyUnreadable, read_ticket_file, scan_ticket_files
from app.contract.ticket import MalformedTicket, Ticket

log = logging.getLogger("ticket_dash.folder")

Seen = dict[str, tuple[int, int]]  # file name → (mtime_ns, size)


@dataclass(frozen=True, slots=True)
class FileRead:
    """What reading one ticket file found: a ticket, a reason it is malformed, or nothing."""

    name: str
    ticket: Ticket | None = None
    reason: str | None = None  # set: malformed
    stat: tuple[int, int] | None = None  # (mtime_ns, size) of a good file
    failed: str | None = None  # set: the system could not read it now; nothing is known


def read_ticket_files(
    tickets_dir: Path, ident: int, max_bytes: int, known: Seen | None = None
) -> list[FileRead]:
    """Read every name ticket `ident` may have (`.json`, then `.txt`). Disk only, no state.

    `known` skips names a scan did not see (cold start: half the opens would otherwise be for
    absent `.txt` files).
    """
    found: list[FileRead] = []
    for suffix in TICKET_SUFFIXES:
        name = ticket_file_name(ident, suffix)
        if known is not None and name not in known:
            continue
        try:
            ticket, st = read_ticket_file(os.path.join(tickets_dir, name), ident, max_bytes)
        except FileNotFoundError:
            found.append(FileRead(name))
        except TemporarilyUnreadable as exc:
            found.append(FileRead(name, failed=exc.strerror or str(exc)))
        except MalformedTicket as exc:
            found.append(FileRead(name, reason=str(exc)))
        except Exception as exc:  # one guard: nothing in a file may stop the reading
            found.append(FileRead(name, reason=f"cannot be read ({exc.__class__.__name__})"))
        else:
            found.append(FileRead(name, ticket, stat=(st.st_mtime_ns, st.st_size)))
    return found


@dataclass
class Malformed:
    """Files that could not be read, with the reason; each logged once per distinct reason."""

    reasons: dict[str, str] = field(default_factory=dict)

    def note(self, name: str, reason: str) -> bool:
        """Record a bad file; True if this is news (new file or new reason)."""
        if self.reasons.get(name) == reason:
            return False
        self.reasons[name] = reason
        log.warning("skipping malformed ticket file %s: %s", name, reason)
        return True

    def clear(self, name: str) -> bool:
        return self.reasons.pop(name, None) is not None

    def to_json(self) -> dict[str, object]:
        names = sorted(self.reasons)
        return {"count": len(names), "files": names[:20]}


@dataclass
class TicketFolder:
    tickets_dir: Path
    max_file_bytes: int
    malformed: Malformed = field(default_factory=Malformed)
    seen: Seen = field(default_factory=dict)  # what the last scan or read saw, for the rescan

    def scan(self) -> Seen:
        """Every ticket file now (disk only: safe to call from the reader thread)."""
        return scan_ticket_files(self.tickets_dir)

    def changed_in(self, scanned: Seen) -> set[int]:
        """Ticket ids whose files appeared, vanished or changed since the last look. Malformed
        ticket files that are no longer there are forgotten (a folder mounted over tickets/)."""
        changed = {
            n for n in scanned.keys() | self.seen.keys() if scanned.get(n) != self.seen.get(n)
        }
        self.seen = scanned
        for name in list(self.malformed.reasons):
            if ticket_id_of_name(name) is not None and name not in scanned:
                self.malformed.clear(name)
        return {i for n in changed if (i := ticket_id_of_name(n)) is not None}

    def changed_since_last_scan(self) -> set[int]:
        """`changed_in(scan())`, inline: for the cold start and tests, not for a serving loop."""
        return self.changed_in(self.scan())

    def record(self, reads: list[FileRead]) -> tuple[Ticket | None, bool]:
        """The ticket these reads found (`.json` wins over `.txt`) and whether the malformed
        files changed. A bad `.json` next to a good `.txt` still counts as malformed.
        (Reads that `failed` must not get here: the caller keeps the ticket as it was.)"""
        changed = False
        result: Ticket | None = None
        for read in reads:
            if read.reason is not None:
                changed |= self.malformed.note(read.name, read.reason)
                continue
            changed |= self.malformed.clear(read.name)
            if read.ticket is None:
                self.seen.pop(read.name, None)
                continue
            if read.stat is not None:
                self.seen[read.name] = read.stat
            if result is None:
                result = read.ticket
        return result, changed

    def read(self, ident: int, *, known_only: bool = False) -> tuple[Ticket | None, bool]:
        """Read and record one ticket inline (cold start and tests)."""
        known = self.seen if known_only else None
        return self.record(read_ticket_files(self.tickets_dir, ident, self.max_file_bytes, known))
