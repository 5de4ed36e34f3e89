"""Diagnostics for a board that runs for months: where memory went.

With `tracemalloc_frames` > 0 the board records its allocations (slower, for soak tests and
when someone must find a leak). `kill -USR1 <pid>` then logs, the first time, that a baseline
was taken, and every later time the fifteen places whose memory grew the most since it.
Every SIGUSR1, traced or not, first logs the heap picture (app.web.heap): what the process
holds, and how much of it glibc and Python hold in use, to tell a leak from fragmentation.
"""

from __future__ import annotations

import logging
import tracemalloc

from app.web.heap import heap_picture

log = logging.getLogger("ticket_dash.diagnostics")

TOP = 15


class AllocationTracer:
    def __init__(self, frames: int) -> None:
        self.frames = frames
        self._baseline: tracemalloc.Snapshot | None = None
        if frames > 0 and not tracemalloc.is_tracing():
            tracemalloc.start(frames)

    @property
    def enabled(self) -> bool:
        return self.frames > 0

    def report(self) -> None:
        """SIGUSR1: the heap picture; then the first call takes a baseline and each later one
        logs the top growth."""
        log.info("heap: %s", heap_picture().line())
        if not self.enabled:
            return
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        if self._baseline is None:
            self._baseline = snapshot
            current, peak = tracemalloc.get_traced_memory()
            log.info(
                "tracemalloc baseline taken: %.1f MB traced (peak %.1f MB)",
                current / 1e6,
                peak / 1e6,
            )
            return
        stats = snapshot.compare_to(self._baseline, "traceback")
        total = sum(s.size_diff for s in stats)
        log.info("tracemalloc: %+.2f MB since the baseline; the top growth:", total / 1e6)
        for stat in stats[:TOP]:
            # A traceback runs from the oldest frame to the most recent: the allocation is the
            # last one, and its callers are named from there outwards.
            frame = stat.traceback[-1]
            where = " <- ".join(f"{f.filename}:{f.lineno}" for f in list(stat.traceback)[::-1][:6])
            log.info(
                "tracemalloc growth %+.1f KB in %+d blocks at %s:%s (%s)",
                stat.size_diff / 1024,
                stat.count_diff,
                frame.filename,
                frame.lineno,
                where,
            )
