"""A fix for hypercorn 0.18's HTTP/2 write buffer, applied when the board is served.

hypercorn pauses a stream's writer when its buffer passes a high-water mark and lets it go on
when `StreamBuffer.pop` takes a chunk smaller than the low-water mark. A client that grants no
flow-control window makes every `pop` take nothing — which is smaller than the mark — so the
writer was let go at once, again and again, and everything the board sent to that stream piled
up in memory (an attacker with one kiosk cookie grew the board by gigabytes; issue #9). The same
bug was fixed in anycorn, hypercorn's fork (pull request 61: "Resume a paused HTTP/2 writer on
what has drained, not what was taken").

Here the writer goes on only once the buffer has *drained* below the low-water mark, and a
paused writer checks again after every wake-up. Then a stalled HTTP/2 stream blocks its writer,
the board's per-client queue fills, and the client is resynced — bounded, as over HTTP/1.1.
"""

from __future__ import annotations

from hypercorn.protocol import h2 as hypercorn_h2

HIGH_WATER = hypercorn_h2.BUFFER_HIGH_WATER
LOW_WATER = hypercorn_h2.BUFFER_LOW_WATER


async def _push(self: hypercorn_h2.StreamBuffer, data: bytes) -> None:
    if self._complete:
        raise hypercorn_h2.BufferCompleteError()
    self.buffer.extend(data)
    await self._is_empty.clear()
    while len(self.buffer) >= HIGH_WATER and not self._complete:
        await self._paused.clear()
        await self._paused.wait()


async def _pop(self: hypercorn_h2.StreamBuffer, max_length: int) -> bytes:
    length = min(len(self.buffer), max_length)
    data = bytes(self.buffer[:length])
    del self.buffer[:length]
    if len(self.buffer) < LOW_WATER:  # drained, not merely "took little"
        await self._paused.set()
    if len(self.buffer) == 0:
        await self._is_empty.set()
    return data


def apply() -> None:
    """Install the fix (idempotent)."""
    hypercorn_h2.StreamBuffer.push = _push  # type: ignore[method-assign]
    hypercorn_h2.StreamBuffer.pop = _pop  # type: ignore[method-assign]
