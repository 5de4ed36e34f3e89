"""A lean SSE client on a raw asyncio connection: HTTP/1.1, chunked or not, optionally TLS.

Much cheaper per client than httpx + httpx-sse, so one process can hold hundreds of streams
(the fan-out benchmark, the shutdown test). Framing is `sse.SseParser`'s; `data` stays bytes.
`wire_total` counts every byte read after the response head (chunk framing included, TCP/IP
headers not). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass, field

from support.sse import SseEvent, SseParser


class StreamEnded(ConnectionError):
    """The server ended the stream."""


@dataclass
class SseClient:
    port: int
    path: str = "/events"
    host: str = "127.0.0.1"
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Cookie": ...}
    ssl_context: ssl.SSLContext | None = None
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    wire_total: int = 0
    _parser: SseParser = field(default_factory=SseParser)
    _raw: bytearray = field(default_factory=bytearray)  # undecoded chunked bytes
    _chunked: bool = True
    _pending: list[SseEvent] = field(default_factory=list)

    async def connect(self, timeout: float = 30.0) -> None:
        """Open the connection and read the response head; RuntimeError unless it is a 200."""
        async with asyncio.timeout(timeout):
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.ssl_context, limit=1 << 22
            )
            extra = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
            self.writer.write(
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Accept: text/event-stream\r\nCache-Control: no-cache\r\n{extra}\r\n".encode()
            )
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 200 " not in status + b" ":
            raise RuntimeError(f"{self.path} answered {status!r}")
        self._chunked = b"transfer-encoding: chunked" in head.lower()

    async def next_event(self, timeout: float = 10.0) -> SseEvent:
        """The next event, heartbeats included; StreamEnded when the server closed the stream."""
        assert self.reader is not None, "connect() first"
        async with asyncio.timeout(timeout):
            while not self._pending:
                chunk = await self.reader.read(1 << 20)
                if not chunk:
                    raise StreamEnded("stream ended")
                self._feed(chunk, time.time())
        return self._pending.pop(0)

    async def next_of(self, kind: str, timeout: float = 10.0) -> SseEvent:
        """The next event of this kind, skipping the others."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next_event(timeout)
                if event.event == kind:
                    return event

    async def until_ended(self, timeout: float = 10.0) -> None:
        """Read (and drop) everything until the server ends the stream (EOF or reset)."""
        assert self.reader is not None, "connect() first"
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(1 << 16):
                    pass
        except (ConnectionError, ssl.SSLError):
            pass  # a reset ends it too

    def _feed(self, chunk: bytes, now: float) -> None:
        self.wire_total += len(chunk)
        if not self._chunked:
            self._pending += self._parser.feed(chunk, now)
            return
        self._raw += chunk
        while True:
            end = self._raw.find(b"\r\n")
            if end < 0:
                break
            size = int(bytes(self._raw[:end]).split(b";")[0], 16)
            total = end + 2 + size + 2
            if len(self._raw) < total:
                break
            with memoryview(self._raw) as view:  # into the parser with one copy, not three
                self._pending += self._parser.feed(view[end + 2 : end + 2 + size], now)
            del self._raw[:total]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def aclose(self, timeout: float = 5.0) -> None:
        """Close and wait until the connection is gone (a reset or a dead peer counts)."""
        if self.writer is None:
            return
        self.writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
            async with asyncio.timeout(timeout):
                await self.writer.wait_closed()
