"""Screenshots of the board.

.venv/bin/python -m tests.frontend.screenshot [--out /tmp]
    the harness board at 1920×1080, dark and light: board-dark.png, board-light.png
.venv/bin/python -m tests.frontend.screenshot --url http://127.0.0.1:5001/ --out docs
    a running board (e.g. `make demo`) as a wall: wall-1920x1080.png and wall-3840x2160.png
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for `browser`

from browser import chromium_page

from frontend.harness import Harness, demo_sections


async def shoot(out: Path) -> list[Path]:
    harness = Harness(sections=demo_sections(22, time.time()), heartbeat_seconds=15)
    harness.malformed = {"count": 2, "files": ["4711.json", "bad.json"]}
    url = await harness.start()
    paths = []
    try:
        for scheme in ("dark", "light"):
            async with chromium_page(color_scheme=scheme) as page:
                await page.goto(url + "/?group=Network")
                await page.wait_for_selector("#conn.conn-live")
                await page.focus("#t-4703 .subject")  # one tooltip open, as a keyboard user sees it
                path = out / f"board-{scheme}.png"
                await page.screenshot(path=str(path))
                paths.append(path)
    finally:
        await harness.stop()
    return paths


WALL_SIZES = ((1920, 1080), (3840, 2160))


async def shoot_wall(url: str, out: Path, settle_ms: int = 2000) -> list[Path]:
    paths = []
    for width, height in WALL_SIZES:
        async with chromium_page(viewport={"width": width, "height": height}) as page:
            await page.goto(url)
            await page.wait_for_selector("#conn.conn-live")
            await page.wait_for_timeout(settle_ms)  # the first snapshot, marks, columns
            path = out / f"wall-{width}x{height}.png"
            await page.screenshot(path=str(path))
            paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp"))
    parser.add_argument("--url", help="a running board to shoot as a wall")
    args = parser.parse_args()
    shots = shoot_wall(args.url, args.out) if args.url else shoot(args.out)
    for path in asyncio.run(shots):
        print(path)


if __name__ == "__main__":
    main()
