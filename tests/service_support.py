"""Shared pieces for the service-layer tests: ticket folders, settings, a started app."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from factories import write_ticket
from quart import Quart

from app import create_app
from app.credentials import hash_key, hash_password
from app.settings import Settings, load_settings

KIOSK_KEY = "k" * 20 + "-lobby-secret"
OTHER_KEY = "o" * 20 + "-office-secret"
ADMIN_PASSWORD = "correct horse battery staple"
ADMIN_HASH = hash_password(ADMIN_PASSWORD)  # scrypt once per test session


def make_folders(root: Path, count: int = 3) -> tuple[Path, Path]:
    tickets, mappings = root / "tickets", root / "mappings"
    tickets.mkdir(parents=True, exist_ok=True)
    mappings.mkdir(parents=True, exist_ok=True)
    for ident in range(1, count + 1):
        subject = f"Printer on fire for customer {ident}"
        write_ticket(tickets, ident, subject=subject, priority=3)
    return tickets, mappings


def write_status(tickets: Path, **fields: Any) -> None:
    (tickets / ".watcher.json").write_text(json.dumps({"source": "test", **fields}))


def secured_settings(root: Path, **overrides: Any) -> Settings:
    tickets, mappings = make_folders(root)
    values: dict[str, Any] = {
        "tickets_dir": tickets,
        "mappings_dir": mappings,
        "access_control": "on",
        "access_keys": {"lobby-tv": hash_key(KIOSK_KEY), "office-tv": hash_key(OTHER_KEY)},
        "admin_users": {"alice": ADMIN_HASH},
    }
    values.update(overrides)
    return load_settings(values, environ={})


@contextlib.asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[Quart]:
    app = create_app(settings)
    async with app.test_app():
        live = app.live
        await asyncio.wait_for(live.watching.wait(), 5)
        yield app


LAN = {"client": ("10.1.2.3", 50000)}  # a test-client scope for a request from the network


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
