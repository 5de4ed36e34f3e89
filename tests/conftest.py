from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# tests/ holds the shared support package (tests/support) and the fake Freshservice.
sys.path.insert(0, str(Path(__file__).parent))

from support.server import BoardProcess, launch_board


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """An empty tickets folder and mappings folder, as a board would watch them."""
    tickets, mappings = tmp_path / "tickets", tmp_path / "mappings"
    tickets.mkdir()
    mappings.mkdir()
    return tickets, mappings


@pytest.fixture
def start_board(
    request: pytest.FixtureRequest, folders: tuple[Path, Path], tmp_path: Path
) -> Iterator[Callable[..., BoardProcess]]:
    """Starts a real board (`python -m app`) on the test's folders and waits until it answers.

    `start_board(env={...})`; `start_board(port=board.port)` starts it again where it was (its
    log continues). Every board is stopped when the test ends; a failing test's report shows
    their logs (kept in the test's tmp_path).
    """
    boards: list[BoardProcess] = []
    request.node.stash[BOARDS] = boards

    def start(**kwargs: Any) -> BoardProcess:
        board = launch_board(*folders, log_dir=tmp_path / "logs", **kwargs)
        boards.append(board)
        board.wait_ready()
        return board

    yield start
    for board in boards:
        board.stop()


BOARDS = pytest.StashKey[list[BoardProcess]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test's report carries the output of every real board it used."""
    report = yield
    if report.failed:
        boards = list(item.stash.get(BOARDS, []))
        funcargs = getattr(item, "funcargs", {})
        boards += [v for v in funcargs.values() if isinstance(v, BoardProcess)]
        for log in dict.fromkeys(board.log_path for board in boards):
            report.sections.append((f"board log {log}", log.read_text(errors="replace")))
    return report
