"""Admin logins (HTTP Basic) that cannot be turned against the wall.

A password check is scrypt: ~50 ms of CPU on purpose. On the event loop, sixteen guessers would
stall every TV by a second; unthrottled, they could guess all day. So:

- the check runs in a worker thread, at most `CONCURRENT_CHECKS` at a time, and when more than
  `MAX_WAITING` wait for one, the next is told to come back later (429) instead of queueing;
- failures are counted per client address (per /64 for IPv6, which gives one machine a whole
  /64 to pick from): past `failures_per_minute` in the last minute, that address gets 429 with
  Retry-After until its oldest failure is a minute old, and the throttling is logged once;
- failures from all addresses together are capped too (`ALL_FAILURES_PER_MINUTE`): a guesser
  with thousands of addresses would otherwise keep the one scrypt slot busy all day. Past it,
  new logins wait (429) until the minute has passed;
- credentials this process verified before pass without a check, so neither throttle locks
  out an admin who is logged in (with several workers, each remembers its own);
- an unknown user costs the same scrypt as a known one (checked against a dummy hash), so the
  timing does not tell which user names exist;
- a verified header is remembered (by its SHA-256, bounded), so an admin's browser does not
  cost a scrypt on every request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from app.credentials import hash_password, verify_password
from app.web.client_request import address_block

log = logging.getLogger("ticket_dash.access")

WINDOW_SECONDS = 60.0
CONCURRENT_CHECKS = 1  # two cores: one for scrypt, one for the TVs
MAX_WAITING = 8
REMEMBERED_HEADERS = 256
TRACKED_ADDRESSES = 10_000
ALL_FAILURES_PER_MINUTE = 60  # from every address together (per worker)


def _retry_after(failures: deque[float], limit: int, now: float) -> int | None:
    """Drops the failures older than the window; the seconds until fewer than `limit` are left
    in it, or None when fewer are already."""
    while failures and failures[0] <= now - WINDOW_SECONDS:
        failures.popleft()
    if len(failures) < limit:
        return None
    return max(1, math.ceil(failures[0] + WINDOW_SECONDS - now))


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: str | None = None  # set: logged in
    retry_after: int | None = None  # set: throttled (429)

    @property
    def ok(self) -> bool:
        return self.user is not None


FAILED = LoginResult()


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic …` header, or None."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class AdminLogins:
    def __init__(
        self, failures_per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures_per_minute = max(1, failures_per_minute)
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()  # by address_block
        self._all_failures: deque[float] = deque()
        self.all_failures_per_minute = ALL_FAILURES_PER_MINUTE
        self._all_throttled_logged = False
        self._verified: OrderedDict[bytes, str] = OrderedDict()  # header hash → stored hash
        self._checks = asyncio.Semaphore(CONCURRENT_CHECKS)
        self._waiting = 0
        self._dummy_hash: str | None = None
        self.failed = 0  # counters for /metrics
        self.throttled = 0

    def throttled_for(self, addr: str) -> int | None:
        """Seconds this address must wait before it may try again, or None."""
        block = address_block(addr)
        failures = self._failures.get(block)
        if failures is None:
            return None
        wait = _retry_after(failures, self.failures_per_minute, self.clock())
        if not failures:
            del self._failures[block]
        return wait

    def all_throttled_for(self) -> int | None:
        """Seconds every new login must wait (failures from all addresses together), or None."""
        failures = self._all_failures
        wait = _retry_after(failures, self.all_failures_per_minute, self.clock())
        if wait is None:
            self._all_throttled_logged = False
            return None
        if not self._all_throttled_logged:
            self._all_throttled_logged = True
            log.warning(
                "%d failed admin logins in a minute from all addresses together: new admin"
                " logins wait until the minute has passed (logged-in admins are not affected)",
                len(failures),
            )
        return wait

    async def check(self, header: str | None, addr: str, admins: dict[str, str]) -> LoginResult:
        """The result of the Basic credentials in `header` against `admins` (user → hash).

        Credentials this process verified before pass first, throttled or not: they cost no
        password check, and an admin who is logged in must not be locked out by a guesser on
        the same network (an IPv6 /64, a NAT address)."""
        parsed = parse_basic(header)
        user, password = parsed if parsed is not None else ("", "")
        stored = admins.get(user) if parsed is not None else None
        token = hashlib.sha256(header.encode()).digest() if header else b""
        remembered = self._verified.get(token)
        if (
            stored is not None
            and remembered is not None
            and hmac.compare_digest(remembered, stored)
        ):
            self._verified.move_to_end(token)
            return LoginResult(user=user)
        wait = self.throttled_for(addr)
        if wait is None:
            wait = self.all_throttled_for()
        if wait is not None:
            self.throttled += 1
            return LoginResult(retry_after=wait)
        if parsed is None:
            return FAILED
        if self._waiting >= MAX_WAITING:
            self.throttled += 1
            return LoginResult(retry_after=1)  # everyone is guessing at once: come back later
        self._waiting += 1
        try:
            async with self._checks:
                against = stored if stored is not None else await self._dummy()
                good = await asyncio.to_thread(verify_password, password, against)
        finally:
            self._waiting -= 1
        if good and stored is not None:
            self._remember(token, stored)
            return LoginResult(user=user)
        self._fail(addr, user if stored is not None else None)
        return FAILED

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(hash_password, "no such user")
        return self._dummy_hash

    def _remember(self, token: bytes, stored: str) -> None:
        self._verified[token] = stored
        self._verified.move_to_end(token)
        while len(self._verified) > REMEMBERED_HEADERS:
            self._verified.popitem(last=False)

    def _fail(self, addr: str, known_user: str | None) -> None:
        self.failed += 1
        block = address_block(addr)
        failures = self._failures.setdefault(block, deque())
        self._failures.move_to_end(block)
        failures.append(self.clock())
        self._all_failures.append(failures[-1])
        while len(self._failures) > TRACKED_ADDRESSES:
            self._failures.popitem(last=False)
        who = f"user {known_user!r}" if known_user else "an unknown user"
        if len(failures) == self.failures_per_minute:
            log.warning(
                "%d failed admin logins from %s in a minute (last: %s): throttled for a minute",
                len(failures),
                block,
                who,
            )
        elif len(failures) < self.failures_per_minute:
            log.warning("failed admin login from %s (%s)", addr, who)
