"""Serving the board with hypercorn from Python (`python -m app`), the way systemd runs it.

One process (`serve_board`): hypercorn on the bound sockets, the heartbeat that tells systemd
the board is ready and well (app.web.heartbeat), `systemctl reload` (SIGHUP: the settings file
and the mappings are read again, see `BoardApp.apply_settings`), and stopping. Several workers:
app.web.supervisor.

Stopping: on SIGTERM/SIGINT the live board first ends every open event stream, so hypercorn has no
long-lived connection left to wait for. On Python 3.12+ hypercorn 0.18 then waits for *every*
connection to close and ignores `graceful_timeout` (hypercorn issue #308), so a hard stop follows
`HARD_STOP_SECONDS` after the signal whatever is still open (a silent TLS handshake, a dead TV).
That is why the systemd unit runs `python -m app` and not the `hypercorn` command.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from typing import Any

from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Sockets
from hypercorn.typing import ASGIFramework

from app.settings import Settings, SettingsError, SettingsSource
from app.stream.memory import malloc_trim
from app.web import h2_flow
from app.web.board_app import BoardApp
from app.web.diagnostics import AllocationTracer
from app.web.heartbeat import DEFAULT_INTERVAL, heartbeat, systemd_beat
from app.web.listen import board_url, https_redirect, hypercorn_config, metrics_config
from app.web.metrics import metrics_asgi
from app.web.systemd import Notifier

log = logging.getLogger("ticket_dash.serve")

HARD_STOP_SECONDS = 3.0
# The cyclic garbage collector's thresholds while serving (CPython's are 700, 10, 10). Every
# change wakes every TV's stream, and what each holds until the next change (a future, a frame)
# survives the young collections, so with 5,000 TVs the defaults ran a dozen young collections
# per change and a full one (0.3-0.6 s over every client's objects) every few dozen changes:
# the slowest 5 % of deliveries took 0.6-0.7 s. With these, 0.24 s, and a third less CPU per
# change (bench/bench_fanout.py --clients 5000); memory is the same (docs/benchmarks.md).
GC_THRESHOLDS = (20_000, 20, 20)
# ...but with those thresholds a quiet board (a hundred TVs coming and going, a few changes a
# second) ran a full collection about once an hour, and the cyclic garbage of the connections
# that came and went (frames, exceptions, werkzeug's matcher) piled up until then: the soak saw
# the board's memory climb 3 MiB and drop back, an hour a tooth. A full collection every few
# minutes (the setting full_collection_seconds) bounds that pile. It costs 10 ms on a board of 200
# tickets, 15-20 ms on 5,000 (plus what each TV holds: 0.3-0.6 s with 5,000 TVs, whose changes
# run full collections every few minutes anyway).

h2_flow.apply()  # hypercorn's HTTP/2 write buffer must respect flow control (see h2_flow)


def run_event_loop(main: Coroutine[Any, Any, None], event_loop: str) -> None:
    """Run `main` on uvloop (the setting's default) or on asyncio's own loop."""
    gc.set_threshold(*GC_THRESHOLDS)
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if event_loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.warning("uvloop is not installed: running on asyncio's own event loop")
        else:
            factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


def _quieter_exceptions(
    loop: asyncio.AbstractEventLoop,
) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """The loop's exception handler, except that "accept() out of system resource" (a flood of
    connections took every file descriptor; the loop retries every second by itself) is logged
    once a minute with a count instead of a traceback per attempt, which filled the journal at
    megabytes a second."""
    last = [0.0, 0]  # when it was last logged, how many since

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if "out of system resource" not in message:
            loop.default_exception_handler(context)
            return
        last[1] += 1
        now = loop.time()
        if now - last[0] >= 60:
            exc = context.get("exception")
            log.error(
                "%s (%s), %d time(s) this minute: too many connections for the open-file limit",
                message,
                exc,
                last[1],
            )
            last[0], last[1] = now, 0

    return handle


def reload_settings(app: BoardApp, source: SettingsSource) -> None:
    """`systemctl reload`: read the settings again and take what can be taken live."""
    try:
        fresh = source.load()
        needs_restart = app.apply_settings(fresh)
    except SettingsError as exc:
        log.error("reload: %s; keeping the running settings", exc)
        return
    except Exception:
        log.exception("reload failed; keeping what was taken before the failure")
        return
    log.info("reload: settings read again")
    if needs_restart:
        log.warning(
            "reload: %s changed but take effect only after a restart "
            "(systemctl restart ticket-dash-board)",
            ", ".join(needs_restart),
        )


async def serve_board(
    app: BoardApp,
    settings: Settings,
    *,
    sockets: Sockets | None = None,
    metrics_sockets: Sockets | None = None,
    source: SettingsSource | None = None,
    notifier: Notifier | None = None,
    beat: Callable[[], None] | None = None,
    beat_interval: float | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT; return within HARD_STOP_SECONDS of the signal.

    `notifier` talks to systemd (one process); a worker gets `beat` instead (its supervisor
    talks to systemd).
    """
    live = app.live
    config = hypercorn_config(settings)
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_quieter_exceptions(loop))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, shutdown.set)
    tracer = AllocationTracer(settings.tracemalloc_frames)
    loop.add_signal_handler(signal.SIGUSR1, tracer.report)
    if source is not None:

        def on_hup() -> None:
            if notifier is not None:
                notifier.reloading()
            try:
                reload_settings(app, source)
            finally:  # `systemctl reload` waits for this, whatever the reload did
                if notifier is not None:
                    notifier.ready("serving")

        loop.add_signal_handler(signal.SIGHUP, on_hup)

    async def shutdown_trigger() -> None:
        await shutdown.wait()
        if notifier is not None:
            notifier.stopping()
        log.info("stopping: closing %d open event streams", live.hub.client_count)
        live.hub.close()

    asgi: ASGIFramework = app
    if config.ssl_enabled and config.insecure_bind:
        asgi = https_redirect(asgi, settings.bind)
    servers = [
        worker_serve(ASGIWrapper(asgi), config, sockets=sockets, shutdown_trigger=shutdown_trigger)
    ]
    mconfig = metrics_config(settings)
    if mconfig is not None:
        servers.append(
            worker_serve(
                ASGIWrapper(metrics_asgi(app.metrics)),
                mconfig,
                sockets=metrics_sockets,
                shutdown_trigger=shutdown.wait,
            )
        )
    if beat is None and notifier is not None:
        beat = systemd_beat(notifier)
        beat_interval = notifier.ping_interval
    beating = (
        asyncio.create_task(
            heartbeat(live, beat, beat_interval or DEFAULT_INTERVAL, shutdown),
            name="ticket-dash-heartbeat",
        )
        if beat is not None
        else None
    )
    sampling = asyncio.create_task(_sample_metrics(app, shutdown), name="ticket-dash-metrics")
    collecting = (
        asyncio.create_task(
            _collect_garbage(shutdown, settings.full_collection_seconds), name="ticket-dash-gc"
        )
        if settings.full_collection_seconds > 0
        else None
    )
    log.info("Ticket Dash board at %s", board_url(config))
    serving: asyncio.Future[list[None]] = asyncio.ensure_future(asyncio.gather(*servers))
    stopping: asyncio.Future[bool] = asyncio.ensure_future(shutdown.wait())
    try:
        either: list[asyncio.Future[Any]] = [serving, stopping]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not serving.done():
            await asyncio.wait({serving}, timeout=HARD_STOP_SECONDS)
        if not serving.done():
            log.warning(
                "connections still open %.0f s after the signal: closing them", HARD_STOP_SECONDS
            )
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            await app.stop_live()  # the lifespan's end was cancelled with the server
            return
        serving.result()
    finally:
        stopping.cancel()
        for task in (beating, sampling, collecting):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
            loop.remove_signal_handler(sig)


async def _collect_garbage(stop: asyncio.Event, every: float) -> None:
    """A full collection every `every` seconds, then freed pages back to the system (see
    GC_THRESHOLDS)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set():
            return
        started = time.perf_counter()
        found = gc.collect()
        malloc_trim()
        took = time.perf_counter() - started
        (log.info if took > 0.25 else log.debug)(
            "full garbage collection: %d unreachable objects, %.0f ms", found, took * 1000
        )


async def _sample_metrics(app: BoardApp, stop: asyncio.Event) -> None:
    """Copy this process's counts into its metrics once a second (app.web.worker_metrics)."""
    while not stop.is_set():
        app.metrics.workers.sample()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
