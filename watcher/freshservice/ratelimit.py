"""The rate budget: never send a request the account's per-minute limits would refuse.

Freshservice counts per account and per minute: an overall credit limit, plus sub-limits for
list calls and single-ticket views (docs/freshservice.md has the table). We keep a sliding window
of what we sent in the last minute for each of the three and wait until a request fits all of
them. Two signals from the server tighten it further:

- `X-RateLimit-Remaining`: other integrations share the account; after an answer said R credits
  remain, we send at most R more credits (counting requests still in flight) until a full window
  has passed since that answer.
- 429 `Retry-After`: nothing is sent to the account before that many seconds have passed
  (a missing or unreadable value counts as 60).

`reserve` lets background work (the stats backfill) leave room for the polls that keep the
board live: it only goes when the overall window has `reserve` credits to spare, and its list
calls only when `reserve_calls` list calls are left.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from watcher.freshservice.clock import Clock

Kind = Literal["list", "view", "other"]
# What Freshservice charges (docs/freshservice.md): a list page with stats, a ticket with stats.
LIST_WITH_STATS_CREDITS = 3
VIEW_WITH_STATS_CREDITS = 2
WINDOW_SECONDS = 61.0  # the server's minute, plus a second for requests still on their way
DEFAULT_RETRY_AFTER = 60.0


@dataclass
class _Window:
    limit: int
    sent: deque[tuple[float, int]] = field(default_factory=deque)

    def _expire(self, now: float) -> None:
        while self.sent and self.sent[0][0] <= now - WINDOW_SECONDS:
            self.sent.popleft()

    def wait(self, now: float, cost: int, reserve: int = 0) -> float:
        """Seconds until `cost` more fits under `limit - reserve` (0 when it fits now)."""
        self._expire(now)
        room = self.limit - reserve
        used = sum(c for _, c in self.sent)
        if used + cost <= room:
            return 0.0
        for t, c in self.sent:
            used -= c
            if used + cost <= room:
                return t + WINDOW_SECONDS - now
        return WINDOW_SECONDS  # cost larger than the limit itself: try again next window

    def add(self, now: float, cost: int) -> None:
        self.sent.append((now, cost))


def parse_retry_after(value: str | None) -> float:
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return seconds if seconds >= 0 else DEFAULT_RETRY_AFTER


class RateBudget:
    def __init__(
        self,
        *,
        credits_per_minute: int,
        list_per_minute: int,
        view_per_minute: int,
        clock: Clock,
    ) -> None:
        self.clock = clock
        self.overall = _Window(max(1, credits_per_minute))
        self.sub: dict[str, _Window] = {
            "list": _Window(max(1, list_per_minute)),
            "view": _Window(max(1, view_per_minute)),
        }
        self.blocked_until = 0.0
        self._server_remaining: int | None = None
        self._server_at = 0.0
        self._spent_since_server = 0
        self._in_flight = 0
        self.rate_limited = 0  # 429s seen

    def minutes_for(self, *, list_calls: int = 0, views: int = 0, credits: int = 0) -> float:
        """Minutes this budget needs, at best, to send that many calls costing `credits`."""
        return max(
            list_calls / self.sub["list"].limit,
            views / self.sub["view"].limit,
            credits / self.overall.limit,
        )

    def wait_needed(
        self, kind: Kind, credits: int, reserve: int = 0, reserve_calls: int = 0
    ) -> float:
        now = self.clock.monotonic()
        waits = [self.blocked_until - now, self.overall.wait(now, credits, reserve)]
        if kind in self.sub:
            waits.append(self.sub[kind].wait(now, 1, reserve_calls if kind == "list" else 0))
        if self._server_remaining is not None:
            if now >= self._server_at + WINDOW_SECONDS:
                self._server_remaining = None
            elif self._spent_since_server + credits > self._server_remaining:
                waits.append(self._server_at + WINDOW_SECONDS - now)
        return max(0.0, *waits)

    async def acquire(
        self, kind: Kind, credits: int, *, reserve: int = 0, reserve_calls: int = 0
    ) -> None:
        """Wait until the request fits, then count it as sent."""
        while (wait := self.wait_needed(kind, credits, reserve, reserve_calls)) > 0:
            await self.clock.sleep(wait)
        now = self.clock.monotonic()
        self.overall.add(now, credits)
        if kind in self.sub:
            self.sub[kind].add(now, 1)
        self._spent_since_server += credits
        self._in_flight += credits

    def done(self, credits: int, remaining: str | None = None) -> None:
        """A request acquired with `credits` ended; `remaining` is its X-RateLimit-Remaining."""
        self._in_flight -= credits
        try:
            value = int(remaining) if remaining is not None else None
        except ValueError:
            value = None
        if value is None:
            return
        self._server_remaining = value
        self._server_at = self.clock.monotonic()
        self._spent_since_server = self._in_flight  # those may not be counted in `value` yet

    def rate_limited_for(self, retry_after: str | None) -> float:
        """A 429 arrived: block every request for Retry-After seconds. Returns the wait."""
        seconds = parse_retry_after(retry_after)
        self.rate_limited += 1
        self.blocked_until = max(self.blocked_until, self.clock.monotonic() + seconds)
        return seconds
