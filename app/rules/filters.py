"""Which rows a TV shows: the filters in its URL (`/?group=Network&agent=17&section=open`).

Each parameter may repeat or hold a comma-separated list. Agents and groups are given by id or
by name (as in mappings/, any case: what an admin sees on the board); `none` (or 0) means
unassigned. Filters are applied on the server, so a TV receives only its team's rows.

A TV must never go blank over a typo, so the page and its stream parse leniently: an unknown
section is left out (and named on the page, see app.rules.view_check); `/api/tickets` is strict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.rules.categorise import SECTIONS


class BadFilter(ValueError):
    pass


Who = int | str | None  # an id, a lower-cased name, or None for unassigned


UNASSIGNED_WORDS = frozenset({"none", "0", "unassigned"})
MAX_NAME = 200


MAX_ID_DIGITS = 19  # Python refuses int() of 4,300+ digits; no id has more than these


def split_values(values: Iterable[str]) -> list[str]:
    """The parts of repeated and comma-separated values, whitespace collapsed, empties dropped."""
    parts = (" ".join(part.split()) for value in values for part in value.split(","))
    return [part for part in parts if part]


def who(part: str) -> Who:
    """One agent or group value as the filter holds it: None, an id, or a lower-cased name."""
    lowered = part.lower()
    if lowered in UNASSIGNED_WORDS:
        return None
    if lowered.isascii() and lowered.isdigit() and len(lowered) <= MAX_ID_DIGITS:
        return int(lowered)
    return lowered[:MAX_NAME]  # a name (a 5,000-digit "id" matches nothing, and costs nothing)


def _who(values: Iterable[str]) -> frozenset[Who]:
    return frozenset(who(part) for part in split_values(values))


def _matches(wanted: frozenset[Who], ident: int | None, name: str) -> bool:
    return ident in wanted or (bool(name) and name.lower() in wanted)


@dataclass(frozen=True, slots=True)
class RowFilter:
    agents: frozenset[Who] = frozenset()
    groups: frozenset[Who] = frozenset()
    sections: frozenset[str] = frozenset()

    @classmethod
    def from_args(cls, getlist: Callable[[str], list[str]], *, strict: bool = True) -> RowFilter:
        """Build from a MultiDict-like `getlist(name)`. An unknown section raises BadFilter, or
        with `strict=False` is left out (no known section left: every section is shown)."""
        sections: set[str] = set()
        for part in split_values(getlist("section")):
            part = part.lower()
            if part in SECTIONS:
                sections.add(part)
            elif strict:
                raise BadFilter(f"section must be one of {', '.join(SECTIONS)}")
        return cls(
            agents=_who(getlist("agent")),
            groups=_who(getlist("group")),
            sections=frozenset(sections),
        )

    def shows(self, row: dict[str, Any] | None) -> bool:
        if row is None:
            return False
        if self.sections and row["section"] not in self.sections:
            return False
        if self.agents and not _matches(self.agents, row["agent_id"], row["agent"]):
            return False
        return not (self.groups and not _matches(self.groups, row["group_id"], row["group"]))

    def to_json(self) -> dict[str, list[Any]]:
        return {
            "agent": sorted(self.agents, key=_order),
            "group": sorted(self.groups, key=_order),
            "section": sorted(self.sections),
        }


def _order(value: Who) -> tuple[int, str]:
    if value is None:
        return (0, "")
    return (1, f"{value:020d}") if isinstance(value, int) else (2, value)
