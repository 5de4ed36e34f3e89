"""Where a board's memory is: the picture `kill -USR1` logs (docs/deploy.md, "Logs").

A board that runs for months must tell a leak from memory that is merely kept. The kernel says
how much the process holds (`/proc/self/status`: RSS, of it anonymous); glibc says how much of
its heap is in use, how much it holds free, and how much it mapped in large blocks (mallinfo2,
glibc >= 2.33; mallinfo before, whose int fields are exact below 2 GiB); Python says how many
blocks it has allocated. A leak grows "in use", or Python's blocks. What grows in neither is
fragmentation: freed memory in pages that stay resident.

glibc's "free" is an upper bound of what it keeps resident: the board gives freed pages back
after bursts (malloc_trim, app.stream.memory), and glibc still counts them as free.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from pathlib import Path

from app.stream.memory import libc

MIB = 2**20
FIELDS = (
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


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in FIELDS]


class _MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int) for name in FIELDS]


@dataclass(frozen=True)
class HeapPicture:
    rss: int
    rss_anonymous: int
    malloc_in_use: int | None  # glibc's heap in use (C code, Python's objects over 512 bytes)
    malloc_free: int | None  # freed, still in glibc's heap (some perhaps given back)
    mmapped: int | None  # glibc's large blocks, each mapped on its own
    python_blocks: int

    @property
    def rest(self) -> int | None:
        """Anonymous memory outside glibc's account: Python's small-object arenas, free heap
        pages still resident, thread stacks."""
        if self.malloc_in_use is None or self.mmapped is None:
            return None
        return max(0, self.rss_anonymous - self.malloc_in_use - self.mmapped)

    def line(self) -> str:
        head = f"RSS {self.rss / MIB:.1f} MiB, {self.rss_anonymous / MIB:.1f} MiB anonymous"
        blocks = f"; Python: {self.python_blocks} blocks"
        if self.malloc_in_use is None or self.malloc_free is None or self.mmapped is None:
            return head + " (no glibc malloc statistics here)" + blocks
        return (
            f"{head}; glibc malloc: {self.malloc_in_use / MIB:.1f} MiB in use,"
            f" {self.malloc_free / MIB:.1f} MiB free, {self.mmapped / MIB:.1f} MiB mmapped" + blocks
        )


def _status_kib() -> dict[str, int]:
    kib: dict[str, int] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "RssAnon:")):
                name, value = line.split()[:2]
                kib[name.rstrip(":")] = int(value)
    except (OSError, ValueError):
        pass
    return kib


def _mallinfo() -> tuple[int, int, int] | None:
    """glibc's (in use, free, mmapped), or None without glibc."""
    c = libc()
    if c is None:
        return None
    if hasattr(c, "mallinfo2"):
        c.mallinfo2.restype = _MallInfo2
        info = c.mallinfo2()
    elif hasattr(c, "mallinfo"):
        c.mallinfo.restype = _MallInfo
        info = c.mallinfo()
    else:
        return None
    return info.uordblks, info.fordblks, info.hblkhd


def heap_picture() -> HeapPicture:
    kib = _status_kib()
    malloc = _mallinfo()
    in_use, free, mmapped = malloc if malloc is not None else (None, None, None)
    return HeapPicture(
        rss=kib.get("VmRSS", 0) * 1024,
        rss_anonymous=kib.get("RssAnon", 0) * 1024,
        malloc_in_use=in_use,
        malloc_free=free,
        mmapped=mmapped,
        python_blocks=sys.getallocatedblocks(),
    )
