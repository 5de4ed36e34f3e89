"""The rate budget: never beyond the plan, nothing before Retry-After, room for other integrations."""

from __future__ import annotations

import asyncio

import pytest
from fake_freshservice import FakeFreshservice, Fault, make_source

from watcher.freshservice.clock import Clock
from watcher.freshservice.ratelimit import WINDOW_SECONDS, RateBudget, parse_retry_after

pytestmark = pytest.mark.timeout(30)


async def once(source) -> int:
    return await source.run(asyncio.Event(), once=True)


def most_in_a_minute(times: list[float]) -> int:
    return max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)


async def test_no_request_is_sent_before_retry_after_has_passed(tmp_path):
    async with FakeFreshservice(clock=Clock(speed=300)) as fake:
        for _ in range(10):  # few enough for one single-ticket call each
            fake.add_ticket(status=2)
        fake.faults += [
            Fault(r"/api/v2/tickets/filter", "429", times=2, retry_after="20"),
            Fault(r"/api/v2/tickets/\d+", "429", times=3, retry_after="45"),
            Fault(r"/api/v2/tickets/\d+", "429", times=1, retry_after=None),  # → 60 s
        ]
        assert await once(make_source(fake, tmp_path, max_concurrency=1)) == 0
        limited = fake.requests(status=429)
        assert len(limited) == 6
        for refused in limited:
            wait = refused.retry_after or 60.0
            later = [r for r in fake.log if r.at > refused.at]
            assert later, "the watcher gave up"
            assert later[0].at >= refused.at + wait
        assert {int(p.stem) for p in (tmp_path / "tickets").glob("[0-9]*.json")} == set(
            fake.tickets
        )


async def test_a_first_sync_stays_within_the_budget_and_the_starter_plan(tmp_path):
    async with FakeFreshservice(clock=Clock(speed=100), plan="starter") as fake:
        for i in range(120):
            fake.add_ticket(status=(2, 3)[i % 2], age_days=i % 60)
        for _ in range(10000):  # a busy history: stats come one call per ticket
            fake.add_ticket(status=5, age_days=1)
        source = make_source(fake, tmp_path)
        s = source.settings
        # A server whose limits are exactly our budget refuses nothing.
        fake.limits = (
            s.rate_limit_per_minute,
            s.list_rate_limit_per_minute,
            s.view_rate_limit_per_minute,
        )
        assert await once(source) == 0
        assert fake.requests(status=429) == []
        views = [r.at for r in fake.requests(r"/api/v2/tickets/\d+")]
        lists = [r.at for r in fake.log if r.kind == "list"]
        in_flight = s.max_concurrency - 1  # sent in one minute, may arrive bunched up
        assert most_in_a_minute(views) <= s.view_rate_limit_per_minute + in_flight
        assert most_in_a_minute(lists) <= s.list_rate_limit_per_minute + in_flight
        # 120 views at 40 a minute: three minutes of simulated time, not less.
        assert views[-1] - views[0] >= 120


async def test_other_integrations_share_of_the_account_is_respected(tmp_path):
    async with FakeFreshservice(clock=Clock(speed=300), plan="starter") as fake:
        fake.other_usage = 60  # another integration spends 60 of the 100 credits each minute
        for _ in range(60):
            fake.add_ticket(status=2)
        assert await once(make_source(fake, tmp_path)) == 0
        assert fake.requests(status=429) == []


def test_retry_after_missing_or_unreadable_means_60_seconds():
    assert parse_retry_after(None) == 60
    assert parse_retry_after("soon") == 60
    assert parse_retry_after("7") == 7


async def test_the_backfill_leaves_room_for_polls():
    budget = RateBudget(
        credits_per_minute=10, list_per_minute=10, view_per_minute=10, clock=Clock()
    )
    for _ in range(3):
        await budget.acquire("view", 2, reserve=3)
    # 6 used: 2 more would eat the reserve, so wait until the first call's 2 leave the window.
    assert WINDOW_SECONDS - 1 < budget.wait_needed("view", 2, reserve=3) <= WINDOW_SECONDS
    assert budget.wait_needed("list", 2) == 0  # the poll still fits
