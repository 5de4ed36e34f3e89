"""A bucket entry, applied to tickets/ and mappings/ through the contract's writer: `FolderWriter`.

Applying is idempotent (the writer leaves equal files alone; an archive or removal of a ticket
that has no file does nothing), so a mirror may apply an entry twice after a crash. Files are
written without an fsync each; `make_durable` makes the whole batch durable with one `syncfs`,
after which the mirror records how far it got.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import orjson

from app.contract.archive import archive_ticket, prune_archive, remove_ticket, retire_legacy_file
from app.contract.atomic import write_atomic
from app.contract.layout import (
    LEGACY_SUFFIX,
    MAPPING_FILES,
    archive_day_dir,
    ticket_file_name,
    ticket_path,
)
from app.contract.reading import scan_ticket_files, ticket_ids
from app.contract.status import WatcherStatus
from watcher.nats.keys import STATUS_KEY, Entry

log = logging.getLogger("watcher.nats.mirror")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_syncfs = getattr(_libc, "syncfs", None)


def make_durable(folder: Path) -> None:
    """Flush every file written to `folder`'s file system (`syncfs`; `sync` where it is missing)."""
    if _syncfs is None:  # pragma: no cover - not Linux
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if _syncfs(fd) != 0:  # pragma: no cover - needs a failing disk
            raise OSError(ctypes.get_errno(), "syncfs failed", str(folder))
    finally:
        os.close(fd)


class FolderWriter:
    def __init__(self, tickets_dir: Path, mappings_dir: Path) -> None:
        self.tickets_dir = tickets_dir
        self.mappings_dir = mappings_dir
        self.legacy_files = True  # until `prepare` looked: `<id>.txt` twins to retire

    def prepare(self) -> None:
        self.tickets_dir.mkdir(parents=True, exist_ok=True)
        self.mappings_dir.mkdir(parents=True, exist_ok=True)
        # A mirror writes only `<id>.json`: legacy twins exist only if the folder had them.
        self.legacy_files = any(
            name.endswith(LEGACY_SUFFIX) for name in scan_ticket_files(self.tickets_dir)
        )

    def apply(self, entry: Entry) -> WatcherStatus | None:
        """Apply one ticket or mapping entry; a status entry is returned, not written (the
        mirror writes the status file itself, with its own state added)."""
        if entry.key == STATUS_KEY:
            return _status_of(entry.value) if entry.value is not None else None
        ticket_id = entry.ticket_id
        if ticket_id is not None:
            self._apply_ticket(ticket_id, entry)
            return None
        kind = entry.mapping_kind
        if kind is not None:
            path = self.mappings_dir / MAPPING_FILES[kind]
            if entry.value is not None:
                write_atomic(path, entry.value, durable=False)
            else:
                path.unlink(missing_ok=True)
        return None  # the election's key, or keys of a later version: not a file here

    def _apply_ticket(self, ticket_id: int, entry: Entry) -> None:
        if entry.value is not None:
            write_atomic(ticket_path(self.tickets_dir, ticket_id), entry.value, durable=False)
            if self.legacy_files:
                retire_legacy_file(self.tickets_dir, ticket_id)
        elif entry.archive_day is not None:
            archive_ticket(self.tickets_dir, ticket_id, day=entry.archive_day)
            if entry.content:  # exactly what the source's archive holds, had we the file or not
                target = archive_day_dir(self.tickets_dir, entry.archive_day)
                write_atomic(target / ticket_file_name(ticket_id), entry.content, durable=False)
        else:
            remove_ticket(self.tickets_dir, ticket_id)

    def archive_missing(self, keep: set[int]) -> list[int]:
        """Archive (today) every ticket on disk not in `keep`: tickets the bucket no longer has
        and whose delete marker expired while this mirror was away."""
        gone = sorted(ticket_ids(self.tickets_dir) - keep)
        today = datetime.now(UTC).date()
        for ticket_id in gone:
            archive_ticket(self.tickets_dir, ticket_id, day=today)
        if gone:
            log.info("archived %d ticket(s) that left the bucket while away", len(gone))
        return gone

    def prune_archive(self, retention_days: int) -> None:
        prune_archive(self.tickets_dir, retention_days)

    def make_durable(self) -> None:
        make_durable(self.tickets_dir)
        if os.stat(self.tickets_dir).st_dev != os.stat(self.mappings_dir).st_dev:
            make_durable(self.mappings_dir)


def _status_of(raw: bytes) -> WatcherStatus | None:
    try:
        return WatcherStatus.from_json(orjson.loads(raw))
    except (orjson.JSONDecodeError, RecursionError):
        return None
