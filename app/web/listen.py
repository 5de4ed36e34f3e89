"""Where the board listens, and how: hypercorn's configuration from the settings.

TLS follows the original's convention: when `certfile` and `keyfile` both exist, HTTPS (and
HTTP/2); otherwise plain HTTP. Under systemd the files come from `LoadCredential=` as
`$CREDENTIALS_DIRECTORY/tls-cert` and `tls-key`, which win when present. With TLS,
`http_redirect_bind` answers plain HTTP with a redirect to HTTPS; `metrics_bind` serves
`/metrics` on an address of its own. The sockets are bound before anything else, so an address
in use is one clear error and the board's URL is printed only once it can be reached.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path

from hypercorn.config import Config, Sockets
from hypercorn.logging import Logger
from hypercorn.typing import (
    ASGIFramework,
    ASGIReceiveCallable,
    ASGISendCallable,
    ResponseSummary,
    Scope,
    WWWScope,
)

from app.settings import Settings, SettingsError
from app.web.client_request import path_as_sent
from app.web.log_text import logged_text

log = logging.getLogger("ticket_dash.serve")

GRACEFUL_TIMEOUT = 2.0
LISTEN_BACKLOG = 4096  # connections the kernel holds until the board accepts them
# Each connection's kernel send buffer, fixed (Linux doubles it for its bookkeeping). Left to
# autotuning it grows to 4 MiB, and a client that connects to /events and never reads gets its
# whole snapshot copied into the kernel: 2,000 such clients at 5,000 tickets held 1.7 GB there
# and kept the board's loop busy copying for 9 s. Fixed, a stalled client holds this much, and
# the rest of its snapshot is never made (the stream makes chunks only as the client takes
# them). 128 KiB in flight is still 100+ MB/s on a LAN and about 2.5 MB/s at 50 ms round trip.
SEND_BUFFER_BYTES = 64 * 1024
# No query string (a kiosk key may be in the first request) and no referrer.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s HTTP/%(H)s" %(s)s %(b)s %(L)ss "%(a)s"'
# A TLS handshake that has not finished in this time is dropped (hypercorn waits 60 s): a
# client that opens connections and says nothing would otherwise hold a file each for a minute.
SSL_HANDSHAKE_TIMEOUT = 10
_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$")


class AccessLogger(Logger):
    """hypercorn's logger, with what a client sent made fit for one log line: the path arrives
    percent-decoded, so `/x%0d%0aINFO ...` would otherwise write a second, forged line."""

    def atoms(
        self, request: WWWScope, response: ResponseSummary | None, request_time: float
    ) -> Mapping[str, str]:
        atoms = super().atoms(request, response, request_time)
        if isinstance(atoms, dict):  # hypercorn's AccessLogAtoms: "-" for what is missing
            for name in ("U", "m", "a"):
                atoms[name] = logged_text(str(atoms[name]))
        return atoms


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
    config.logger_class = AccessLogger
    config.ssl_handshake_timeout = SSL_HANDSHAKE_TIMEOUT
    config.errorlog = logging.getLogger("hypercorn.error")
    # A TV needs one or two streams; fewer allowed per HTTP/2 connection bounds what one
    # connection can ask of the board (and of a rapid-reset flood).
    config.h2_max_concurrent_streams = 16
    # No "server: hypercorn-h11" banner: it tells a scanner what to try, and is one header
    # less on each of a reconnect storm's thousand responses.
    config.include_server_header = False
    # After a restart every TV reconnects at once: with hypercorn's default backlog of 100, a
    # thousand connects overflow the accept queue and the kernel drops the rest, which try again
    # 1 s, then 3 s later (a 2 s storm became 4.5 s). The kernel caps it at net.core.somaxconn.
    config.backlog = LISTEN_BACKLOG
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


def _without_key(query: str) -> str:
    """The query without a kiosk key: a key that came over plain HTTP is not passed on to
    whatever host the request named (open the HTTPS link instead)."""
    kept = [part for part in query.split("&") if part and not part.startswith("key=")]
    return "&".join(kept)


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
            query = _without_key(scope["query_string"].decode("latin-1"))
            path = path_as_sent(scope)
            location = f"https://{host}{suffix}{path}" + (f"?{query}" if query else "")
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


def bind_sockets(config: Config, what: str) -> Sockets:
    """Listen on the config's addresses now; SettingsError (one line) if an address is taken.

    Listening starts here, before the board has loaded its tickets: TVs that reconnect while it
    starts wait in the kernel's queue (`config.backlog`) instead of being refused."""
    try:
        sockets = config.create_sockets()
        for sock in sockets.secure_sockets + sockets.insecure_sockets:
            # Set on the listener, the size (and the end of autotuning) is inherited by every TCP
            # connection it accepts from now on. Connections systemd queued before the board
            # started got the socket unit's `SendBuffer=` (the shipped unit sets the same).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
            sock.listen(config.backlog)
        return sockets
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
