"""Talking to systemd: `READY=1`, `WATCHDOG=1`, `RELOADING=1`, `STOPPING=1`, `STATUS=…`.

sd_notify is one datagram to the unix socket named by `$NOTIFY_SOCKET` (a path, or `@name` for
the abstract namespace); the stdlib does it, no libsystemd needed. Without `NOTIFY_SOCKET` (not
under systemd, or `Type=exec`) every call does nothing. `$WATCHDOG_USEC` (with `WatchdogSec=`)
says how often systemd wants to hear from us; we ping twice as often, and only while the board is
healthy (see app.web.heartbeat), so a wedged event loop or a dead folder watch gets the board
restarted.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger("ticket_dash.systemd")


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        address = environ.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_seconds: float | None = None
        usec = environ.get("WATCHDOG_USEC", "")
        watchdog_pid = environ.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and watchdog_pid in ("", str(os.getpid())):
            self.watchdog_seconds = int(usec) / 1_000_000

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    @property
    def ping_interval(self) -> float | None:
        """How often to send WATCHDOG=1: half of WatchdogSec, or None without a watchdog."""
        return None if self.watchdog_seconds is None else self.watchdog_seconds / 2

    def notify(self, *lines: str) -> bool:
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(lines).encode(), self.address)
        except OSError as exc:
            log.warning("could not notify systemd at %s: %s", self.address.strip("\0"), exc)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def reloading(self) -> bool:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")
