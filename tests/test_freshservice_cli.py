"""`python -m watcher` against the fake, as a new user runs it: --once, then the service."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from fake_freshservice import FakeFreshservice, Fault

from app.contract.status import read_status

pytestmark = pytest.mark.timeout(30)
REPO = Path(__file__).resolve().parents[1]


def environment(fake: FakeFreshservice, root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKET_DASH_")}
    env.update(
        PYTHONPATH=str(REPO),
        TICKET_DASH_FRESHSERVICE_URL=fake.url,
        TICKET_DASH_FRESHSERVICE_TOKEN=fake.key,
        TICKET_DASH_TICKETS_DIR=str(root / "tickets"),
        TICKET_DASH_MAPPINGS_DIR=str(root / "mappings"),
    )
    env.update(extra)
    return env


async def watcher(env: dict[str, str], *args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "watcher",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.fixture
async def fake():
    async with FakeFreshservice() as f:
        for i in range(5):
            f.add_ticket(status=2, age_days=40 * i, requester_id=7)
        f.add_requester(7, "Dana", "Scully")
        yield f


async def test_once_mirrors_the_account_and_exits_0(fake, tmp_path):
    proc = await watcher(environment(fake, tmp_path), "--once", cwd=tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert {p.stem for p in (tmp_path / "tickets").glob("[0-9]*.json")} == {
        str(i) for i in fake.active_ids()
    }
    assert (tmp_path / "mappings" / "requesters.txt").read_text() == "7:Dana Scully\n"
    assert fake.key not in (out + err).decode()


async def test_once_with_a_bad_key_exits_non_zero_with_one_line(fake, tmp_path):
    env = environment(fake, tmp_path, TICKET_DASH_FRESHSERVICE_TOKEN="not-the-key")
    proc = await watcher(env, "--once", cwd=tmp_path)
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert err.decode().splitlines() == [
        "watcher: Freshservice rejected the API key from the environment variable "
        "TICKET_DASH_FRESHSERVICE_TOKEN: copy the key again from your Freshservice profile "
        "(Profile settings → API key) and check the domain."
    ]
    assert not list((tmp_path / "tickets").glob("[0-9]*.json"))


async def test_the_service_stops_cleanly_on_sigterm_mid_cycle(fake, tmp_path):
    await_first = asyncio.Event()
    fake.on_arrival = lambda request: await_first.set()
    # The first request hangs: SIGTERM arrives while the cycle waits for Freshservice.
    fake.faults.append(Fault("/api/v2/ticket_form_fields", "timeout", delay=20))
    env = environment(fake, tmp_path, TICKET_DASH_REQUEST_TIMEOUT_SECONDS="25")
    proc = await watcher(env, cwd=tmp_path)
    await asyncio.wait_for(await_first.wait(), 15)
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 5)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    assert read_status(tmp_path / "tickets").source == "freshservice"
    assert not list(tmp_path.rglob("*.tmp"))


async def test_the_service_keeps_polling_until_stopped(fake, tmp_path):
    polled = asyncio.Event()

    def watch(request):
        if request.path == "/api/v2/tickets":
            polled.set()

    fake.on_arrival = watch
    env = environment(fake, tmp_path, TICKET_DASH_POLL_SECONDS="0.2")
    proc = await watcher(env, cwd=tmp_path)
    await asyncio.wait_for(polled.wait(), 15)  # a reconcile, then a poll
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), 5)
    assert proc.returncode == 0, err.decode()
    status = read_status(tmp_path / "tickets")
    assert status.cursor and status.last_reconcile and status.last_error is None
