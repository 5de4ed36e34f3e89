"""Screenshots of the real board on the simulated helpdesk: at 1920×1080, dark and light, with
one tooltip open; and the wall as a TV shows it at 1920×1080 and 3840×2160 (README's
docs/wall-*.png: `--out docs`):

    .venv/bin/python tests/screenshot.py [--out /tmp] [--seed 7]

Seeds a folder with the simulated helpdesk (watcher.demo, the same as `make demo`), starts
`python -m app` on it, and shoots the page with one tooltip open, as a keyboard user sees it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from support.browser import chromium_page  # noqa: E402
from support.server import serving  # noqa: E402

from app.settings import Settings  # noqa: E402
from watcher.demo import DemoSource  # noqa: E402


async def shoot(out: Path, seed: int) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="ticket-dash-screenshot-") as tmp:
        root = Path(tmp)
        settings = Settings(tickets_dir=root / "tickets", mappings_dir=root / "mappings")
        DemoSource(settings, seed=seed).start()  # the first seed: every SLA state on show
        paths = []
        with serving(settings.tickets_dir, settings.mappings_dir, log_dir=root) as board:
            for scheme in ("dark", "light"):
                async with chromium_page(color_scheme=scheme) as page:
                    await page.goto(board.url)
                    await page.wait_for_selector("#conn.conn-live")
                    await page.focus("#rows-open tr:nth-child(2) .subject")  # one tooltip open
                    path = out / f"board-{scheme}.png"
                    await page.screenshot(path=str(path))
                    paths.append(path)
            for width, height in ((1920, 1080), (3840, 2160)):
                async with chromium_page(viewport={"width": width, "height": height}) as page:
                    await page.goto(board.url)
                    await page.wait_for_selector("#conn.conn-live")
                    await page.wait_for_selector(
                        "#today .spark path", state="attached"
                    )  # a summary
                    path = out / f"wall-{width}x{height}.png"
                    await page.screenshot(path=str(path))
                    paths.append(path)
        return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for path in asyncio.run(shoot(args.out, args.seed)):
        print(path)


if __name__ == "__main__":
    main()
