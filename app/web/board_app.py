"""`BoardApp`: Quart with the board's parts as typed attributes, and `current_board()`.

Request handlers reach the live state, the access policy and the metrics registry through
`current_board()`, typed, rather than through string keys. The live state's start and stop are
here, in one place: the lifespan and `python -m app`'s hard stop both call `stop_live()`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from quart import Quart, current_app

from app.live.state import LiveState
from app.settings import Settings
from app.web.logins import AdminLogins
from app.web.page_cache import PageCache
from app.web.security import AccessPolicy


class BoardApp(Quart):
    live: LiveState
    access: AccessPolicy
    logins: AdminLogins
    page_cache: PageCache
    metrics_registry: CollectorRegistry
    settings: Settings

    async def start_live(self) -> None:
        await self.live.start()

    async def stop_live(self) -> None:
        """End every stream and background task; safe to call twice."""
        await self.live.stop()


def current_board() -> BoardApp:
    """The app serving the current request, typed."""
    app = current_app
    if not isinstance(app, BoardApp):  # werkzeug's LocalProxy passes isinstance through
        raise RuntimeError("not a Ticket Dash app")
    return app
