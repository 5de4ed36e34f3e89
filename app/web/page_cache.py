"""The first paint of the board, rendered once per version and off the event loop.

With 5,000 tickets the page is a third of a second of Jinja. When every TV reloads at once (after
an upgrade, exactly then), rendering each on the event loop would stall the board for seconds.
So a page is rendered in a worker thread, one render at a time, and the result is shared: by
every request asking for the same key while it renders, and for `max_age` seconds after (the
key holds the board's version, so a change makes a new page; the age bounds how old the
countdown texts of a first paint can be — the page ticks them itself once its script runs).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

MAX_ENTRIES = 32
MAX_AGE_SECONDS = 5.0


class PageCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE_SECONDS) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self._pages: OrderedDict[Hashable, tuple[float, asyncio.Future[str]]] = OrderedDict()
        self._render_lock = asyncio.Lock()
        self.renders = 0

    def clear(self) -> None:
        self._pages.clear()

    async def get(self, key: Hashable, render: Callable[[], Awaitable[str]]) -> str:
        """The page for `key`, rendered by `render()` unless a fresh one is at hand."""
        now = time.monotonic()
        entry = self._pages.get(key)
        if entry is not None:
            made, page = entry
            if not page.done() or (now - made <= self.max_age and page.exception() is None):
                return await asyncio.shield(page)
        page = asyncio.get_running_loop().create_future()
        self._pages[key] = (now, page)
        self._pages.move_to_end(key)
        while len(self._pages) > self.max_entries:
            self._pages.popitem(last=False)
        try:
            async with self._render_lock:  # one render at a time: bounded CPU for any storm
                html = await render()
                self.renders += 1
        except BaseException as exc:
            page.set_exception(exc)
            page.exception()  # retrieved here; waiters re-raise it
            raise
        page.set_result(html)
        return html
