"""A clock for the simulated helpdesk (`DemoSource(clock=...)`) that moves only when a test
moves it."""

from __future__ import annotations

from datetime import datetime, timedelta


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
