"""What the board reads besides its own state: the changed ticket files, the mapping files and
the watcher status file, read in one go off the event loop.

`InputBatch.of(paths)` sorts a batch of changed paths by what they are (pure). `read_inputs`
reads them: disk only, no shared state, so it runs in the reader thread. Every input is read
behind one guard (`_guarded`): whatever goes wrong, from a missing permission to a parser bug,
becomes a reason that the board counts as a malformed file and logs once; nothing malformed
stops the reading of anything else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from app.contract.layout import (
    MAPPING_FILES,
    STATUS_FILE_NAME,
    is_status_path,
    mapping_kind,
    ticket_id_of,
)
from app.contract.mappings import read_mapping_checked
from app.contract.reading import TemporarilyUnreadable, scan_ticket_files
from app.contract.status import WatcherStatus, read_status_checked
from app.live.folder import FileRead, Seen, read_ticket_files

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """A guarded read: the value (None: the file is absent) or the reason it cannot be used."""

    value: T | None = None
    reason: str | None = None
    failed: str | None = None  # the system could not read it now: keep what we had


def _guarded(read: Callable[[], T | None]) -> Outcome[T]:
    try:
        return Outcome(read())
    except TemporarilyUnreadable as exc:
        return Outcome(failed=exc.strerror or str(exc))
    except Exception as exc:  # the one guard: any failure is "malformed", never a crash
        return Outcome(reason=str(exc) or exc.__class__.__name__)


@dataclass
class InputBatch:
    """Changed paths, sorted by what they are."""

    ticket_ids: set[int] = field(default_factory=set)
    mapping_kinds: set[str] = field(default_factory=set)
    status: bool = False
    scan: bool = False  # list tickets/ too and read every ticket whose file changed

    @classmethod
    def of(cls, paths: Iterable[Path], tickets_dir: Path, mappings_dir: Path) -> InputBatch:
        batch = cls()
        for path in paths:
            if (ident := ticket_id_of(path, tickets_dir)) is not None:
                batch.ticket_ids.add(ident)
            elif is_status_path(path, tickets_dir):
                batch.status = True
            elif (kind := mapping_kind(path, mappings_dir)) is not None:
                batch.mapping_kinds.add(kind)
        return batch

    @classmethod
    def everything(cls) -> InputBatch:
        """A rescan: the folder listing, the status file and every mapping file."""
        return cls(mapping_kinds=set(MAPPING_FILES), status=True, scan=True)


@dataclass
class InputReads:
    scanned: Seen | None = None  # the listing, when the batch asked for a scan
    scan_failed: str | None = None  # the listing was asked for but tickets/ could not be listed
    tickets: dict[int, list[FileRead]] = field(default_factory=dict)
    mappings: dict[str, Outcome[dict[int, str]]] = field(default_factory=dict)
    status: Outcome[WatcherStatus] | None = None  # None: not read this time


def read_inputs(
    batch: InputBatch,
    tickets_dir: Path,
    mappings_dir: Path,
    max_file_bytes: int,
    seen: Seen,
) -> InputReads:
    """Read everything the batch names (disk only; `seen` is only read, for a scan's diff)."""
    reads = InputReads()
    ids = set(batch.ticket_ids)
    if batch.scan:
        try:
            reads.scanned = scan_ticket_files(tickets_dir)
        except OSError as exc:
            reads.scan_failed = exc.strerror or str(exc)
    if reads.scanned is not None:
        for name in reads.scanned.keys() | seen.keys():
            if reads.scanned.get(name) != seen.get(name):
                ident = ticket_id_of(tickets_dir / name, tickets_dir)
                if ident is not None:
                    ids.add(ident)
    for ident in sorted(ids):
        reads.tickets[ident] = read_ticket_files(tickets_dir, ident, max_file_bytes)
    for kind in sorted(batch.mapping_kinds):
        path = mappings_dir / MAPPING_FILES[kind]
        reads.mappings[kind] = _guarded(functools.partial(read_mapping_checked, path))
    if batch.status:
        reads.status = _guarded(functools.partial(read_status_checked, tickets_dir))
    return reads


def malformed_name(kind: str) -> str:
    """How a malformed mapping or status file is named in the page's counter."""
    return STATUS_FILE_NAME if kind == "status" else f"mappings/{MAPPING_FILES[kind]}"
