"""The TV's cookie: which kiosk key it was issued for, when, and proof the board issued it.

`<key name>.<issued unix time>.<mac>`. The MAC is keyed with the board's cookie secret (from the
systemd credential `cookie-secret`, or the file in `cookie_secret_file`) combined with the key's
hash, so:
- deleting or re-issuing a key ends its cookies (the key's hash is part of the MAC key);
- a cookie cannot be made from the settings file alone (it holds only key hashes; the secret is
  a credential only the board reads);
- a cookie ends `kiosk_cookie_days` after it was issued, checked here, not only by the browser;
  a TV that keeps showing the board gets a fresh one every day, so it never has to re-open its
  link while it is in use.

Without a cookie secret the MAC is keyed with the key's hash alone, as the first releases did:
anyone who can read the settings file could make a cookie, and the board says so at start. The
first builds' cookies (`<name>.<mac>`, no time) and those made before a secret was added are
taken only while `legacy_kiosk_cookies` is on (off by default, for an upgrade only), and are
replaced by new ones as soon as the TV shows up, so adding a secret need log no TV out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.credentials import cookie_mac as legacy_mac

CONTEXT = b"ticket-dash kiosk cookie v2:"
REFRESH_AFTER_SECONDS = 86_400  # a cookie older than a day is replaced by a fresh one
CLOCK_SLACK_SECONDS = 300  # an issue time this far in the future is still taken


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class CookieCheck:
    name: str | None  # the key's name when the cookie is good
    refresh: bool = False  # send a fresh cookie with this response


class KioskCookies:
    def __init__(
        self,
        key_digests: dict[str, bytes],
        max_age: int,
        secret: bytes | None,
        legacy: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key_digests = key_digests
        self.max_age = max_age
        self.secret = secret
        self.legacy = legacy
        self.clock = clock

    def _mac(self, name: str, issued: int, secret: bytes | None) -> str:
        digest = self.key_digests[name]
        key = hmac.new(secret, digest, hashlib.sha256).digest() if secret else digest
        message = CONTEXT + f"{name}.{issued}".encode()
        return _b64(hmac.new(key, message, hashlib.sha256).digest())

    def issue(self, name: str) -> str:
        issued = int(self.clock())
        return f"{name}.{issued}.{self._mac(name, issued, self.secret)}"

    def check(self, value: str | None) -> CookieCheck:
        if not value:
            return CookieCheck(None)
        parts = value.split(".")
        name = parts[0]
        if name not in self.key_digests:
            return CookieCheck(None)  # revoked or never issued
        if len(parts) == 2:  # the first releases' cookie: no issue time
            good = self.legacy and hmac.compare_digest(
                parts[1].encode("ascii", "replace"),
                legacy_mac(name, self.key_digests[name]).encode(),
            )
            return CookieCheck(name, refresh=True) if good else CookieCheck(None)
        if len(parts) != 3 or not parts[1].isascii() or not parts[1].isdigit():
            return CookieCheck(None)
        issued = int(parts[1])
        now = self.clock()
        if issued > now + CLOCK_SLACK_SECONDS or now - issued > self.max_age:
            return CookieCheck(None)  # expired on the server, whatever the browser kept
        mac = parts[2].encode("ascii", "replace")
        if hmac.compare_digest(mac, self._mac(name, issued, self.secret).encode()):
            return CookieCheck(name, refresh=now - issued > REFRESH_AFTER_SECONDS)
        if self.secret and self.legacy:  # made before the secret was added: take it once
            if hmac.compare_digest(mac, self._mac(name, issued, None).encode()):
                return CookieCheck(name, refresh=True)
        return CookieCheck(None)
