"""Time for the watcher: one object gives the wall clock, a monotonic clock and `sleep`.

Tests and the benchmark run the watcher (and the fake Freshservice) on a `Clock` with a `speed`:
at speed 60 a simulated minute passes in one real second, so rate windows, Retry-After waits and
backoff are exercised without real 60 s waits. In production the speed is 1. The time format is
the contract's (app.contract.times).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class Clock:
    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._mono0 = time.monotonic()
        self._wall0 = time.time()

    def monotonic(self) -> float:
        """Seconds since this clock was made, in simulated seconds."""
        return (time.monotonic() - self._mono0) * self.speed

    def time(self) -> float:
        """Unix time, in simulated seconds (equal to `time.time()` at speed 1)."""
        return self._wall0 + self.monotonic()

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)
