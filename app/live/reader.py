"""File work off the event loop, in one thread of its own, and a loop that notices a stall.

A read of tickets/ can block: a stalled NFS mount, a disk in trouble. On the event loop that
would freeze every TV, `/healthz` included. So every read of the folders goes through one
`BlockingReader`: a daemon thread that runs the calls in order (one at a time: the folders'
bookkeeping stays simple, and a stalled filesystem ties up one thread, not a pool). The loop
awaits the result; past `stall_seconds` it records the stall (the board reports it in `/healthz`)
and goes on waiting for the same call, so no change is lost when the filesystem recovers.

A daemon thread, not a ThreadPoolExecutor: the interpreter joins an executor's threads on exit,
so one read stuck in the kernel would stop the board from ever exiting.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("ticket_dash.reader")

T = TypeVar("T")
_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class BlockingReader:
    def __init__(
        self,
        stall_seconds: float = 5.0,
        name: str = "ticket-dash-reader",
        on_stall_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.stall_seconds = stall_seconds
        self.on_stall_change = on_stall_change  # called when a stall begins and when it ends
        self.name = name
        self.stalled_since: float | None = None  # monotonic time the current call stalled
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def stalled(self) -> bool:
        return self.stalled_since is not None

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, loop, future = job
            try:
                result = fn()
            except BaseException as exc:  # handed to the awaiting coroutine, which re-raises
                _settle(loop, future, None, exc)
            else:
                _settle(loop, future, result, None)

    async def call(self, fn: Callable[[], T]) -> T:
        """Run `fn()` in the reader thread and return its result (or raise its exception)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._ensure_thread()
        self._jobs.put((fn, loop, future))
        while True:
            try:
                result = await asyncio.wait_for(asyncio.shield(future), self.stall_seconds)
            except TimeoutError:
                if self.stalled_since is None:
                    self.stalled_since = time.monotonic() - self.stall_seconds
                    log.error(
                        "a read of the ticket folders has taken more than %g s: is the "
                        "disk or network filesystem stalled? (still waiting; the board keeps "
                        "serving what it has)",
                        self.stall_seconds,
                    )
                    self.on_stall_change()
                continue
            if self.stalled_since is not None:
                log.warning(
                    "the ticket folders answer again after %.1f s",
                    time.monotonic() - self.stalled_since,
                )
                self.stalled_since = None
                self.on_stall_change()
            return result

    def close(self) -> None:
        """Let the thread end once it is idle (a call stuck in the kernel keeps it, harmlessly)."""
        self._jobs.put(None)
        self._thread = None


def _settle(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    exc: BaseException | None,
) -> None:
    def settle() -> None:
        if future.done():
            return  # the caller was cancelled meanwhile
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:
        pass  # the loop is closed: nobody waits for this any more
