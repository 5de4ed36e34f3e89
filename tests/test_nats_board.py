"""A board on another host, as an admin runs it (issue 12): `python -m watcher --source demo`
publishing to NATS, `python -m watcher --source nats` keeping a second folder, and the unchanged
board on that folder. When NATS goes away the board keeps its rows and reports the watcher's
error (and STALE once `stale_after_seconds` pass); when NATS is back it is healthy again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.nats_server import NatsServer, running_nats
from support.server import serving

pytestmark = pytest.mark.timeout(90)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    yield from running_nats(tmp_path)


def watcher(root: Path, url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKET_DASH_")}
    env.update(
        PYTHONPATH=str(REPO),
        TICKET_DASH_NATS_URL=url,
        TICKET_DASH_TICKETS_DIR=str(root / "tickets"),
        TICKET_DASH_MAPPINGS_DIR=str(root / "mappings"),
        TICKET_DASH_DEMO_TICKETS="12",
    )
    root.mkdir(parents=True, exist_ok=True)
    with (root / "watcher.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "watcher", *args],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def until(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll another process's answer until `check` returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def rows(board_url: str) -> int:
    sections = httpx.get(f"{board_url}/api/tickets", timeout=5).json()["sections"]
    return sum(len(v) for v in sections.values())


def health(board_url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{board_url}/healthz", timeout=5).json())


def test_the_board_on_a_mirror_shows_the_tickets_keeps_them_while_nats_is_away_and_says_so(
    tmp_path, nats_server
):
    source = watcher(tmp_path / "source", nats_server.url, "--source", "demo")
    mirror = watcher(tmp_path / "mirror", nats_server.url, "--source", "nats")
    procs = [source, mirror]
    try:
        folder = tmp_path / "mirror"
        until(lambda: (folder / "tickets" / ".watcher.json").exists(), "the mirror's first copy")
        with serving(folder / "tickets", folder / "mappings", log_dir=tmp_path / "logs") as board:
            shown = until(lambda: rows(board.url) >= 10, "the demo's rows on the mirror's board")
            assert shown
            until(lambda: health(board.url)["status"] == "ok", "a healthy board")

            nats_server.stop()
            sick = until(
                lambda: (h := health(board.url))["status"] != "ok" and h, "the board to notice"
            )
            assert sick["reason"] == "watcher reports an error"
            assert rows(board.url) >= 10  # the last state stays on the wall
            watcher_json = httpx.get(f"{board.url}/api/tickets", timeout=5).json()["watcher"]
            assert "not connected to NATS" in watcher_json["last_error"]

            nats_server.start()
            until(lambda: health(board.url)["status"] == "ok", "health after NATS is back", 30)
    except BaseException:
        for name in ("source", "mirror"):
            log = tmp_path / name / "watcher.log"
            print(f"--- {name} ---\n{log.read_text(errors='replace')}", file=sys.stderr)
        raise
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
