"""Tickets leave the board by moving, not by deletion: tickets/archive/YYYY-MM-DD/<id>.json.

The day is the UTC day the ticket left. Archive days older than the retention are removed.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.atomic import write_json_atomic

ARCHIVE_DIR_NAME = "archive"


def archive_ticket(
    tickets_dir: Path,
    ticket_id: int,
    final: dict[str, Any] | None = None,
    *,
    day: date | None = None,
) -> Path | None:
    """Move tickets/<id>.json into today's archive folder; `final` (the ticket as last seen)
    replaces the archived content when given. Returns the archived path, None if no file."""
    source = tickets_dir / f"{ticket_id}.json"
    day = day or datetime.now(UTC).date()
    target_dir = tickets_dir / ARCHIVE_DIR_NAME / day.isoformat()
    target = target_dir / source.name
    target_dir.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except FileNotFoundError:
        return None
    if final is not None:
        write_json_atomic(target, final)
    return target


def prune_archive(
    tickets_dir: Path, retention_days: int, *, today: date | None = None
) -> list[Path]:
    """Remove archive day folders older than `retention_days` (0 keeps everything)."""
    if retention_days <= 0:
        return []
    root = tickets_dir / ARCHIVE_DIR_NAME
    cutoff = (today or datetime.now(UTC).date()) - timedelta(days=retention_days)
    removed = []
    for folder in sorted(root.glob("????-??-??")):
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day < cutoff and folder.is_dir():
            shutil.rmtree(folder)
            removed.append(folder)
    return removed
