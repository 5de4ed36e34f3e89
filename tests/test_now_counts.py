"""The board-now counts follow the board's changes, in total and per filter."""

from __future__ import annotations

import random

from app.rules.now_counts import NOW_FIELDS, NowCounts
from app.rules.rows import Change


def row(ident: int, rng: random.Random) -> dict:
    return {
        "id": ident,
        "section": rng.choice(("open", "waiting", "other")),
        "sla": rng.choice(("overdue", "critical", "warning", "normal", "none")),
        "group_id": rng.choice((None, 1, 2)),
        "agent_id": rng.choice((None, 5, 6)),
    }


def test_counts_follow_changes_and_the_total_equals_the_sum_of_cells() -> None:
    rng = random.Random(5)
    counts = NowCounts()
    board: dict[int, dict] = {}
    for _ in range(2000):
        ident = rng.randint(1, 60)
        old = board.get(ident)
        new = None if rng.random() < 0.2 else row(ident, rng)
        if new is None:
            board.pop(ident, None)
        else:
            board[ident] = new
        counts.apply([Change(old, new)])
    expected = dict.fromkeys(NOW_FIELDS, 0)
    for r in board.values():
        expected[r["section"]] += 1
        if r["sla"] in ("overdue", "critical", "warning"):
            expected[r["sla"]] += 1
        expected["unassigned"] += r["agent_id"] is None
    assert counts.numbers() == expected
    assert counts.numbers(lambda cell: True) == expected
    group_one = counts.numbers(lambda cell: cell[0] == 1)
    assert group_one["open"] == sum(
        1 for r in board.values() if r["group_id"] == 1 and r["section"] == "open"
    )
