"""The board right now, counted: tickets per section and per SLA state, and unassigned ones.

Kept by owner (group, agent) and section, and moved by the board's own `Change`s (old row, new
row), so one ticket changing is one decrement and one increment; a filtered view sums the few
(owner, section) cells it matches. The same cells, sampled, are the trend (app.live.trend_store).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.rules.categorise import SECTIONS
from app.rules.rows import Change, Row
from app.rules.today import Owner

SLA_COUNTED = ("overdue", "critical", "warning")
NOW_FIELDS = ("open", "waiting", "other", *SLA_COUNTED, "unassigned")

Cell = tuple[int | None, int | None, str]  # (group_id, agent_id, section)


@dataclass
class Tally:
    tickets: int = 0
    overdue: int = 0
    critical: int = 0
    warning: int = 0

    def add(self, row: Row, sign: int) -> None:
        self.tickets += sign
        sla = row["sla"]
        if sla == "overdue":
            self.overdue += sign
        elif sla == "critical":
            self.critical += sign
        elif sla == "warning":
            self.warning += sign


def cell_of(row: Row) -> Cell:
    return (row["group_id"], row["agent_id"], row["section"])


class NowCounts:
    def __init__(self) -> None:
        self.cells: dict[Cell, Tally] = {}
        self.total: dict[str, int] = dict.fromkeys(NOW_FIELDS, 0)  # every cell, kept as they move
        self.version = 0

    def reset(self, rows: Iterable[Row]) -> None:
        self.cells = {}
        self.total = dict.fromkeys(NOW_FIELDS, 0)
        for row in rows:
            self._add(row, 1)
        self.version += 1

    def apply(self, changes: Iterable[Change]) -> None:
        for change in changes:
            if change.old is not None:
                self._add(change.old, -1)
            if change.new is not None:
                self._add(change.new, 1)
            self.version += 1

    def _add(self, row: Row, sign: int) -> None:
        cell = cell_of(row)
        tally = self.cells.get(cell)
        if tally is None:
            tally = self.cells[cell] = Tally()
        tally.add(row, sign)
        total = self.total
        total[cell[2]] = total.get(cell[2], 0) + sign
        if row["sla"] in SLA_COUNTED:
            total[row["sla"]] += sign
        if cell[1] is None:
            total["unassigned"] += sign
        if tally.tickets == 0:
            del self.cells[cell]

    def numbers(self, cells: Callable[[Cell], bool] | None = None) -> dict[str, Any]:
        """The counts of every cell, or of the cells `cells` accepts."""
        if cells is None:
            return {k: self.total[k] for k in NOW_FIELDS}
        out = dict.fromkeys(NOW_FIELDS, 0)
        for cell, tally in self.cells.items():
            if not cells(cell):
                continue
            out[cell[2]] += tally.tickets
            out["overdue"] += tally.overdue
            out["critical"] += tally.critical
            out["warning"] += tally.warning
            if cell[1] is None:
                out["unassigned"] += tally.tickets
        return out

    def sample(self) -> list[tuple[Owner, str, int, int]]:
        """(owner, section, tickets, overdue) of every cell: one trend sample."""
        return [
            ((g, a), section, t.tickets, t.overdue)
            for (g, a, section), t in sorted(self.cells.items(), key=lambda kv: _cell_order(kv[0]))
            if section in SECTIONS
        ]


def _cell_order(cell: Cell) -> tuple[int, int, str]:
    return (cell[0] if cell[0] is not None else -1, cell[1] if cell[1] is not None else -1, cell[2])
