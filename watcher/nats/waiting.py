"""Waiting for the first of several things (a task ending, an event, a stop), cancelling the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def first_of(*aws: Awaitable[Any]) -> asyncio.Future[Any]:
    """Wait until one of `aws` is done and cancel the others; returns the one that ended (a task
    passed in is returned as itself, so callers can compare)."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    return next(t for t in tasks if t in done)
