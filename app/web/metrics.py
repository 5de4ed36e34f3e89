"""`/metrics` in the Prometheus text format.

Two kinds of numbers. What every board process knows alike — tickets per section, malformed
files, the watcher's status — is read from the live state of the process that answers, at scrape
time (`BoardCollector`). What each process counts on its own — streams, bytes, logins — is in
app.web.worker_metrics, added up over all workers with `-w N`. `metrics_asgi` serves the same on
its own address (`metrics_bind`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from hypercorn.typing import ASGIFramework, ASGIReceiveCallable, ASGISendCallable, Scope
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from app.live.state import LiveState
from app.rules.filters import RowFilter
from app.web.worker_metrics import WorkerMetrics, multiprocess


class BoardCollector(Collector):
    """The board's state as the answering process sees it (the same in every worker)."""

    def __init__(self, live: LiveState) -> None:
        self.live = live

    def collect(self) -> Iterator[Metric]:
        live = self.live
        tickets = GaugeMetricFamily(
            "ticket_dash_tickets", "Tickets on the board by section.", labels=["section"]
        )
        for section, count in live.board.counts().items():
            tickets.add_metric([section], count)
        yield tickets
        yield GaugeMetricFamily(
            "ticket_dash_malformed_files",
            "Ticket, mapping and status files skipped as malformed.",
            value=len(live.folder.malformed.reasons),
        )
        yield GaugeMetricFamily(
            "ticket_dash_board_problem",
            "1 while the board cannot see changes (folder watch down, folder stalled).",
            value=0 if live.problem() is None else 1,
        )
        age = live.seconds_since_sync()
        yield GaugeMetricFamily(
            "ticket_dash_seconds_since_last_sync",
            "Seconds since the watcher's last successful sync (NaN: never).",
            value=math.nan if age is None else age,
        )
        yield from _watcher_metrics(live)
        yield from _summary_metrics(live)


def _summary_metrics(live: LiveState) -> Iterator[Metric]:
    summary = live.summary.for_view(RowFilter())
    today = GaugeMetricFamily(
        "ticket_dash_today",
        "Today's numbers (the board's time zone): created, resolved, fr_breached, "
        "resolution_breached, median_first_response_seconds (NaN: none yet).",
        labels=["measure"],
    )
    for measure, value in summary["today"].items():
        today.add_metric([measure], math.nan if value is None else value)
    yield today
    now = GaugeMetricFamily(
        "ticket_dash_now",
        "The board now: tickets per section, per SLA state, and unassigned.",
        labels=["measure"],
    )
    for measure, value in summary["now"].items():
        now.add_metric([measure], value)
    yield now


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


class Metrics:
    """The app's metrics: `render()` is a scrape's answer."""

    def __init__(
        self, live: LiveState, workers: WorkerMetrics, registry: CollectorRegistry
    ) -> None:
        self.live = live
        self.workers = workers
        self.registry = registry

    def render(self) -> bytes:
        self.workers.sample()  # this process's own numbers, fresh
        if not multiprocess():
            return generate_latest(self.registry)
        combined = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(combined)
        combined.register(BoardCollector(self.live))
        return generate_latest(combined)


def make_metrics(live: LiveState, workers: WorkerMetrics, registry: CollectorRegistry) -> Metrics:
    """The app's metrics (the registry already holds the per-worker ones, in one process)."""
    registry.register(BoardCollector(live))
    return Metrics(live, workers, registry)


def metrics_asgi(metrics: Metrics) -> ASGIFramework:
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
            status, body, ctype = 200, metrics.render(), CONTENT_TYPE_LATEST
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
