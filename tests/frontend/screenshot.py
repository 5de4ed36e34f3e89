"""Screenshots of the harness board at 1920×1080, dark and light: /tmp/board-dark.png, -light.png.

.venv/bin/python -m tests.frontend.screenshot [--out /tmp]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for `browser`

from support.browser import chromium_page

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp"))
    for path in asyncio.run(shoot(parser.parse_args().out)):
        print(path)


if __name__ == "__main__":
    main()
