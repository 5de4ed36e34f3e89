"""The first paint of the board, rendered once per version and off the event loop.

With 5,000 tickets the page is a third of a second of Jinja. When every TV reloads at once (after
an upgrade, exactly then), rendering each on the event loop would stall the board for seconds.
So a page is rendered in a worker thread, one render at a time, and the result is shared: by
every request asking for the same key while it renders, and for `max_age` seconds after (the
key holds the board's version, so a change makes a new page; the age bounds how old the
countdown texts of a first paint can be — the page ticks them itself once its script runs).

The cache is bounded in bytes (a page of 10,000 tickets is 8 MB) and keeps nothing older than
`max_age`; the memory of evicted pages is given back to the system (app.stream.memory).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from app.stream.memory import MemoryReleaser

MAX_BYTES = 32_000_000
MAX_AGE_SECONDS = 5.0


class PageCache:
    def __init__(self, max_bytes: int = MAX_BYTES, max_age: float = MAX_AGE_SECONDS) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._pages: OrderedDict[Hashable, tuple[float, asyncio.Future[str]]] = OrderedDict()
        self._bytes = 0
        self._render_lock = asyncio.Lock()
        self._memory = MemoryReleaser()
        self.renders = 0

    def clear(self) -> None:
        self._pages.clear()
        self._bytes = 0
        self._memory.soon()

    def _size(self, page: asyncio.Future[str]) -> int:
        return len(page.result()) if page.done() and page.exception() is None else 0

    def _evict(self, now: float) -> None:
        """Drop pages older than max_age, then the oldest until the rest fit in max_bytes."""
        evicted = False
        for key, (made, page) in list(self._pages.items()):
            if page.done() and (now - made > self.max_age or page.exception() is not None):
                del self._pages[key]
                self._bytes -= self._size(page)
                evicted = True
        while self._bytes > self.max_bytes and self._pages:
            _, (_, page) = self._pages.popitem(last=False)
            self._bytes -= self._size(page)
            evicted = True
        if evicted:
            self._memory.soon()

    async def get(self, key: Hashable, render: Callable[[], Awaitable[str]]) -> str:
        """The page for `key`, rendered by `render()` unless a fresh one is at hand."""
        now = time.monotonic()
        self._evict(now)
        entry = self._pages.get(key)
        if entry is not None:
            return await asyncio.shield(entry[1])
        page = asyncio.get_running_loop().create_future()
        self._pages[key] = (now, page)
        try:
            async with self._render_lock:  # one render at a time: bounded CPU for any storm
                html = await render()
                self.renders += 1
        except BaseException as exc:
            page.set_exception(exc)
            page.exception()  # retrieved here; waiters re-raise it
            self._pages.pop(key, None)
            raise
        page.set_result(html)
        if key in self._pages:
            self._bytes += len(html)
            self._evict(time.monotonic())
        return html
