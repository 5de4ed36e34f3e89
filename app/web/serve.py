"""Serving the board with hypercorn from Python (`python -m app`), the way systemd runs it.

TLS follows the original's convention: when `certfile` and `keyfile` both exist, HTTPS (and
HTTP/2); otherwise plain HTTP. Under systemd the files come from `LoadCredential=` as
`$CREDENTIALS_DIRECTORY/tls-cert` and `tls-key`, which win when present. With TLS,
`http_redirect_bind` answers plain HTTP with a redirect to HTTPS; `metrics_bind` serves
`/metrics` on an address of its own.

Stopping: on SIGTERM/SIGINT the live board first ends every open event stream, so hypercorn has no
long-lived connection left to wait for. On Python 3.12+ hypercorn 0.18 then waits for *every*
connection to close and ignores `graceful_timeout` (hypercorn issue #308), so a hard stop follows
`HARD_STOP_SECONDS` after the signal whatever is still open (a silent TLS handshake, a dead TV).
That is why the systemd unit runs `python -m app` and not the `hypercorn` command.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.typing import ASGIFramework, ASGIReceiveCallable, ASGISendCallable, Scope

from app.settings import Settings, SettingsError
from app.web.application import create_app
from app.web.board_app import BoardApp
from app.web.metrics import metrics_asgi

log = logging.getLogger("ticket_dash.serve")

GRACEFUL_TIMEOUT = 2.0
HARD_STOP_SECONDS = 3.0
# No query string (a kiosk key may be in the first request) and no referrer.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s HTTP/%(H)s" %(s)s %(b)s %(L)ss "%(a)s"'
_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$")


def tls_files(settings: Settings) -> tuple[str, str] | None:
    """(certfile, keyfile) when both exist, systemd credentials first; else None (plain HTTP)."""
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds:
        cert, key = Path(creds, "tls-cert"), Path(creds, "tls-key")
        if cert.is_file() and key.is_file():
            return str(cert), str(key)
    if Path(settings.certfile).is_file() and Path(settings.keyfile).is_file():
        return settings.certfile, settings.keyfile
    return None


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    config.bind = [settings.bind]
    config.graceful_timeout = GRACEFUL_TIMEOUT
    # Logger objects, not "-": hypercorn's lines then go through our logging setup, once each.
    config.accesslog = logging.getLogger("hypercorn.access") if settings.access_log else None
    config.access_log_format = ACCESS_LOG_FORMAT
    config.errorlog = logging.getLogger("hypercorn.error")
    tls = tls_files(settings)
    if tls:
        config.certfile, config.keyfile = tls
        config.alpn_protocols = ["h2", "http/1.1"]
        if settings.http_redirect_bind:
            config.insecure_bind = [settings.http_redirect_bind]
    elif settings.http_redirect_bind:
        log.warning(
            "http_redirect_bind is set but there is no TLS certificate: not listening there"
        )
    return config


def metrics_config(settings: Settings) -> Config | None:
    if not settings.metrics_bind:
        return None
    config = Config()
    config.bind = [settings.metrics_bind]
    config.graceful_timeout = GRACEFUL_TIMEOUT
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


def board_url(config: Config) -> str:
    scheme = "https" if config.ssl_enabled else "http"
    bind = config.bind[0]
    if bind.startswith("fd://"):
        return f"{scheme}://<this host>/ (socket from systemd)"
    host, _, port = bind.rpartition(":")
    if host in ("0.0.0.0", "[::]", ""):
        host = "127.0.0.1"
    return f"{scheme}://{host}:{port}/"


def _host_without_port(host: str) -> str:
    host = host.strip()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def https_redirect(app: ASGIFramework, bind: str) -> ASGIFramework:
    """Plain-HTTP requests (from `http_redirect_bind`) get a 308 to the same URL over HTTPS."""
    port = bind.rpartition(":")[2] if not bind.startswith(("fd://", "unix:")) else "443"
    suffix = "" if port in ("443", "") else f":{port}"

    async def redirect(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "websocket" and scope["scheme"] == "ws":
            await send({"type": "websocket.close", "code": 1008, "reason": None})
            return
        if scope["type"] != "http" or scope["scheme"] != "http":
            await app(scope, receive, send)
            return
        host = _host_without_port(dict(scope["headers"]).get(b"host", b"").decode("latin-1"))
        location: str | None = None
        if not _HOST_RE.match(host):
            status = 400
        else:
            query = scope["query_string"].decode("latin-1")
            location = f"https://{host}{suffix}{scope['path']}" + (f"?{query}" if query else "")
            status = 308
        response_headers = [(b"content-length", b"0")]
        if location:
            response_headers.append((b"location", location.encode("latin-1")))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": response_headers,
                "trailers": False,
            }
        )
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return redirect


async def serve_board(
    app: BoardApp,
    settings: Settings,
    *,
    sockets: Sockets | None = None,
    metrics_sockets: Sockets | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT; return within HARD_STOP_SECONDS of the signal."""
    live = app.live
    config = hypercorn_config(settings)
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, shutdown.set)

    async def shutdown_trigger() -> None:
        await shutdown.wait()
        log.info("stopping: closing %d open event streams", live.hub.client_count)
        live.hub.close()

    asgi: ASGIFramework = app
    if config.ssl_enabled and config.insecure_bind:
        asgi = https_redirect(asgi, settings.bind)
    servers = [
        worker_serve(
            ASGIWrapper(asgi),
            config,
            sockets=sockets,
            shutdown_trigger=shutdown_trigger,
        )
    ]
    mconfig = metrics_config(settings)
    if mconfig is not None:
        metrics_app = metrics_asgi(app.metrics_registry)
        servers.append(
            worker_serve(
                ASGIWrapper(metrics_app),
                mconfig,
                sockets=metrics_sockets,
                shutdown_trigger=shutdown.wait,
            )
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
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def bind_sockets(config: Config, what: str) -> Sockets:
    """Listen on the config's addresses now; SettingsError (one line) if an address is taken."""
    try:
        return config.create_sockets()
    except OSError as exc:
        addresses = ", ".join(config.bind + config.insecure_bind)
        hint = (
            " (another Ticket Dash, or another program, is using it: stop it, or choose "
            "another address with --bind or the `bind` setting)"
            if exc.errno == errno.EADDRINUSE
            else ""
        )
        raise SettingsError(
            f"cannot listen for {what} on {addresses}: {exc.strerror}{hint}"
        ) from None


def run_board(settings: Settings, on_listening: Callable[[str], None] = lambda _url: None) -> int:
    """`python -m app`: one process, or `workers` processes sharing the listening sockets.

    The sockets are bound first: an address in use is one clear SettingsError, and
    `on_listening(url)` is called only once the board can be reached there.
    """
    app = create_app(settings)  # refuses to start here, once, on unusable settings
    config = hypercorn_config(settings)
    sockets = bind_sockets(config, "the board")
    mconfig = metrics_config(settings)
    metrics_sockets = bind_sockets(mconfig, "/metrics") if mconfig else None
    on_listening(board_url(config))
    if settings.workers <= 1:
        asyncio.run(serve_board(app, settings, sockets=sockets, metrics_sockets=metrics_sockets))
        return 0
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(
            target=_worker,
            args=(settings, sockets, metrics_sockets),
            name=f"ticket-dash-worker-{n}",
        )
        for n in range(settings.workers)
    ]
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.pid and worker.is_alive():
                os.kill(worker.pid, signal.SIGTERM)

    for worker in workers:
        worker.start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("Ticket Dash board at %s with %d workers", board_url(config), len(workers))
    exitcode = 0
    while any(w.is_alive() for w in workers):
        multiprocessing.connection.wait([w.sentinel for w in workers], timeout=1.0)
        failed = [w for w in workers if w.exitcode not in (None, 0)]
        if failed and not stopping:
            log.error(
                "worker %s exited with %s: stopping the board", failed[0].name, failed[0].exitcode
            )
            exitcode = 1
            stop()
    return exitcode


def _worker(settings: Settings, sockets: Sockets, metrics_sockets: Sockets | None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s[%(process)d]: %(message)s"
    )
    try:
        asyncio.run(
            serve_board(
                create_app(settings), settings, sockets=sockets, metrics_sockets=metrics_sockets
            )
        )
    except SettingsError as exc:
        print(f"ticket-dash: {exc}", file=sys.stderr)
        sys.exit(2)
