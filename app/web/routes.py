"""The board's routes: the page, the stream, the board as JSON, and the view check.

(`/healthz` is app.web.health, `/metrics` app.web.metrics.)

The page and its stream parse the filters leniently: a TV with a typo in its URL still shows the
board, and the page names the value it did not understand (app.rules.view_check) instead of
answering 400. `/api/tickets` stays strict for scripts.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify, render_template, request

from app.live.state import LiveState
from app.rules.filters import BadFilter, RowFilter
from app.rules.view_check import unknown_values
from app.web.board_app import current_board
from app.web.wall import WallOptions

board_views = Blueprint("board", __name__)


def _filter(*, strict: bool = True) -> RowFilter:
    return RowFilter.from_args(request.args.getlist, strict=strict)


def _live() -> LiveState:
    return current_board().live


def _unknown(live: LiveState) -> list[dict[str, Any]]:
    """Every value of this URL's query that the board does not know (filters and page options)."""
    found = unknown_values(request.args.getlist, live.names, live.board.rows.values())
    _, wall_problems = WallOptions.from_args(request.args.getlist)
    return [u.to_json() for u in found + wall_problems]


@board_views.errorhandler(BadFilter)
async def bad_filter(exc: BadFilter) -> tuple[Response, int]:
    return jsonify({"error": str(exc)}), 400


@board_views.get("/")
async def page() -> str:
    live = _live()
    view = _filter(strict=False)
    wall, _ = WallOptions.from_args(request.args.getlist)
    snap = live.snapshot(view)
    return await render_template(
        "board.html",
        sections=snap["sections"],
        now=snap["server_time"],
        watcher=snap["watcher"],
        malformed=snap["malformed"],
        stale_after_seconds=snap["stale_after_seconds"],
        heartbeat_seconds=live.settings.heartbeat_seconds,
        query_string=request.query_string.decode("latin-1"),
        filters=view.to_json(),
        unknown=_unknown(live),
        wall=wall,
        title="Ticket Dash",
    )


@board_views.get("/api/tickets")
async def tickets_json() -> Response:
    return jsonify(_live().snapshot(_filter()))


@board_views.get("/api/view")
async def view_check() -> Response:
    """What the page's banner says: the query's values the board does not know (may be [])."""
    return jsonify({"unknown": _unknown(_live())})


@board_views.get("/events")
async def events() -> Response:
    response = Response(
        _live().stream(_filter(strict=False)),
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    response.timeout = None  # a stream lives as long as the TV is on
    return response
