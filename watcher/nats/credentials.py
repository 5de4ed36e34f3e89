"""The NATS login: where it comes from (first found wins) and where it must never go.

1. `$CREDENTIALS_DIRECTORY/nats-credentials` (systemd `LoadCredential=`),
2. the file named by the setting `nats_credentials_file`,
3. none (a server without authentication, e.g. on 127.0.0.1).

The file holds one of: a NATS `.creds` file (a user JWT and its NKey seed, as `nsc` writes it;
needs the `nkeys` package), `user:password` on one line, or a token on one line. An empty file
means no login (a server on 127.0.0.1 without authentication, e.g. a site's leaf node). The login is
handed to nats-py only; never to argv, the environment or a log line (`Login.__repr__` hides it),
and `nats_url` may not carry one (see `connection.servers`).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.settings import Settings
from watcher.source import SourceError

log = logging.getLogger(__name__)

CREDENTIAL_NAME = "nats-credentials"
JWT_MARKER = "-----BEGIN NATS USER JWT-----"


@dataclass(frozen=True)
class Login:
    origin: str  # for messages: "the systemd credential nats-credentials"
    creds_file: Path | None = None
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"<NATS login from {self.origin}>"

    def connect_options(self) -> dict[str, Any]:
        if self.creds_file is not None:
            return {"user_credentials": str(self.creds_file)}
        if self.token is not None:
            return {"token": self.token}
        return {"user": self.user, "password": self.password}


def _read(path: Path, origin: str) -> Login | None:
    try:
        text = path.read_text("utf-8").strip()
    except OSError as exc:
        raise SourceError(f"Cannot read the NATS login from {origin}: {exc.strerror}.") from None
    if not text:
        log.info("%s is empty: connecting to NATS without a login", origin)
        return None
    if JWT_MARKER in text:
        if importlib.util.find_spec("nkeys") is None:
            raise SourceError(
                f"{origin} is a NATS .creds file, which needs the nkeys package: "
                "pip install nkeys (into the same virtualenv)."
            )
        return Login(origin, creds_file=path)
    first = text.splitlines()[0].strip()
    if ":" in first:
        user, _, password = first.partition(":")
        return Login(origin, user=user, password=password)
    return Login(origin, token=first)


def _warn_if_readable_by_others(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("the NATS login %s can be read by other users: run `chmod 600 %s`", path, path)


def find_login(settings: Settings, environ: Mapping[str, str] | None = None) -> Login | None:
    environ = os.environ if environ is None else environ
    creds = environ.get("CREDENTIALS_DIRECTORY")
    if creds and (Path(creds) / CREDENTIAL_NAME).is_file():
        return _read(Path(creds) / CREDENTIAL_NAME, f"the systemd credential {CREDENTIAL_NAME}")
    if not settings.nats_credentials_file:
        return None
    path = Path(settings.nats_credentials_file).expanduser()
    if not path.is_file():
        raise SourceError(
            f"setting 'nats_credentials_file': {path.absolute()} does not exist "
            f"(or use the systemd credential {CREDENTIAL_NAME})."
        )
    _warn_if_readable_by_others(path)
    return _read(path, f"the file {path.absolute()}")
