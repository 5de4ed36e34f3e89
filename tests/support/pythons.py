"""Another Python to run the board on: for tests that depend on the interpreter (shutdown, #308).

`board_python("3.12")` is this interpreter when it is 3.12; else a cached virtualenv made from
pyenv's 3.12 holding the board's *dependencies only*. The project itself is never installed
there: the launcher (`server.launch_board`) puts the checkout on PYTHONPATH, so every checkout
sharing the cache runs its own code. The cache is keyed on the interpreter and the dependency
list (a changed list makes a new virtualenv), and built under a lock so two test runs at once
neither race nor half-build it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from support.server import ROOT

# Every Python pyproject.toml claims (requires-python >= 3.11) that exists today.
CLAIMED = ("3.11", "3.12", "3.13")
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
VENV_CACHE = Path(
    os.environ.get("TICKET_DASH_VENV_CACHE", Path.home() / ".cache" / "ticket-dash-venvs")
)


def running_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def find_python(version: str) -> Path | None:
    """The interpreter for `version` ("3.12"): this one, else pyenv's newest, else None."""
    if running_version() == version:
        return Path(sys.executable)
    for candidate in sorted(PYENV_VERSIONS.glob(f"{version}.*"), reverse=True):
        exe = candidate / "bin" / "python3"
        if exe.exists():
            return exe
    return None


def board_dependencies() -> list[str]:
    """The board's runtime dependencies, as pyproject.toml lists them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def board_python(version: str) -> Path | None:
    """An interpreter of `version` that can run this checkout's board, or None if not installed."""
    if running_version() == version:
        return Path(sys.executable)
    base = find_python(version)
    if base is None:
        return None
    dependencies = board_dependencies()
    key = hashlib.sha256(json.dumps([str(base), dependencies]).encode()).hexdigest()[:12]
    venv = VENV_CACHE / f"py{version}-deps-{key}"
    python = venv / "bin" / "python"
    stamp = venv / ".complete"
    if stamp.exists():
        return python
    VENV_CACHE.mkdir(parents=True, exist_ok=True)
    with (VENV_CACHE / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building it: wait for that one
        if not stamp.exists():
            shutil.rmtree(venv, ignore_errors=True)  # a build that was interrupted
            _run([str(base), "-m", "venv", str(venv)], timeout=120)
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            _run(pip + dependencies, timeout=600)
            stamp.write_text(json.dumps(dependencies))
    return python


def _run(command: list[str], timeout: float) -> None:
    """Run quietly; on failure, raise with what it said."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
