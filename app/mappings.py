"""The `id:Name` files of mappings/: who an agent, requester, group or status id is.

The format is the original project's: one `id:Name` per line. Blank lines, `#` comments and
lines that do not parse are skipped (a half-edited file must not blank the board's names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAPPING_FILES = {
    "agents": "agents.txt",
    "requesters": "requesters.txt",
    "groups": "groups.txt",
    "statuses": "statuses.txt",
}


def parse_mapping(text: str) -> dict[int, str]:
    names: dict[int, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        ident, _, name = line.partition(":")
        try:
            names[int(ident.strip())] = name.strip()
        except ValueError:
            continue
    return names


def read_mapping(path: Path) -> dict[int, str]:
    try:
        return parse_mapping(path.read_text("utf-8", errors="replace"))
    except OSError:
        return {}


@dataclass
class Names:
    agents: dict[int, str] = field(default_factory=dict)
    requesters: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, mappings_dir: Path) -> Names:
        return cls(**{kind: read_mapping(mappings_dir / f) for kind, f in MAPPING_FILES.items()})

    def reload(self, mappings_dir: Path, file_name: str) -> bool:
        """Re-read one mapping file; True if its names changed."""
        for kind, known in MAPPING_FILES.items():
            if known == file_name:
                fresh = read_mapping(mappings_dir / file_name)
                if fresh != getattr(self, kind):
                    setattr(self, kind, fresh)
                    return True
        return False
