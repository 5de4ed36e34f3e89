"""Read events from Quart's in-process test client (the wire tests use httpx-sse instead).

Quart's test connection hands back raw chunks; this splits them into (event, data) pairs with
the standard's framing (blank-line separated, `event:`/`data:` fields). Only for in-process tests.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EventReader:
    connection: Any
    buffer: str = ""
    pending: list[tuple[str, Any]] = field(default_factory=list)

    async def next(self, timeout: float = 5.0) -> tuple[str, Any]:
        async with asyncio.timeout(timeout):
            while not self.pending:
                chunk = await self.connection.receive()
                self.buffer += chunk.decode("utf-8")
                while "\n\n" in self.buffer:
                    block, self.buffer = self.buffer.split("\n\n", 1)
                    event, data = "message", None
                    for line in block.split("\n"):
                        if line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: "):
                            data = json.loads(line[6:])
                    if data is not None:
                        self.pending.append((event, data))
            return self.pending.pop(0)

    async def next_of(self, kind: str, timeout: float = 5.0) -> Any:
        """The next event of this kind, skipping heartbeats and other kinds."""
        async with asyncio.timeout(timeout):
            while True:
                event, data = await self.next(timeout)
                if event == kind:
                    return data
