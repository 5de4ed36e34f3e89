"""Ticket Dash, the board: `hypercorn 'app:create_app()'` serves it."""

from __future__ import annotations

from pathlib import Path

from quart import Quart

from app import render
from app.assets import asset_version
from app.live import LiveBoard
from app.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Quart:
    """Build the app. With no settings they are read from the environment and config file."""
    settings = settings or load_settings()
    app = Quart(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config["SETTINGS"] = settings
    live = LiveBoard(settings, asset_version=asset_version(ROOT / "static", ROOT / "templates"))
    app.extensions["ticket_dash"] = live

    from app.views import board_views

    app.register_blueprint(board_views)

    from app.service import install_service_layer

    install_service_layer(app, settings)
    render.register(app)
    app.jinja_env.globals["asset_version"] = live.asset_version

    @app.before_serving
    async def start_live_board() -> None:
        await live.start()

    @app.after_serving
    async def stop_live_board() -> None:
        await live.stop()

    return app
