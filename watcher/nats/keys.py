"""What the bucket holds, key by key: the wire format between a publishing watcher and mirrors.

| key                 | value                                   | deleted when                     |
|---------------------|-----------------------------------------|----------------------------------|
| `ticket.<id>`       | the ticket file's bytes                 | archived (header: the day) or removed |
| `mapping.<kind>`    | mappings/<kind>.txt's bytes             | never (sources do not delete them) |
| `status`            | tickets/.watcher.json's bytes           | never                            |
| `poller`            | the election's lease (`election`)       | released                         |

A removal is a KV delete marker (`KV-Operation: DEL`). An archive's marker also carries the
archive day (`Ticket-Dash-Archive-Day`) and, as its body, what the source's archive holds, so a
mirror archives exactly as the source did, even a ticket it never had. Markers expire after
`TOMBSTONE_TTL_SECONDS` (`Nats-TTL`), so the bucket does not grow with every resolved ticket; a
mirror away for longer still removes such a ticket (see `mirror`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app.contract.changes import Archived, Change, Removed, Written
from app.contract.layout import MAPPING_FILES, is_status_path, mapping_kind, ticket_id_of

TICKET_PREFIX = "ticket."
MAPPING_PREFIX = "mapping."
STATUS_KEY = "status"
POLLER_KEY = "poller"

KV_OPERATION = "KV-Operation"
KV_DELETE = "DEL"
KV_PURGE = "PURGE"
ARCHIVE_DAY = "Ticket-Dash-Archive-Day"
MESSAGE_TTL = "Nats-TTL"
MARKER_REASON = "Nats-Marker-Reason"  # a marker the server placed (nats-server >= 2.11)
TOMBSTONE_TTL_SECONDS = 7 * 86400  # a mirror back within a week archives with the source's day


def stream_name(bucket: str) -> str:
    return f"KV_{bucket}"


def subject_prefix(bucket: str) -> str:
    return f"$KV.{bucket}."


def ticket_key(ticket_id: int) -> str:
    return f"{TICKET_PREFIX}{ticket_id}"


def mapping_key(kind: str) -> str:
    return f"{MAPPING_PREFIX}{kind}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One key's new state, as a publisher sends it: a value, or a delete marker."""

    key: str
    value: bytes | None  # None: delete
    archive_day: date | None = None
    content: bytes | None = None  # an archive's content, carried by its delete marker
    from_disk: Path | None = None  # whatever this file holds when it is sent (absent: delete)

    def headers(self) -> dict[str, str] | None:
        if self.value is not None:
            return None
        headers = {KV_OPERATION: KV_DELETE, MESSAGE_TTL: str(TOMBSTONE_TTL_SECONDS)}
        if self.archive_day is not None:
            headers[ARCHIVE_DAY] = self.archive_day.isoformat()
        return headers

    def payload(self) -> bytes:
        return self.value if self.value is not None else (self.content or b"")


def outgoing(change: Change, tickets_dir: Path, mappings_dir: Path) -> Outgoing | None:
    """The key a change of the source's folders sets, or None when it is not published (the
    archive's own files, temp files, anything outside the two folders)."""
    if isinstance(change, Written):
        ticket_id = ticket_id_of(change.path, tickets_dir)
        if ticket_id is not None:
            if change.path.suffix != ".json":
                return None  # a legacy `.txt` is never written by a source
            return Outgoing(ticket_key(ticket_id), change.content)
        if is_status_path(change.path, tickets_dir):
            return Outgoing(STATUS_KEY, change.content)
        kind = mapping_kind(change.path, mappings_dir)
        if kind is not None:
            return Outgoing(mapping_key(kind), change.content)
        return None
    if change.tickets_dir != tickets_dir:
        return None
    if isinstance(change, Archived):
        return Outgoing(ticket_key(change.ticket_id), None, change.day, change.content)
    assert isinstance(change, Removed)
    return Outgoing(ticket_key(change.ticket_id), None)


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of the bucket's stream, as a mirror applies it."""

    key: str
    revision: int
    value: bytes | None  # None: deleted
    archive_day: date | None = None
    content: bytes | None = None  # an archive's content

    @property
    def ticket_id(self) -> int | None:
        if not self.key.startswith(TICKET_PREFIX):
            return None
        digits = self.key[len(TICKET_PREFIX) :]
        if not digits.isascii() or not digits.isdigit() or digits.startswith("0"):
            return None
        return int(digits)

    @property
    def mapping_kind(self) -> str | None:
        kind = self.key.removeprefix(MAPPING_PREFIX)
        return kind if self.key.startswith(MAPPING_PREFIX) and kind in MAPPING_FILES else None


def entry_of(
    subject: str, prefix: str, revision: int, data: bytes, headers: dict[str, str] | None
) -> Entry:
    """An entry from a stream message's subject, sequence, body and headers."""
    key = subject[len(prefix) :] if subject.startswith(prefix) else subject
    operation = (headers or {}).get(KV_OPERATION)
    if operation not in (KV_DELETE, KV_PURGE) and MARKER_REASON not in (headers or {}):
        return Entry(key, revision, data)
    day: date | None = None
    raw_day = (headers or {}).get(ARCHIVE_DAY)
    if raw_day:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            day = None
    return Entry(key, revision, None, day, data or None)
