"""The board's first paint: templates/board.html around rows from app.web.row_markup.

The template renders the page without its rows, with a marker where each section's rows go; the
page is then that shell's UTF-8 with the rows' bytes put in at the markers. So a page of 5,000
tickets costs the rows that changed since the last page, plus a join: ~10 ms, not a third of a
second (bench/bench_abuse.py (b), docs/benchmarks.md).

`render` is synchronous: call it in a worker thread (Jinja runs its own event loop for an async
environment). The page cache renders one page at a time, so the row pieces are never shared
between two threads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from app.rules.rows import Row
from app.web.row_markup import RowMarkup


class BoardPage:
    def __init__(self, env: Environment) -> None:
        self._env = env
        self.rows = RowMarkup(env)

    def render(
        self, context: Mapping[str, Any], board_rows: Mapping[int, Row] | None = None
    ) -> bytes:
        """The page for `context` (sections of rows, `now`, the status; see app.web.routes), as
        UTF-8. `board_rows`: every row on the board, to forget the pieces of rows gone from it."""
        sections: Mapping[str, list[Row]] = context["sections"]
        marks = {key: self.rows.marker(f"rows-{key}") for key in sections}
        shell = self._env.get_template("board.html").render(
            {**context, "rows_html": {key: Markup(mark) for key, mark in marks.items()}}
        )
        parts: list[bytes] = []
        rest = shell.encode("utf-8")
        for key, rows in sections.items():
            mark = marks[key].encode()
            if mark not in rest:
                continue  # a section this view does not draw
            before, rest = rest.split(mark, 1)
            parts += (before, self.rows.rows_html(rows, context["now"]))
        parts.append(rest)
        if board_rows is not None:
            self.rows.forget_gone(board_rows)
        return b"".join(parts)
