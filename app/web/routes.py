"""The board's routes: the page, the stream, the board as JSON, and the view check.

(`/healthz` is app.web.health, `/metrics` app.web.metrics.)

The page and its stream parse the filters leniently: a TV with a typo in its URL still shows the
board, and the page names the value it did not understand (app.rules.view_check) instead of
answering 400. `/api/tickets` stays strict for scripts.
"""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from quart import Blueprint, Response, jsonify, request

from app.live.state import LiveState
from app.rules.filters import BadFilter, RowFilter
from app.rules.view_check import unknown_values
from app.web.board_app import current_board
from app.web.security import admins_only, admitted_under, current_viewer
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
async def page() -> Response:
    board = current_board()
    live = board.live
    view = _filter(strict=False)
    wall, _ = WallOptions.from_args(request.args.getlist)
    query = request.query_string.decode("latin-1")
    key = (view, query)
    version = (live.seq, live.status_seq, live.asset_version)

    async def render() -> bytes:
        snap = live.snapshot(view)
        rows = live.board.rows
        context = {
            "sections": snap["sections"],
            "now": snap["server_time"],
            "watcher": snap["watcher"],
            "malformed": snap["malformed"],
            "problem": snap["problem"],
            "stale_after_seconds": snap["stale_after_seconds"],
            "heartbeat_seconds": live.settings.heartbeat_seconds,
            "query_string": query,
            "filters": view.to_json(),
            "unknown": _unknown(live),
            "summary": snap["summary"],
            "wall": wall,
            "title": "Ticket Dash",
        }

        def render_page() -> bytes:
            return board.board_page.render(context, rows)

        # Jinja's sync render of an async environment runs its own loop: fine in a thread,
        # which copies this request's context (url_for works there). The template uses only
        # this context and the environment's globals, so Quart's context processors (g,
        # request, session; their API differs between Quart releases) are not needed. The page
        # is encoded there too, once, not per response.
        return await asyncio.to_thread(render_page)

    html = await board.page_cache.get(key, version, render)
    return Response(html, content_type="text/html; charset=utf-8")


@board_views.get("/api/tickets")
async def tickets_json() -> Response:
    return jsonify(_live().snapshot(_filter()))


@board_views.get("/api/summary")
async def summary_json() -> Response:
    """Today's numbers, the board now and the last 24 hours, for this view (docs/stream.md)."""
    return jsonify(_live().summary.for_view(_filter()))


@board_views.get("/api/view")
async def view_check() -> Response:
    """What the page's banner says: the query's values the board does not know (may be [])."""
    return jsonify({"unknown": _unknown(_live())})


@board_views.get("/metrics")
async def metrics() -> Response:
    """Prometheus metrics, for admins (see app.web.metrics)."""
    refused = admins_only()
    if refused is not None:
        return refused
    return Response(current_board().metrics.render(), content_type=CONTENT_TYPE_LATEST)


STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


@board_views.get("/events")
async def events() -> Response:
    view = _filter(strict=False)
    if request.method == "HEAD":  # the headers a GET would have, and an end
        return Response(
            b"", content_type="text/event-stream; charset=utf-8", headers=STREAM_HEADERS
        )
    viewer = current_viewer()
    tag = viewer.tag if viewer is not None else ""
    board = current_board()
    live = board.live
    cap = live.settings.max_streams_per_login
    if viewer is not None and viewer.kind in ("kiosk", "admin") and cap > 0:
        if live.hub.streams_by_tag[tag] >= cap:
            return Response(
                f"This login already has {cap} open streams.\n",
                status=429,
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": "10"},
            )
    admission = live.hub.admit(tag)  # no await since the check: the count is exact
    let_in_under = admitted_under() or board.access
    addr = request.remote_addr or ""

    def still_allowed() -> bool:
        """Checked once the stream has its snapshot slot (a key revoked while it waited in
        app.stream.gate gets nothing) and at every reload: the viewer's key or password, and
        its network, must still be let in."""
        now = board.access
        if now.enabled and not now.client_allowed(addr):
            return False
        return viewer is None or viewer.still_allowed(let_in_under, now)

    response = Response(
        live.stream(view, tag, admission, still_allowed),
        content_type="text/event-stream; charset=utf-8",
        headers=STREAM_HEADERS,
    )
    response.timeout = None  # a stream lives as long as the TV is on
    return response
