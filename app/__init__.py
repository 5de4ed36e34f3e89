"""Ticket Dash. `hypercorn 'app:create_app()'` serves the board; `python -m app` too.

This file imports nothing: the watcher imports `app.contract` and `app.settings`, and a process
that only fetches tickets must not load Quart. The web board is built in app.web.application.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.settings import Settings
    from app.web.board_app import BoardApp

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> BoardApp:
    """Build the board's ASGI app (see app.web.application.create_app)."""
    from app.web.application import create_app as build

    return build(settings)
