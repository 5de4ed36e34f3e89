"""`python -m app`: serve the board.

python -m app            # the board on tickets/ (bind, TLS etc. from settings)
python -m app --demo     # the board plus the simulated helpdesk, no credentials needed
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import resource
import subprocess
import sys
from pathlib import Path

from app.settings import Settings, SettingsError, SettingsSource
from app.web.run import run_board


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app", description="Serve the Ticket Dash board."
    )
    parser.add_argument("--demo", action="store_true", help="run the simulated helpdesk too")
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("--bind", help="address to listen on, e.g. 127.0.0.1:5001")
    parser.add_argument("--tickets-dir", type=Path)
    parser.add_argument("--mappings-dir", type=Path)
    parser.add_argument("-w", "--workers", type=int, help="board processes (default 1)")
    return parser


def raise_open_file_limit() -> int:
    """Every connected TV is an open file: take the hard limit (systemd's LimitNOFILE=), not
    the 1,024 a shell gives by default. Returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    raise_open_file_limit()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # one INFO line per batch is noise
    explicit = {
        "bind": args.bind,
        "tickets_dir": args.tickets_dir,
        "mappings_dir": args.mappings_dir,
        "workers": args.workers,
    }
    source = SettingsSource({k: v for k, v in explicit.items() if v is not None}, args.config)
    try:
        settings = source.load()
        if args.demo:
            demo_dirs = {
                "tickets_dir": settings.demo_dir / "tickets",
                "mappings_dir": settings.demo_dir / "mappings",
            }
            source = SettingsSource({**source.explicit, **demo_dirs}, args.config)
            settings = source.load()
    except SettingsError as exc:
        print(f"ticket-dash: {exc}", file=sys.stderr)
        return 2
    demo: list[subprocess.Popen[bytes]] = []

    def listening(url: str) -> None:
        """The board can be reached: say where, and start the simulated helpdesk."""
        print(f"\n  Ticket Dash is at {url}  (Ctrl+C stops it)\n", flush=True)
        if args.demo:
            demo.append(start_demo(settings, args.config))

    try:
        return run_board(settings, on_listening=listening, source=source)
    except SettingsError as exc:
        print(f"ticket-dash: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        for process in demo:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
    return 0


def start_demo(settings: Settings, config: Path | None) -> subprocess.Popen[bytes]:
    """The simulated helpdesk, in a process of its own (`python -m watcher --source demo`)."""
    Path(settings.tickets_dir).mkdir(parents=True, exist_ok=True)
    Path(settings.mappings_dir).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "watcher", "--source", "demo"]
    cmd += [
        "--tickets-dir",
        str(settings.tickets_dir),
        "--mappings-dir",
        str(settings.mappings_dir),
    ]
    if config:
        cmd += ["--config", str(config)]
    return subprocess.Popen(cmd, env=os.environ.copy())


if __name__ == "__main__":
    sys.exit(main())
