"""The board as systemd runs it: HTTPS, HTTP/2 event streams, the HTTP redirect, and SIGTERM
with hundreds of streams open on every Python we claim (hypercorn issue #308: 3.12+)."""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx
import pytest
from httpx_sse import aconnect_sse
from support.pythons import CLAIMED, board_python
from support.server import ROOT, BoardProcess, board_environment
from support.shutdown import open_streams, sigterm_and_time, silent_connections
from support.tls_board import ADMIN_PASSWORD, KIOSK_KEY, kiosk_cookie, running_tls_board

STREAMS = 300
SHUTDOWN_LIMIT = 5.0


def interpreter(version: str):
    """An interpreter of `version` that runs this checkout's board; skips when not installed."""
    python = board_python(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed here (pyenv)")
    return python


@pytest.fixture(scope="module")
def python_311():
    return interpreter("3.11")


@pytest.fixture(scope="module")
def board(tmp_path_factory, python_311):
    root = tmp_path_factory.mktemp("tls")
    with running_tls_board(python_311, root, access_log=True) as running:
        yield running


async def test_kiosk_link_then_an_http2_event_stream_over_https(board: BoardProcess):
    async with httpx.AsyncClient(http2=True, verify=board.ssl_context, timeout=10) as client:
        first = await client.get(f"{board.url}/?key={KIOSK_KEY}&section=open")
        assert first.status_code == 303
        assert first.http_version == "HTTP/2"
        assert first.headers["location"] == "/?section=open"
        cookie = first.headers["set-cookie"]
        assert cookie.startswith("__Host-ticket-dash-kiosk=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        page = await client.get(f"{board.url}/?section=open")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"].startswith("max-age=")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        async with aconnect_sse(client, "GET", f"{board.url}/events") as source:
            assert source.response.http_version == "HTTP/2"
            async for event in source.aiter_sse():
                if event.event == "snapshot":
                    assert "VPN down for office 1" in event.data
                    break


async def test_many_http2_streams_share_one_connection(board: BoardProcess):
    async with httpx.AsyncClient(http2=True, verify=board.ssl_context, timeout=10) as client:
        await client.get(f"{board.url}/?key={KIOSK_KEY}")

        async def one() -> str:
            async with aconnect_sse(client, "GET", f"{board.url}/events") as source:
                async for event in source.aiter_sse():
                    return event.event
            return ""

        kinds = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(12))), 20)
        assert set(kinds) == {"snapshot"}  # 12 > the 6 an HTTP/1.1 browser would allow (16 max)


@pytest.mark.parametrize("path", ["/", "/events", "/api/tickets", "/static/board.js", "/metrics"])
def test_nothing_without_credentials_over_the_wire(board: BoardProcess, path):
    response = httpx.get(f"{board.url}{path}", verify=board.ssl_context, timeout=10)
    assert response.status_code == 401
    assert "VPN" not in response.text


def test_admin_login_over_the_wire(board: BoardProcess):
    response = httpx.get(
        f"{board.url}/api/tickets",
        verify=board.ssl_context,
        auth=("admin", ADMIN_PASSWORD),
        timeout=10,
    )
    assert response.status_code == 200
    assert "VPN down for office 2" in response.text


def test_plain_http_redirects_to_https(board: BoardProcess):
    plain = f"http://127.0.0.1:{board.redirect_port}"
    response = httpx.get(f"{plain}/?section=open", timeout=10)
    assert response.status_code == 308
    assert response.headers["location"] == f"{board.url}/?section=open"
    assert "VPN" not in response.text
    # A kiosk key that came over plain HTTP is not passed on to the host the request named.
    keyed = httpx.get(f"{plain}/?key=abc&section=open", headers={"Host": "evil.example"})
    assert keyed.headers["location"] == f"https://evil.example:{board.port}/?section=open"
    followed = httpx.get(
        f"{plain}/healthz", verify=board.ssl_context, follow_redirects=True, timeout=10
    )
    assert followed.url.scheme == "https"
    assert followed.status_code == 200


def test_the_access_log_has_one_line_per_request_and_never_the_key(board: BoardProcess):
    kiosk_cookie(board)
    httpx.get(f"{board.url}/healthz?probe=1", verify=board.ssl_context, timeout=10)
    output = board.output()
    assert '"GET /healthz HTTP/1.1" 200' in output  # the path, without its query string
    assert "probe=1" not in output
    assert KIOSK_KEY not in output
    assert "kiosk key 'probe-tv' accepted" in output


def test_a_path_with_line_breaks_cannot_forge_a_log_line(board: BoardProcess):
    forged = "INFO ticket_dash.access: kiosk key 'lobby-tv' accepted from 10.0.0.9"
    path = "/x%0d%0a" + forged.replace(" ", "%20") + "%1b%5b31m"
    response = httpx.get(f"{board.url}{path}", verify=board.ssl_context, timeout=10)
    assert response.status_code in (401, 404)
    output = board.output()
    assert "/x\\r\\n" + forged + "\\x1b[31m HTTP/1.1" in output  # written as escapes
    assert not any(line.startswith(forged) for line in output.splitlines())
    assert "\x1b" not in output
    # A kiosk link on such a path: the TV is sent on to the path as it came, still encoded.
    linked = httpx.get(f"{board.url}{path}?key={KIOSK_KEY}", verify=board.ssl_context, timeout=10)
    assert linked.status_code == 303
    assert linked.headers["location"] == path
    assert not any(line.startswith(forged) for line in board.output().splitlines())


def test_a_connection_that_never_starts_tls_is_dropped_long_before_a_minute(board: BoardProcess):
    """hypercorn waits 60 s for a TLS handshake: a client opening silent connections would hold
    a file each that long (app.web.listen.SSL_HANDSHAKE_TIMEOUT)."""
    (quiet,) = silent_connections(board, 1)
    quiet.settimeout(40)
    started = time.monotonic()
    try:
        assert quiet.recv(1) == b""  # closed by the board
    finally:
        quiet.close()
    assert time.monotonic() - started < 30


def test_the_redirect_keeps_a_path_that_is_not_ascii(board: BoardProcess):
    plain = f"http://127.0.0.1:{board.redirect_port}"
    response = httpx.get(f"{plain}/%E2%82%AC?section=open", timeout=10)
    assert response.status_code == 308
    assert response.headers["location"] == f"{board.url}/%E2%82%AC?section=open"


@pytest.mark.timeout(300)  # the first run makes a virtualenv for that Python (cached after)
@pytest.mark.parametrize("version", CLAIMED)
async def test_sigterm_with_hundreds_of_streams_open_ends_within_5_seconds(tmp_path, version):
    python = interpreter(version)
    with running_tls_board(python, tmp_path) as board:
        cookie = kiosk_cookie(board)
        streams = await asyncio.wait_for(open_streams(board, cookie, STREAMS), 40)
        # A few connections that never finish a TLS handshake: on 3.12+ hypercorn would wait
        # for them too; the hard stop in app/web/serve.py ends them.
        quiet = silent_connections(board, 3)
        try:
            seconds = await sigterm_and_time(board, streams)
        finally:
            for sock in quiet:
                sock.close()
        assert board.process.returncode == 0
    print(f"Python {version}: {STREAMS} streams, stopped in {seconds:.2f} s")
    assert seconds < SHUTDOWN_LIMIT
    assert f"closing {STREAMS} open event streams" in board.output()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("version", CLAIMED)
def test_the_board_on_another_python_runs_this_checkouts_code(tmp_path, version):
    """The per-Python virtualenvs are shared by every checkout: the code must come from ours."""
    python = interpreter(version)
    shown = subprocess.run(
        [str(python), "-c", "import app, sys; print(app.__file__, *sys.version_info[:2])"],
        env=board_environment(),
        cwd=tmp_path,  # not the checkout: `-c` would import from the working directory
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    assert shown == [str(ROOT / "app" / "__init__.py"), *version.split(".")]


async def test_two_workers_share_the_port_and_stop_together(tmp_path, python_311):
    with running_tls_board(python_311, tmp_path, workers=2) as board:
        deadline = time.monotonic() + 30  # both serve (one answering is "ready" for the launcher)
        while board.output().count("Running on") < 2:
            assert time.monotonic() < deadline, board.output()
            await asyncio.sleep(0.05)
        cookie = kiosk_cookie(board)
        streams = await asyncio.wait_for(open_streams(board, cookie, 60), 30)
        seconds = await sigterm_and_time(board, streams)
        assert board.process.returncode == 0
    assert seconds < SHUTDOWN_LIMIT
    assert board.output().count("stopping: closing") == 2
