"""Access control: kiosk keys, admin logins, networks, and refusing to start exposed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tomllib
from pathlib import Path

import pytest
from support.inprocess import (
    ADMIN_PASSWORD,
    KIOSK_KEY,
    LAN,
    OTHER_KEY,
    basic,
    secured_settings,
    started,
)
from support.tickets import write_fresh_status

from app import create_app
from app.credentials import hash_key, hash_password, main, verify_password
from app.settings import SettingsError, load_settings
from app.stream.gate import SnapshotGate
from app.web.security import COOKIE_PLAIN, COOKIE_SECURE, is_loopback_bind, is_loopback_client

PROTECTED = ["/", "/events", "/api/tickets", "/static/board.css", "/metrics"]


async def kiosk_cookie(app, scheme: str = "http", key: str = KIOSK_KEY) -> tuple[str, str]:
    client = app.test_client(use_cookies=False)
    response = await client.get(f"/?key={key}", scope_base={**LAN, "scheme": scheme})
    assert response.status_code == 303
    name, _, rest = response.headers["Set-Cookie"].partition("=")
    return name, rest.partition(";")[0]


# -- refusing to start --------------------------------------------------------------------------
@pytest.mark.parametrize("bind", ["0.0.0.0:443", "10.0.0.7:8443", "[::]:443", "fd://3"])
def test_network_bind_without_any_login_refuses_to_start_and_says_how(tmp_path, bind):
    settings = load_settings({"bind": bind, "tickets_dir": tmp_path}, environ={})
    with pytest.raises(SettingsError, match=r"python -m app\.credentials new-key"):
        create_app(settings)


def test_access_control_off_is_refused_on_a_network_bind(tmp_path):
    settings = secured_settings(tmp_path, bind="0.0.0.0:443", access_control="off")
    with pytest.raises(SettingsError, match="access_control is off"):
        create_app(settings)


@pytest.mark.parametrize(
    ("bind", "loopback"),
    [
        ("127.0.0.1:5001", True),
        ("[::1]:5001", True),
        ("localhost:5001", True),
        ("unix:/run/td.sock", True),
        ("0.0.0.0:5001", False),
        ("fd://3", False),
        ("board.example:443", False),
    ],
)
def test_loopback_binds_are_recognised(bind, loopback):
    assert is_loopback_bind(bind) is loopback


@pytest.mark.parametrize(
    ("client", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # this machine over a dual-stack socket (Python < 3.13 says no)
        ("::ffff:10.1.2.3", False),
        ("10.1.2.3", False),
        ("not an address", False),
        (None, True),  # a unix socket
    ],
)
def test_loopback_clients_are_recognised(client, loopback):
    assert is_loopback_client(client) is loopback


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("access_keys", {"tv": "plain-key-not-a-hash"}, "sha256"),
        ("admin_users", {"bob": "hunter2"}, "scrypt"),
        ("allowed_networks", ["10.0.0.0/33"], "allowed_networks"),
        ("access_control", "maybe", "auto, on or off"),
    ],
)
def test_bad_access_settings_are_named(tmp_path, field, value, message):
    with pytest.raises(SettingsError, match=message):
        create_app(secured_settings(tmp_path, **{field: value}))


async def test_loopback_bind_without_access_control_answers_only_this_machine(tmp_path):
    settings = secured_settings(tmp_path, access_control="auto", access_keys={}, admin_users={})
    async with started(settings) as app:
        client = app.test_client()
        assert (await client.get("/api/tickets")).status_code == 200
        remote = await client.get("/api/tickets", scope_base=LAN)
        assert remote.status_code == 403


# -- nothing without credentials ----------------------------------------------------------------
@pytest.mark.parametrize("path", PROTECTED)
async def test_every_protected_url_refuses_without_credentials(tmp_path, path):
    async with started(secured_settings(tmp_path)) as app:
        response = await app.test_client().get(path, scope_base=LAN)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic ")
        assert b"Printer" not in await response.get_data()


async def test_healthz_answers_without_credentials_and_shows_no_tickets(tmp_path):
    settings = secured_settings(tmp_path)
    write_fresh_status(settings.tickets_dir)
    async with started(settings) as app:
        response = await app.test_client().get("/healthz", scope_base=LAN)
        assert response.status_code == 200
        body = await response.get_data(as_text=True)
        assert "Printer" not in body and "tickets" not in body


# -- kiosk keys ---------------------------------------------------------------------------------
async def test_kiosk_link_sets_a_cookie_and_redirects_without_the_key(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        response = await client.get(f"/?section=open&key={KIOSK_KEY}&theme=dark", scope_base=LAN)
        assert response.status_code == 303
        assert response.headers["Location"] == "/?section=open&theme=dark"
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith(f"{COOKIE_PLAIN}=lobby-tv.")
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=34560000"):
            assert attribute in cookie
        assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back
        assert KIOSK_KEY not in cookie and hash_key(KIOSK_KEY)[7:] not in cookie

        pair = cookie.split(";")[0]
        page = await client.get("/?section=open", scope_base=LAN, headers={"Cookie": pair})
        assert page.status_code == 200
        assert "Printer on fire" in await page.get_data(as_text=True)


async def test_kiosk_cookie_over_https_is_secure_and_host_prefixed(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        name, value = await kiosk_cookie(app, scheme="https")
        assert name == COOKIE_SECURE
        client = app.test_client(use_cookies=False)
        response = await client.get(f"/?key={KIOSK_KEY}", scope_base={**LAN, "scheme": "https"})
        assert "Secure" in response.headers["Set-Cookie"]
        ok = await client.get(
            "/api/tickets",
            scope_base={**LAN, "scheme": "https"},
            headers={"Cookie": f"{name}={value}"},
        )
        assert ok.status_code == 200


async def test_wrong_kiosk_key_is_refused(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        response = await app.test_client().get("/?key=guessed-key", scope_base=LAN)
        assert response.status_code == 403
        assert "Set-Cookie" not in response.headers


async def test_a_forged_or_tampered_cookie_is_refused(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        name, value = await kiosk_cookie(app)
        client = app.test_client(use_cookies=False)
        for bad in (value[:-2] + "AA", "lobby-tv.", "office-tv" + value[8:], "nobody.x", "x"):
            response = await client.get(
                "/api/tickets", scope_base=LAN, headers={"Cookie": f"{name}={bad}"}
            )
            assert response.status_code == 401, bad


async def test_revoked_key_stops_its_link_and_its_cookie(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        name, value = await kiosk_cookie(app)
    revoked = secured_settings(tmp_path, access_keys={"office-tv": hash_key(OTHER_KEY)})
    async with started(revoked) as app:
        client = app.test_client(use_cookies=False)
        cookie = {"Cookie": f"{name}={value}"}
        assert (await client.get("/", scope_base=LAN, headers=cookie)).status_code == 401
        assert (await client.get(f"/?key={KIOSK_KEY}", scope_base=LAN)).status_code == 403
    rotated = secured_settings(tmp_path, access_keys={"lobby-tv": hash_key("a-brand-new-key")})
    async with started(rotated) as app:
        client = app.test_client(use_cookies=False)
        cookie = {"Cookie": f"{name}={value}"}
        assert (await client.get("/", scope_base=LAN, headers=cookie)).status_code == 401


async def test_kiosk_cookie_opens_the_event_stream(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        name, value = await kiosk_cookie(app)
        client = app.test_client(use_cookies=False)
        async with client.request(
            "/events", scope_base=LAN, headers={"Cookie": f"{name}={value}"}
        ) as connection:
            await connection.send_complete()
            first = await asyncio.wait_for(connection.receive(), 5)
            while b"snapshot" not in first:
                first += await asyncio.wait_for(connection.receive(), 5)
            assert b"Printer on fire" in first
            await connection.disconnect()


# -- admins -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (basic("alice", ADMIN_PASSWORD), 200),
        (basic("alice", "wrong"), 401),
        (basic("mallory", ADMIN_PASSWORD), 401),
        ({"Authorization": "Basic !!!not-base64"}, 401),
        ({"Authorization": "Bearer abc"}, 401),
        ({}, 401),
    ],
)
async def test_admin_basic_login(tmp_path, headers, status):
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        for _ in range(2):  # the second time comes from the verified-login cache
            response = await client.get("/api/tickets", scope_base=LAN, headers=headers)
            assert response.status_code == status


async def test_changed_admin_password_is_not_served_from_the_cache(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        ok = await client.get("/", scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD))
        assert ok.status_code == 200
    changed = secured_settings(tmp_path, admin_users={"alice": hash_password("new one")})
    async with started(changed) as app:
        client = app.test_client(use_cookies=False)
        old = await client.get("/", scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD))
        assert old.status_code == 401


async def test_failed_logins_from_one_address_are_throttled_with_retry_after(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "ticket_dash.access")
    settings = secured_settings(tmp_path, failed_logins_per_minute=3)
    async with started(settings) as app:
        client = app.test_client(use_cookies=False)
        guesses = [basic("alice", f"guess {n}") for n in range(3)]
        for headers in guesses:
            assert (await client.get("/", scope_base=LAN, headers=headers)).status_code == 401
        throttled = await client.get("/", scope_base=LAN, headers=basic("alice", "guess 4"))
        assert throttled.status_code == 429
        assert 55 <= int(throttled.headers["Retry-After"]) <= 60
        # The right password does not help a throttled address; another address is unaffected.
        again = await client.get("/", scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD))
        assert again.status_code == 429
        other = {"client": ("10.9.9.9", 5000)}
        fine = await client.get("/", scope_base=other, headers=basic("alice", ADMIN_PASSWORD))
        assert fine.status_code == 200
        # A TV's cookie from the throttled address still works: only guessing is throttled.
        name, value = await kiosk_cookie(app)
        tv = await client.get("/", scope_base=LAN, headers={"Cookie": f"{name}={value}"})
        assert tv.status_code == 200
    lines = [r.getMessage() for r in caplog.records if "failed admin login" in r.getMessage()]
    assert lines == [
        "failed admin login from 10.1.2.3 (user 'alice')",
        "failed admin login from 10.1.2.3 (user 'alice')",
        "3 failed admin logins from 10.1.2.3 in a minute (last: user 'alice'): throttled for a minute",
    ]


async def test_an_unknown_user_costs_the_same_password_check_as_a_known_one(tmp_path, monkeypatch):
    checked: list[str] = []
    from app.web import logins

    def counting_verify(password: str, stored: str) -> bool:
        checked.append(stored.split("$")[0])
        return verify_password(password, stored)

    monkeypatch.setattr(logins, "verify_password", counting_verify)
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        await client.get("/", scope_base=LAN, headers=basic("mallory", "guess"))
        await client.get("/", scope_base=LAN, headers=basic("alice", "guess"))
    assert checked == ["scrypt", "scrypt"]


async def test_a_verified_admin_is_not_hashed_again_on_every_request(tmp_path, monkeypatch):
    checked: list[str] = []
    from app.web import logins

    def counting_verify(password: str, stored: str) -> bool:
        checked.append(password)
        return verify_password(password, stored)

    monkeypatch.setattr(logins, "verify_password", counting_verify)
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        for _ in range(5):
            ok = await client.get("/", scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD))
            assert ok.status_code == 200
    assert checked == [ADMIN_PASSWORD]


async def test_password_checks_run_off_the_event_loop(tmp_path):
    """While a guess is being checked (~50 ms of scrypt), the loop answers a TV."""
    async with started(secured_settings(tmp_path, failed_logins_per_minute=100)) as app:
        client = app.test_client(use_cookies=False)
        name, value = await kiosk_cookie(app)
        tv = {"Cookie": f"{name}={value}"}
        guesses = [
            asyncio.create_task(
                client.get("/api/tickets", scope_base=LAN, headers=basic("alice", f"g{n}"))
            )
            for n in range(8)
        ]
        await asyncio.sleep(0.02)  # the guesses are waiting for scrypt
        started_at = asyncio.get_running_loop().time()
        answer = await client.get("/healthz", scope_base=LAN, headers=tv)
        took = asyncio.get_running_loop().time() - started_at
        assert answer.status_code == 503  # no watcher status in this folder
        assert took < 0.05
        assert [r.status_code for r in await asyncio.gather(*guesses)] == [401] * 8


async def test_metrics_are_for_admins_not_for_a_tvs_kiosk_cookie(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        name, value = await kiosk_cookie(app)
        client = app.test_client(use_cookies=False)
        tv = await client.get("/metrics", scope_base=LAN, headers={"Cookie": f"{name}={value}"})
        assert tv.status_code == 401
        admin = await client.get("/metrics", scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD))
        assert admin.status_code == 200
        assert b"ticket_dash_sse_clients" in await admin.get_data()


# -- networks -----------------------------------------------------------------------------------
async def test_allowed_networks_keep_other_clients_out_even_with_a_login(tmp_path):
    settings = secured_settings(tmp_path, allowed_networks=["10.1.0.0/16", "fd00::/8"])
    write_fresh_status(settings.tickets_dir)
    async with started(settings) as app:
        client = app.test_client(use_cookies=False)
        login = basic("alice", ADMIN_PASSWORD)
        inside = await client.get("/api/tickets", scope_base=LAN, headers=login)
        assert inside.status_code == 200
        outside = {"client": ("192.168.9.9", 4000)}
        refused = await client.get("/api/tickets", scope_base=outside, headers=login)
        assert refused.status_code == 403
        # An IPv4 TV on a dual-stack socket (the systemd socket unit's BindIPv6Only=both).
        mapped = {"client": ("::ffff:10.1.2.3", 4000)}
        assert (
            await client.get("/api/tickets", scope_base=mapped, headers=login)
        ).status_code == 200
        mapped_outside = {"client": ("::ffff:192.168.9.9", 4000)}
        refused = await client.get("/api/tickets", scope_base=mapped_outside, headers=login)
        assert refused.status_code == 403
        health = await client.get("/healthz", scope_base=outside)
        assert health.status_code == 200  # answered for monitoring, from anywhere


# -- logs and credentials -----------------------------------------------------------------------
async def test_no_key_in_any_log_line(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        await client.get(f"/?key={KIOSK_KEY}", scope_base=LAN)
        await client.get(f"/?key={KIOSK_KEY}x", scope_base=LAN)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "lobby-tv" in text  # the key's name is logged, so admins can tell TVs apart
    assert KIOSK_KEY not in text


def test_new_key_command_prints_a_working_settings_line_and_link(capsys):
    assert main(["new-key", "lobby-tv", "--url", "https://board.example/"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if not ln.startswith("#")]
    stored = tomllib.loads(lines[0])["lobby-tv"]
    link = lines[1]
    assert link.startswith("https://board.example/?key=")
    assert hash_key(link.partition("key=")[2]) == stored


def test_password_hashes_verify_and_are_salted():
    first, second = hash_password("pw"), hash_password("pw")
    assert first != second
    assert verify_password("pw", first) and verify_password("pw", second)
    assert not verify_password("pW", first)
    assert not verify_password("pw", "garbage")


def test_sample_config_is_valid(tmp_path):
    sample = Path(__file__).resolve().parent.parent / "deploy" / "ticket-dash.toml"
    if not sample.exists():
        pytest.skip("deploy/ticket-dash.toml not written yet")
    settings = load_settings({"tickets_dir": tmp_path}, environ={}, config_path=sample)
    assert settings.access_control == "auto"


async def test_one_kiosk_key_may_hold_a_bounded_number_of_streams(tmp_path):
    async with started(secured_settings(tmp_path, max_streams_per_login=2)) as app:
        name, value = await kiosk_cookie(app)
        client = app.test_client(use_cookies=False)
        cookie = {"Cookie": f"{name}={value}"}
        open_streams = []
        for _ in range(2):
            connection = client.request("/events", scope_base=LAN, headers=cookie)
            await connection.__aenter__()
            await connection.send_complete()
            await asyncio.wait_for(connection.receive(), 5)  # its snapshot: it is subscribed
            open_streams.append(connection)
        third = await client.get("/events", scope_base=LAN, headers=cookie)
        assert third.status_code == 429
        assert third.headers["Retry-After"] == "10"
        other_name, other_value = await kiosk_cookie(app, key=OTHER_KEY)
        other = {"Cookie": f"{other_name}={other_value}"}
        async with client.request("/events", scope_base=LAN, headers=other) as connection:
            await connection.send_complete()
            assert b"snapshot" in await asyncio.wait_for(connection.receive(), 5)
            await connection.disconnect()
        for connection in open_streams:
            await connection.disconnect()


async def test_a_wrong_kiosk_link_is_logged_once_a_minute_per_address(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "ticket_dash.access")
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        for _ in range(5):
            wrong = await client.get("/?key=not-a-key", scope_base=LAN)
            assert wrong.status_code == 403
    lines = [r for r in caplog.records if "unknown or revoked key" in r.getMessage()]
    assert len(lines) == 1


async def test_streams_of_one_key_opened_at_the_same_moment_are_capped_too(tmp_path):
    settings = secured_settings(tmp_path, max_streams_per_login=2)
    async with started(settings) as app:
        name, value = await kiosk_cookie(app)
        client = app.test_client(use_cookies=False)
        cookie = {"Cookie": f"{name}={value}"}

        async def first_answer():
            connection = client.request("/events", scope_base=LAN, headers=cookie)
            await connection.__aenter__()
            await connection.send_complete()
            body = await asyncio.wait_for(connection.receive(), 5)
            return connection, body

        # Every snapshot slot taken: the streams wait at the gate (app.stream.gate) before
        # they subscribe, as they do when thousands arrive at once.
        app.live.gate = SnapshotGate(slots=1, hold_seconds=60)
        held = await app.live.gate.enter()
        opening = asyncio.gather(*(first_answer() for _ in range(6)))  # all at once
        await asyncio.sleep(0.2)
        held.release()
        answers = await opening
        bodies = sorted(b"snapshot" in body for _, body in answers)
        assert bodies == [False] * 4 + [True] * 2
        for connection, _ in answers:
            await connection.disconnect()


async def everything_sent(connection) -> bytes:
    """What the board sends on a test connection until it ends it, or is silent for 2 s."""
    body = b""
    with contextlib.suppress(Exception):
        while chunk := await asyncio.wait_for(connection.receive(), 2):
            body += chunk
    return body


async def test_a_key_revoked_while_its_stream_waits_for_a_snapshot_slot_gets_nothing(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        name, value = await kiosk_cookie(app)
        client = app.test_client(use_cookies=False)
        app.live.gate = SnapshotGate(slots=1, hold_seconds=60)
        held = await app.live.gate.enter()  # every slot taken: the stream waits
        async with client.request(
            "/events", scope_base=LAN, headers={"Cookie": f"{name}={value}"}
        ) as connection:
            await connection.send_complete()
            await asyncio.sleep(0.1)
            app.apply_settings(
                secured_settings(tmp_path, access_keys={"office-tv": hash_key(OTHER_KEY)})
            )
            held.release()
            body = await everything_sent(connection)
        assert b"snapshot" not in body
        assert app.live.hub.client_count == 0
        assert app.live.hub.streams_by_tag == {}


async def test_an_admin_whose_password_changes_while_it_is_checked_gets_no_stream(tmp_path):
    """The password is hashed off the loop: a reload meanwhile must not let the stream compare
    the new settings with themselves."""
    async with started(secured_settings(tmp_path)) as app:
        checking, reloaded = asyncio.Event(), asyncio.Event()
        check = app.logins.check

        async def slow_check(*args):
            checking.set()
            await reloaded.wait()
            return await check(*args)

        app.logins.check = slow_check  # type: ignore[method-assign]
        client = app.test_client(use_cookies=False)
        async with client.request(
            "/events", scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD)
        ) as connection:
            await connection.send_complete()
            await asyncio.wait_for(checking.wait(), 5)
            new_hash = hash_password("a new password")
            app.apply_settings(secured_settings(tmp_path, admin_users={"alice": new_hash}))
            reloaded.set()
            body = await everything_sent(connection)
        assert b"snapshot" not in body
        assert app.live.hub.client_count == 0


async def test_guessers_cannot_escape_the_throttle_by_changing_address(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "ticket_dash.access")
    settings = secured_settings(tmp_path, failed_logins_per_minute=2)
    async with started(settings) as app:
        client = app.test_client(use_cookies=False)
        admin = {"client": ("10.7.7.7", 5000)}
        logged_in = await client.get("/", scope_base=admin, headers=basic("alice", ADMIN_PASSWORD))
        assert logged_in.status_code == 200

        # One machine with an IPv6 /64 has 2^64 addresses: they count as one.
        colleague = {"client": ("2001:db8:1:2::77", 5000)}
        admin_v6 = await client.get(
            "/", scope_base=colleague, headers=basic("alice", ADMIN_PASSWORD)
        )
        assert admin_v6.status_code == 200
        for n, status in [(1, 401), (2, 401), (3, 429)]:
            v6 = {"client": (f"2001:db8:1:2::{n}", 5000)}
            guess = await client.get("/", scope_base=v6, headers=basic("alice", f"guess {n}"))
            assert guess.status_code == status
        assert "2 failed admin logins from 2001:db8:1:2::/64 in a minute" in caplog.text
        # An admin logged in on the same network is not locked out with the guesser.
        still = await client.get("/", scope_base=colleague, headers=basic("alice", ADMIN_PASSWORD))
        assert still.status_code == 200

        # Thousands of addresses, one guess each: all failures together are capped too.
        app.logins.all_failures_per_minute = 4
        for n in (1, 2):
            one = {"client": (f"10.8.0.{n}", 5000)}
            assert (
                await client.get("/", scope_base=one, headers=basic("bob", "x"))
            ).status_code == 401
        fresh = {"client": ("10.8.0.99", 5000)}
        refused = await client.get("/", scope_base=fresh, headers=basic("alice", "guess 9"))
        assert refused.status_code == 429  # without a password check
        assert (
            await refused.get_data(as_text=True)
            == "Too many failed admin logins: try again later.\n"
        )
        assert 55 <= int(refused.headers["Retry-After"]) <= 60
        assert "from all addresses together" in caplog.text
        # The admin already logged in is not asked again, so is not locked out, from any address.
        again = await client.get("/", scope_base=fresh, headers=basic("alice", ADMIN_PASSWORD))
        assert again.status_code == 200


async def test_a_failed_request_is_logged_on_one_line_whatever_its_path(tmp_path, caplog):
    caplog.set_level(logging.ERROR)
    async with started(secured_settings(tmp_path)) as app:

        async def broken(*args):
            raise RuntimeError("a bug")  # before routing: any path gets here

        app.logins.check = broken  # type: ignore[method-assign]
        client = app.test_client(use_cookies=False)
        path = "/api/tickets\r\nINFO ticket_dash.access: forged"
        failed = await client.get(path, scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD))
        assert failed.status_code == 500
    (record,) = [r for r in caplog.records if "Exception on request" in r.getMessage()]
    assert "\n" not in record.getMessage()
    assert record.getMessage().endswith("/api/tickets\\r\\nINFO ticket_dash.access: forged")
