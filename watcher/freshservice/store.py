"""tickets/ as the watcher sees it: which ids are on the board, and the rules for changing a file.

- A file is only rewritten when its content changes (the atomic writer compares bytes).
- An answer never replaces a newer one: a ticket whose file has a later `updated_at` is left
  alone (the stats backfill and the polls run side by side).
- A ticket without stats (from the filter endpoint) keeps the stats already on disk until the
  backfill brings fresh ones.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from watcher.archive import archive_ticket
from watcher.atomic import write_json_atomic

TICKET_FILE = re.compile(r"^(\d+)\.json$")


class TicketFiles:
    def __init__(self, tickets_dir: Path) -> None:
        self.dir = tickets_dir
        self.written = 0
        self.archived = 0
        self._requester_of: dict[int, int] | None = None

    def requester_ids(self) -> set[int]:
        """Requesters of the tickets on the board (read from the files once, then kept up to date)."""
        if self._requester_of is None:
            self._requester_of = {}
            for ticket_id in self.ids():
                ticket = self.read(ticket_id)
                if ticket is not None:
                    self._remember(ticket)
        return set(self._requester_of.values())

    def _remember(self, ticket: dict[str, Any]) -> None:
        if self._requester_of is not None and isinstance(ticket.get("requester_id"), int):
            self._requester_of[ticket["id"]] = ticket["requester_id"]

    def path(self, ticket_id: int) -> Path:
        return self.dir / f"{ticket_id}.json"

    def ids(self) -> set[int]:
        if not self.dir.is_dir():
            return set()
        return {int(m.group(1)) for p in self.dir.iterdir() if (m := TICKET_FILE.match(p.name))}

    def read(self, ticket_id: int) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path(ticket_id).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def is_newer_on_disk(self, ticket: dict[str, Any]) -> bool:
        current = self.read(ticket["id"])
        if current is None:
            return False
        return str(current.get("updated_at") or "") > str(ticket.get("updated_at") or "")

    def upsert(self, ticket: dict[str, Any]) -> bool:
        """Write the ticket unless the file is newer or already equal. True if written."""
        current = self.read(ticket["id"])
        if current is not None:
            if str(current.get("updated_at") or "") > str(ticket.get("updated_at") or ""):
                return False
            if "stats" not in ticket and "stats" in current:
                ticket = {**ticket, "stats": current["stats"]}
        self.dir.mkdir(parents=True, exist_ok=True)
        changed = write_json_atomic(self.path(ticket["id"]), ticket)
        self.written += changed
        self._remember(ticket)
        return changed

    def needs_stats(self, ticket: dict[str, Any]) -> bool:
        """True unless the file already holds this version of the ticket with its stats."""
        current = self.read(ticket["id"])
        return not (
            current is not None
            and isinstance(current.get("stats"), dict)
            and current.get("updated_at") == ticket.get("updated_at")
        )

    def archive(self, ticket_id: int, final: dict[str, Any] | None = None) -> bool:
        """Move the file to the archive (unless a newer version is on disk). True if moved."""
        if final is not None and self.is_newer_on_disk(final):
            return False
        moved = archive_ticket(self.dir, ticket_id, final) is not None
        self.archived += moved
        if self._requester_of is not None:
            self._requester_of.pop(ticket_id, None)
        return moved
