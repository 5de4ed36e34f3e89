"""The board's heartbeat: proof, every few seconds, that its event loop answers and its
background work (folder watch, rescan, SLA clock) is running.

One process: the beat goes straight to systemd (`READY=1` with the first, `WATCHDOG=1` after).
Several workers: each worker's beat is a timestamp in shared memory, and the supervisor tells
systemd READY once every worker has beaten, and pings the watchdog only while every worker's
last beat is fresh (`SharedBeats`). A beat is sent by a task on the event loop and only while the
board is alive, so a wedged loop or a dead background task sends none, and systemd restarts the
board after `WatchdogSec=`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Protocol

from app.web.systemd import Notifier

log = logging.getLogger("ticket_dash.heartbeat")

DEFAULT_INTERVAL = 1.0


class Alive(Protocol):
    started: asyncio.Event

    def alive(self) -> str | None:
        """None while everything runs; else what is not running, in words."""
        ...


def systemd_beat(notifier: Notifier) -> Callable[[], None]:
    """One process: READY=1 on the first beat, WATCHDOG=1 on every beat."""
    ready = False

    def beat() -> None:
        nonlocal ready
        if not ready:
            notifier.ready("serving")
            ready = True
        if notifier.watchdog_seconds is not None:
            notifier.watchdog()

    return beat


class SharedBeats:
    """Each worker's last beat (monotonic seconds; 0: not ready yet), in shared memory."""

    def __init__(self, beats: SynchronizedArray[float]) -> None:
        self.beats = beats

    def beat_for(self, index: int) -> Callable[[], None]:
        def beat() -> None:
            self.beats[index] = time.monotonic()

        return beat

    def all_ready(self) -> bool:
        return all(b > 0 for b in self.beats[:])

    def stale(self, within: float) -> list[int]:
        """Workers whose last beat is older than `within` seconds."""
        now = time.monotonic()
        return [i for i, b in enumerate(self.beats[:]) if now - b > within]

    def forget(self, index: int) -> None:
        self.beats[index] = 0.0


async def heartbeat(
    board: Alive, beat: Callable[[], None], interval: float, stop: asyncio.Event
) -> None:
    """Beat every `interval` seconds while `board` is alive, from its start until `stop`."""
    await board.started.wait()
    quiet = False
    while not stop.is_set():
        why = board.alive()
        if why is None:
            beat()
            quiet = False
        elif not quiet:
            log.error("not telling systemd the board is well: %s", why)
            quiet = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
