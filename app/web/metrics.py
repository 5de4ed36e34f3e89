"""`/metrics` in the Prometheus text format, read from the live board at scrape time.

One registry per app (no globals): a custom collector turns the LiveBoard's counters into
metrics. `metrics_asgi` serves the same registry on its own address (`metrics_bind`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from hypercorn.typing import ASGIFramework, ASGIReceiveCallable, ASGISendCallable, Scope
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from quart import Blueprint, Response

from app.live.state import LiveState
from app.web.board_app import current_board
from app.web.health import seconds_since_sync
from app.web.security import admins_only

metrics_views = Blueprint("metrics", __name__)


class BoardCollector(Collector):
    def __init__(self, live: LiveState) -> None:
        self.live = live

    def collect(self) -> Iterator[Metric]:
        live = self.live
        hub = live.hub
        yield GaugeMetricFamily(
            "ticket_dash_sse_clients", "Open event streams.", value=hub.client_count
        )
        yield CounterMetricFamily(
            "ticket_dash_sse_events_sent", "Events sent to clients.", value=hub.stats.events_sent
        )
        yield CounterMetricFamily(
            "ticket_dash_sse_bytes_sent", "Event bytes sent.", value=hub.stats.bytes_sent
        )
        yield CounterMetricFamily(
            "ticket_dash_sse_resyncs", "Slow clients resynced.", value=hub.stats.resyncs
        )
        yield GaugeMetricFamily(
            "ticket_dash_sse_queued_bytes",
            "Bytes of events waiting for slow clients (bounded by max_queued_bytes).",
            value=hub.queued_bytes,
        )
        tickets = GaugeMetricFamily(
            "ticket_dash_tickets", "Tickets on the board by section.", labels=["section"]
        )
        for section, count in live.board.counts().items():
            tickets.add_metric([section], count)
        yield tickets
        yield GaugeMetricFamily(
            "ticket_dash_malformed_files",
            "Ticket files skipped as malformed.",
            value=len(live.folder.malformed.reasons),
        )
        age = seconds_since_sync(live)
        yield GaugeMetricFamily(
            "ticket_dash_seconds_since_last_sync",
            "Seconds since the watcher's last successful sync (NaN: never).",
            value=math.nan if age is None else age,
        )
        yield from _watcher_metrics(live)


API_COUNTERS = (
    ("api_calls", "ticket_dash_freshservice_api_calls", "Freshservice API calls."),
    ("rate_limited", "ticket_dash_freshservice_rate_limited", "Freshservice 429 answers."),
)


def _watcher_metrics(live: LiveState) -> Iterator[Metric]:
    status = live.watcher_status
    yield GaugeMetricFamily(
        "ticket_dash_watcher_error",
        "1 when the watcher's last cycle failed.",
        value=1 if status is not None and status.last_error else 0,
    )
    if status is None:
        return
    # The Freshservice watcher counts its calls and 429s in the status file's `counts`.
    numbers: dict[str, float] = {
        str(k): v
        for k, v in (status.counts or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    for key, name, doc in API_COUNTERS:
        if key in numbers:
            yield CounterMetricFamily(name, doc, value=numbers.pop(key))
    counts = GaugeMetricFamily(
        "ticket_dash_watcher_count", "The watcher's own counts.", labels=["name"]
    )
    for key, value in numbers.items():
        counts.add_metric([key], value)
    yield counts


def make_registry(live: LiveState) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BoardCollector(live))
    return registry


@metrics_views.get("/metrics")
async def metrics() -> Response:
    refused = admins_only()
    if refused is not None:
        return refused
    registry = current_board().metrics_registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def metrics_asgi(registry: CollectorRegistry) -> ASGIFramework:
    """A tiny ASGI app: GET /metrics and nothing else, for the separate `metrics_bind`."""

    async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["path"] == "/metrics" and scope["method"] in ("GET", "HEAD"):
            status, body, ctype = 200, generate_latest(registry), CONTENT_TYPE_LATEST
        else:
            status, body, ctype = 404, b"not found\n", "text/plain; charset=utf-8"
        headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": headers,
                "trailers": False,
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": b"" if scope["method"] == "HEAD" else body,
                "more_body": False,
            }
        )

    return app
