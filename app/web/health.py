"""`/healthz` for the NOC's monitoring: is the wall showing fresh data?

200 when the board is serving and the watcher's last successful sync is younger than
`stale_after_seconds`; 503 with a short reason otherwise. It answers without access control, so
it says nothing about tickets: no counts, no subjects, no error text.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify

from app.live.state import LiveState
from app.web.board_app import current_board
from app.web.render import FUTURE_SKEW_SECONDS

health_views = Blueprint("health", __name__)


def health(live: LiveState) -> tuple[bool, dict[str, Any]]:
    age = live.seconds_since_sync()
    body: dict[str, Any] = {"status": "ok", "seconds_since_sync": age}
    stale_after = live.settings.stale_after_seconds
    problem = live.problem()
    if live.hub.closed:
        reason = "shutting down"
    elif problem is not None:
        reason = problem
    elif live.watcher_status is None:
        reason = "no watcher status file"
    elif live.watcher_status.last_error:
        reason = "watcher reports an error"
    elif age is None:
        reason = "watcher has not synced yet"
    elif -age > FUTURE_SKEW_SECONDS:
        reason = f"the watcher's last sync is {-age:.0f} s in the future (clock?)"
    elif age > stale_after:
        reason = f"stale: last sync {age:.0f} s ago (limit {stale_after} s)"
    else:
        return True, body
    body.update(status="unhealthy", reason=reason)
    return False, body


@health_views.get("/healthz")
async def healthz() -> tuple[Response, int]:
    ok, body = health(current_board().live)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ok else 503
