"""The board's routes: the page, the stream and the board as JSON.

(`/healthz` is app.web.health, `/metrics` app.web.metrics.)
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, render_template, request

from app.live.state import LiveState
from app.rules.filters import BadFilter, RowFilter
from app.web.board_app import current_board

board_views = Blueprint("board", __name__)


def _filter() -> RowFilter:
    return RowFilter.from_args(request.args.getlist)


def _live() -> LiveState:
    return current_board().live


@board_views.errorhandler(BadFilter)
async def bad_filter(exc: BadFilter) -> tuple[Response, int]:
    return jsonify({"error": str(exc)}), 400


@board_views.get("/")
async def page() -> str:
    live = _live()
    view = _filter()
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
        title="Ticket Dash",
    )


@board_views.get("/api/tickets")
async def tickets_json() -> Response:
    return jsonify(_live().snapshot(_filter()))


@board_views.get("/events")
async def events() -> Response:
    response = Response(
        _live().stream(_filter()),
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    response.timeout = None  # a stream lives as long as the TV is on
    return response
