"""One client's stream: a snapshot, then patches, heartbeats, and a fresh snapshot on resync.

Heartbeats are the hub's (`Hub.beat`, one shared event for every idle client), not a timer per
client: with 5,000 TVs a timer armed and cancelled around every event is a good part of the
cost of a change.

Subscribing and taking the snapshot happen with no await in between, so no patch can fall
between them. A reconnect (with or without Last-Event-ID) always starts with a snapshot: it is
small next to the risk of patching a page from a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator

from app.rules.filters import RowFilter
from app.stream.gate import SnapshotGate, SnapshotSlot
from app.stream.hub import CLOSE, Hub, StreamPass, Subscriber

KEEP_ALIVE = b": ok\n\n"
BIG_EVENT_BYTES = 4096
SLICE_BYTES = 64 * 1024
# Bytes sent between two turns given back to the event loop. Once a client has gone, the server
# takes (and drops) whatever is sent at once, so nothing in a snapshot's loop waits: without a
# turn, the disconnect (a task cancellation) is seen only after the whole snapshot has been made
# for nobody. 2,000 stalled clients leaving together at 5,000 tickets made 2,000 snapshots for
# nobody and froze the board for 4-6 s. A turn per 512 KiB bounds that to 512 KiB each.
TURN_BYTES = 512 * 1024


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
    admission: StreamPass | None = None,
    gate: SnapshotGate | None = None,
    still_allowed: Callable[[], bool] | None = None,
) -> AsyncIterator[bytes]:
    """The bytes of one client's event stream, until the hub closes it or the client leaves.

    The first snapshot waits for a slot at `gate` (app.stream.gate), before subscribing, so
    that subscribing and the snapshot still have no await between them; `still_allowed` is asked
    then, so a login revoked while the stream waited gets nothing, and again by the hub whenever
    the access settings change (`Hub.end_disallowed`). `admission` (counted against
    the per-login cap) is released when the stream ends."""
    slot: SnapshotSlot | None = None
    sub: Subscriber | None = None
    try:
        if gate is not None:
            slot = await gate.enter()
        if hub.closed or (still_allowed is not None and not still_allowed()):
            return  # the board stopped, or the login was revoked, while it waited for its slot
        sub = hub.subscribe(view, tag, still_allowed)
        chunks: Iterator[bytes] = snapshot(view)
        while True:
            size = since_turn = 0
            for chunk in chunks:
                size += len(chunk)
                yield chunk
                since_turn += len(chunk)
                if since_turn >= TURN_BYTES:
                    since_turn = 0
                    await asyncio.sleep(0)  # a client that left is cancelled here
            del chunks
            if slot is not None:
                slot.release()
                slot = None
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
        if slot is not None:
            slot.release()
        if sub is not None:
            with contextlib.suppress(Exception):
                hub.unsubscribe(sub)
        if admission is not None:
            admission.release()
