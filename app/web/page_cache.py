"""The first paint of the board, rendered once per version, off the event loop, and never
waited for when an older one will do.

With 5,000 tickets a page is ~5 MB; rendering it is ~10 ms now that rows are rendered once per
change (app.web.row_markup), but every TV reloads at once after an upgrade, exactly then, and each
filter is a page of its own. So a page is rendered in a worker thread, one render at a time, kept
as the bytes that are sent, and shared per filter:
- a page of the current board version, younger than `max_age`, is served as it is;
- a page of an older version (or older than `max_age`) but younger than `stale_age` is served at
  once too, while a fresh one is rendered in the background: the page's stream sends a snapshot
  within milliseconds of loading, which brings the rows up to date anyway;
- only with no page at all (the first request for a filter) does a request wait for a render, and
  every request that comes meanwhile waits for the same one.
The cache is bounded in bytes (a page of 10,000 tickets is 8 MB); the memory of evicted pages is
given back to the system (app.stream.memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from app.stream.memory import MemoryReleaser

MAX_BYTES = 32_000_000
MAX_AGE_SECONDS = 5.0
STALE_AGE_SECONDS = 30.0


@dataclass
class _Page:
    version: Hashable
    made: float
    html: bytes  # encoded once, sent as it is to every TV


class PageCache:
    def __init__(
        self,
        max_bytes: int = MAX_BYTES,
        max_age: float = MAX_AGE_SECONDS,
        stale_age: float = STALE_AGE_SECONDS,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.stale_age = stale_age
        self._pages: OrderedDict[Hashable, _Page] = OrderedDict()
        self._rendering: dict[Hashable, asyncio.Future[bytes]] = {}
        self._bytes = 0
        self._render_lock = asyncio.Lock()
        self._memory = MemoryReleaser()
        self._background: set[asyncio.Task[bytes]] = set()
        self.renders = 0

    def clear(self) -> None:
        self._pages.clear()
        self._bytes = 0
        self._memory.soon()

    async def get(
        self, key: Hashable, version: Hashable, render: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        """The page for `key` (a filter), rendered by `render()` for `version` when needed."""
        now = time.monotonic()
        self._evict(now)
        page = self._pages.get(key)
        if page is not None:
            current = page.version == version and now - page.made <= self.max_age
            if not current and key not in self._rendering:
                task = asyncio.create_task(self._render(key, version, render))
                self._background.add(task)
                task.add_done_callback(self._finished)
            return page.html
        pending = self._rendering.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        return await self._render(key, version, render)

    def _finished(self, task: asyncio.Task[bytes]) -> None:
        self._background.discard(task)
        if not task.cancelled():
            with contextlib.suppress(Exception):
                task.result()  # a failed background render: the next request tries again

    async def _render(
        self, key: Hashable, version: Hashable, render: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        try:
            async with self._render_lock:  # one render at a time: bounded CPU for any storm
                html = await render()
                self.renders += 1
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here; waiters re-raise it
            raise
        finally:
            self._rendering.pop(key, None)
        future.set_result(html)
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= len(old.html)
        self._pages[key] = _Page(version, time.monotonic(), html)
        self._bytes += len(html)
        self._evict(time.monotonic())
        return html

    def _evict(self, now: float) -> None:
        """Drop pages past `stale_age`, then the oldest until the rest fit in `max_bytes`."""
        evicted = False
        for key, page in list(self._pages.items()):
            if now - page.made > self.stale_age:
                del self._pages[key]
                self._bytes -= len(page.html)
                evicted = True
        while self._bytes > self.max_bytes and len(self._pages) > 1:
            _, page = self._pages.popitem(last=False)
            self._bytes -= len(page.html)
            evicted = True
        if evicted:
            self._memory.soon()
