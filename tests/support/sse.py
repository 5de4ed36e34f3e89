"""The one hand-written SSE frame parser, and a reader for Quart's in-process test client.

The wire tests use httpx-sse, a real SSE client. This parser is for where that does not fit:
Quart's test connection (raw body chunks, no HTTP) and the benchmarks' lean many-clients client
(`sse_client`), where an httpx stream per client would cost more CPU than the server.

It reads the framing our server writes (docs/stream.md): LF line ends, a blank line ends an event,
`event:`/`data:`/`id:`/`retry:` fields, `:` comments. As the standard says, several `data:` lines
join with a newline and a block without data (a comment, a keep-alive) dispatches nothing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class SseEvent:
    event: str
    data: bytes  # as sent; `json()` decodes it
    id: str | None
    size: int  # bytes of the event's text on the stream (fields and the blank line)
    received: float  # the `now` given to the feed that completed it (time.time() on the wire)
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class SseParser:
    """Feed it the stream's bytes as they come; it returns the events they complete."""

    _buffer: bytearray = field(default_factory=bytearray)
    _scanned: int = 0  # no event end before this offset of _buffer (big snapshots come in pieces)

    def feed(self, chunk: bytes | memoryview, now: float = 0.0) -> list[SseEvent]:
        self._buffer += chunk
        events: list[SseEvent] = []
        start = 0
        while True:
            end = self._buffer.find(b"\n\n", max(start, self._scanned))
            if end < 0:
                break
            event = _parse_block(self._buffer, start, end, now)
            if event is not None:
                events.append(event)
            start = end + 2
        if start:
            del self._buffer[:start]
        self._scanned = max(0, len(self._buffer) - 1)
        return events


def _parse_block(buf: bytearray, start: int, end: int, now: float) -> SseEvent | None:
    """The event in buf[start:end] (its blank line after). A data line is copied once, as it
    is: the benches' clients read a megabyte-long snapshot per reconnect, a thousand at once."""
    kind, data, ident, retry = "message", [], None, None
    pos = start
    while pos < end:
        stop = buf.find(b"\n", pos, end)
        if stop < 0:
            stop = end
        line_start, pos = pos, stop + 1
        if buf.startswith(b"data:", line_start, stop):
            first = line_start + 5 + buf.startswith(b" ", line_start + 5, stop)
            with memoryview(buf) as view:
                data.append(bytes(view[first:stop]))
            continue
        name, _, value = bytes(buf[line_start:stop]).partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            data.append(value)
        elif name == b"event":
            kind = value.decode()
        elif name == b"id":
            ident = value.decode()
        elif name == b"retry" and value.isdigit():
            retry = int(value)
    if not data:
        return None
    joined = data[0] if len(data) == 1 else b"\n".join(data)
    return SseEvent(kind, joined, ident, end + 2 - start, now, retry)


@dataclass
class EventReader:
    """Events from a Quart test connection (`client.request(path)`), data decoded from JSON."""

    connection: Any
    parser: SseParser = field(default_factory=SseParser)
    pending: list[SseEvent] = field(default_factory=list)

    async def next(self, timeout: float = 5.0) -> tuple[str, Any]:
        """(event, data) of the next event, heartbeats included."""
        async with asyncio.timeout(timeout):
            while not self.pending:
                self.pending += self.parser.feed(await self.connection.receive())
            event = self.pending.pop(0)
            return event.event, event.json()

    async def next_of(self, kind: str, timeout: float = 5.0) -> Any:
        """The data of the next event of this kind, skipping heartbeats and other kinds."""
        async with asyncio.timeout(timeout):
            while True:
                event, data = await self.next(timeout)
                if event == kind:
                    return data

    async def until_ended(self, timeout: float = 5.0) -> list[str]:
        """Read until the server ends the response (its last, empty body); the kinds of the
        events that came before the end."""
        kinds = [event.event for event in self.pending]
        self.pending.clear()
        async with asyncio.timeout(timeout):
            while chunk := await self.connection.receive():
                kinds += [event.event for event in self.parser.feed(chunk)]
        return kinds
