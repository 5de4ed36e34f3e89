"""`python -m watcher`: run a source that keeps tickets/ up to date.

python -m watcher                     # Freshservice, until SIGTERM/SIGINT
python -m watcher --once              # one cycle, exit 0 on success
python -m watcher --reconcile --once  # one full reconciliation
python -m watcher --source demo       # the simulated helpdesk (writes demo-data/)
python -m watcher --source nats       # a read-only copy of the NATS bucket (several sites)
python -m watcher sync-mappings       # agents, groups, statuses, requesters of active tickets

With `nats_url` set, Freshservice and the demo publish what they write to NATS, and of several
watchers for one bucket only the lease holder polls; the others keep a copy meanwhile
(watcher/nats, docs/deploy.md "Several sites").
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from app.settings import Settings, SettingsError, load_settings
from watcher.source import Source, SourceError

log = logging.getLogger("watcher")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m watcher", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", choices=["run", "sync-mappings"], default="run")
    parser.add_argument(
        "--source", choices=["freshservice", "demo", "nats"], default="freshservice"
    )
    parser.add_argument("--once", action="store_true", help="run one cycle and exit")
    parser.add_argument("--reconcile", action="store_true", help="start with a full reconciliation")
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("--tickets-dir", type=Path, help="override the tickets folder")
    parser.add_argument("--mappings-dir", type=Path, help="override the mappings folder")
    parser.add_argument("--demo-speed", type=float, help="simulated helpdesk: events per second")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def make_source(name: str, settings: Settings) -> Source:
    if name == "demo":
        from watcher.demo import DemoSource

        return DemoSource(settings)
    from watcher.freshservice import FreshserviceSource

    return FreshserviceSource(settings)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.command == "sync-mappings":
        from watcher.freshservice import FreshserviceSource

        work = FreshserviceSource(settings).sync_mappings_once
        if settings.nats_url:
            from watcher.nats.runner import run_publishing

            return await run_publishing(settings, work, stop)
        return await work()
    if args.source == "nats":
        if not settings.nats_url:
            raise SourceError("--source nats needs the setting 'nats_url' (TICKET_DASH_NATS_URL).")
        from watcher.nats.runner import run_mirror

        return await run_mirror(settings, stop, once=args.once)
    if settings.nats_url:
        from watcher.nats.runner import run_elected

        return await run_elected(
            settings,
            lambda: make_source(args.source, settings),
            stop,
            once=args.once,
            reconcile=args.reconcile,
        )
    source = make_source(args.source, settings)
    return await source.run(stop, once=args.once, reconcile=args.reconcile)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    explicit: dict[str, object] = {
        "tickets_dir": args.tickets_dir,
        "mappings_dir": args.mappings_dir,
        "demo_speed": args.demo_speed,
    }
    try:
        settings = load_settings(explicit, config_path=args.config)
        if args.source == "demo" and args.command == "run":
            # The simulator never mixes with real tickets: it writes below demo_dir unless told.
            settings = load_settings(
                {
                    **explicit,
                    "tickets_dir": args.tickets_dir or settings.demo_dir / "tickets",
                    "mappings_dir": args.mappings_dir or settings.demo_dir / "mappings",
                },
                config_path=args.config,
            )
        return asyncio.run(_run(args, settings))
    except (SettingsError, SourceError) as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
