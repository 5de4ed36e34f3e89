"""Kiosk keys and admin passwords: how they are made, stored and checked.

A kiosk key is a random secret in the TV's link. The settings hold only its SHA-256 (the key has
256 bits of entropy, so a fast hash is enough); the TV's cookie holds an HMAC of the key's name
made with that hash, never the key. Delete the key's line from `access_keys` and its cookies stop
working.

An admin password is stored as a salted scrypt hash: `scrypt$<n>$<r>$<p>$<salt>$<hash>`.

    python -m app.credentials new-key lobby-tv          # prints the key, the settings line, the link
    python -m app.credentials hash-password alice       # asks twice, prints the settings line
    python -m app.credentials cookie-secret             # the board's secret for kiosk cookies
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import re
import secrets
import sys

KEY_PREFIX = "sha256:"
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_COOKIE_CONTEXT = b"ticket-dash kiosk cookie v1:"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    return secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return KEY_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_digest(stored: str) -> bytes:
    """The raw SHA-256 from a `sha256:<hex>` setting value; ValueError if it is not one."""
    if not stored.startswith(KEY_PREFIX):
        raise ValueError("not a sha256:<hex> key hash")
    digest = bytes.fromhex(stored.removeprefix(KEY_PREFIX))
    if len(digest) != 32:
        raise ValueError("not a sha256:<hex> key hash")
    return digest


def cookie_mac(name: str, digest: bytes) -> str:
    """What the TV's cookie carries for key `name`: bound to the key's hash, not the key."""
    return _b64(hmac.new(digest, _COOKIE_CONTEXT + name.encode("utf-8"), "sha256").digest())


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    derived = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(derived)}"


def check_password_hash(stored: str) -> None:
    """Raise ValueError unless `stored` is a hash `hash_password` could have made."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("not a scrypt$n$r$p$salt$hash password hash")
    n, r, p = (int(x) for x in parts[1:4])
    if n < 2**14 or n & (n - 1) or r < 1 or p < 1:
        raise ValueError("scrypt parameters too weak")
    _unb64(parts[4])
    _unb64(parts[5])


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, expected = stored.split("$")
        derived = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(_unb64(expected)),
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, _unb64(expected))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.credentials", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    key_cmd = sub.add_parser("new-key", help="make a kiosk key for one TV")
    key_cmd.add_argument("name", help="a name for the TV, e.g. lobby-tv (letters, digits, - _)")
    key_cmd.add_argument("--url", default="https://BOARD-HOST/", help="the board's address")
    pw_cmd = sub.add_parser("hash-password", help="hash an admin password")
    pw_cmd.add_argument("user")
    sub.add_parser("cookie-secret", help="make the board's secret for kiosk cookies")
    args = parser.parse_args(argv)
    if args.command == "cookie-secret":
        print(secrets.token_urlsafe(32))  # 256 bits; store it root-only (docs/deploy.md)
        return 0
    if not NAME_RE.match(args.name if args.command == "new-key" else args.user):
        parser.error("names are 1-64 letters, digits, '-' or '_'")
    if args.command == "new-key":
        key = new_key()
        print("# In ticket-dash.toml, under [access_keys]:")
        print(f'{args.name} = "{hash_key(key)}"')
        print("# The link to open once on that TV (keep it secret; it is shown only now):")
        print(f"{args.url.rstrip('/')}/?key={key}")
        return 0
    password = getpass.getpass(f"Password for {args.user}: ")
    if password != getpass.getpass("Again: "):
        print("The passwords differ.", file=sys.stderr)
        return 1
    print("# In ticket-dash.toml, under [admin_users]:")
    print(f'{args.user} = "{hash_password(password)}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
