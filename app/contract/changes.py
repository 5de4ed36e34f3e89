"""Who hears about what a source changes: one optional observer of the one writer path.

Every change to tickets/ and mappings/ goes through `atomic.write_atomic`, `archive.archive_ticket`
and `archive.remove_ticket`; each reports what it changed, once it is on disk, to the observer in
force, if any. A watcher that publishes to NATS (watcher/nats) installs one around its source
with `observed_by`; with none installed (the board, a single host, the tests) nothing is reported
and nothing else changes.

The observer lives in a context variable, so it follows the source into the tasks it creates and
the threads it starts with `asyncio.to_thread`, and two sources in one process each have their
own. It is called synchronously, in the writer's thread: it must be quick and must not raise (it
queues the change; it does no I/O).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Written:
    """`path` now holds exactly `content` (only reported when the content changed)."""

    path: Path
    content: bytes


@dataclass(frozen=True, slots=True)
class Archived:
    """A ticket left tickets/ for `archive/<day>/`; `content` is what the archive holds now (the
    source's final version, or the file as it was)."""

    tickets_dir: Path
    ticket_id: int
    day: date
    content: bytes | None


@dataclass(frozen=True, slots=True)
class Removed:
    """A ticket's files were deleted without archiving (a source clearing its own leftovers)."""

    tickets_dir: Path
    ticket_id: int


Change = Written | Archived | Removed
Observer = Callable[[Change], None]

_observer: ContextVar[Observer | None] = ContextVar("ticket_dash_change_observer", default=None)


@contextmanager
def observed_by(observer: Observer) -> Iterator[None]:
    """Report every change made in this context (and tasks or threads started in it)."""
    token = _observer.set(observer)
    try:
        yield
    finally:
        _observer.reset(token)


def report(change: Change) -> None:
    """Tell the observer in force, if any, about a change that is on disk."""
    observer = _observer.get()
    if observer is not None:
        observer(change)
