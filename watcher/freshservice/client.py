"""The HTTP client: one aiohttp session per run, Basic auth with the key, explicit timeouts,
the rate budget in front of every request, bounded concurrency, retries with backoff.

Every failure becomes a `FreshserviceError` whose message tells a person what to do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from watcher.freshservice.clock import Clock
from watcher.freshservice.errors import (
    AuthError,
    BadRequestError,
    MalformedError,
    TransientError,
    WrongDomainError,
)
from watcher.freshservice.ratelimit import Kind, RateBudget
from watcher.freshservice.token import ApiKey

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
MAX_RATE_LIMITED_RETRIES = 10
# Background work (the periodic reconciliation, the stats backfill) leaves this much of every
# minute to the polls that keep the board live.
BACKGROUND_RESERVE_CREDITS = 6
BACKGROUND_RESERVE_CALLS = 2
_BACKGROUND: ContextVar[bool] = ContextVar("freshservice_background", default=False)


def mark_as_background() -> None:
    """Every request made from the current task on leaves room for the polls."""
    _BACKGROUND.set(True)


@dataclass
class Answer:
    status: int
    data: Any
    headers: CIMultiDictProxy[str]
    next_url: str | None


def api_base_url(freshservice_url: str, domain: str) -> str:
    """`freshservice_url` if set, else `https://<domain>` (a bare `acme` means acme.freshservice.com)."""
    if freshservice_url:
        return freshservice_url.rstrip("/")
    domain = domain.strip().removeprefix("https://").removeprefix("http://").strip("/")
    if not domain:
        raise WrongDomainError(
            "No Freshservice domain: set TICKET_DASH_FRESHSERVICE_DOMAIN, e.g. acme.freshservice.com."
        )
    if "." not in domain:
        domain += ".freshservice.com"
    return f"https://{domain}"


def _description(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("description") or "")]
    for err in data.get("errors") or []:
        if isinstance(err, dict):
            parts.append(" ".join(str(err.get(k, "")) for k in ("field", "message")).strip())
    return "; ".join(dict.fromkeys(p for p in parts if p))


class FreshserviceClient:
    def __init__(
        self,
        *,
        base_url: str,
        key: ApiKey,
        budget: RateBudget,
        clock: Clock,
        timeout_seconds: float,
        max_concurrency: int,
        retries: int,
    ) -> None:
        self.base = URL(base_url.rstrip("/"))
        self.host = self.base.host or base_url
        self.key = key
        self.budget = budget
        self.clock = clock
        self.timeout_seconds = timeout_seconds
        self.retries = max(0, retries)
        self._semaphore = asyncio.Semaphore(max(1, max_concurrency))
        self._session: aiohttp.ClientSession | None = None
        self.calls = 0
        self.credits = 0

    async def __aenter__(self) -> FreshserviceClient:
        self._session = aiohttp.ClientSession(
            headers={"Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(
                total=self.timeout_seconds, connect=min(10.0, self.timeout_seconds)
            ),
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _url(self, path_or_url: str) -> URL:
        if path_or_url.startswith("/"):
            return URL(str(self.base) + path_or_url, encoded=False)
        url = URL(path_or_url)
        if url.origin() != self.base.origin():
            # Never send the key anywhere but the configured account.
            raise MalformedError(
                f"Freshservice pointed to another host ({url.host}); refusing to follow."
            )
        return url

    async def get(
        self,
        path_or_url: str,
        params: dict[str, str | int] | None = None,
        *,
        kind: Kind,
        credits: int = 1,
        reserve: int = 0,
        reserve_calls: int = 0,
        missing_ok: bool = False,
    ) -> Answer | None:
        """GET a JSON document. None for a 404 when `missing_ok`; raises FreshserviceError."""
        if self._session is None:
            raise RuntimeError("use `async with FreshserviceClient(...)`")
        if _BACKGROUND.get():
            reserve = max(reserve, BACKGROUND_RESERVE_CREDITS)
            reserve_calls = max(reserve_calls, BACKGROUND_RESERVE_CALLS)
        url = self._url(path_or_url)
        if params:
            url = url.update_query({k: str(v) for k, v in params.items()})
        path = url.path
        failures = 0
        limited = 0
        while True:
            try:
                async with self._semaphore:
                    await self.budget.acquire(
                        kind, credits, reserve=reserve, reserve_calls=reserve_calls
                    )
                    remaining: list[str | None] = [None]
                    try:
                        answer = await self._send(url, path, remaining, missing_ok=missing_ok)
                    finally:
                        self.budget.done(credits, remaining[0])
            except TransientError as exc:
                failures += 1
                if failures > self.retries:
                    raise
                delay = random.uniform(
                    0.1, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**failures)
                )
                log.warning("%s; retrying in %.1f s", exc, delay)
                await self.clock.sleep(delay)
                continue
            if answer is not None and answer.status == 429:
                limited += 1
                wait = self.budget.rate_limited_for(answer.headers.get("Retry-After"))
                log.warning("Freshservice rate limit reached (429): waiting %.0f s", wait)
                if limited > MAX_RATE_LIMITED_RETRIES:
                    raise TransientError(
                        "Freshservice keeps answering 429 (rate limit): other integrations may use "
                        "up the account's limit; lower rate_limit_per_minute or wait."
                    )
                continue
            return answer

    async def _send(
        self, url: URL, path: str, remaining: list[str | None], *, missing_ok: bool
    ) -> Answer | None:
        assert self._session is not None
        try:
            auth = {"Authorization": aiohttp.encode_basic_auth(self.key.value, "X")}
            async with self._session.get(url, headers=auth, allow_redirects=False) as resp:
                body = await resp.read()
                self.calls += 1
                used = resp.headers.get("X-RateLimit-Used-CurrentRequest", "")
                self.credits += int(used) if used.isdigit() else 1
                remaining[0] = resp.headers.get("X-RateLimit-Remaining")
                status = resp.status
                headers = resp.headers
                next_link = resp.links.get("next")
        except aiohttp.ClientConnectorDNSError:
            raise WrongDomainError(
                f"Cannot find {self.host}: check TICKET_DASH_FRESHSERVICE_DOMAIN "
                "(e.g. acme.freshservice.com) and this machine's DNS."
            ) from None
        except TimeoutError:
            raise TransientError(
                f"{self.host} did not answer {path} within {self.timeout_seconds:g} s."
            ) from None
        except aiohttp.ClientConnectionError as exc:
            raise TransientError(
                f"Cannot reach {self.host} ({exc.__class__.__name__}): check this machine's "
                "network, proxy and firewall."
            ) from None
        except aiohttp.ClientError as exc:
            raise TransientError(f"Talking to {self.host} failed: {exc}.") from None
        if status == 429:
            return Answer(status, None, headers, None)
        if status == 401:
            raise AuthError(
                f"Freshservice rejected the API key from {self.key.origin}: copy the key again "
                "from your Freshservice profile (Profile settings → API key) and check the domain."
            )
        if status == 403:
            raise AuthError(
                f"Freshservice refused access (403) to {path} with the API key from "
                f"{self.key.origin}: the key's agent needs permission to view tickets, "
                f"or the account or its API is disabled. {_description(body)}".strip()
            )
        if status == 404:
            if missing_ok:
                return None
            raise WrongDomainError(
                f"{self.host} answered 404 for {path}: is TICKET_DASH_FRESHSERVICE_DOMAIN your "
                "Freshservice domain (e.g. acme.freshservice.com)?"
            )
        if status >= 500:
            raise TransientError(f"Freshservice answered {status} for {path}.")
        if status != 200:
            raise BadRequestError(
                f"Freshservice refused {path} ({status}): {_description(body) or 'no reason given'}."
            )
        try:
            data = json.loads(body)
        except ValueError:
            raise MalformedError(f"Freshservice sent an unreadable answer for {path}.") from None
        next_url = str(next_link["url"]) if next_link else None
        return Answer(status, data, headers, next_url)
