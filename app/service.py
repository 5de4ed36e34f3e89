"""The service layer around the board: access control, security headers, health, metrics."""

from __future__ import annotations

from quart import Quart

from app.headers import install_security_headers
from app.health import health_views
from app.metrics import make_registry, metrics_views
from app.security import AccessPolicy, install_access_control
from app.settings import Settings


def install_service_layer(app: Quart, settings: Settings) -> None:
    """Wire it all into `app`. Raises SettingsError (saying how to fix it) for a bind that
    would expose ticket data without access control."""
    policy = AccessPolicy.from_settings(settings)
    app.extensions["ticket_dash_access"] = policy
    app.extensions["ticket_dash_metrics"] = make_registry(app.extensions["ticket_dash"])
    install_access_control(app, policy)
    install_security_headers(app, settings.hsts_seconds)
    app.register_blueprint(health_views)
    app.register_blueprint(metrics_views)
