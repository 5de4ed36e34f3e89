"""`systemctl reload` (SIGHUP): new settings without dropping the TVs (#10).

A real board with a settings file; two TVs stream with their kiosk cookies. Revoking one key in
the file and reloading ends that TV's stream at once and refuses its cookie; the other TV's stream
goes on. A broken file changes nothing; a setting that needs a restart is said to."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest
from support.ports import free_port
from support.server import launch_board, serving
from support.tickets import write_ticket

from app.credentials import hash_key, hash_password

LOBBY, OFFICE = "lobby-key-" + "l" * 24, "office-key-" + "o" * 24


def settings_file(path, port: int, keys: dict[str, str], extra: str = "") -> None:
    lines = [f'bind = "127.0.0.1:{port}"', 'access_control = "on"', extra, "[access_keys]"]
    lines += [f'{name} = "{hash_key(key)}"' for name, key in keys.items()]
    lines += ["[admin_users]", f'alice = "{hash_password("pw")}"']
    path.write_text("\n".join(lines) + "\n")


async def kiosk_cookie(url: str, key: str) -> dict[str, str]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{url}/?key={key}", follow_redirects=False)
        assert response.status_code == 303
        return dict(response.cookies)


async def open_stream(client: httpx.AsyncClient, url: str):
    stream = client.stream("GET", f"{url}/events")
    response = await stream.__aenter__()
    lines = response.aiter_lines()
    async with asyncio.timeout(10):
        async for line in lines:
            if line == "event: snapshot":
                break
    return stream, lines


async def next_event_or_end(lines, timeout: float = 5.0, skip: tuple[str, ...] = ()) -> str:
    """The next event's name (not a heartbeat, nor one in `skip`), or "end" when the server
    closed the stream."""
    try:
        async with asyncio.timeout(timeout):
            async for line in lines:
                if line.startswith("event: ") and line[7:] not in ("heartbeat", *skip):
                    return line[7:]
    except httpx.RemoteProtocolError:
        return "end"
    return "end"


@pytest.mark.parametrize("workers", [1, 2])
async def test_revoking_a_key_ends_its_stream_at_once_and_spares_the_others(
    folders, tmp_path, workers
):
    write_ticket(folders[0], 1)
    port = free_port()
    config = tmp_path / "ticket-dash.toml"
    settings_file(config, port, {"lobby-tv": LOBBY, "office-tv": OFFICE})
    env = {"TICKET_DASH_CONFIG": str(config), "TICKET_DASH_WORKERS": str(workers)}
    with serving(*folders, port=port, env=env, log_dir=tmp_path / "logs") as server:
        url = server.url
        lobby, office = await kiosk_cookie(url, LOBBY), await kiosk_cookie(url, OFFICE)
        async with (
            httpx.AsyncClient(cookies=lobby, timeout=30) as lobby_tv,
            httpx.AsyncClient(cookies=office, timeout=30) as office_tv,
        ):
            lobby_stream, lobby_lines = await open_stream(lobby_tv, url)
            office_stream, office_lines = await open_stream(office_tv, url)
            settings_file(config, port, {"office-tv": OFFICE})
            revoked_at = time.monotonic()
            server.process.send_signal(signal.SIGHUP)
            assert await next_event_or_end(lobby_lines) == "end"
            assert time.monotonic() - revoked_at < 3.0
            assert (await lobby_tv.get(f"{url}/")).status_code == 401
            assert await next_event_or_end(office_lines) == "status"  # the reload's timings
            write_ticket(folders[0], 2, subject="after the reload")
            assert await next_event_or_end(office_lines, skip=("status",)) == "patch"
            assert (await office_tv.get(f"{url}/")).status_code == 200
            for stream in (lobby_stream, office_stream):
                await stream.__aexit__(None, None, None)
        assert "ended 1 event stream(s) of revoked keys, admins or networks" in server.output()


async def test_removing_a_tvs_network_ends_its_stream_at_once(folders, tmp_path):
    write_ticket(folders[0], 1)
    port = free_port()
    config = tmp_path / "ticket-dash.toml"
    here = 'allowed_networks = ["127.0.0.0/8"]'
    settings_file(config, port, {"lobby-tv": LOBBY}, extra=here)
    env = {"TICKET_DASH_CONFIG": str(config)}
    with serving(*folders, port=port, env=env, log_dir=tmp_path / "logs") as server:
        lobby = await kiosk_cookie(server.url, LOBBY)
        async with httpx.AsyncClient(cookies=lobby, timeout=30) as tv:
            stream, lines = await open_stream(tv, server.url)
            elsewhere = 'allowed_networks = ["10.0.0.0/8"]'
            settings_file(config, port, {"lobby-tv": LOBBY}, extra=elsewhere)
            server.process.send_signal(signal.SIGHUP)
            assert await next_event_or_end(lines) == "end"
            assert (await tv.get(f"{server.url}/")).status_code == 403
            await stream.__aexit__(None, None, None)
        assert "ended 1 event stream(s) of revoked keys, admins or networks" in server.output()


def reloaded_workers(output: str) -> set[str]:
    """The workers (process ids) that logged reading the settings again."""
    return {
        line.split("[", 1)[1].split("]", 1)[0]
        for line in output.splitlines()
        if "reload: settings read again" in line and "[" in line
    }


async def test_a_reload_while_the_workers_start_is_neither_fatal_nor_lost(folders, tmp_path):
    write_ticket(folders[0], 1)
    port = free_port()
    config = tmp_path / "ticket-dash.toml"
    settings_file(config, port, {"lobby-tv": LOBBY})
    env = {"TICKET_DASH_CONFIG": str(config), "TICKET_DASH_WORKERS": "2"}
    board = launch_board(*folders, port=port, env=env, log_dir=tmp_path / "logs")
    try:
        deadline = time.monotonic() + 20
        while "with 2 workers" not in board.output():  # the workers are being started
            assert time.monotonic() < deadline and board.process.poll() is None, board.output()
            await asyncio.sleep(0.01)
        settings_file(config, port, {"lobby-tv": LOBBY, "office-tv": OFFICE})
        board.process.send_signal(signal.SIGHUP)  # an admin's `systemctl reload`, early
        board.wait_ready(20)
        deadline = time.monotonic() + 10
        while len(reloaded_workers(board.output())) < 2:  # each worker, once it serves
            assert time.monotonic() < deadline and board.process.poll() is None, board.output()
            await asyncio.sleep(0.05)
        for _ in range(10):  # new connections, so both workers answer some
            async with httpx.AsyncClient() as tv:
                response = await tv.get(f"{board.url}/?key={OFFICE}", follow_redirects=False)
                assert response.status_code == 303  # the key the reload added works everywhere
        assert board.process.poll() is None
        assert "exited with" not in board.output()
    finally:
        board.stop()


def not_toml(config) -> None:
    config.write_text("this is = = not toml\n")


def not_utf8(config) -> None:
    config.write_bytes('title = "B\u00fchne"\n'.encode("latin-1"))  # saved by an old editor


def a_folder(config) -> None:
    config.unlink()
    config.mkdir()  # unreadable as a file (as root, mode 000 would still be read)


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_broken_settings_file_on_reload_keeps_the_running_settings(
    folders, tmp_path, workers
):
    write_ticket(folders[0], 1)
    port = free_port()
    config = tmp_path / "ticket-dash.toml"
    settings_file(config, port, {"lobby-tv": LOBBY})
    env = {"TICKET_DASH_CONFIG": str(config), "TICKET_DASH_WORKERS": str(workers)}
    with serving(*folders, port=port, env=env, log_dir=tmp_path / "logs") as server:
        cookie = await kiosk_cookie(server.url, LOBBY)
        for breaks, says in [
            (not_toml, "is not valid TOML"),
            (not_utf8, "is not UTF-8"),
            (a_folder, "cannot be read"),
        ]:
            breaks(config)
            server.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            while f"{says}" not in server.output():
                assert time.monotonic() < deadline, server.output()
                await asyncio.sleep(0.05)
            assert "keeping the running settings" in server.output()
            async with httpx.AsyncClient(cookies=cookie) as tv:
                assert (await tv.get(f"{server.url}/")).status_code == 200
            if config.is_dir():
                config.rmdir()
        # Still the board it was: a good file is taken by the next reload.
        settings_file(config, port, {"lobby-tv": LOBBY, "office-tv": OFFICE})
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while True:
            async with httpx.AsyncClient() as tv:
                response = await tv.get(f"{server.url}/?key={OFFICE}", follow_redirects=False)
            if response.status_code == 303:
                break
            assert time.monotonic() < deadline, server.output()
            await asyncio.sleep(0.1)
        assert server.process.poll() is None
        assert "Traceback" not in server.output()


async def test_a_setting_that_needs_a_restart_is_named_and_kept(folders, tmp_path):
    write_ticket(folders[0], 1)
    port = free_port()
    config = tmp_path / "ticket-dash.toml"
    settings_file(config, port, {"lobby-tv": LOBBY}, extra="watch_debounce_ms = 20")
    env = {"TICKET_DASH_CONFIG": str(config)}
    with serving(*folders, port=port, env=env, log_dir=tmp_path / "logs") as server:
        changed = "watch_debounce_ms = 50\nfr_warning_hours = 30.0"
        settings_file(config, port, {"lobby-tv": LOBBY}, extra=changed)
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while "take effect only after a restart" not in server.output():
            assert time.monotonic() < deadline, server.output()
            await asyncio.sleep(0.05)
        assert (
            "reload: watch_debounce_ms changed but take effect only after a restart"
            in server.output()
        )
        async with httpx.AsyncClient(auth=("alice", "pw")) as admin:
            board = (await admin.get(f"{server.url}/api/tickets")).json()
        # The SLA rule took effect at once: a first response due in 24 h is now a Warning.
        assert board["sections"]["open"][0]["sla"] == "warning"
