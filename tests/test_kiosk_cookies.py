"""A TV's cookie: bound to its key and to the board's secret, with an age the board checks
itself, refreshed while the TV is in use, and the first releases' cookies taken over once."""

from __future__ import annotations

import pytest
from support.inprocess import KIOSK_KEY, LAN, secured_settings, started

from app.credentials import cookie_mac, hash_key, key_digest
from app.web.kiosk_cookies import KioskCookies
from app.web.security import COOKIE_PLAIN, COOKIE_SECURE

DIGESTS = {"lobby-tv": key_digest(hash_key("lobby-key")), "office-tv": key_digest(hash_key("o"))}
DAY = 86_400


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def cookies(secret: bytes | None = b"s" * 32, legacy: bool = True, clock=None) -> KioskCookies:
    return KioskCookies(DIGESTS, 400 * DAY, secret, legacy, clock or Clock())


def test_a_cookie_names_its_key_and_is_not_a_cookie_for_another():
    jar = cookies()
    value = jar.issue("lobby-tv")
    assert jar.check(value).name == "lobby-tv"
    forged = value.replace("lobby-tv", "office-tv", 1)
    assert jar.check(forged).name is None


def test_without_the_secret_the_settings_file_alone_cannot_make_a_cookie():
    made_from_the_file = cookies(secret=None, legacy=False).issue("lobby-tv")
    assert cookies(secret=b"s" * 32, legacy=False).check(made_from_the_file).name is None


def test_the_board_checks_the_age_itself_and_refreshes_a_cookie_in_use():
    clock = Clock()
    jar = cookies(clock=clock)
    value = jar.issue("lobby-tv")
    assert jar.check(value).refresh is False
    clock.now += 2 * DAY
    assert jar.check(value).name == "lobby-tv" and jar.check(value).refresh is True
    clock.now += 400 * DAY
    assert jar.check(value).name is None  # expired, whatever the browser kept


def test_a_cookie_from_the_future_is_refused():
    clock = Clock()
    value = cookies(clock=Clock(clock.now + 3600)).issue("lobby-tv")
    assert cookies(clock=clock).check(value).name is None


@pytest.mark.parametrize("legacy", [True, False])
def test_the_first_releases_cookie_is_taken_once_while_legacy_cookies_are_on(legacy):
    old = f"lobby-tv.{cookie_mac('lobby-tv', DIGESTS['lobby-tv'])}"
    checked = cookies(legacy=legacy).check(old)
    assert (checked.name, checked.refresh) == (("lobby-tv", True) if legacy else (None, False))


def test_a_cookie_made_before_the_secret_was_added_is_replaced_not_refused():
    before = cookies(secret=None).issue("lobby-tv")
    checked = cookies(secret=b"s" * 32, legacy=True).check(before)
    assert (checked.name, checked.refresh) == ("lobby-tv", True)
    assert cookies(secret=b"s" * 32, legacy=False).check(before).name is None


async def test_a_legacy_cookie_gets_a_new_one_with_the_page(tmp_path):
    async with started(secured_settings(tmp_path, legacy_kiosk_cookies=True)) as app:
        digest = app.access.key_digests["lobby-tv"]
        old = f"lobby-tv.{cookie_mac('lobby-tv', digest)}"
        client = app.test_client(use_cookies=False)
        response = await client.get(
            "/", scope_base=LAN, headers={"Cookie": f"{COOKIE_PLAIN}={old}"}
        )
        assert response.status_code == 200
        fresh = response.headers["Set-Cookie"]
        assert fresh.startswith(f"{COOKIE_PLAIN}=lobby-tv.") and fresh.count(".") >= 2
        assert "HttpOnly" in fresh and "SameSite=Strict" in fresh


async def test_by_default_a_board_with_a_secret_takes_no_cookie_made_from_the_settings_file(
    tmp_path,
):
    secret = tmp_path / "cookie-secret"
    secret.write_text("x" * 43 + "\n")
    async with started(secured_settings(tmp_path, cookie_secret_file=str(secret))) as app:
        digest = app.access.key_digests["lobby-tv"]
        from_the_file = [
            f"lobby-tv.{cookie_mac('lobby-tv', digest)}",  # the first builds' form
            KioskCookies(app.access.key_digests, 400 * DAY, None, False).issue("lobby-tv"),
        ]
        client = app.test_client(use_cookies=False)
        for forged in from_the_file:
            response = await client.get(
                "/", scope_base=LAN, headers={"Cookie": f"{COOKIE_PLAIN}={forged}"}
            )
            assert response.status_code == 401
        link = await client.get(f"/?key={KIOSK_KEY}", scope_base=LAN)
        issued = link.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        good = await client.get("/", scope_base=LAN, headers={"Cookie": f"{COOKIE_PLAIN}={issued}"})
        assert good.status_code == 200


async def test_over_https_only_the_host_prefixed_cookie_counts(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        https = {**LAN, "scheme": "https"}
        link = await client.get(f"/?key={KIOSK_KEY}", scope_base=https)
        value = link.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        good = await client.get(
            "/", scope_base=https, headers={"Cookie": f"{COOKIE_SECURE}={value}"}
        )
        assert good.status_code == 200
        plain = await client.get(
            "/", scope_base=https, headers={"Cookie": f"{COOKIE_PLAIN}={value}"}
        )
        assert plain.status_code == 401


async def test_a_cookie_secret_from_the_systemd_credential_is_used(tmp_path, monkeypatch):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "cookie-secret").write_text("x" * 43 + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    settings = secured_settings(tmp_path, legacy_kiosk_cookies=False)
    async with started(settings) as app:
        assert app.access.cookies.secret == b"x" * 43
        made_from_the_file_alone = KioskCookies(app.access.key_digests, 10 * DAY, None, False)
        client = app.test_client(use_cookies=False)
        cookie = {"Cookie": f"{COOKIE_PLAIN}={made_from_the_file_alone.issue('lobby-tv')}"}
        assert (await client.get("/", scope_base=LAN, headers=cookie)).status_code == 401
