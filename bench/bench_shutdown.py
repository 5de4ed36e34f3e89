"""How long SIGTERM takes with many TVs connected, per Python (hypercorn issue #308).

    .venv/bin/python bench/bench_shutdown.py                 # 1,000 streams on 3.11, 3.12, 3.13
    .venv/bin/python bench/bench_shutdown.py --streams 300 --python 3.12 --silent 3
    .venv/bin/python bench/bench_shutdown.py --cli           # the `hypercorn` command, for contrast

Each run starts a real board over HTTPS (`python -m app`, a throwaway certificate) in a virtualenv
for that Python (its dependencies cached under ~/.cache/ticket-dash-venvs; the code is this
checkout's), opens the streams, sends SIGTERM and
prints the seconds until the process exited. `--silent N` adds N connections that never finish a
TLS handshake (on 3.12+ hypercorn waits for those too; app/serve.py's hard stop ends them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import print_machine, raise_nofile
from support.pythons import CLAIMED, board_python
from support.shutdown import measure_shutdown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--silent", type=int, default=0)
    parser.add_argument("--python", action="append", help="3.11, 3.12, 3.13 (repeatable)")
    parser.add_argument("--cli", action="store_true", help="`hypercorn 'app:create_app()'`")
    parser.add_argument("--limit", type=float, default=15.0, help="give up (kill) after")
    args = parser.parse_args()
    raise_nofile(4 * args.streams + 1024)
    print_machine()
    form = "hypercorn 'app:create_app()'" if args.cli else "python -m app"
    worst = 0.0
    for version in args.python or CLAIMED:
        python = board_python(version)
        if python is None:
            print(f"Python {version}: not installed, skipped")
            continue
        with tempfile.TemporaryDirectory(prefix="ticket-dash-bench-") as tmp:
            seconds = measure_shutdown(
                python, Path(tmp), args.streams, args.silent, cli=args.cli, limit=args.limit
            )
        verdict = f"{seconds:.2f} s" if seconds <= args.limit else f"> {args.limit:.0f} s (killed)"
        print(f"Python {version}, {form}: {args.streams} streams, {args.silent} silent: {verdict}")
        worst = max(worst, seconds)
    return 0 if args.cli or worst < 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())
