"""watchfiles, tuned for a wallboard: ~10 ms from a write to a batch of changed paths.

The defaults (debounce 1600 ms, step 50 ms) would add noticeable delay; an atomic replace arrives
as an "added" event, so all change kinds are treated alike: the path is simply re-read. A folder
that does not exist yet is waited for (the watcher may create tickets/ after the board starts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from watchfiles import awatch

from app.contract.layout import STATUS_FILE_NAME, is_temporary
from app.settings import Settings

log = logging.getLogger("ticket_dash.watch")


def _interesting(_change: object, path: str) -> bool:
    name = Path(path).name
    return not is_temporary(name) and (name == STATUS_FILE_NAME or not name.startswith("."))


async def watch_folders(
    folders: list[Path], settings: Settings, stop: asyncio.Event, ready: asyncio.Event
) -> AsyncIterator[set[Path]]:
    """Yield sets of changed paths until `stop` is set."""
    while not stop.is_set():
        existing = [f for f in folders if f.is_dir()]
        if not existing:
            log.warning("waiting for %s to exist", ", ".join(map(str, folders)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5)
            continue
        missing = len(existing) < len(folders)
        try:
            watcher = awatch(
                *existing,
                watch_filter=_interesting,
                debounce=settings.watch_debounce_ms,
                step=settings.watch_step_ms,
                stop_event=stop,
                recursive=False,
                force_polling=settings.watch_force_polling,
                yield_on_timeout=missing,
                rust_timeout=5000 if missing else 0,
            )
            # RustNotify starts watching inside the first __anext__, before its first await;
            # call_soon fires right after that, so `ready` means "changes are seen now".
            asyncio.get_running_loop().call_soon(ready.set)
            async for changes in watcher:
                if changes:
                    yield {Path(p) for _kind, p in changes}
                if missing and any(f.is_dir() for f in folders if f not in existing):
                    break  # a folder appeared: watch it too
        except FileNotFoundError:
            log.warning("a watched folder vanished; watching again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)
