"""One client's stream: a snapshot, then patches, heartbeats, and a fresh snapshot on resync.

Heartbeats are the hub's (`Hub.beat`, one shared event for every idle client), not a timer per
client: with 5,000 TVs a timer armed and cancelled around every event is a good part of the
cost of a change.

Subscribing and taking the snapshot happen with no await in between, so no patch can fall
between them. A reconnect (with or without Last-Event-ID) always starts with a snapshot: it is
small next to the risk of patching a page from a gap.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator

from app.rules.filters import RowFilter
from app.stream.hub import CLOSE, Hub

KEEP_ALIVE = b": ok\n\n"
BIG_EVENT_BYTES = 4096
SLICE_BYTES = 64 * 1024


def _slices(event: bytes) -> Iterator[bytes]:
    """A large event in slices: the server copies what a slow socket cannot take yet, so a TV
    that stops reading pins one slice, not a whole event."""
    if len(event) <= SLICE_BYTES:
        yield event
        return
    view = memoryview(event)
    for i in range(0, len(event), SLICE_BYTES):
        yield bytes(view[i : i + SLICE_BYTES])


async def client_stream(
    hub: Hub,
    view: RowFilter,
    snapshot: Callable[[RowFilter], Iterator[bytes]],
    *,
    tag: str = "",
    address: str = "",
) -> AsyncIterator[bytes]:
    """The bytes of one client's event stream, until the hub closes it or the client leaves."""
    sub = hub.subscribe(view, tag, address)
    try:
        chunks: Iterator[bytes] = snapshot(view)
        while True:
            size = 0
            for chunk in chunks:
                size += len(chunk)
                yield chunk
            del chunks
            hub.count_sent(size)
            if size > BIG_EVENT_BYTES:
                # The ASGI server keeps the last chunk alive until the next one: send a tiny
                # comment so a large chunk is not held per quiet client.
                yield KEEP_ALIVE
            item = await hub.next(sub)  # heartbeats come through the hub too (Hub.beat)
            if item is CLOSE:
                return
            chunks = _slices(item) if isinstance(item, bytes) else snapshot(view)  # RESYNC
    finally:
        # Runs on disconnect (GeneratorExit / CancelledError, which propagate) and on CLOSE.
        with contextlib.suppress(Exception):
            hub.unsubscribe(sub)
