"""How many new streams make their first snapshot at once: a few, in arrival order.

A snapshot is the costly part of a stream (5,000 tickets: a few MB, written 64 KB at a time).
When thousands of connections arrive together — every TV after a restart, or one program opening
streams it never reads — each snapshot would start as soon as its request is parsed, and one turn
of the event loop would make hundreds of them: a `/healthz` or a page load waited its turn for
seconds. Through the gate at most `slots` snapshots start per `hold_seconds` (more only as earlier
ones finish), so a turn of the loop does a bounded amount of snapshot work, and everything else
gets its turn in between.

A slot is held while the client takes its snapshot, and `hold_seconds` at most: a client that
reads too slowly (or not at all) lets the next one in and finishes without a slot; the fixed
kernel send buffer (app.web.listen) bounds what it costs meanwhile. So stalled clients cannot
keep the gate shut: each keeps a slot `hold_seconds` at most, once.

Only a stream's first snapshot passes the gate. A resync (a client that fell behind gets a fresh
snapshot, app.stream.hub) does not wait: it happens to clients already counted, one by one as
they fall behind, or for the longest backlogs first when the hub's global byte cap is reached.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field

GATE_SLOTS = 16
GATE_HOLD_SECONDS = 0.05


@dataclass(eq=False)
class SnapshotSlot:
    """One admitted snapshot; `release()` may be called any number of times."""

    gate: SnapshotGate
    timer: asyncio.TimerHandle | None = None
    released: bool = False

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        if self.timer is not None:
            self.timer.cancel()
        self.gate._release()


@dataclass(eq=False)
class SnapshotGate:
    slots: int = GATE_SLOTS
    hold_seconds: float = GATE_HOLD_SECONDS
    admitted: int = 0  # snapshots let through
    timed_out: int = 0  # slots given back because the client took longer (in /metrics)
    _free: int = field(init=False)
    _queue: deque[asyncio.Future[None]] = field(default_factory=deque, init=False)

    def __post_init__(self) -> None:
        self._free = self.slots

    @property
    def waiting(self) -> int:
        return len(self._queue)

    @property
    def busy(self) -> int:
        return self.slots - self._free

    async def enter(self) -> SnapshotSlot:
        """Wait for a slot (first come, first served) and hold it."""
        if self._free > 0 and not self._queue:
            self._free -= 1
        else:
            waiter = asyncio.get_running_loop().create_future()
            self._queue.append(waiter)
            try:
                await waiter  # `_release` hands the slot over and takes the waiter off the queue
            except asyncio.CancelledError:  # the client left while waiting
                if waiter.done() and not waiter.cancelled():
                    self._release()  # it had just been handed the slot: pass it on
                else:
                    with contextlib.suppress(ValueError):
                        self._queue.remove(waiter)
                raise
        self.admitted += 1
        slot = SnapshotSlot(self)
        slot.timer = asyncio.get_running_loop().call_later(self.hold_seconds, self._expire, slot)
        return slot

    def _expire(self, slot: SnapshotSlot) -> None:
        if not slot.released:
            self.timed_out += 1
            slot.timer = None
            slot.release()

    def _release(self) -> None:
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes straight to the next in line
                return
        self._free += 1
