"""Where the API key comes from (first found wins), and where it must never go.

1. `$CREDENTIALS_DIRECTORY/freshservice-token` (systemd `LoadCredential=`),
2. the environment variable `TICKET_DASH_FRESHSERVICE_TOKEN`,
3. the key file, setting `token_file` (default `token.txt`, env `TICKET_DASH_TOKEN_FILE`).

The key is only ever put in the Authorization header; `ApiKey.__repr__` hides it so a stray log
line cannot leak it.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from watcher.freshservice.errors import AuthError

log = logging.getLogger(__name__)

CREDENTIAL_NAME = "freshservice-token"
TOKEN_ENV = "TICKET_DASH_FRESHSERVICE_TOKEN"


@dataclass(frozen=True)
class ApiKey:
    value: str = field(repr=False)
    origin: str  # where it came from, for messages ("the key file /srv/dash/token.txt")

    def __str__(self) -> str:
        return f"<API key from {self.origin}>"


def _read_key_file(path: Path, origin: str) -> ApiKey:
    try:
        value = path.read_text("utf-8").strip()
    except OSError as exc:
        raise AuthError(f"Cannot read the API key from {origin}: {exc.strerror}.") from None
    if not value:
        raise AuthError(
            f"{origin[0].upper()}{origin[1:]} is empty: put the Freshservice API key in it."
        )
    return ApiKey(value, origin)


def warn_if_readable_by_others(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("the key file %s can be read by other users: run `chmod 600 %s`", path, path)
        return True
    return False


def find_api_key(token_file: Path, environ: Mapping[str, str] | None = None) -> ApiKey:
    environ = os.environ if environ is None else environ
    creds = environ.get("CREDENTIALS_DIRECTORY")
    if creds:
        path = Path(creds) / CREDENTIAL_NAME
        if path.is_file():
            return _read_key_file(path, f"the systemd credential {CREDENTIAL_NAME}")
    value = environ.get(TOKEN_ENV, "").strip()
    if value:
        return ApiKey(value, f"the environment variable {TOKEN_ENV}")
    path = token_file.expanduser()
    origin = f"the key file {path.absolute()}"
    if not path.is_file():
        raise AuthError(
            f"No Freshservice API key: put it in {path.absolute()} (chmod 600), "
            f"or set {TOKEN_ENV}, or use the systemd credential {CREDENTIAL_NAME}."
        )
    warn_if_readable_by_others(path)
    return _read_key_file(path, origin)
