"""`BoardApp`: Quart with the board's parts as typed attributes, and `current_board()`.

Request handlers reach the live state, the access policy and the metrics registry through
`current_board()`, typed, rather than through string keys. The live state's start and stop are
here, in one place: the lifespan and `python -m app`'s hard stop both call `stop_live()`.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from quart import Quart, current_app

from app.live.state import LiveState
from app.settings import Settings, changed_settings
from app.web.board_page import BoardPage
from app.web.logins import AdminLogins
from app.web.metrics import Metrics
from app.web.page_cache import PageCache
from app.web.security import AccessPolicy

log = logging.getLogger("ticket_dash.reload")


class BoardApp(Quart):
    live: LiveState
    access: AccessPolicy
    logins: AdminLogins
    page_cache: PageCache
    board_page: BoardPage
    metrics: Metrics
    settings: Settings

    async def start_live(self) -> None:
        await self.live.start()

    async def stop_live(self) -> None:
        """End every stream and background task; safe to call twice."""
        await self.live.stop()

    def apply_settings(self, new: Settings) -> list[str]:
        """Take the settings a running board can take (`RELOADABLE`); returns the names of the
        changed ones that need a restart, which keep their running values meanwhile.

        Raises SettingsError, changing nothing, when the new access settings are unusable. The
        streams of TVs whose key was revoked (or changed), of removed admins and of networks no
        longer allowed end at once.
        """
        old = self.settings
        changed = changed_settings(old, new)
        needs_restart = [name for name in changed if name not in RELOADABLE]
        effective = dataclasses.replace(new, **{n: getattr(old, n) for n in needs_restart})
        policy = AccessPolicy.from_settings(effective)
        self.settings = effective
        self.access = policy
        self.logins.failures_per_minute = max(1, effective.failed_logins_per_minute)
        # Each stream asks the new policy (routes.py), before the new settings send anything.
        ended = self.live.hub.end_disallowed()
        if ended:
            log.warning("ended %d event stream(s) of revoked keys, admins or networks", ended)
        self.live.apply_settings(effective)
        self.page_cache.clear()
        return needs_restart


def current_board() -> BoardApp:
    """The app serving the current request, typed."""
    proxy: Any = current_app  # typed as the app in some Quart versions, as the proxy in others
    app = proxy._get_current_object()  # the app itself: a stream's checks run outside the request
    if not isinstance(app, BoardApp):
        raise RuntimeError("not a Ticket Dash app")
    return app


# Settings a running board takes on reload (SIGHUP); any other change needs a restart.
RELOADABLE = frozenset(
    {
        "access_keys",
        "admin_users",
        "allowed_networks",
        "failed_logins_per_minute",
        "kiosk_cookie_days",
        "cookie_secret_file",
        "legacy_kiosk_cookies",
        "status_sections",
        "waiting_status_names",
        "hidden_status_names",
        "customer_reply_means_waiting",
        "fr_warning_hours",
        "fr_critical_hours",
        "update_sla_minutes",
        "stale_after_seconds",
        "description_chars",
        "freshservice_domain",
        "link_base",
        "heartbeat_seconds",
        "max_streams_per_login",
        "client_queue_size",
        "client_queue_bytes",
        "max_queued_bytes",
        "read_stall_seconds",
    }
)
