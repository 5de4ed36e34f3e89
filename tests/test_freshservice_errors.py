"""Errors a person can cause say what to do, touch nothing, and the key never leaks."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest
from fake_freshservice import FakeFreshservice, Fault, make_source, watcher_settings
from support.ports import free_port

from app.contract.status import read_status
from watcher.freshservice import FreshserviceSource
from watcher.freshservice.clock import Clock
from watcher.freshservice.errors import AuthError, FreshserviceError, WrongDomainError
from watcher.freshservice.token import find_api_key

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def fake():
    async with FakeFreshservice(clock=Clock(speed=600)) as f:
        for _ in range(5):
            f.add_ticket(status=2, requester_id=50)
        f.add_requester(50, "Fox", "Mulder")
        yield f


async def once(source, **kw) -> int:
    return await source.run(asyncio.Event(), once=True, **kw)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".watcher.json"
    }


async def test_a_rejected_key_says_where_it_came_from_and_touches_nothing(fake, tmp_path):
    await once(make_source(fake, tmp_path))
    fake.update_ticket(1, status=4)
    (tmp_path / "token.txt").write_text("wrong-key\n")
    os.chmod(tmp_path / "token.txt", 0o600)
    before = snapshot(tmp_path)
    source = FreshserviceSource(watcher_settings(tmp_path, fake.url), clock=fake.clock, environ={})
    with pytest.raises(AuthError) as caught:
        await once(source)
    message = str(caught.value)
    assert message.startswith(
        f"Freshservice rejected the API key from the key file {tmp_path / 'token.txt'}"
    )
    assert snapshot(tmp_path) == before
    assert read_status(tmp_path / "tickets").last_error == message
    assert len(fake.log) == len(fake.requests(status=200)) + 1  # one refused call, no retries


async def test_no_permission_is_explained(fake, tmp_path):
    fake.forbidden = True
    with pytest.raises(AuthError, match=r"refused access \(403\).*permission"):
        await once(make_source(fake, tmp_path))
    assert not list((tmp_path / "tickets").glob("[0-9]*.json"))


async def test_a_host_that_is_not_freshservice_is_explained(fake, tmp_path):
    fake.wrong_domain = True
    with pytest.raises(WrongDomainError, match=r"answered 404.*TICKET_DASH_FRESHSERVICE_DOMAIN"):
        await once(make_source(fake, tmp_path))


async def test_an_unknown_domain_is_explained(fake, tmp_path):
    source = make_source(fake, tmp_path, freshservice_url="http://no-such-helpdesk.invalid")
    with pytest.raises(WrongDomainError, match=r"Cannot find no-such-helpdesk.invalid"):
        await once(source)
    status = read_status(tmp_path / "tickets")
    assert "TICKET_DASH_FRESHSERVICE_DOMAIN" in status.last_error


async def test_an_unreachable_network_is_explained_after_retries(fake, tmp_path):
    port = free_port()  # nothing listens there
    source = make_source(fake, tmp_path, freshservice_url=f"http://127.0.0.1:{port}")
    with pytest.raises(FreshserviceError, match=r"Cannot reach 127.0.0.1.*network"):
        await once(source)


async def test_a_timeout_is_retried_with_backoff(fake, tmp_path):
    fake.faults.append(Fault("/api/v2/ticket_form_fields", "timeout", delay=1.0))
    source = make_source(fake, tmp_path, request_timeout_seconds=0.3)
    assert await once(source) == 0
    assert len(fake.requests("/api/v2/ticket_form_fields")) == 2


async def test_missing_domain_and_key_say_what_to_set(tmp_path):
    settings = watcher_settings(tmp_path, "")
    with pytest.raises(FreshserviceError, match="TICKET_DASH_FRESHSERVICE_DOMAIN"):
        await once(FreshserviceSource(settings, environ={"TICKET_DASH_FRESHSERVICE_TOKEN": "k"}))
    with pytest.raises(AuthError, match=r"No Freshservice API key: put it in .*token\.txt"):
        await once(FreshserviceSource(watcher_settings(tmp_path, "http://x"), environ={}))


async def test_the_key_never_appears_in_logs_tickets_or_mappings(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fake.faults.append(Fault("/api/v2/tickets/filter", "500", times=1))
    fake.faults.append(Fault(r"/api/v2/tickets/\d+", "429", times=1, retry_after="1"))
    await once(make_source(fake, tmp_path))
    fake.forbidden = True
    with pytest.raises(AuthError) as caught:
        await once(make_source(fake, tmp_path))
    assert fake.key not in caplog.text and fake.key not in str(caught.value)
    assert "500" in caplog.text  # the retries were logged
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert fake.key.encode() not in path.read_bytes(), path


def test_the_key_is_looked_up_in_order(tmp_path, caplog):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "freshservice-token").write_text("from-systemd\n")
    key_file = tmp_path / "token.txt"
    key_file.write_text("from-file\n")
    key_file.chmod(0o600)
    env = {"CREDENTIALS_DIRECTORY": str(creds), "TICKET_DASH_FRESHSERVICE_TOKEN": "from-env"}
    assert find_api_key(key_file, env).value == "from-systemd"
    del env["CREDENTIALS_DIRECTORY"]
    assert find_api_key(key_file, env).value == "from-env"
    key = find_api_key(key_file, {})
    assert (key.value, key.origin) == ("from-file", f"the key file {key_file}")
    assert "from-file" not in repr(key) and "from-file" not in str(key)
    assert "readable" not in caplog.text


def test_a_key_file_readable_by_others_is_warned_about(tmp_path, caplog):
    key_file = tmp_path / "token.txt"
    key_file.write_text("secret-key\n")
    key_file.chmod(0o644)
    assert find_api_key(key_file, {}).value == "secret-key"
    assert "can be read by other users: run `chmod 600" in caplog.text
    assert "secret-key" not in caplog.text
