"""The small things an attacker or a careless admin finds first (issue #9)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from support.ports import free_port
from support.server import serving
from support.tickets import write_ticket

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server(folders, tmp_path):
    write_ticket(folders[0], 1)
    with serving(*folders, log_dir=tmp_path / "logs") as running:
        yield running


def test_head_on_the_stream_answers_its_headers_and_ends(server):
    response = httpx.head(f"{server.url}/events", timeout=3)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    metrics = httpx.get(f"{server.url}/metrics", timeout=3).text
    assert "ticket_dash_sse_clients 0.0" in metrics  # it held no subscriber


@pytest.mark.parametrize("path", ["/", "/api/tickets", "/healthz", "/metrics", "/nowhere"])
def test_nothing_but_static_files_may_be_kept_by_a_browser_or_proxy(server, path):
    response = httpx.get(f"{server.url}{path}", timeout=3)
    assert response.headers["cache-control"] == "no-store"


def test_the_stream_is_not_kept_either(server):
    with httpx.stream("GET", f"{server.url}/events", timeout=3) as response:
        assert response.headers["cache-control"] == "no-store"


def test_static_files_may_be_kept_by_the_browser_but_not_by_a_shared_proxy(server):
    response = httpx.get(f"{server.url}/static/board.css", timeout=3)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, max-age=86400"


@pytest.mark.parametrize("path", ["/", "/events", "/api/tickets"])
def test_a_filter_value_of_thousands_of_digits_is_just_a_name_that_matches_nothing(server, path):
    with httpx.stream("GET", f"{server.url}{path}?agent={'9' * 5000}", timeout=5) as response:
        assert response.status_code == 200


def test_a_busy_port_is_one_clear_line_and_a_failing_exit(folders):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        command = [sys.executable, "-m", "app", "--bind", f"127.0.0.1:{port}"]
        command += ["--tickets-dir", str(folders[0]), "--mappings-dir", str(folders[1])]
        result = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert "Ticket Dash is at" not in result.stdout  # no URL for a board that is not there
    lines = [line for line in result.stderr.splitlines() if line.startswith("ticket-dash:")]
    assert lines == [
        f"ticket-dash: cannot listen for the board on 127.0.0.1:{port}: Address already in use "
        "(another Ticket Dash, or another program, is using it: stop it, or choose another "
        "address with --bind or the `bind` setting)"
    ]
    assert "Traceback" not in result.stderr
