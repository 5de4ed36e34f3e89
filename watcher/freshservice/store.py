"""tickets/ as the watcher sees it: which ids are on the board, and the rules for changing a file.

- What a file holds is decided in one place, `file_content` (docs/ticket-format.md, "When only
  the list shape is known"): the single-ticket view replaces the file; a list record of the
  version on disk adds only its stats; a newer list record is laid over the file, keeping what
  it does not carry until the single-ticket call for that version replaces the whole file.
- An answer never replaces a newer one: a ticket whose file has a later `updated_at` is left
  alone (the stats backfill and the polls run side by side).
- A file is only rewritten when its content changes (the atomic writer compares bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from app.contract.archive import archive_ticket, retire_legacy_file
from app.contract.atomic import write_json_atomic
from app.contract.layout import ticket_path
from app.contract.reading import read_ticket_json, ticket_ids


class Shape(Enum):
    """Which Freshservice answer a ticket record comes from."""

    VIEW = "view"  # GET /tickets/{id}?include=stats: every field of the ticket
    LIST = "list"  # GET /tickets (with stats) or /tickets/filter (without): fewer fields


@dataclass(frozen=True, slots=True)
class FileContent:
    """What the file should hold after an answer: `content` (None: leave the file alone), and
    whether it keeps fields of an older version that only the single-ticket call can refresh."""

    content: dict[str, Any] | None
    needs_view: bool = False


def _version(ticket: dict[str, Any]) -> str:
    return str(ticket.get("updated_at") or "")


def file_content(
    current: dict[str, Any] | None, answer: dict[str, Any], shape: Shape
) -> FileContent:
    """THE rule for what a ticket file holds, given what is on disk and a record from an answer.

    1. An answer older than the file (by `updated_at`) changes nothing.
    2. The single-ticket view replaces the whole file: that is what the file promises to be.
    3. A list record of the version the file already holds adds its stats, nothing else: the file
       may hold that version's single view, whose fields the list shape leaves out or gives
       differently (`cc_emails` null in the view, [] in lists).
    4. A newer list record is laid over the file: its fields win; fields it does not carry stay
       until they are fetched: `stats` (a filter record has none) until the stats backfill
       brings them, single-view-only fields until the single-ticket call for this version
       replaces the whole file, which `needs_view` asks for.
    So a file that never saw the single view holds the list shape (with stats once known), and
    a field never vanishes because a cheaper answer lacks it.
    """
    if current is None:
        return FileContent(answer)
    have, got = _version(current), _version(answer)
    if have > got:
        return FileContent(None)
    if shape is Shape.VIEW:
        return FileContent(answer)
    if have == got:
        if "stats" in answer:
            return FileContent({**current, "stats": answer["stats"]})
        return FileContent(None)
    kept = set(current) - set(answer) - {"stats"}
    return FileContent({**current, **answer}, needs_view=bool(kept))


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

    def upsert(self, ticket: dict[str, Any], shape: Shape) -> FileContent:
        """Write what `file_content` says the file holds after this record (if it changed)."""
        current = self.read(ticket["id"])
        result = file_content(current, ticket, shape)
        content = result.content
        if content is None and current is not None and not self.path(ticket["id"]).is_file():
            content = current  # only a legacy `<id>.txt`: its `.json` takes its place
        if content is None:
            return result
        self.dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path(ticket["id"]), content)
        retire_legacy_file(self.dir, ticket["id"])  # the .json supersedes a legacy .txt
        self._remember(content)
        return result

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
