"""`python -m app`: bind the sockets, then serve in one process or in several workers."""

from __future__ import annotations

from collections.abc import Callable

from app.settings import Settings, SettingsSource
from app.web.application import create_app
from app.web.listen import bind_sockets, board_url, hypercorn_config, metrics_config
from app.web.serve import run_event_loop, serve_board
from app.web.supervisor import run_workers
from app.web.systemd import Notifier


def run_board(
    settings: Settings,
    on_listening: Callable[[str], None] = lambda _url: None,
    source: SettingsSource | None = None,
) -> int:
    """`python -m app`: one process, or `workers` processes sharing the listening sockets.

    The sockets are bound first: an address in use is one clear SettingsError, and
    `on_listening(url)` is called only once the board can be reached there.
    """
    source = source or SettingsSource()
    if settings.workers > 1:
        return run_workers(settings, source, on_listening)
    app = create_app(settings)  # refuses to start here on unusable settings
    config = hypercorn_config(settings)
    sockets = bind_sockets(config, "the board")
    mconfig = metrics_config(settings)
    metrics_sockets = bind_sockets(mconfig, "/metrics") if mconfig else None
    on_listening(board_url(config))
    run_event_loop(
        serve_board(
            app,
            settings,
            sockets=sockets,
            metrics_sockets=metrics_sockets,
            source=source,
            notifier=Notifier(),
        ),
        settings.event_loop,
    )
    return 0
