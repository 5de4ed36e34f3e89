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
import sys
from dataclasses import dataclass
from pathlib import Path

TRIM_DELAY_SECONDS = 1.0


def _load_libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _load_libc()


def malloc_trim() -> bool:
    """glibc's malloc_trim(0); False where there is none (musl, macOS)."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


@dataclass(frozen=True)
class HeapPicture:
    """Where the process's memory is, to tell a leak from memory kept but free.

    `malloc_in_use` is what C code (and Python's large objects) holds; `malloc_free` is freed
    memory glibc keeps mapped (what fragmentation looks like); `mmapped` is large blocks glibc
    maps one by one. The rest of `rss` is Python's small-object arenas, the code and the stacks;
    `python_blocks` counts the blocks Python has allocated: if the rest grows while they do not,
    Python's arenas are fragmenting, not holding more.
    """

    rss: int
    malloc_in_use: int | None
    malloc_free: int | None
    mmapped: int | None
    python_blocks: int

    def line(self) -> str:
        mib = 2**20
        blocks = f"; Python: {self.python_blocks} blocks"
        if self.malloc_in_use is None or self.malloc_free is None or self.mmapped is None:
            return f"RSS {self.rss / mib:.1f} MiB (no glibc malloc statistics here){blocks}"
        return (
            f"RSS {self.rss / mib:.1f} MiB; glibc malloc: {self.malloc_in_use / mib:.1f} MiB in use,"
            f" {self.malloc_free / mib:.1f} MiB free but kept, {self.mmapped / mib:.1f} MiB mmapped"
            + blocks
        )


def _rss_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def heap_picture() -> HeapPicture:
    """The RSS and glibc's own account (mallinfo2, glibc >= 2.33) of the memory it manages."""
    info_fn = getattr(_LIBC, "mallinfo2", None) if _LIBC is not None else None
    blocks = sys.getallocatedblocks()
    if info_fn is None:
        return HeapPicture(_rss_bytes(), None, None, None, blocks)
    info_fn.restype = _MallInfo2
    info = info_fn()
    return HeapPicture(_rss_bytes(), info.uordblks, info.fordblks, info.hblkhd, blocks)


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
