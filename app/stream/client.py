"""One client's stream: a snapshot, then patches, heartbeats, and a fresh snapshot on resync.

Subscribing and taking the snapshot happen with no await in between, so no patch can fall
between them. A reconnect (with or without Last-Event-ID) always starts with a snapshot: it is
small next to the risk of patching a page from a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from app.rules.filters import RowFilter
from app.stream.encoding import encode_event
from app.stream.hub import CLOSE, RESYNC, Hub, QueueItem

KEEP_ALIVE = b": ok\n\n"
BIG_EVENT_BYTES = 4096


async def client_stream(
    hub: Hub,
    view: RowFilter,
    snapshot: Callable[[RowFilter], bytes],
    *,
    heartbeat_seconds: float,
    clock: Callable[[], float],
    tag: str = "",
) -> AsyncIterator[bytes]:
    """The bytes of one client's event stream, until the hub closes it or the client leaves."""
    sub = hub.subscribe(view, tag)
    try:
        item: QueueItem = snapshot(view)
        while True:
            if item is CLOSE:
                return
            if item is RESYNC:
                item = snapshot(view)
            assert isinstance(item, bytes)
            hub.count_sent(item)
            big = len(item) > BIG_EVENT_BYTES
            yield item
            if big:
                # The ASGI server keeps the last chunk alive until the next one: send a tiny
                # comment so a 5 MB snapshot is not held per client (768 KiB → 41 KiB a client).
                del item
                yield KEEP_ALIVE
            try:
                async with asyncio.timeout(heartbeat_seconds):  # no extra task, unlike wait_for
                    item = await hub.next(sub)
            except TimeoutError:
                item = encode_event("heartbeat", {"server_time": clock()}, comment="heartbeat")
    finally:
        # Runs on disconnect (GeneratorExit / CancelledError, which propagate) and on CLOSE.
        with contextlib.suppress(Exception):
            hub.unsubscribe(sub)
