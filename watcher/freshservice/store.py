"""tickets/ as the watcher sees it: which ids are on the board, and the rules for changing a file.

- A file is only rewritten when its content changes (the atomic writer compares bytes).
- An answer never replaces a newer one: a ticket whose file has a later `updated_at` is left
  alone (the stats backfill and the polls run side by side).
- A ticket without stats (from the filter endpoint) keeps the stats already on disk until the
  backfill brings fresh ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.contract.archive import archive_ticket, retire_legacy_file
from app.contract.atomic import write_json_atomic
from app.contract.layout import ticket_path
from app.contract.reading import read_ticket_json, ticket_ids


class TicketFiles:
    def __init__(self, tickets_dir: Path) -> None:
        self.dir = tickets_dir
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
        return ticket_path(self.dir, ticket_id)

    def ids(self) -> set[int]:
        """Every ticket on the board, whatever its file's suffix (app.contract.layout)."""
        return ticket_ids(self.dir)

    def read(self, ticket_id: int) -> dict[str, Any] | None:
        return read_ticket_json(self.dir, ticket_id)

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
        retire_legacy_file(self.dir, ticket["id"])  # the .json supersedes a legacy .txt
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
