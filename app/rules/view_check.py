"""Filter values in a TV's URL that the board does not know: said out loud, not an empty board.

A typo (`/?group=Netwrok`) would otherwise look exactly like an all-clear. An agent or group value
is known when mappings/ names it (by id or by name, any case) or a ticket on the board carries it;
`none`/`0`/`unassigned` always are. A section is known when it is one of SECTIONS. The page names
each unknown value in a banner with the known choices, and asks again (`/api/view`) until the
name appears, so the banner goes away by itself once mappings/ has it.

At most MAX_UNKNOWN values per parameter are named (a person fixes those, then sees the next):
a URL with a thousand made-up names cost half a second of the event loop per request.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.contract.mappings import Names
from app.rules.categorise import SECTIONS
from app.rules.filters import split_values, who
from app.rules.rows import Row

MAX_CHOICES = 12  # a banner a person can read; the rest is "and N more"
MAX_VALUE_CHARS = 80
MAX_UNKNOWN = 10  # unknown values named per parameter (each costs a fuzzy match over the choices)


@dataclass(frozen=True, slots=True)
class UnknownValue:
    param: str  # agent | group | section | a page option (density, dwell, sound)
    value: str  # as the URL has it (whitespace collapsed, shortened)
    choices: tuple[str, ...]  # what would work, at most MAX_CHOICES
    more: int = 0  # choices left out
    suggestion: str | None = None  # the closest choice, if one is close

    @property
    def message(self) -> str:
        """One line for the banner: what was not understood, the closest choice, the choices."""
        text = f"{self.param} “{self.value}” is not known."
        if self.suggestion:
            text += f" Did you mean “{self.suggestion}”?"
        if self.choices:
            text += " Known: " + ", ".join(self.choices)
            text += f" and {self.more} more." if self.more else "."
        else:
            text += f" No {self.param} names are known yet (mappings/)."
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "param": self.param,
            "value": self.value,
            "choices": list(self.choices),
            "more": self.more,
            "suggestion": self.suggestion,
            "message": self.message,
        }


def unknown_value(param: str, value: str, choices: Iterable[str]) -> UnknownValue:
    """An unknown `value` for `param`, with the choices sorted (any case) and the closest one."""
    ordered = sorted(set(choices), key=lambda c: (c.lower(), c))
    by_lower = {c.lower(): c for c in ordered}
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.6)
    return UnknownValue(
        param=param,
        value=value[:MAX_VALUE_CHARS],
        choices=tuple(ordered[:MAX_CHOICES]),
        more=max(0, len(ordered) - MAX_CHOICES),
        suggestion=by_lower[close[0]] if close else None,
    )


def _people(
    param: str,
    values: list[str],
    mapped: Mapping[int, str],
    seen: list[tuple[int | None, str]],
) -> list[UnknownValue]:
    known_ids = set(mapped) | {ident for ident, _ in seen if ident is not None}
    labels = {name for name in mapped.values() if name} | {name for _, name in seen if name}
    known_names = {name.lower() for name in labels}
    out: list[UnknownValue] = []
    for part in values:
        wanted = who(part)
        if wanted is None or wanted in known_ids or wanted in known_names:
            continue
        out.append(unknown_value(param, part, labels))
        if len(out) == MAX_UNKNOWN:
            break
    return out


def unknown_values(
    getlist: Callable[[str], list[str]], names: Names, rows: Iterable[Row]
) -> list[UnknownValue]:
    """Every agent, group and section value in the query that matches nothing known, in order."""
    rows = list(rows)
    out = _people(
        "agent",
        _unique(split_values(getlist("agent"))),
        names.agents,
        [(r["agent_id"], r["agent"]) for r in rows],
    )
    out += _people(
        "group",
        _unique(split_values(getlist("group"))),
        names.groups,
        [(r["group_id"], r["group"]) for r in rows],
    )
    sections = [p for p in _unique(split_values(getlist("section"))) if p.lower() not in SECTIONS]
    out += [unknown_value("section", part, SECTIONS) for part in sections[:MAX_UNKNOWN]]
    return out


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        if value.lower() not in seen:
            seen.add(value.lower())
            out.append(value)
    return out
