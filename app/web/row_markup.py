"""Each row's markup for the first paint, rendered once per change of the row, shared by every
page of every filter.

A page of 5,000 tickets rendered row by row is a third of a second of Jinja, per filter and per
change, holding the GIL all along (a worker thread does not spare the event loop much: it waits
for the GIL at every step). A row's markup changes only when the row does, except two texts that
depend on the clock: the SLA countdown and "updated … ago". So templates/_row.html renders each
changed row once, with markers where those texts go; the row is kept as three pieces of UTF-8,
and a page's rows are those pieces joined with the texts of its moment (bytes, ready to send).

The markers are random per process: a ticket's text comes from anyone who can send an email and
must never be able to end a piece where a marker would.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from jinja2 import Environment, Template
from markupsafe import Markup, escape

from app.rules.rows import Row
from app.web.render import ago, countdown

# Pieces kept beyond the board's rows before the ones of rows that changed or left are dropped.
SLACK = 256
# Clock texts kept escaped (there are a few thousand different ones at most; "" is one too).
MAX_TEXTS = 20_000


class RowMarkup:
    def __init__(self, env: Environment) -> None:
        self._env = env
        self._template: Template | None = None
        self._token = secrets.token_hex(8)
        self._sla_mark = self.marker("sla")
        self._updated_mark = self.marker("updated")
        self._row_end = self.marker("row")
        # ticket id -> (the row the pieces were made from, its three pieces)
        self._pieces: dict[int, tuple[Row, tuple[bytes, bytes, bytes]]] = {}
        self._texts: dict[str, bytes] = {}  # a clock text -> its escaped UTF-8
        self.rendered = 0  # rows rendered so far (tests read it)

    def marker(self, name: str) -> str:
        """A marker no ticket text can forge: NULs around `name` and this process's token."""
        return f"\x00{name}-{self._token}\x00"

    def rows_html(self, rows: Sequence[Row], now: float) -> bytes:
        """These rows' markup at `now`, one per line, UTF-8. Not thread-safe: one page at a time.

        The clock's texts are few and repeat ("FR due in 2 h", "12 m ago"): each is escaped and
        encoded once (app.web.render writes "< 1 m")."""
        pieces = self._pieces
        texts = self._texts
        if len(texts) > MAX_TEXTS:
            texts.clear()
        stale = [
            row for row in rows if (kept := pieces.get(row["id"])) is None or kept[0] is not row
        ]
        if stale:
            self._render(stale)
        out: list[bytes] = []
        add = out.append
        for row in rows:
            head, middle, tail = pieces[row["id"]][1]
            add(head)
            text = countdown(row, now)
            add(texts.get(text) or texts.setdefault(text, str(escape(text)).encode()))
            add(middle)
            text = ago(row.get("updated_at"), now)
            add(texts.get(text) or texts.setdefault(text, str(escape(text)).encode()))
            add(tail)
        return b"".join(out)

    def forget_gone(self, current: Mapping[int, Row]) -> None:
        """Drop the pieces of rows that changed or left the board, once they outnumber it."""
        if len(self._pieces) > len(current) + SLACK:
            self._pieces = {
                ident: kept for ident, kept in self._pieces.items() if current.get(ident) is kept[0]
            }

    def _render(self, rows: list[Row]) -> None:
        if self._template is None:
            self._template = self._env.get_template("_rows.html")
        # One render for all of them: in an async environment each render() runs an event loop.
        text = self._template.render(
            rows=rows,
            sla_mark=Markup(self._sla_mark),
            updated_mark=Markup(self._updated_mark),
            row_end=Markup(self._row_end),
        )
        made = text.split(self._row_end)
        if len(made) != len(rows) + 1:
            raise RuntimeError(f"rendered {len(made) - 1} rows for {len(rows)}")
        for row, html in zip(rows, made, strict=False):
            head, rest = html.split(self._sla_mark)
            middle, tail = rest.split(self._updated_mark)
            pieces = (head.encode(), middle.encode(), (tail + "\n").encode())
            self._pieces[row["id"]] = (row, pieces)
        self.rendered += len(rows)
