"""Several board processes (`workers` > 1) sharing the listening sockets, under one supervisor.

The supervisor binds the sockets, starts the workers (each a whole board: it watches tickets/
itself and serves the TVs the kernel gives it), and is the one process systemd talks to:
- READY=1 once every worker has started, WATCHDOG=1 only while every worker's heartbeat is fresh
  (app.web.heartbeat), so one wedged worker gets the whole board restarted;
- SIGHUP is checked here (a bad settings file is logged once and changes nothing) and passed to
  every worker, which reads the settings again itself;
- SIGTERM/SIGINT are passed on; a worker that dies on its own stops the board (systemd restarts
  it whole).
`/metrics` adds the workers' own numbers up through prometheus-client's multiprocess mode, in
`$RUNTIME_DIRECTORY/metrics` (systemd's `RuntimeDirectory=`) or a private temporary folder.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from hypercorn.config import Sockets
from prometheus_client import multiprocess

from app.settings import Settings, SettingsError, SettingsSource
from app.web.application import create_app
from app.web.heartbeat import DEFAULT_INTERVAL, SharedBeats
from app.web.listen import bind_sockets, board_url, hypercorn_config, metrics_config
from app.web.serve import run_event_loop, serve_board
from app.web.systemd import Notifier
from app.web.worker_metrics import MULTIPROC_ENV

log = logging.getLogger("ticket_dash.serve")

POLL_SECONDS = 0.25
# A worker not heard from for this many beats holds back the supervisor's pings to systemd. Short
# against WatchdogSec, so a wedged worker is restarted about as soon as a wedged single process
# (30 s + 5 s); a worker busy for a few seconds only delays the next ping.
SILENT_AFTER_BEATS = 5


def metrics_folder() -> tuple[Path, bool]:
    """The multiprocess metrics folder, emptied; and whether it is ours to remove at the end."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    if runtime:
        folder = Path(runtime) / "metrics"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        return folder, False
    return Path(tempfile.mkdtemp(prefix="ticket-dash-metrics-")), True


def run_workers(
    settings: Settings, source: SettingsSource, on_listening: Callable[[str], None]
) -> int:
    create_app(settings)  # refuse to start here, once, rather than in every worker
    config = hypercorn_config(settings)
    sockets = bind_sockets(config, "the board")
    mconfig = metrics_config(settings)
    metrics_sockets = bind_sockets(mconfig, "/metrics") if mconfig else None
    folder, ours = metrics_folder()
    os.environ[MULTIPROC_ENV] = str(folder)  # the workers (spawned) inherit it
    notifier = Notifier()
    ping_every = notifier.ping_interval
    beat_every = min(DEFAULT_INTERVAL, ping_every / 2) if ping_every else DEFAULT_INTERVAL
    ctx = multiprocessing.get_context("spawn")
    beats = SharedBeats(ctx.Array("d", settings.workers, lock=False))
    workers: list[BaseProcess] = [
        ctx.Process(
            target=_worker,
            args=(settings, source, sockets, metrics_sockets, beats, n, beat_every),
            name=f"ticket-dash-worker-{n}",
        )
        for n in range(settings.workers)
    ]
    on_listening(board_url(config))
    stopping = False
    ready = False
    reload_when_ready = False

    def send_all(sig: int) -> None:
        for worker in workers:
            if worker.pid and worker.is_alive():
                os.kill(worker.pid, sig)

    def stop(*_: Any) -> None:
        nonlocal stopping
        if not stopping:
            notifier.stopping()
        stopping = True
        send_all(signal.SIGTERM)

    def reload(*_: Any) -> None:
        nonlocal reload_when_ready
        if ready:
            notifier.reloading()
        try:
            source.load()
        except SettingsError as exc:
            log.error("reload: %s; keeping the running settings", exc)
        except Exception:  # from a signal handler it would end the supervisor, and the board
            log.exception("reload failed; keeping the running settings")
        else:
            send_all(signal.SIGHUP)
            # A worker still starting ignores it (below) and may hold the settings it was
            # started with: it is told again once every worker serves.
            reload_when_ready = not ready
        finally:
            if ready:  # before that, READY=1 is for when every worker serves
                notifier.ready("serving")

    # Until a worker has its own handlers, SIGHUP's and SIGUSR1's default action would kill it,
    # and the board with it (a reload in the first seconds did). Workers start with both
    # ignored: an ignored signal stays ignored in the new process until it sets a handler.
    # (A SIGHUP to the supervisor in the few milliseconds until its own handler is set is lost;
    # `systemctl reload` waits for READY=1 anyway.)
    for sig in (signal.SIGHUP, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)
    for worker in workers:
        worker.start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    signal.signal(signal.SIGUSR1, lambda *_: send_all(signal.SIGUSR1))  # diagnostics, per worker
    log.info("Ticket Dash board at %s with %d workers", board_url(config), len(workers))
    exitcode = 0
    last_ping = 0.0
    silent: list[int] = []
    forgotten: set[int] = set()
    try:
        while any(w.is_alive() for w in workers):
            multiprocessing.connection.wait([w.sentinel for w in workers], timeout=POLL_SECONDS)
            for index, worker in enumerate(workers):
                if worker.exitcode is not None and index not in forgotten:
                    forgotten.add(index)
                    _forget(worker, beats, index)
            failed = [w for w in workers if w.exitcode not in (None, 0)]
            if failed and not stopping:
                log.error(
                    "worker %s exited with %s: stopping the board",
                    failed[0].name,
                    failed[0].exitcode,
                )
                exitcode = 1
                stop()
            if stopping:
                continue
            if not ready and beats.all_ready():
                ready = True
                notifier.ready(f"serving with {len(workers)} workers")
                if reload_when_ready:
                    reload_when_ready = False
                    send_all(signal.SIGHUP)
            if ready and ping_every and time.monotonic() - last_ping >= ping_every:
                stale = beats.stale(within=SILENT_AFTER_BEATS * beat_every)
                if stale and stale != silent:  # once per silence, not every poll
                    log.warning("not telling systemd the board is well: worker(s) %s silent", stale)
                silent = stale
                if not stale:
                    notifier.watchdog()
                    last_ping = time.monotonic()
    finally:
        if ours:
            shutil.rmtree(folder, ignore_errors=True)
    return exitcode


def _forget(worker: BaseProcess, beats: SharedBeats, index: int) -> None:
    """A worker ended: its live gauges stop counting, and its heartbeat with them."""
    if worker.pid is not None:
        multiprocess.mark_process_dead(worker.pid)
    beats.forget(index)


def _worker(
    settings: Settings,
    source: SettingsSource,
    sockets: Sockets,
    metrics_sockets: Sockets | None,
    beats: SharedBeats,
    index: int,
    beat_every: float,
) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s[%(process)d]: %(message)s"
    )
    try:
        run_event_loop(
            serve_board(
                create_app(settings),
                settings,
                sockets=sockets,
                metrics_sockets=metrics_sockets,
                source=source,
                beat=beats.beat_for(index),
                beat_interval=beat_every,
            ),
            settings.event_loop,
        )
    except SettingsError as exc:
        print(f"ticket-dash: {exc}", file=sys.stderr)
        sys.exit(2)
