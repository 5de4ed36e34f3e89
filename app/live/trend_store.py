"""The last hours of the board, sampled: an SQLite file in `state_dir` that survives restarts.

Every `trend_sample_minutes` the board writes one sample: for each (group, agent, section) cell,
its tickets and how many are overdue. Sample times are aligned to the period (a sample at
10:15:00 stands for the board at 10:15), so workers of one board (`-w N`) write the same rows for
the same time: a sample replaces any earlier one at its time, in one transaction, and SQLite's
WAL mode with a busy timeout lets them take turns. A period with no sample (the board was down)
stays a gap: `sampled` lists the times a sample was taken, even of an empty board.

Without `state_dir` the same samples are kept in memory only, so the trend starts empty.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from app.rules.today import Owner

log = logging.getLogger("ticket_dash.trend")

FILE_NAME = "trend.sqlite3"

SampleRow = tuple[Owner, str, int, int]  # (owner, section, tickets, overdue)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sampled (t INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS cells (
    t INTEGER NOT NULL,
    group_id INTEGER,
    agent_id INTEGER,
    section TEXT NOT NULL,
    tickets INTEGER NOT NULL,
    overdue INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cells_by_time ON cells (t);
"""


class TrendStore:
    """The samples on disk. Every method blocks (call it in a thread); none raises: a store
    that fails is logged and the board keeps its samples in memory."""

    def __init__(self, state_dir: str) -> None:
        self.path = Path(state_dir) / FILE_NAME if state_dir else None
        self._db: sqlite3.Connection | None = None
        self.problem: str | None = None

    def open(self) -> bool:
        if self.path is None:
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            db.commit()
        except (OSError, sqlite3.Error) as exc:
            self._fail("cannot open", exc)
            return False
        self._db = db
        return True

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def load(self, since: int) -> dict[int, list[SampleRow]]:
        """Every sample from `since` on, by time (a time with an empty list: an empty board)."""
        if self._db is None:
            return {}
        try:
            samples: dict[int, list[SampleRow]] = {
                t: [] for (t,) in self._db.execute("SELECT t FROM sampled WHERE t >= ?", (since,))
            }
            for t, group, agent, section, tickets, overdue in self._db.execute(
                "SELECT t, group_id, agent_id, section, tickets, overdue FROM cells"
                " WHERE t >= ? ORDER BY t",
                (since,),
            ):
                if t in samples:
                    samples[t].append(((group, agent), section, tickets, overdue))
        except sqlite3.Error as exc:
            self._fail("cannot read", exc)
            return {}
        return samples

    def save(self, t: int, rows: list[SampleRow], keep_since: int) -> None:
        """Write the sample at `t` (replacing one another worker wrote) and drop samples older
        than `keep_since`."""
        if self._db is None:
            return
        try:
            with self._db:  # one transaction
                self._db.execute("DELETE FROM cells WHERE t = ? OR t < ?", (t, keep_since))
                self._db.execute("DELETE FROM sampled WHERE t < ?", (keep_since,))
                self._db.execute("INSERT OR REPLACE INTO sampled (t) VALUES (?)", (t,))
                self._db.executemany(
                    "INSERT INTO cells (t, group_id, agent_id, section, tickets, overdue)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(t, g, a, section, n, overdue) for (g, a), section, n, overdue in rows],
                )
        except sqlite3.Error as exc:
            self._fail("cannot write", exc)
            return
        if self.problem is not None:
            log.warning("the trend store %s works again", self.path)
            self.problem = None

    def _fail(self, what: str, exc: Exception) -> None:
        problem = f"{what} the trend store {self.path}: {exc}"
        if problem != self.problem:
            log.error("%s; the trend is kept in memory only", problem)
        self.problem = problem
