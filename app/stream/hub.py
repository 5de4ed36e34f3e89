"""The subscribers of the stream, each with its view and a bounded queue.

Publishing never waits for a client: each client has a bounded queue; a client that falls so far
behind that its queue is full is flagged for a resync (its backlog is dropped and it is sent a
fresh snapshot when it next reads), so a stuck TV never delays the others or grows memory.
Patches are encoded once per distinct view, not once per client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from app.rules.filters import RowFilter
from app.rules.rows import Change, Row
from app.stream.encoding import encode_event


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
    queue: asyncio.Queue[QueueItem]
    resyncs: int = 0


@dataclass
class HubStats:
    events_sent: int = 0
    bytes_sent: int = 0
    resyncs: int = 0


@dataclass
class Hub:
    queue_size: int = 256
    subscribers: set[Subscriber] = field(default_factory=set)
    stats: HubStats = field(default_factory=HubStats)
    closed: bool = False

    @property
    def client_count(self) -> int:
        return len(self.subscribers)

    def subscribe(self, view: RowFilter) -> Subscriber:
        sub = Subscriber(view, asyncio.Queue(maxsize=self.queue_size))
        if self.closed:
            sub.queue.put_nowait(CLOSE)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def count_sent(self, payload: bytes) -> None:
        self.stats.events_sent += 1
        self.stats.bytes_sent += len(payload)

    def publish_changes(self, changes: Iterable[Change], seq: int, server_time: float) -> None:
        changes = list(changes)
        if not changes:
            return
        encoded: dict[RowFilter, bytes | None] = {}
        for sub in list(self.subscribers):
            if sub.view not in encoded:
                encoded[sub.view] = _patch_for(sub.view, changes, seq, server_time)
            payload = encoded[sub.view]
            if payload is not None:
                self._offer(sub, payload)

    def publish_all(self, make_payload: Callable[[], bytes]) -> None:
        """Send the same event (e.g. a watcher status) to every client."""
        if not self.subscribers:
            return
        payload = make_payload()
        for sub in list(self.subscribers):
            self._offer(sub, payload)

    def close(self) -> None:
        """End every stream (server shutdown): each generator returns at its next read."""
        self.closed = True
        for sub in list(self.subscribers):
            _drain(sub.queue)
            sub.queue.put_nowait(CLOSE)

    def _offer(self, sub: Subscriber, payload: bytes) -> None:
        try:
            sub.queue.put_nowait(payload)
        except asyncio.QueueFull:
            _drain(sub.queue)
            sub.queue.put_nowait(RESYNC)
            sub.resyncs += 1
            self.stats.resyncs += 1


def _drain(queue: asyncio.Queue[Any]) -> None:
    while not queue.empty():
        queue.get_nowait()


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
