"""Sites for the NATS tests: a source's folders with a publisher, a mirror's folders with a mirror,
both in the test's event loop against a real nats-server (support/nats_server.py), and what "the same
board" means: the same ticket files, archive and mappings, byte for byte."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.contract.status import WatcherStatus, read_status
from app.settings import Settings
from watcher.nats.connection import Link
from watcher.nats.mirror import Mirror
from watcher.nats.publish import Publisher

SETTLE_SECONDS = 20.0


def site_settings(root: Path, url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "tickets_dir": root / "tickets",
        "mappings_dir": root / "mappings",
        "nats_url": url,
    }
    values.update(overrides)
    return Settings(**values)


def board_files(settings: Settings) -> dict[str, bytes]:
    """Everything a board and its archive hold, but the status file (which differs by role)."""
    found: dict[str, bytes] = {}
    for folder, name in ((settings.tickets_dir, "tickets"), (settings.mappings_dir, "mappings")):
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                found[f"{name}/{path.relative_to(folder)}"] = path.read_bytes()
    return found


def source_status(settings: Settings) -> WatcherStatus | None:
    status = read_status(Path(settings.tickets_dir))
    if status is not None:
        status.extra.pop("nats_mirror", None)
    return status


@dataclass
class Publishing:
    link: Link
    publisher: Publisher

    async def settled(self) -> int:
        """Wait (bounded) until NATS stored every change; the bucket's last revision."""
        await asyncio.wait_for(self.publisher.flushed(), SETTLE_SECONDS)
        info = await self.link.stream_info()
        assert info is not None
        return int(info.state.last_seq)


@asynccontextmanager
async def publishing(settings: Settings) -> AsyncIterator[Publishing]:
    await asyncio.to_thread(Path(settings.tickets_dir).mkdir, parents=True, exist_ok=True)
    link = await Link.open(settings, asyncio.Event(), role="test-source")
    assert link is not None
    publisher = Publisher(link, settings)
    await publisher.start()
    try:
        yield Publishing(link, publisher)
    finally:
        await publisher.stop()
        await link.close()


@dataclass
class Mirroring:
    link: Link
    mirror: Mirror
    task: asyncio.Task[None]

    async def reached(self, revision: int) -> None:
        await asyncio.wait_for(self.mirror.wait_applied(revision), SETTLE_SECONDS)


@asynccontextmanager
async def mirroring(settings: Settings) -> AsyncIterator[Mirroring]:
    stop = asyncio.Event()
    link = await Link.open(settings, stop, role="test-mirror")
    assert link is not None
    mirror = Mirror(link, settings)
    task = asyncio.create_task(mirror.run(stop))
    try:
        yield Mirroring(link, mirror, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await link.close()


async def in_sync(source: Publishing, copy: Mirroring) -> None:
    """Wait until the mirror applied everything the source published."""
    await copy.reached(await source.settled())


class Noticing(logging.Handler):
    """Sets an event when a log line holds a text."""

    def __init__(self, text: str, event: asyncio.Event) -> None:
        super().__init__()
        self.text, self.event = text, event

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()
