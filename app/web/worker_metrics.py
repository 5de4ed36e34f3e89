"""What each board process counts on its own — streams, bytes, resyncs, logins — as
prometheus-client metrics that add up across workers.

With `-w N` the kernel spreads the TVs over N processes, and a scrape reaches one of them; so
these numbers go through prometheus-client's multiprocess mode: each process writes its values
to files in `PROMETHEUS_MULTIPROC_DIR` (set by `python -m app` for its workers, under the
runtime directory), and the process that answers the scrape adds them up. Gauges are `livesum`
(a stopped worker no longer counts), counters sum over every process that ever ran. With one
process the same metrics live in the app's own registry.

The values are copied from the live state by `sample()`: once a second, and just before a scrape
is answered, as deltas for the counters; nothing on the hot path of a patch touches a metric.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge

from app.live.state import LiveState
from app.web.logins import AdminLogins

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class WorkerMetrics:
    def __init__(self, live: LiveState, logins: AdminLogins, registry: CollectorRegistry) -> None:
        self.live = live
        self.logins = logins
        # In multiprocess mode the values go to files, not to a registry: register nowhere.
        target = None if multiprocess() else registry
        self.clients = Gauge(
            "ticket_dash_sse_clients",
            "Open event streams.",
            registry=target,
            multiprocess_mode="livesum",
        )
        self.queued = Gauge(
            "ticket_dash_sse_queued_bytes",
            "Bytes of events waiting for slow clients (bounded by max_queued_bytes).",
            registry=target,
            multiprocess_mode="livesum",
        )
        self.waiting = Gauge(
            "ticket_dash_sse_waiting_for_snapshot",
            "New streams waiting for a snapshot slot (app.stream.gate).",
            registry=target,
            multiprocess_mode="livesum",
        )
        self.events = Counter(
            "ticket_dash_sse_events_sent", "Events sent to clients.", registry=target
        )
        self.bytes = Counter("ticket_dash_sse_bytes_sent", "Event bytes sent.", registry=target)
        self.resyncs = Counter("ticket_dash_sse_resyncs", "Slow clients resynced.", registry=target)
        self.slots_expired = Counter(
            "ticket_dash_sse_snapshot_slots_expired",
            "Snapshot slots given back because the client took its snapshot too slowly.",
            registry=target,
        )
        self.login_failures = Counter(
            "ticket_dash_admin_login_failures", "Failed admin logins.", registry=target
        )
        self.login_throttled = Counter(
            "ticket_dash_admin_login_throttled",
            "Admin logins answered 429 (throttled or too many waiting).",
            registry=target,
        )
        self._seen = (0, 0, 0, 0, 0, 0)

    def sample(self) -> None:
        hub = self.live.hub
        gate = self.live.gate
        self.clients.set(hub.client_count)
        self.queued.set(hub.queued_bytes)
        self.waiting.set(gate.waiting)
        now = (
            hub.stats.events_sent,
            hub.stats.bytes_sent,
            hub.stats.resyncs,
            gate.timed_out,
            self.logins.failed,
            self.logins.throttled,
        )
        counters = (
            self.events,
            self.bytes,
            self.resyncs,
            self.slots_expired,
            self.login_failures,
            self.login_throttled,
        )
        for counter, value, seen in zip(counters, now, self._seen, strict=True):
            if value > seen:
                counter.inc(value - seen)
        self._seen = now
