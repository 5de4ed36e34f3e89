"""The watcher status file, `tickets/.watcher.json`: how the board learns whether its data is fresh.

Every source keeps it up to date: which source runs, when it last synced successfully, the last
error (text meant for a person), and counts. A source keeps its resume state here too (the
Freshservice poll cursor, the last full reconciliation). The board reads it and shows "last
synced N s ago" and a STALE banner; it never writes it. A status file that cannot be read (absent,
not a regular file, too large, not JSON, nested absurdly deep) reads as None: "no status".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from app.contract.atomic import write_json_atomic
from app.contract.layout import status_path
from app.contract.reading import UnreadableFile, read_regular_file

MAX_STATUS_BYTES = 1_000_000


@dataclass
class WatcherStatus:
    source: str = ""
    last_success: str | None = None  # ISO UTC time of the last fully successful cycle
    last_attempt: str | None = None
    last_error: str | None = None  # None after a success; a sentence for a person otherwise
    counts: dict[str, float] = field(default_factory=dict)
    cursor: str | None = None  # Freshservice: updated_since for the next incremental poll
    last_reconcile: str | None = None  # Freshservice: time of the last complete reconciliation
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> WatcherStatus:
        """The fields of a status object; wrongly typed fields read as their defaults."""
        if not isinstance(data, dict):
            return cls()
        status = cls()
        for name in ("source",):
            if isinstance(data.get(name), str):
                setattr(status, name, data[name])
        for name in ("last_success", "last_attempt", "last_error", "cursor", "last_reconcile"):
            if isinstance(data.get(name), str):
                setattr(status, name, data[name])
        counts = data.get("counts")
        if isinstance(counts, dict):
            status.counts = {
                str(k): v
                for k, v in counts.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
        if isinstance(data.get("extra"), dict):
            status.extra = data["extra"]
        return status


def read_status_checked(tickets_dir: Path) -> WatcherStatus | None:
    """The status file's content; None when there is none; UnreadableFile (with the reason) when
    it cannot be used."""
    try:
        raw, _ = read_regular_file(status_path(tickets_dir), MAX_STATUS_BYTES)
    except FileNotFoundError:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UnreadableFile(f"not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise UnreadableFile("nested too deeply") from None
    if not isinstance(data, dict):
        raise UnreadableFile("does not hold a JSON object")
    return WatcherStatus.from_json(data)


def read_status(tickets_dir: Path) -> WatcherStatus | None:
    """The status file's content, or None when there is none or it cannot be read."""
    try:
        return read_status_checked(tickets_dir)
    except UnreadableFile:
        return None


def write_status(tickets_dir: Path, status: WatcherStatus) -> bool:
    return write_json_atomic(status_path(tickets_dir), status.to_json())
