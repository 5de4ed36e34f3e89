"""watchfiles, tuned for a wallboard (~10 ms from a write to a batch), and a watch that heals.

The defaults (debounce 1600 ms, step 50 ms) would add noticeable delay; an atomic replace arrives
as an "added" event, so all change kinds are treated alike: the path is simply re-read.

inotify watches an inode, not a path: when tickets/ is deleted and made again, renamed away and
back, or a filesystem is mounted over it, the old watch goes on watching something else and the
board would silently stop seeing changes. So each folder's identity (device and inode) is checked
every `IDENTITY_CHECK_SECONDS`; when one changed, appeared or vanished, the watch is started
again and `on_started` is called, so the caller rescans everything (files may have changed in the
gap; the first start closes the gap after the cold start the same way). A folder that does not
exist yet is waited for. `on_problem` is told, in words, whenever the watch is not
live (None once it is), so `/healthz` can say so. The stat calls go through `run_blocking`
(the board's reader thread), never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from watchfiles import awatch

from app.contract.layout import STATUS_FILE_NAME, is_temporary
from app.settings import Settings

log = logging.getLogger("ticket_dash.watch")

IDENTITY_CHECK_SECONDS = 0.25
RETRY_SECONDS = 0.5

Identity = tuple[int, int] | None  # (st_dev, st_ino) of a folder, None when it is not one
RunBlocking = Callable[[Callable[[], Any]], Awaitable[Any]]


def _interesting(_change: object, path: str) -> bool:
    name = Path(path).name
    return not is_temporary(name) and (name == STATUS_FILE_NAME or not name.startswith("."))


def _named(folders: list[Path]) -> str:
    """How a problem names folders: by their names, not their paths (/healthz is public)."""
    return " and ".join(f"the {f.name} folder" for f in folders)


def folder_identities(folders: list[Path]) -> list[Identity]:
    """Each folder's (device, inode), or None where there is no folder. Blocking: stat calls."""
    found: list[Identity] = []
    for folder in folders:
        try:
            st = os.stat(folder)
        except OSError:
            found.append(None)
            continue
        found.append((st.st_dev, st.st_ino) if os.path.isdir(folder) else None)
    return found


async def watch_folders(
    folders: list[Path],
    settings: Settings,
    stop: asyncio.Event,
    ready: asyncio.Event,
    run_blocking: RunBlocking,
    on_started: Callable[[], None] = lambda: None,
    on_problem: Callable[[str | None], None] = lambda _: None,
) -> AsyncIterator[set[Path]]:
    """Yield sets of changed paths until `stop` is set."""
    first = True
    last_failure = ""
    while not stop.is_set():
        identities: list[Identity] = await run_blocking(lambda: folder_identities(folders))
        existing = [f for f, i in zip(folders, identities, strict=True) if i is not None]
        missing = [f for f, i in zip(folders, identities, strict=True) if i is None]
        if not existing:
            on_problem(f"waiting for {_named(folders)} to exist")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
            continue
        restart = asyncio.Event()
        checker = asyncio.create_task(
            _watch_identities(folders, identities, restart, stop, run_blocking),
            name="ticket-dash-watch-identity",
        )
        try:
            watcher = awatch(
                *existing,
                watch_filter=_interesting,
                debounce=settings.watch_debounce_ms,
                step=settings.watch_step_ms,
                stop_event=restart,
                recursive=False,
                force_polling=settings.watch_force_polling,
            )
            # RustNotify starts watching inside the first __anext__, before its first await;
            # call_soon fires right after that, so these run when "changes are seen now".
            loop = asyncio.get_running_loop()
            loop.call_soon(ready.set)
            loop.call_soon(on_started)
            problem = f"waiting for {_named(missing)} to exist" if missing else None
            loop.call_soon(on_problem, problem)
            if not first:
                log.warning("watching %s again", ", ".join(map(str, existing)))
            first = False
            async for changes in watcher:
                if changes:
                    yield {Path(p) for _kind, p in changes}
        except Exception as exc:  # a folder vanished under the watch, or the OS refused it
            on_problem(f"the folder watch failed ({reason_without_paths(exc)}); starting it again")
            if str(exc) != last_failure:  # once per kind of failure, not twice a second
                log.warning("the folder watch failed (%s); starting it again", exc)
                last_failure = str(exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
        finally:
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checker
        if not stop.is_set():
            on_problem("a watched folder was replaced; watching it again")


_ABOUT_PATHS = re.compile(r"\s*about \[.*?\]")
_QUOTED_PATH = re.compile(r"(['\"])/.*?\1")
_PATH = re.compile(r"(?<![\w/.])/[^\s\"',\]):]*")


def reason_without_paths(exc: BaseException) -> str:
    """The exception's text for /healthz and the pages, which anyone may read: without the paths
    watchfiles names (`No such file or directory (os error 2) about ["/srv/…"]`). The journal
    gets the whole text."""
    text = _ABOUT_PATHS.sub("", str(exc))
    text = _PATH.sub("<path>", _QUOTED_PATH.sub("'<path>'", text))
    return text.strip() or type(exc).__name__


async def _watch_identities(
    folders: list[Path],
    identities: list[Identity],
    restart: asyncio.Event,
    stop: asyncio.Event,
    run_blocking: RunBlocking,
) -> None:
    """Set `restart` when the board must stop, or a folder was replaced, appeared or vanished."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), IDENTITY_CHECK_SECONDS)
        if stop.is_set():
            break
        now = await run_blocking(lambda: folder_identities(folders))
        if now != identities:
            log.warning(
                "a watched folder was replaced, appeared or vanished: %s",
                ", ".join(
                    str(f) for f, a, b in zip(folders, identities, now, strict=True) if a != b
                ),
            )
            break
    restart.set()
