"""The watcher status file: how the board learns whether its data is fresh.

Every source keeps `tickets/.watcher.json` up to date: which source runs, when it last synced
successfully, the last error (text meant for a person), and counts. The Freshservice source also
keeps its resume state here (the poll cursor, the last full reconciliation). The board reads it
and shows "last synced N s ago" and a STALE banner; it never writes it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watcher.atomic import write_json_atomic

STATUS_FILE_NAME = ".watcher.json"


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class WatcherStatus:
    source: str = ""
    last_success: str | None = None  # ISO UTC time of the last fully successful cycle
    last_attempt: str | None = None
    last_error: str | None = None  # None after a success; a sentence for a person otherwise
    counts: dict[str, int] = field(default_factory=dict)
    cursor: str | None = None  # Freshservice: updated_since for the next incremental poll
    last_reconcile: str | None = None  # Freshservice: time of the last complete reconciliation
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> WatcherStatus:
        if not isinstance(data, dict):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return cls()


def status_path(tickets_dir: Path) -> Path:
    return tickets_dir / STATUS_FILE_NAME


def read_status(tickets_dir: Path) -> WatcherStatus | None:
    """The status file's content, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(status_path(tickets_dir).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return WatcherStatus.from_json(data)


def write_status(tickets_dir: Path, status: WatcherStatus) -> None:
    write_json_atomic(status_path(tickets_dir), status.to_json())
