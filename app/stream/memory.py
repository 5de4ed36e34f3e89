"""Giving freed memory back to the system.

When a burst is over (clients left, backlogs dropped, big pages evicted) Python frees the
objects, but glibc keeps the pages in the process unless asked. `malloc_trim(0)` asks; it costs a
fraction of a millisecond. `MemoryReleaser.soon()` asks once, a second after the last call, so a
thousand TVs leaving together cost one trim.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util

TRIM_DELAY_SECONDS = 1.0


def _load_libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _load_libc()


def libc() -> ctypes.CDLL | None:
    """The C library, where it is glibc-like (has malloc_trim); None elsewhere."""
    return _LIBC


def malloc_trim() -> bool:
    """glibc's malloc_trim(0); False where there is none (musl, macOS)."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))


class MemoryReleaser:
    def __init__(self, delay: float = TRIM_DELAY_SECONDS) -> None:
        self.delay = delay
        self.trims = 0
        self._handle: asyncio.TimerHandle | None = None

    def soon(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a unit test): nothing to give back to
        self._handle = loop.call_later(self.delay, self._trim)

    def _trim(self) -> None:
        self._handle = None
        self.trims += 1
        malloc_trim()
