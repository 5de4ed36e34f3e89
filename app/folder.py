"""The tickets folder as the board sees it: which files are tickets, and reading one safely.

Ticket files are `<id>.json` (and the original project's `<id>.txt`, same JSON) directly in the
folder. Everything else is ignored: dotfiles (the atomic writer's temp files among them), other
names, and tickets/archive/ with all below it. When both `<id>.json` and `<id>.txt` exist the
`.json` one is the ticket.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from app.ticket import MalformedTicket, Ticket, ticket_from_bytes

log = logging.getLogger("ticket_dash.folder")

TICKET_NAME = re.compile(r"^([1-9][0-9]{0,17})\.(json|txt)$")
SUFFIX_PREFERENCE = (".json", ".txt")


def ticket_id_of(path: Path, tickets_dir: Path) -> int | None:
    """The ticket id a path would hold, or None when the board must ignore the path."""
    if path.parent != tickets_dir:
        return None
    match = TICKET_NAME.match(path.name)
    return int(match.group(1)) if match else None


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

    def scan(self) -> dict[str, tuple[int, int]]:
        """Every ticket file name in the folder with its (mtime_ns, size)."""
        found: dict[str, tuple[int, int]] = {}
        try:
            entries = os.scandir(self.tickets_dir)
        except FileNotFoundError:
            return found
        with entries:
            for entry in entries:
                if TICKET_NAME.match(entry.name) and entry.is_file(follow_symlinks=False):
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    found[entry.name] = (st.st_mtime_ns, st.st_size)
        return found

    def changed_since_last_scan(self) -> set[int]:
        """Ticket ids whose files appeared, vanished or changed (mtime or size) since last look."""
        now = self.scan()
        changed = {n for n in now.keys() | self.seen.keys() if now.get(n) != self.seen.get(n)}
        self.seen = now
        return {int(TICKET_NAME.match(n).group(1)) for n in changed}  # type: ignore[union-attr]

    def read(self, ident: int, *, known_only: bool = False) -> tuple[Ticket | None, bool]:
        """The ticket with this id as the folder holds it now (None: no readable file).

        Returns (ticket, malformed_changed). The `.json` file wins over `.txt`; a bad `.json`
        next to a good `.txt` still counts as malformed. `known_only` skips names the last scan
        did not see (cold start: half the opens would otherwise be for absent `.txt` files).
        """
        changed = False
        result: Ticket | None = None
        for suffix in SUFFIX_PREFERENCE:
            name = f"{ident}{suffix}"
            if known_only and name not in self.seen:
                continue
            try:
                ticket = self._read_file(os.path.join(self.tickets_dir, name), name, ident)
            except FileNotFoundError:
                changed |= self.malformed.clear(name)
                self.seen.pop(name, None)
                continue
            except MalformedTicket as exc:
                changed |= self.malformed.note(name, str(exc))
                continue
            changed |= self.malformed.clear(name)
            if result is None:
                result = ticket
        return result, changed

    def _read_file(self, path: str, name: str, ident: int) -> Ticket:
        # os.open/os.read: a third of the cost of Path.open() per file, which matters at
        # 10,000 files on a cold start.
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except IsADirectoryError:
            raise MalformedTicket("is a folder") from None
        except PermissionError:
            raise MalformedTicket("cannot be read (permission denied)") from None
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise MalformedTicket(f"cannot be read ({exc.strerror})") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise MalformedTicket("is not a regular file")
            if st.st_size > self.max_file_bytes:
                raise MalformedTicket(f"larger than {self.max_file_bytes} bytes")
            raw = os.read(fd, st.st_size + 1)
            while len(raw) < st.st_size:  # a short read: rare, but os.read promises no more
                more = os.read(fd, self.max_file_bytes + 1 - len(raw))
                if not more:
                    break
                raw += more
        except OSError as exc:
            raise MalformedTicket(f"cannot be read ({exc.strerror})") from None
        finally:
            os.close(fd)
        if len(raw) > self.max_file_bytes:
            raise MalformedTicket(f"larger than {self.max_file_bytes} bytes")
        self.seen[name] = (st.st_mtime_ns, st.st_size)
        ticket = ticket_from_bytes(raw)
        if ticket.id != ident:
            raise MalformedTicket(f"holds ticket {ticket.id}, not {ident}")
        return ticket
