"""The subscribers of the stream, each with its filter and a queue bounded in events and bytes.

Publishing never waits for a client. A client that falls behind — its queue holds more than
`queue_size` events or `client_queue_bytes` bytes — is flagged for a resync: its backlog is
dropped, nothing more is queued for it, and the next thing it reads is a fresh snapshot. A stuck
TV therefore never delays the others, and what the board holds for it is bounded in bytes, not
in events (a patch of a ticket with a 100 KB subject is 100 KB). The hub also bounds the sum over
all clients (`max_queued_bytes`): past it, the clients with the longest backlogs are resynced
first. Patches are encoded once per distinct filter, not once per client.

When clients leave or backlogs are dropped, the memory goes back to the allocator, but glibc
keeps it in the process unless asked; the hub asks (`malloc_trim`, a fraction of a millisecond)
one second after the last such event, so a board that held a burst for stalled clients shrinks
again once they leave.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from app.rules.filters import RowFilter
from app.rules.rows import Change, Row
from app.stream.encoding import encode_event
from app.stream.memory import MemoryReleaser


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


RESYNC = _Marker("RESYNC")
CLOSE = _Marker("CLOSE")
QueueItem = bytes | _Marker


@dataclass(eq=False)
class Subscriber:
    view: RowFilter
    tag: str = ""  # who is watching (a kiosk key's name), for the per-login stream cap
    # Whether its viewer may still watch, asked when the access settings change (`end_disallowed`).
    still_allowed: Callable[[], bool] | None = None
    items: deque[bytes] = field(default_factory=deque)
    queued_bytes: int = 0
    resync_pending: bool = False
    closing: bool = False
    resyncs: int = 0
    last_sent: float = field(default_factory=time.monotonic)  # for the heartbeat
    waiter: asyncio.Future[None] | None = None  # set while its stream waits in `Hub.next`

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


@dataclass(eq=False)
class StreamPass:
    """One admitted stream, counted by the hub until `release()` (idempotent). A request whose
    stream never started (the client left first) drops its pass unreleased: it is released
    when collected, so no count is left behind."""

    hub: Hub
    tag: str
    released: bool = False
    thread: int = field(default_factory=threading.get_ident)  # the event loop's
    loop: asyncio.AbstractEventLoop | None = None

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.hub._discharge(self.tag)

    def __del__(self) -> None:
        if self.released:
            return
        if threading.get_ident() == self.thread or self.loop is None:
            self.release()
        else:  # collected in a worker thread (a reference cycle): count on the loop's thread
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to count
                self.loop.call_soon_threadsafe(self.release)


@dataclass
class HubStats:
    events_sent: int = 0
    bytes_sent: int = 0
    resyncs: int = 0


@dataclass
class Hub:
    queue_size: int = 256
    client_queue_bytes: int = 1_000_000
    max_queued_bytes: int = 64_000_000
    subscribers: set[Subscriber] = field(default_factory=set)
    stats: HubStats = field(default_factory=HubStats)
    closed: bool = False
    queued_bytes: int = 0  # over all subscribers
    memory: MemoryReleaser = field(default_factory=MemoryReleaser)
    # Streams admitted per login tag, counted from the moment a request is let in (`admit`) to
    # its end. Counting subscribers instead let streams that arrived together past the cap:
    # they wait for a snapshot slot (app.stream.gate) before they subscribe.
    streams_by_tag: Counter[str] = field(default_factory=Counter)

    @property
    def client_count(self) -> int:
        return len(self.subscribers)

    def admit(self, tag: str) -> StreamPass:
        """Count a stream against its login's cap until the pass is released (at the stream's
        end, or when a stream that never started is dropped)."""
        self.streams_by_tag[tag] += 1
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        return StreamPass(self, tag, loop=loop)

    def _discharge(self, tag: str) -> None:
        left = self.streams_by_tag[tag] - 1
        if left > 0:
            self.streams_by_tag[tag] = left
        else:
            self.streams_by_tag.pop(tag, None)  # keys come and go: keep no zero for each

    def subscribe(
        self, view: RowFilter, tag: str = "", still_allowed: Callable[[], bool] | None = None
    ) -> Subscriber:
        sub = Subscriber(view, tag, still_allowed)
        if self.closed:
            sub.closing = True
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        self._drop_backlog(sub)
        self.release_memory_soon()

    async def next(self, sub: Subscriber) -> QueueItem:
        """What this client sends next: CLOSE, RESYNC (send a snapshot), or an event's bytes."""
        while True:
            if sub.closing:
                return CLOSE
            if sub.resync_pending:
                sub.resync_pending = False
                return RESYNC
            if sub.items:
                item = sub.items.popleft()
                sub.queued_bytes -= len(item)
                self.queued_bytes -= len(item)
                sub.last_sent = time.monotonic()
                return item
            # A bare future, not an asyncio.Event: with 5,000 streams waking on one change, the
            # Event's bookkeeping was a sixth of the cost of publishing it.
            sub.waiter = asyncio.get_running_loop().create_future()
            try:
                await sub.waiter
            finally:
                sub.waiter = None

    def count_sent(self, size: int) -> None:
        self.stats.events_sent += 1
        self.stats.bytes_sent += size

    def publish_changes(self, changes: Iterable[Change], seq: int, server_time: float) -> None:
        changes = list(changes)
        if not changes:
            return
        encoded: dict[RowFilter, bytes | None] = {}
        for sub in list(self.subscribers):
            if sub.resync_pending or sub.closing:
                continue  # it gets a snapshot (or nothing): do not even encode for it
            if sub.view not in encoded:
                encoded[sub.view] = _patch_for(sub.view, changes, seq, server_time)
            payload = encoded[sub.view]
            if payload is not None:
                self._offer(sub, payload)
        self._enforce_total()

    def publish_all(self, make_payload: Callable[[], bytes]) -> None:
        """Send the same event (e.g. a watcher status) to every client."""
        if not self.subscribers:
            return
        payload = make_payload()
        for sub in list(self.subscribers):
            self._offer(sub, payload)
        self._enforce_total()

    def publish_by_view(self, make_payload: Callable[[RowFilter], bytes | None]) -> None:
        """Send each view's own event (e.g. its summary) to the clients with that view:
        encoded once per view; None sends nothing to that view."""
        encoded: dict[RowFilter, bytes | None] = {}
        for sub in list(self.subscribers):
            if sub.resync_pending or sub.closing:
                continue
            if sub.view not in encoded:
                encoded[sub.view] = make_payload(sub.view)
            payload = encoded[sub.view]
            if payload is not None:
                self._offer(sub, payload)
        self._enforce_total()

    def beat(self, make_payload: Callable[[], bytes], idle_seconds: float) -> int:
        """A heartbeat for every client that was sent nothing for `idle_seconds`: one encoded
        event shared by all of them, and no timer per client. Returns how many got it."""
        cutoff = time.monotonic() - idle_seconds
        idle = [s for s in self.subscribers if s.last_sent <= cutoff and not s.items]
        if not idle:
            return 0
        payload = make_payload()
        for sub in idle:
            self._offer(sub, payload)
        return len(idle)

    def close(self) -> None:
        """End every stream (server shutdown): each generator returns at its next read."""
        self.closed = True
        for sub in list(self.subscribers):
            self.end(sub)

    def end(self, sub: Subscriber) -> None:
        """End one client's stream at its next read (its access was revoked)."""
        self._drop_backlog(sub)
        sub.closing = True
        sub.wake()

    def end_disallowed(self) -> int:
        """End the streams whose viewers may no longer watch (a revoked key, a removed admin or
        network); returns how many."""
        ended = [
            s
            for s in self.subscribers
            if not s.closing and s.still_allowed is not None and not s.still_allowed()
        ]
        for sub in ended:
            self.end(sub)
        return len(ended)

    def resync(self, sub: Subscriber) -> None:
        """Drop the client's backlog; the next thing it reads is a fresh snapshot."""
        if not sub.resync_pending:
            sub.resyncs += 1
            self.stats.resyncs += 1
        self._drop_backlog(sub)
        sub.resync_pending = True
        sub.wake()

    def _offer(self, sub: Subscriber, payload: bytes) -> None:
        if sub.resync_pending or sub.closing:
            return  # it will get a snapshot (or nothing) anyway: queue nothing it cannot use
        if (
            len(sub.items) >= self.queue_size
            or sub.queued_bytes + len(payload) > self.client_queue_bytes
        ):
            self.resync(sub)
            return
        sub.items.append(payload)
        sub.queued_bytes += len(payload)
        self.queued_bytes += len(payload)
        sub.wake()
        if self.queued_bytes > self.max_queued_bytes:
            self._enforce_total()

    def _enforce_total(self) -> None:
        if self.queued_bytes <= self.max_queued_bytes:
            return
        for sub in sorted(self.subscribers, key=lambda s: s.queued_bytes, reverse=True):
            if self.queued_bytes <= self.max_queued_bytes:
                break
            self.resync(sub)
        self.release_memory_soon()

    def _drop_backlog(self, sub: Subscriber) -> None:
        self.queued_bytes -= sub.queued_bytes
        sub.items.clear()
        sub.queued_bytes = 0

    def release_memory_soon(self) -> None:
        """Give freed memory back to the system a second after the last client left (once for
        a thousand leaving together); see app.stream.memory."""
        self.memory.soon()


def _patch_for(
    view: RowFilter, changes: list[Change], seq: int, server_time: float
) -> bytes | None:
    upsert: list[Row] = []
    remove: list[int] = []
    for change in changes:
        if change.new is not None and view.shows(change.new):
            upsert.append(change.new)
        elif change.old is not None and view.shows(change.old):
            remove.append(change.old["id"])
    if not upsert and not remove:
        return None
    data = {"seq": seq, "server_time": server_time, "upsert": upsert, "remove": remove}
    return encode_event("patch", data, event_id=seq)
