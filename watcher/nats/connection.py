"""One connection to NATS and the bucket: `Link`.

`Link.open` connects (retrying until it can, or until stopped) with the login from
`credentials` and TLS for `tls://` URLs (the CA of `nats_ca_file`, else the system's), then
keeps reconnecting by itself forever. Whoever needs to know (the mirror's status, the publisher)
listens with `on_change`. Only the host and port of a server are ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StreamInfo

from app.settings import Settings
from watcher.nats.credentials import find_login
from watcher.nats.keys import stream_name, subject_prefix
from watcher.nats.waiting import first_of
from watcher.source import SourceError

log = logging.getLogger("watcher.nats")

BUCKET_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
SCHEMES = ("nats", "tls", "ws", "wss")
CONNECT_TIMEOUT_SECONDS = 3
PING_INTERVAL_SECONDS = 10  # a silent link (a WAN cut) is noticed within ~30 s
MAX_OUTSTANDING_PINGS = 2
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # between first-connect attempts, then every 5 s
API_TIMEOUT_SECONDS = 5.0


def servers(settings: Settings) -> list[str]:
    """The server URLs of `nats_url`; a login inside a URL is refused (it would be in logs)."""
    found = [u.strip() for u in settings.nats_url.split(",") if u.strip()]
    if not found:
        raise SourceError("setting 'nats_url' is empty.")
    for url in found:
        parts = urlsplit(url if "://" in url else f"nats://{url}")
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise SourceError(f"setting 'nats_url': {where(url)} is not a nats:// or tls:// URL.")
        if parts.username or parts.password:
            raise SourceError(
                "setting 'nats_url' holds a login: put it in the file of 'nats_credentials_file' "
                "or the systemd credential nats-credentials instead."
            )
    if not BUCKET_NAME.match(settings.nats_bucket):
        raise SourceError(
            f"setting 'nats_bucket': {settings.nats_bucket!r} may only hold letters, digits, - and _."
        )
    return found


def where(url: str) -> str:
    """host:port of a URL, without anything else it may hold, for messages."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{parts.hostname or '?'}:{port or 4222}"


def tls_context(settings: Settings, urls: list[str]) -> ssl.SSLContext | None:
    if not settings.nats_ca_file and not any(u.startswith(("tls://", "wss://")) for u in urls):
        return None
    try:
        return ssl.create_default_context(cafile=settings.nats_ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise SourceError(
            f"setting 'nats_ca_file': cannot use {settings.nats_ca_file}: {exc}."
        ) from None


class Link:
    """A NATS connection with JetStream and the names of the bucket's stream."""

    def __init__(self, client: Client, settings: Settings, urls: list[str]) -> None:
        self.client = client
        # A JetStream domain routes the API through leaf nodes to the hub that has the bucket.
        domain = settings.nats_domain or None
        self.js: JetStreamContext = client.jetstream(timeout=API_TIMEOUT_SECONDS, domain=domain)
        self.bucket = settings.nats_bucket
        self.stream = stream_name(settings.nats_bucket)
        self.prefix = subject_prefix(settings.nats_bucket)
        self.servers = ", ".join(where(u) for u in urls)
        self.up = asyncio.Event()
        self.up.set()
        self.down_since: float | None = None  # time.time() of the disconnect
        self._listeners: list[Callable[[bool], None]] = []
        self._closing = False

    @classmethod
    async def open(
        cls,
        settings: Settings,
        stop: asyncio.Event,
        *,
        role: str,
        environ: Mapping[str, str] | None = None,
    ) -> Link | None:
        """Connect, retrying until connected; None if `stop` is set first."""
        urls = servers(settings)
        servers_text = ", ".join(where(u) for u in urls)
        login = find_login(settings, environ)
        tls = tls_context(settings, urls)
        link: Link | None = None

        async def disconnected() -> None:
            if link is not None:
                link._set_up(False)

        async def reconnected() -> None:
            if link is not None:
                log.info("reconnected to NATS (%s)", link.servers)
                link._set_up(True)

        reported: set[str] = set()

        async def error(exc: Exception) -> None:
            reason = _reason(exc)  # one line per distinct reason (a refused login, say)
            if reason not in reported:
                reported.add(reason)
                log.warning("NATS (%s): %s", servers_text, reason)

        options: dict[str, Any] = {
            "servers": urls,
            "name": f"ticket-dash {role} {socket.gethostname()}",
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "ping_interval": PING_INTERVAL_SECONDS,
            "max_outstanding_pings": MAX_OUTSTANDING_PINGS,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 1,
            "disconnected_cb": disconnected,
            "reconnected_cb": reconnected,
            "error_cb": error,
        }
        if tls is not None:
            options["tls"] = tls
        if login is not None:
            options.update(login.connect_options())
        attempt = 0
        last_reason = ""
        while not stop.is_set():
            # nats-py retries a refused first connection by itself: stop must still end it.
            connecting = asyncio.ensure_future(nats.connect(**options))
            if await first_of(connecting, stop.wait()) is not connecting:
                return None
            try:
                client = connecting.result()
            except (OSError, TimeoutError, nats.errors.Error, ssl.SSLError) as exc:
                reason = _reason(exc)
                if reason != last_reason:
                    log.warning("cannot connect to NATS (%s): %s; retrying", servers_text, reason)
                    last_reason = reason
                wait = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                continue
            link = cls(client, settings, urls)
            log.info("connected to NATS (%s), bucket %s", link.servers, link.bucket)
            return link
        return None

    def on_change(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        """Call `listener(up)` on every disconnect and reconnect; returns the way to stop."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _set_up(self, up: bool) -> None:
        if up == self.up.is_set() or self._closing:
            return
        if up:
            self.up.set()
            self.down_since = None
        else:
            self.up.clear()
            self.down_since = time.time()
            log.warning("lost the connection to NATS (%s); reconnecting", self.servers)
        for listener in list(self._listeners):
            listener(up)

    async def close(self) -> None:
        self._closing = True
        with contextlib.suppress(Exception):
            await self.client.close()

    async def stream_info(self, subjects_filter: str | None = None) -> StreamInfo | None:
        """The bucket's stream, or None when there is no bucket (yet)."""
        try:
            return await self.js.stream_info(self.stream, subjects_filter=subjects_filter)
        except nats.js.errors.NotFoundError:
            return None

    async def ensure_bucket(self) -> StreamInfo:
        """The bucket's stream, created first when missing (publishers only: mirrors never
        create it). History 1: the bucket is the latest state per key, like tickets/."""
        info = await self.stream_info()
        if info is None:
            await self.js.create_key_value(bucket=self.bucket, history=1)
            log.info("created the NATS bucket %s", self.bucket)
            info = await self.stream_info()
            if info is None:
                raise SourceError(f"the NATS bucket {self.bucket} vanished just after creation.")
        return info


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, nats.errors.NoServersError):
        return "no server answered"
    return text.splitlines()[0][:200]
