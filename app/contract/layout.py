"""Which names in tickets/ and mappings/ are what. Names only: no file is touched here.

A ticket file is `<id>.json` directly in tickets/, `<id>` in decimal without leading zeros. The
original project named them `<id>.txt` (same JSON); an existing folder works unchanged, so both
sides treat `<id>.txt` as that ticket's file too: the board reads it when there is no
`<id>.json`, and a source that writes `<id>.json` or archives the ticket moves the `.txt` twin
into the archive with it (so a stale `.txt` can never come back on the board). Everything else
is not a ticket: dotfiles (the atomic writer's temp files, the status file), other names, and
tickets/archive/ with everything below it.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

TICKET_SUFFIXES = (".json", ".txt")  # in order of preference: `<id>.json` wins over `<id>.txt`
LEGACY_SUFFIX = ".txt"
# Up to 39 digits is a ticket's name (whether the id inside is usable is the reader's question:
# a ticket id above MAX_TICKET_ID is counted as malformed, not silently ignored).
TICKET_NAME = re.compile(r"^([1-9][0-9]{0,38})\.(json|txt)$")
STATUS_FILE_NAME = ".watcher.json"
ARCHIVE_DIR_NAME = "archive"
TEMP_SUFFIX = ".tmp"

MAPPING_FILES = {
    "agents": "agents.txt",
    "requesters": "requesters.txt",
    "groups": "groups.txt",
    "statuses": "statuses.txt",
}


def ticket_id_of_name(name: str) -> int | None:
    """The ticket id a file name in tickets/ holds, or None when the name is not a ticket's."""
    match = TICKET_NAME.match(name)
    return int(match.group(1)) if match else None


def ticket_id_of(path: Path, tickets_dir: Path) -> int | None:
    """The ticket id a path holds, or None unless it is a ticket file directly in tickets_dir."""
    if path.parent != tickets_dir:
        return None
    return ticket_id_of_name(path.name)


def ticket_file_name(ticket_id: int, suffix: str = ".json") -> str:
    return f"{ticket_id}{suffix}"


def ticket_path(tickets_dir: Path, ticket_id: int) -> Path:
    """Where a source writes this ticket."""
    return tickets_dir / ticket_file_name(ticket_id)


def ticket_paths(tickets_dir: Path, ticket_id: int) -> list[Path]:
    """Every name this ticket's file may have, the preferred one first."""
    return [tickets_dir / ticket_file_name(ticket_id, s) for s in TICKET_SUFFIXES]


def status_path(tickets_dir: Path) -> Path:
    return tickets_dir / STATUS_FILE_NAME


def is_status_path(path: Path, tickets_dir: Path) -> bool:
    return path.parent == tickets_dir and path.name == STATUS_FILE_NAME


def mapping_kind(path: Path, mappings_dir: Path) -> str | None:
    """'agents', 'requesters', 'groups' or 'statuses' for a mapping file, else None."""
    if path.parent != mappings_dir:
        return None
    for kind, name in MAPPING_FILES.items():
        if name == path.name:
            return kind
    return None


def is_temporary(name: str) -> bool:
    """The atomic writer's temp files (`.<name>.XXXX.tmp`): never read, never a change."""
    return name.endswith(TEMP_SUFFIX)


def archive_root(tickets_dir: Path) -> Path:
    return tickets_dir / ARCHIVE_DIR_NAME


def archive_day_dir(tickets_dir: Path, day: date) -> Path:
    return archive_root(tickets_dir) / day.isoformat()
