"""The routes: the page, the stream and the board as JSON (`/healthz` is in app/health.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from quart import Blueprint, Response, current_app, jsonify, render_template, request

from app.hub import CLOSE, RESYNC
from app.live import LiveBoard
from app.sse import encode_event
from app.view import BadFilter, View

board_views = Blueprint("board", __name__)

KEEP_ALIVE = b": ok\n\n"


def live_board() -> LiveBoard:
    return current_app.extensions["ticket_dash"]  # type: ignore[no-any-return]


def _view() -> View:
    return View.from_args(request.args.getlist)


@board_views.errorhandler(BadFilter)
async def bad_filter(exc: BadFilter) -> tuple[Response, int]:
    return jsonify({"error": str(exc)}), 400


@board_views.get("/")
async def page() -> str:
    live = live_board()
    view = _view()
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
    return jsonify(live_board().snapshot(_view()))


@board_views.get("/events")
async def events() -> Response:
    live = live_board()
    view = _view()
    stream = _stream(live, view)
    response = Response(
        stream,
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    response.timeout = None  # a stream lives as long as the TV is on
    return response


async def _stream(live: LiveBoard, view: View) -> AsyncIterator[bytes]:
    """One client's stream: a snapshot, then patches, heartbeats, and snapshots on resync.

    Subscribing and taking the snapshot happen with no await in between, so no patch can fall
    between them. A reconnect (with or without Last-Event-ID) always starts with a snapshot: it
    is small next to the risk of patching a page from a gap.
    """
    sub = live.hub.subscribe(view)
    heartbeat = live.settings.heartbeat_seconds
    try:
        item: object = live.snapshot_event(view)
        while True:
            if item is CLOSE:
                return
            if item is RESYNC:
                item = live.snapshot_event(view)
            assert isinstance(item, bytes)
            live.hub.count_sent(item)
            big = len(item) > 4096
            yield item
            if big:
                # The ASGI server keeps the last chunk alive until the next one: send a tiny
                # comment so a 5 MB snapshot is not held per client (768 KiB → 41 KiB a client).
                del item
                yield KEEP_ALIVE
            try:
                async with asyncio.timeout(heartbeat):  # no extra task, unlike wait_for on 3.11
                    item = await sub.queue.get()
            except TimeoutError:
                item = encode_event("heartbeat", {"server_time": live.clock()}, comment="heartbeat")
    finally:
        # Runs on disconnect (GeneratorExit / CancelledError, which propagate) and on CLOSE.
        with contextlib.suppress(Exception):
            live.hub.unsubscribe(sub)
