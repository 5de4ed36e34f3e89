"""The app started in-process (Quart's test app) on a folder: plain, or behind access control.

    async with started(board_settings(folders)) as app:
        response = await app.test_client().get("/api/tickets")

`started` returns once the folder watcher runs, so a file written next is seen as a change.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from quart import Quart

from app import create_app
from app.contract.layout import status_path
from app.credentials import hash_key, hash_password
from app.settings import Settings, load_settings
from support.tickets import write_ticket

KIOSK_KEY = "k" * 20 + "-lobby-secret"
OTHER_KEY = "o" * 20 + "-office-secret"
ADMIN_PASSWORD = "correct horse battery staple"
ADMIN_HASH = hash_password(ADMIN_PASSWORD)  # scrypt once per test session
LAN = {"client": ("10.1.2.3", 50000)}  # a test-client scope for a request from the network


def board_settings(folders: tuple[Path, Path], **overrides: Any) -> Settings:
    """Default settings on these (tickets, mappings) folders; nothing from the environment."""
    tickets, mappings = folders
    return load_settings(
        {"tickets_dir": tickets, "mappings_dir": mappings, **overrides}, environ={}
    )


@contextlib.asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[Quart]:
    """The app with its lifespan running and its folder watcher started."""
    app = create_app(settings)
    async with app.test_app():
        await asyncio.wait_for(app.live.watching.wait(), 5)
        yield app


def make_folders(root: Path, count: int = 3) -> tuple[Path, Path]:
    """tickets/ with `count` High tickets ("Printer on fire for customer N") and mappings/."""
    tickets, mappings = root / "tickets", root / "mappings"
    tickets.mkdir(parents=True, exist_ok=True)
    mappings.mkdir(parents=True, exist_ok=True)
    for ident in range(1, count + 1):
        write_ticket(tickets, ident, subject=f"Printer on fire for customer {ident}", priority=3)
    return tickets, mappings


def secured_settings(root: Path, **overrides: Any) -> Settings:
    """Three tickets behind access control: kiosk keys lobby-tv and office-tv, admin alice."""
    values: dict[str, Any] = {
        "access_control": "on",
        "access_keys": {"lobby-tv": hash_key(KIOSK_KEY), "office-tv": hash_key(OTHER_KEY)},
        "admin_users": {"alice": ADMIN_HASH},
        **overrides,
    }
    return board_settings(make_folders(root), **values)


def write_status_fields(tickets: Path, **fields: Any) -> None:
    """A watcher status file with exactly these fields (any values, for the board to judge)."""
    status_path(tickets).write_text(json.dumps({"source": "test", **fields}))


def basic(user: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
