"""Access control: who may see ticket data.

Every request except `/healthz` passes `AccessPolicy.check` before its view runs:

1. `allowed_networks` (when set): other clients get 403.
2. `/?key=…` with a listed kiosk key: a long-lived HttpOnly, SameSite=Strict cookie (Secure and
   `__Host-` on HTTPS), then a redirect to the same URL without the key, so the key is in no
   later URL, history entry or log line.
3. The kiosk cookie: the key's name and an HMAC bound to the key's hash (see app.credentials).
4. HTTP Basic for admin users.
5. Otherwise 401 with a Basic challenge.

With access control off (only allowed on a loopback bind) only loopback clients are served: a
board started behind the wrong bind still shows nothing to the network.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from quart import Quart, Response, g, request

from app.credentials import NAME_RE, check_password_hash, key_digest
from app.settings import Settings, SettingsError
from app.web.client_request import client_ip, path_as_sent
from app.web.kiosk_cookies import KioskCookies
from app.web.logins import AdminLogins

log = logging.getLogger("ticket_dash.access")

OPEN_PATHS = frozenset({"/healthz"})
COOKIE_SECURE = "__Host-ticket-dash-kiosk"
COOKIE_PLAIN = "ticket-dash-kiosk"
HOW_TO = (
    "To serve the board on this address, make a kiosk key for the TV "
    "(`python -m app.credentials new-key lobby-tv`) and/or an admin login "
    "(`python -m app.credentials hash-password alice`) and put the printed lines under "
    "[access_keys] / [admin_users] in ticket-dash.toml (see docs/deploy.md). "
    "Or bind to 127.0.0.1 behind something that does its own access control."
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_loopback_bind(bind: str) -> bool:
    """True for `127.x.x.x:port`, `[::1]:port`, `localhost:port` and unix sockets."""
    if bind.startswith("unix:"):
        return True
    if bind.startswith("fd://"):
        return False  # inherited from systemd: assume the network
    host = bind.rpartition(":")[0].strip("[]") if ":" in bind else bind
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_client(addr: str | None) -> bool:
    if not addr or addr == "<local>":
        return True  # no client address: a unix socket (or a test client), not the network
    ip = client_ip(addr)
    return ip is not None and ip.is_loopback


@dataclass(frozen=True)
class AccessPolicy:
    enabled: bool
    key_digests: dict[str, bytes]
    admin_hashes: dict[str, str]
    networks: tuple[Network, ...]
    cookie_max_age: int
    cookies: KioskCookies

    @classmethod
    def from_settings(cls, settings: Settings, binds: list[str] | None = None) -> AccessPolicy:
        """Validate the access settings; SettingsError (saying how to fix it) if unusable."""
        binds = binds if binds is not None else [settings.bind]
        mode = settings.access_control
        if mode not in ("auto", "on", "off"):
            raise SettingsError("setting 'access_control' must be auto, on or off")
        all_loopback = all(is_loopback_bind(b) for b in binds)
        enabled = mode == "on" or (mode == "auto" and not all_loopback)
        if mode == "off" and not all_loopback:
            raise SettingsError(
                f"access_control is off but the board would listen on {', '.join(binds)}. " + HOW_TO
            )
        digests: dict[str, bytes] = {}
        for name, stored in settings.access_keys.items():
            if not NAME_RE.match(name):
                raise SettingsError(f"access_keys: bad key name {name!r} (letters, digits, - _)")
            try:
                digests[name] = key_digest(stored)
            except ValueError:
                raise SettingsError(
                    f"access_keys.{name}: expected sha256:<64 hex>; "
                    "make one with `python -m app.credentials new-key NAME`"
                ) from None
        for user, stored in settings.admin_users.items():
            try:
                check_password_hash(stored)
            except ValueError as exc:
                raise SettingsError(
                    f"admin_users.{user}: {exc}; "
                    "make one with `python -m app.credentials hash-password USER`"
                ) from None
        try:
            networks = tuple(
                ipaddress.ip_network(n, strict=False) for n in settings.allowed_networks
            )
        except ValueError as exc:
            raise SettingsError(f"allowed_networks: {exc}") from None
        if enabled and not digests and not settings.admin_users:
            where = ", ".join(binds)
            raise SettingsError(f"access control is on for {where} but no one may log in. {HOW_TO}")
        max_age = settings.kiosk_cookie_days * 86400
        secret = cookie_secret(settings)
        return cls(
            enabled=enabled,
            key_digests=digests,
            admin_hashes=dict(settings.admin_users),
            networks=networks,
            cookie_max_age=max_age,
            cookies=KioskCookies(digests, max_age, secret, settings.legacy_kiosk_cookies),
        )

    # -- the checks --------------------------------------------------------------------------
    def client_allowed(self, addr: str | None) -> bool:
        if not self.networks:
            return True
        ip = client_ip(addr)
        return ip is not None and any(ip in net for net in self.networks)

    def key_name(self, key: str) -> str | None:
        """The name of the kiosk key `key`, or None. Every listed key is compared."""
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        found = None
        for name, expected in self.key_digests.items():
            if hmac.compare_digest(digest, expected):
                found = name
        return found

    def cookie_value(self, name: str) -> str:
        return self.cookies.issue(name)

    def cookie_key_name(self, value: str | None) -> str | None:
        """The kiosk key a cookie was issued for, while that key is listed; else None."""
        return self.cookies.check(value).name

    def cookie_ok(self, value: str | None) -> bool:
        return self.cookie_key_name(value) is not None


def _challenge(message: str) -> Response:
    return Response(
        message + "\n",
        status=401,
        content_type="text/plain; charset=utf-8",
        headers={"WWW-Authenticate": 'Basic realm="Ticket Dash", charset="UTF-8"'},
    )


def _forbidden(message: str) -> Response:
    return Response(message + "\n", status=403, content_type="text/plain; charset=utf-8")


def _url_without_key() -> str:
    """Where a kiosk link sends the TV once its cookie is set: the same path, as it was sent."""
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "key"]
    return path_as_sent(request.scope) + ("?" + urlencode(rest) if rest else "")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: a TV by its kiosk key's name, an admin by user name, or this machine."""

    kind: str  # "kiosk", "admin" or "local" (access control off, loopback client)
    name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.kind in ("admin", "local")

    @property
    def tag(self) -> str:
        """How the viewer's streams are counted against the per-login cap."""
        return f"{self.kind}:{self.name}"

    def still_allowed(self, old: AccessPolicy, new: AccessPolicy) -> bool:
        """Whether a viewer let in under `old` would still be let in under `new`."""
        if self.kind == "kiosk":
            return new.key_digests.get(self.name) == old.key_digests.get(self.name) is not None
        if self.kind == "admin":
            return new.admin_hashes.get(self.name) == old.admin_hashes.get(self.name) is not None
        return True


def current_viewer() -> Viewer | None:
    """The viewer of the current request, once access control let it through."""
    viewer = getattr(g, "ticket_dash_viewer", None)
    return viewer if isinstance(viewer, Viewer) else None


def admitted_under() -> AccessPolicy | None:
    """The access policy the current request was checked against: a reload during the check
    (an admin's password is hashed off the loop) must not make a later check compare the new
    policy with itself."""
    policy = getattr(g, "ticket_dash_policy", None)
    return policy if isinstance(policy, AccessPolicy) else None


def _too_many(retry_after: int) -> Response:
    return Response(
        "Too many failed admin logins: try again later.\n",  # this address's, or everyone's
        status=429,
        content_type="text/plain; charset=utf-8",
        headers={"Retry-After": str(retry_after)},
    )


def install_access_control(
    app: Quart, policy_now: Callable[[], AccessPolicy], logins: AdminLogins
) -> None:
    """Check every request but `/healthz`; `policy_now()` is read per request, so a reload of
    the settings takes effect at once."""
    warned = OncePerInterval(60.0)

    @app.before_request
    async def check_access() -> Response | None:
        if request.path in OPEN_PATHS:
            return None
        policy = policy_now()
        g.ticket_dash_policy = policy
        addr = request.remote_addr or ""
        if not policy.enabled:
            if is_loopback_client(addr):
                g.ticket_dash_viewer = Viewer("local")
                return None
            return _forbidden("Access control is off: this board only answers its own machine.")
        if not policy.client_allowed(addr):
            return _forbidden("Your network may not see this board.")
        if "key" in request.args:
            name = policy.key_name(request.args["key"])
            if name is None:
                if warned.due(addr):  # once a minute per address: a guesser fills no journal
                    log.warning("kiosk link with an unknown or revoked key from %s", addr)
                return _forbidden("This kiosk link is not valid (revoked?). Ask for a new one.")
            log.info("kiosk key %r accepted from %s; cookie set", name, addr)
            response = Response("", status=303, headers={"Location": _url_without_key()})
            _set_kiosk_cookie(response, policy, name)
            return response
        header = request.headers.get("Authorization")
        if header:  # an admin's credentials come first: they may open what a TV's cookie may not
            result = await logins.check(header, addr, policy.admin_hashes)
            if result.retry_after is not None:
                return _too_many(result.retry_after)
            if result.user is not None:
                g.ticket_dash_viewer = Viewer("admin", result.user)
                return None
        # Over HTTPS only the __Host- cookie counts (what the prefix promises the browser).
        name_of_cookie = COOKIE_SECURE if request.scheme == "https" else COOKIE_PLAIN
        checked = policy.cookies.check(request.cookies.get(name_of_cookie))
        if checked.name is not None:
            g.ticket_dash_viewer = Viewer("kiosk", checked.name)
            if checked.refresh:
                g.ticket_dash_refresh_cookie = checked.name
            return None
        return _challenge("Log in, or open this board's kiosk link once on this screen.")

    @app.after_request
    async def refresh_kiosk_cookie(response: Response) -> Response:
        name = getattr(g, "ticket_dash_refresh_cookie", None)
        if isinstance(name, str) and name in policy_now().key_digests:
            _set_kiosk_cookie(response, policy_now(), name)
        return response


def _set_kiosk_cookie(response: Response, policy: AccessPolicy, name: str) -> None:
    secure = request.scheme == "https"
    response.set_cookie(
        COOKIE_SECURE if secure else COOKIE_PLAIN,
        policy.cookie_value(name),
        max_age=policy.cookie_max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="Strict",
    )


def cookie_secret(settings: Settings) -> bytes | None:
    """The board's cookie secret: the systemd credential `cookie-secret`, else the file in
    `cookie_secret_file`; None (with a warning where it matters) when there is none."""
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    candidates = [Path(creds) / "cookie-secret"] if creds else []
    if settings.cookie_secret_file:
        candidates.append(Path(settings.cookie_secret_file))
    for path in candidates:
        try:
            secret = path.read_bytes().strip()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise SettingsError(f"cookie secret {path}: {exc.strerror}") from None
        if len(secret) < 16:
            raise SettingsError(
                f"cookie secret {path} is too short: make one with "
                "`python -m app.credentials cookie-secret`"
            )
        return secret
    if settings.access_keys:
        log.warning(
            "no cookie secret: a TV's cookie can be made by anyone who can read the settings "
            "file; add one (docs/deploy.md, 'A link for each TV')"
        )
    return None


class OncePerInterval:
    """Whether to log for a key now: at most once per `seconds` per key (bounded)."""

    def __init__(self, seconds: float, keys: int = 1024) -> None:
        self.seconds = seconds
        self.keys = keys
        self._last: OrderedDict[str, float] = OrderedDict()

    def due(self, key: str) -> bool:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.seconds:
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self.keys:
            self._last.popitem(last=False)
        return True


def admins_only() -> Response | None:
    """For admin pages (`/metrics`): a TV's kiosk cookie is not enough."""
    viewer = current_viewer()
    if viewer is not None and viewer.is_admin:
        return None
    return _challenge("This page is for admins: log in.")
