"""NATS without leaks (issue 12): the login comes from a file or a systemd credential, never from
argv, the URL or a log line; TLS with a private CA works; a mirror's user can be read-only (the
permissions docs/deploy.md lists are enough to mirror and refuse every write); and without
`nats_url` nothing changes: the watcher does not even import nats."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nats.errors
import pytest
import trustme
from support.nats_server import NatsServer, running_nats
from support.nats_sites import Noticing, board_files, in_sync, mirroring, publishing, site_settings
from support.tickets import ticket_json

from app.contract.atomic import write_json_atomic
from app.contract.changes import observed_by
from app.contract.status import WatcherStatus, read_status, write_status
from app.settings import Settings
from watcher.nats.connection import Link, servers
from watcher.nats.credentials import find_login
from watcher.source import SourceError

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[1]
SOURCE_SECRET = "source-secret-4711"
MIRROR_SECRET = "mirror-secret-0815"
# The read-only mirror of docs/deploy.md, for the default bucket `ticket-dash`.
MIRROR_PERMISSIONS = """
      publish: {allow: [
        "$JS.API.STREAM.INFO.KV_ticket-dash", "$JS.API.STREAM.MSG.GET.KV_ticket-dash",
        "$JS.API.CONSUMER.CREATE.KV_ticket-dash", "$JS.API.CONSUMER.CREATE.KV_ticket-dash.>",
        "$JS.API.CONSUMER.INFO.KV_ticket-dash.>", "$JS.API.CONSUMER.DELETE.KV_ticket-dash.>",
        "$JS.FC.KV_ticket-dash.>"]}
      subscribe: {allow: ["_INBOX.>"]}
"""
USERS = f"""
authorization {{
  users = [
    {{user: source, password: "{SOURCE_SECRET}"}}
    {{user: mirror, password: "{MIRROR_SECRET}", permissions: {{ {MIRROR_PERMISSIONS} }} }}
  ]
}}
"""


@pytest.fixture
def nats_with_users(tmp_path: Path) -> Iterator[NatsServer]:
    yield from running_nats(tmp_path, USERS)


def login_file(path: Path, text: str) -> str:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return str(path)


def publish_one_ticket(settings: Settings, pub_observe: object) -> None:
    write_json_atomic(Path(settings.tickets_dir) / "1.json", ticket_json(1))
    write_status(Path(settings.tickets_dir), WatcherStatus(source="test"))


async def test_a_read_only_mirror_user_mirrors_the_bucket_and_cannot_write_to_it(
    tmp_path, nats_with_users
):
    source = site_settings(
        tmp_path / "source",
        nats_with_users.url,
        nats_credentials_file=login_file(tmp_path / "source.login", f"source:{SOURCE_SECRET}"),
    )
    copy = site_settings(
        tmp_path / "mirror",
        nats_with_users.url,
        nats_credentials_file=login_file(tmp_path / "mirror.login", f"mirror:{MIRROR_SECRET}"),
    )
    async with publishing(source) as pub, mirroring(copy) as mirror:
        with observed_by(pub.publisher.observe):
            publish_one_ticket(source, pub.publisher.observe)
        await in_sync(pub, mirror)
        assert board_files(copy) == board_files(source)
        with pytest.raises(nats.errors.TimeoutError):  # a permissions violation: no answer
            await mirror.link.js.publish("$KV.ticket-dash.ticket.1", b"{}", timeout=1.0)
    assert "Publish Violation" in nats_with_users.output()


async def test_the_login_comes_from_the_systemd_credential_first_and_never_reaches_a_log(
    tmp_path, nats_with_users, caplog
):
    creds = tmp_path / "credentials"
    creds.mkdir()
    login_file(creds / "nats-credentials", f"source:{SOURCE_SECRET}")
    settings = Settings(
        nats_url=nats_with_users.url,
        nats_credentials_file=login_file(tmp_path / "wrong.login", "source:not-the-password"),
    )
    environ = {"CREDENTIALS_DIRECTORY": str(creds)}
    login = find_login(settings, environ)
    assert login is not None and "systemd credential" in login.origin
    assert SOURCE_SECRET not in repr(login) and SOURCE_SECRET not in str(login)
    caplog.set_level(logging.DEBUG)
    link = await Link.open(settings, asyncio.Event(), role="test", environ=environ)
    assert link is not None
    await link.close()

    refused = asyncio.Event()
    handler = Noticing("Authorization Violation", refused)
    logging.getLogger("watcher.nats").addHandler(handler)
    stop = asyncio.Event()
    try:
        wrong = asyncio.create_task(Link.open(settings, stop, role="test", environ={}))
        await asyncio.wait_for(refused.wait(), 10)  # the wrong password is refused...
        stop.set()
    finally:
        logging.getLogger("watcher.nats").removeHandler(handler)
    assert await asyncio.wait_for(wrong, 10) is None
    assert "not-the-password" not in caplog.text and SOURCE_SECRET not in caplog.text


def test_a_login_inside_the_url_is_refused_so_it_cannot_end_up_in_argv_or_logs():
    with pytest.raises(SourceError, match="holds a login") as refused:
        servers(Settings(nats_url="nats://source:hunter2@127.0.0.1:4222"))
    assert "hunter2" not in str(refused.value)


@pytest.fixture
def tls_nats(tmp_path: Path) -> Iterator[tuple[NatsServer, Path]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "server.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    config = (
        f'tls {{ cert_file: "{tmp_path / "server.pem"}", key_file: "{tmp_path / "server.key"}" }}'
    )
    for server in running_nats(tmp_path, config):
        yield server, tmp_path / "ca.pem"


async def test_tls_with_a_private_ca_carries_the_mirror(tmp_path, tls_nats):
    server, ca = tls_nats
    assert server.url.startswith("tls://")
    source = site_settings(tmp_path / "source", server.url, nats_ca_file=str(ca))
    copy = site_settings(tmp_path / "mirror", server.url, nats_ca_file=str(ca))
    async with publishing(source) as pub, mirroring(copy) as mirror:
        with observed_by(pub.publisher.observe):
            publish_one_ticket(source, pub.publisher.observe)
        await in_sync(pub, mirror)
    assert board_files(copy) == board_files(source)
    status = read_status(Path(copy.tickets_dir))
    assert status is not None and status.last_error is None


def test_without_nats_url_the_watcher_never_imports_nats(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKET_DASH_")}
    code = (
        "import sys; from watcher.__main__ import main; "
        f"rc = main(['--source', 'demo', '--once', '--tickets-dir', {str(tmp_path / 't')!r}, "
        f"'--mappings-dir', {str(tmp_path / 'm')!r}]); "
        "print(rc, sorted(m for m in sys.modules if m == 'nats' or m.startswith('nats.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.stdout.strip() == "0 []", out.stderr


def test_source_nats_without_nats_url_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKET_DASH_")}
    out = subprocess.run(
        [sys.executable, "-m", "watcher", "--source", "nats"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
    assert "nats_url" in out.stderr and "TICKET_DASH_NATS_URL" in out.stderr
