"""Tickets leave the board by moving, not by deletion: tickets/archive/YYYY-MM-DD/<id>.json.

The day is the UTC day the ticket left (or the day a source names, e.g. its resolve date). Every
name the ticket's file has moves (a legacy `<id>.txt` too, see `layout`), so nothing of a finished
ticket stays on the board. Archive days older than the retention are removed. A ticket that
leaves without a trace (`remove_ticket`) is rare: a source clearing files it wrote itself.
Both are reported to the observer in force (`changes`), e.g. to be published to NATS.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app.contract.atomic import dump_json, write_json_atomic
from app.contract.changes import Archived, Removed, report
from app.contract.layout import (
    LEGACY_SUFFIX,
    archive_day_dir,
    archive_root,
    ticket_file_name,
    ticket_path,
    ticket_paths,
)
from app.contract.reading import UnreadableFile, read_regular_file

MAX_ARCHIVED_BYTES = 2_000_000


def archive_ticket(
    tickets_dir: Path,
    ticket_id: int,
    final: dict[str, Any] | None = None,
    *,
    day: date | None = None,
) -> Path | None:
    """Move the ticket's files into the day's archive folder; `final` (the ticket as last seen)
    replaces the archived content when given. Returns the archived `.json` path (or the legacy
    one when only that existed), None if the ticket had no file."""
    day = day or datetime.now(UTC).date()
    target_dir = archive_day_dir(tickets_dir, day)
    target_dir.mkdir(parents=True, exist_ok=True)
    moved: Path | None = None
    target = target_dir / ticket_file_name(ticket_id)
    try:
        os.replace(ticket_path(tickets_dir, ticket_id), target)
        moved = target
    except FileNotFoundError:
        pass
    legacy = retire_legacy_file(tickets_dir, ticket_id, target_dir)
    moved = moved or legacy
    if moved is not None and final is not None:
        write_json_atomic(target, final)
        if moved != target:
            moved = target
    if moved is not None:
        report(Archived(tickets_dir, ticket_id, day, _archived_content(moved, final)))
    return moved


def _archived_content(path: Path, final: dict[str, Any] | None) -> bytes | None:
    if final is not None:
        return dump_json(final)
    try:
        return read_regular_file(path, MAX_ARCHIVED_BYTES)[0]
    except (FileNotFoundError, UnreadableFile):
        return None


def remove_ticket(tickets_dir: Path, ticket_id: int) -> bool:
    """Delete every file of the ticket without archiving it. True if there was one."""
    removed = False
    for path in ticket_paths(tickets_dir, ticket_id):
        try:
            path.unlink()
            removed = True
        except FileNotFoundError:
            pass
    if removed:
        report(Removed(tickets_dir, ticket_id))
    return removed


def retire_legacy_file(
    tickets_dir: Path, ticket_id: int, target_dir: Path | None = None
) -> Path | None:
    """Move a legacy `<id>.txt` into the archive (today's folder unless given); its path there,
    or None if there was none. A source calls this once it has written the ticket's `.json`."""
    name = ticket_file_name(ticket_id, LEGACY_SUFFIX)
    source = tickets_dir / name
    if not os.path.lexists(source):
        return None
    target_dir = target_dir or archive_day_dir(tickets_dir, datetime.now(UTC).date())
    target_dir.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target_dir / name)
    except FileNotFoundError:
        return None
    return target_dir / name


def archive_days(tickets_dir: Path) -> list[tuple[date, Path]]:
    """The archive's day folders, oldest first."""
    found = []
    root = archive_root(tickets_dir)
    for folder in root.glob("????-??-??"):
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if folder.is_dir() and not folder.is_symlink():
            found.append((day, folder))
    return sorted(found)


def prune_archive(
    tickets_dir: Path, retention_days: int, *, today: date | None = None
) -> list[Path]:
    """Remove archive day folders older than `retention_days` (0 keeps everything)."""
    if retention_days <= 0:
        return []
    cutoff = (today or datetime.now(UTC).date()) - timedelta(days=retention_days)
    removed = []
    for day, folder in archive_days(tickets_dir):
        if day < cutoff:
            shutil.rmtree(folder)
            removed.append(folder)
    return removed
