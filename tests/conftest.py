from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ holds shared helpers (factories, the fake Freshservice, the browser launcher).
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """An empty tickets folder and mappings folder, as a board would watch them."""
    tickets, mappings = tmp_path / "tickets", tmp_path / "mappings"
    tickets.mkdir()
    mappings.mkdir()
    return tickets, mappings
