"""Serving the board with hypercorn from Python (`python -m app`), the way systemd runs it.

TLS follows the original's convention: when `certfile` and `keyfile` both exist, HTTPS (and
HTTP/2); otherwise plain HTTP. On SIGTERM/SIGINT the live board first ends every open event
stream, so hypercorn has no long-lived connection left to wait for and the process exits promptly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from app.settings import Settings

log = logging.getLogger("ticket_dash.serve")


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    config.bind = [settings.bind]
    config.graceful_timeout = 3.0
    config.accesslog = None
    if Path(settings.certfile).is_file() and Path(settings.keyfile).is_file():
        config.certfile = settings.certfile
        config.keyfile = settings.keyfile
        config.alpn_protocols = ["h2", "http/1.1"]
    return config


def board_url(config: Config) -> str:
    scheme = "https" if config.ssl_enabled else "http"
    host, _, port = config.bind[0].rpartition(":")
    if host in ("0.0.0.0", "[::]", ""):
        host = "127.0.0.1"
    return f"{scheme}://{host}:{port}/"


async def serve_board(app: Quart, settings: Settings) -> None:
    config = hypercorn_config(settings)
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, shutdown.set)

    async def shutdown_trigger() -> None:
        await shutdown.wait()
        log.info("stopping: closing open event streams")
        app.extensions["ticket_dash"].hub.close()

    log.info("Ticket Dash board at %s", board_url(config))
    await serve(app, config, shutdown_trigger=shutdown_trigger)  # type: ignore[arg-type]
