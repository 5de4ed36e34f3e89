"""The `id:Name` files of mappings/: who an agent, requester, group or status id is.

The format is the original project's: one `id:Name` per line, UTF-8. One reader for both sides,
lenient on purpose: blank lines, `#` comments and lines that do not parse are skipped, bytes that
are not UTF-8 become U+FFFD, and an unreadable file reads as empty (a half-edited file must not
blank the board, nor crash a watcher). One writer: sorted by id, one line per entry, atomic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.contract.atomic import write_atomic
from app.contract.layout import MAPPING_FILES
from app.contract.reading import UnreadableFile, read_regular_file
from app.contract.text import MAX_NAME_CHARS, clipped, shown_text

MAX_MAPPING_BYTES = 32_000_000  # ~500,000 requesters; anything larger is not a name file
# Freshservice's built-in statuses, used when statuses.txt does not name a status.
DEFAULT_STATUS_NAMES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}


def parse_mapping(text: str) -> dict[int, str]:
    names: dict[int, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        ident, _, name = line.partition(":")
        ident = ident.strip()
        if ident.isascii() and ident.isdigit():
            # Requester names come from emails: no control characters, no megabyte names.
            names[int(ident)] = clipped(shown_text(name).strip(), MAX_NAME_CHARS)
    return names


def read_mapping_checked(path: Path) -> dict[int, str] | None:
    """The names in one mapping file; None when it is absent; UnreadableFile (with the reason)
    when it is not a regular file or too large."""
    try:
        raw, _ = read_regular_file(path, MAX_MAPPING_BYTES)
    except FileNotFoundError:
        return None
    return parse_mapping(raw.decode("utf-8", errors="replace"))


def read_mapping(path: Path) -> dict[int, str]:
    """The names in one mapping file; {} when it is absent or unreadable."""
    try:
        return read_mapping_checked(path) or {}
    except UnreadableFile:
        return {}


def mapping_bytes(names: dict[int, str]) -> bytes:
    lines = []
    for ident in sorted(names):
        name = " ".join(str(names[ident]).split())  # one line per entry, whatever the API sent
        lines.append(f"{ident}:{name}\n")
    return "".join(lines).encode("utf-8")


def write_mapping(path: Path, names: dict[int, str]) -> bool:
    """Write an `id:Name` file (sorted by id), atomically; False if it already held that."""
    return write_atomic(path, mapping_bytes(names))


@dataclass
class Names:
    """Every name the board shows, one dict per mapping file."""

    agents: dict[int, str] = field(default_factory=dict)
    requesters: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, mappings_dir: Path) -> Names:
        names = cls()
        for kind in MAPPING_FILES:
            names.reload(mappings_dir, kind)
        return names

    def reload(self, mappings_dir: Path, kind: str) -> bool:
        """Re-read one mapping file ('agents', …); True if its names changed."""
        fresh = read_mapping(mappings_dir / MAPPING_FILES[kind])
        if fresh == getattr(self, kind):
            return False
        setattr(self, kind, fresh)
        return True

    def status_name(self, status: int) -> str:
        return self.statuses.get(status) or DEFAULT_STATUS_NAMES.get(status) or f"Status #{status}"
