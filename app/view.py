"""A view of the board: the filters a TV puts in its URL (`/?group=3&agent=17&section=open`).

Each parameter may repeat or hold a comma-separated list; `agent=none` / `group=none` (or 0)
means unassigned. Filters are applied on the server, so a TV receives only its team's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.categorise import SECTIONS


class BadFilter(ValueError):
    pass


def _ids(values: Iterable[str], name: str) -> frozenset[int | None]:
    out: set[int | None] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part in ("none", "0", "unassigned"):
                out.add(None)
                continue
            try:
                out.add(int(part))
            except ValueError:
                raise BadFilter(f"{name} must be a number or 'none', not {part[:20]!r}") from None
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class View:
    agents: frozenset[int | None] = frozenset()
    groups: frozenset[int | None] = frozenset()
    sections: frozenset[str] = frozenset()

    @classmethod
    def from_args(cls, getlist: Any) -> View:
        """Build from a MultiDict-like `getlist(name)`."""
        sections: set[str] = set()
        for value in getlist("section"):
            for part in value.split(","):
                part = part.strip().lower()
                if not part:
                    continue
                if part not in SECTIONS:
                    raise BadFilter(f"section must be one of {', '.join(SECTIONS)}")
                sections.add(part)
        return cls(
            agents=_ids(getlist("agent"), "agent"),
            groups=_ids(getlist("group"), "group"),
            sections=frozenset(sections),
        )

    @property
    def is_everything(self) -> bool:
        return not (self.agents or self.groups or self.sections)

    def shows(self, row: dict[str, Any] | None) -> bool:
        if row is None:
            return False
        if self.sections and row["section"] not in self.sections:
            return False
        if self.agents and row["agent_id"] not in self.agents:
            return False
        return not (self.groups and row["group_id"] not in self.groups)

    def to_json(self) -> dict[str, list[Any]]:
        return {
            "agent": sorted(self.agents, key=lambda v: -1 if v is None else v),
            "group": sorted(self.groups, key=lambda v: -1 if v is None else v),
            "section": sorted(self.sections),
        }
