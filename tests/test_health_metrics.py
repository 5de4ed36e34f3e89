"""`/healthz` says whether the wall is fresh; `/metrics` tells Prometheus what the board does."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time

import httpx
import pytest
from fake_freshservice import FakeFreshservice, make_source
from prometheus_client.parser import text_string_to_metric_families
from support.inprocess import (
    ADMIN_PASSWORD,
    LAN,
    basic,
    secured_settings,
    started,
    write_status_fields,
)

from app.contract.times import iso
from app.web.metrics import metrics_asgi


def iso_ago(seconds: float) -> str:
    return iso(time.time() - seconds)


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        ({"last_success": iso_ago(5)}, 200, None),
        (None, 503, "no watcher status"),
        ({"last_success": None}, 503, "not synced"),
        ({"last_success": iso_ago(301)}, 503, "stale"),
        ({"last_success": iso_ago(5), "last_error": "Freshservice said 500"}, 503, "error"),
    ],
)
async def test_healthz(tmp_path, status, code, reason):
    settings = secured_settings(tmp_path)
    if status is not None:
        write_status_fields(settings.tickets_dir, **status)
    async with started(settings) as app:
        response = await app.test_client().get("/healthz", scope_base=LAN)
        body = await response.get_json()
    assert response.status_code == code
    assert response.headers["Cache-Control"] == "no-store"
    if reason:
        assert reason in body["reason"]
        assert "Freshservice said" not in str(body)  # no watcher error text in the open
    else:
        assert body["status"] == "ok"


async def test_healthz_is_503_once_shutting_down(tmp_path):
    settings = secured_settings(tmp_path)
    write_status_fields(settings.tickets_dir, last_success=iso_ago(1))
    async with started(settings) as app:
        app.live.hub.close()
        response = await app.test_client().get("/healthz")
        assert response.status_code == 503
        assert (await response.get_json())["reason"] == "shutting down"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def test_metrics_report_the_board(tmp_path):
    settings = secured_settings(tmp_path)
    (settings.tickets_dir / "99.json").write_text("{not json")
    write_status_fields(
        settings.tickets_dir,
        last_success=iso_ago(42),
        last_error="boom",
        counts={"tickets_written": 7, "api_calls": 120, "rate_limited": 3},
    )
    async with started(settings) as app:
        live = app.live
        live.hub.count_sent(10)
        client = app.test_client(use_cookies=False)
        refused = await client.get("/metrics", scope_base=LAN)
        assert refused.status_code == 401
        response = await client.get(
            "/metrics", scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD)
        )
        assert response.status_code == 200
        assert response.content_type.startswith("text/plain")
        got = samples(await response.get_data(as_text=True))
    assert got[("ticket_dash_sse_clients", ())] == 0
    assert got[("ticket_dash_sse_events_sent_total", ())] == 1
    assert got[("ticket_dash_sse_bytes_sent_total", ())] == 10
    assert got[("ticket_dash_tickets", (("section", "open"),))] == 3
    assert got[("ticket_dash_malformed_files", ())] == 1
    # 42 s, plus the fraction of a second the whole-second time dropped, plus this test's time
    assert 42 <= got[("ticket_dash_seconds_since_last_sync", ())] < 45
    assert got[("ticket_dash_watcher_error", ())] == 1
    assert got[("ticket_dash_freshservice_api_calls_total", ())] == 120
    assert got[("ticket_dash_freshservice_rate_limited_total", ())] == 3
    assert got[("ticket_dash_watcher_count", (("name", "tickets_written"),))] == 7
    assert ("ticket_dash_watcher_count", (("name", "api_calls"),)) not in got
    # today's numbers and the board now, as the wall's Today strip shows them
    assert got[("ticket_dash_now", (("measure", "open"),))] == 3
    assert got[("ticket_dash_now", (("measure", "unassigned"),))] == 3
    assert ("ticket_dash_today", (("measure", "created"),)) in got
    median = got[("ticket_dash_today", (("measure", "median_first_response_seconds"),))]
    assert median != median  # NaN: nobody answered today


async def test_metrics_count_the_real_watchers_api_calls(tmp_path):
    """The Freshservice watcher's own status file, read by the board, shows its API calls."""
    async with FakeFreshservice() as fake:
        for _ in range(3):
            fake.add_ticket()
        source = make_source(fake, tmp_path / "watcher")
        assert await source.run(asyncio.Event(), once=True) == 0
    settings = dataclasses.replace(
        secured_settings(tmp_path),
        tickets_dir=tmp_path / "watcher" / "tickets",
        mappings_dir=tmp_path / "watcher" / "mappings",
    )
    async with started(settings) as app:
        response = await app.test_client().get(
            "/metrics", scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD)
        )
        got = samples(await response.get_data(as_text=True))
    assert got[("ticket_dash_freshservice_api_calls_total", ())] == len(fake.log)
    assert got[("ticket_dash_freshservice_rate_limited_total", ())] == 0


async def test_metrics_without_a_watcher_status(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        response = await app.test_client().get("/metrics")  # loopback, still needs a login
        assert response.status_code == 401
        transport = httpx.ASGITransport(app=metrics_asgi(app.metrics))  # the metrics_bind app
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
            text = (await client.get("/metrics")).text
            assert (await client.get("/")).status_code == 404
    got = samples(text)
    assert math.isnan(got[("ticket_dash_seconds_since_last_sync", ())])
    assert got[("ticket_dash_watcher_error", ())] == 0
    assert ("ticket_dash_freshservice_api_calls_total", ()) not in got
