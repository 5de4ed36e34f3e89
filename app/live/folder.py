"""tickets/ as the board reads it: which tickets changed, and each one read safely.

Which names are tickets, and what makes a file malformed, are the contract's (`app.contract`);
here is what the board keeps between reads: what it last saw of each file (for the safety
rescan) and the malformed files with their reasons (for the page's counter).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from app.contract.layout import TICKET_SUFFIXES, ticket_file_name, ticket_id_of_name
from app.contract.reading import read_ticket_file, scan_ticket_files
from app.contract.ticket import MalformedTicket, Ticket

log = logging.getLogger("ticket_dash.folder")


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
    # what we last saw of each ticket file: (mtime_ns, size), for the safety rescan
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)

    def changed_since_last_scan(self) -> set[int]:
        """Ticket ids whose files appeared, vanished or changed (mtime or size) since last look."""
        now = scan_ticket_files(self.tickets_dir)
        changed = {n for n in now.keys() | self.seen.keys() if now.get(n) != self.seen.get(n)}
        self.seen = now
        return {i for n in changed if (i := ticket_id_of_name(n)) is not None}

    def read(self, ident: int, *, known_only: bool = False) -> tuple[Ticket | None, bool]:
        """The ticket with this id as the folder holds it now (None: no readable file).

        Returns (ticket, malformed_changed). The `.json` file wins over `.txt`; a bad `.json`
        next to a good `.txt` still counts as malformed. `known_only` skips names the last scan
        did not see (cold start: half the opens would otherwise be for absent `.txt` files).
        """
        changed = False
        result: Ticket | None = None
        for suffix in TICKET_SUFFIXES:
            name = ticket_file_name(ident, suffix)
            if known_only and name not in self.seen:
                continue
            try:
                ticket, st = read_ticket_file(
                    os.path.join(self.tickets_dir, name), ident, self.max_file_bytes
                )
            except FileNotFoundError:
                changed |= self.malformed.clear(name)
                self.seen.pop(name, None)
                continue
            except MalformedTicket as exc:
                changed |= self.malformed.note(name, str(exc))
                continue
            self.seen[name] = (st.st_mtime_ns, st.st_size)
            changed |= self.malformed.clear(name)
            if result is None:
                result = ticket
        return result, changed
