"""The boundary between a helpdesk and the board: a `Source`.

A source keeps a tickets folder a mirror of its helpdesk's active tickets, in the file format of
docs/ticket-format.md, written only through `app.contract` (atomic writer, archive), and keeps the
watcher status file (`app.contract.status`) true. It also writes the `id:Name` files of mappings/ it can provide. Nothing in
app/ knows which source runs. See docs/sources.md for how to add one (Jira, Zendesk, ServiceNow).
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Source(Protocol):
    name: str

    async def run(self, stop: asyncio.Event, *, once: bool = False, reconcile: bool = False) -> int:
        """Run until `stop` is set (or one cycle when `once`); return the process exit code.

        `reconcile` asks for a full reconciliation first, where the source knows the difference.
        Cancellation and `stop` both end it cleanly: no half-written file is left behind.
        """
        ...


class SourceError(Exception):
    """A failure a person must act on; the message says what to do (shown as one line)."""
