"""The Quart application, built in one place with one lifespan.

`create_app` builds a `BoardApp` (app.web.board_app): the live state, the access policy, the
metrics registry, the routes and the service layer (access control, security headers,
`/healthz`, `/metrics`). The live state starts when serving starts and stops with it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path

from prometheus_client import CollectorRegistry

from app.live.state import LiveState
from app.settings import Settings, load_settings
from app.web import render
from app.web.assets import asset_version
from app.web.board_app import BoardApp
from app.web.board_page import BoardPage
from app.web.headers import install_security_headers
from app.web.health import health_views
from app.web.log_text import ONE_LINE_MESSAGES
from app.web.logins import AdminLogins
from app.web.metrics import make_metrics
from app.web.page_cache import PageCache
from app.web.routes import board_views
from app.web.security import AccessPolicy, install_access_control
from app.web.worker_metrics import WorkerMetrics

ROOT = Path(__file__).resolve().parent.parent.parent


def create_app(settings: Settings | None = None) -> BoardApp:
    """Build the app. With no settings they are read from the environment and config file.

    Raises SettingsError (saying how to fix it) for a bind that would expose ticket data without
    access control.
    """
    settings = settings or load_settings()
    app = BoardApp(
        "app",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        root_path=str(ROOT / "app"),
    )
    app.logger.addFilter(ONE_LINE_MESSAGES)  # a failed request's path is the client's text
    app.settings = settings
    app.access = AccessPolicy.from_settings(settings)
    app.live = LiveState(settings, asset_version=asset_version(ROOT / "static", ROOT / "templates"))
    app.logins = AdminLogins(settings.failed_logins_per_minute)
    app.page_cache = PageCache()
    registry = CollectorRegistry(auto_describe=False)
    app.metrics = make_metrics(app.live, WorkerMetrics(app.live, app.logins, registry), registry)
    install_access_control(app, lambda: app.access, app.logins)
    install_security_headers(app, settings.hsts_seconds)
    app.register_blueprint(board_views)
    app.register_blueprint(health_views)
    render.register(app)
    app.jinja_env.globals["asset_version"] = app.live.asset_version
    app.board_page = BoardPage(app.jinja_env)

    @app.while_serving
    async def lifespan() -> AsyncGenerator[None, None]:
        await app.start_live()
        try:
            yield
        finally:
            await app.stop_live()

    return app
