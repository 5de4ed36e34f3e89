"""Real Freshservice bodies through the watcher (tests/fixtures/freshservice/, sources in its README):
a file stays the single-ticket view the contract promises, and a requester that answers 404 is not
asked again on every run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_freshservice import FakeFreshservice, Logged, listed, make_source

from app.contract.status import read_status, write_status
from app.contract.times import iso
from watcher.freshservice.clock import Clock
from watcher.freshservice.store import Shape, file_content

pytestmark = pytest.mark.timeout(20)

FIXTURES = Path(__file__).parent / "fixtures" / "freshservice"
RECORDED_VIEW = 100  # ticket_view_stats.json
CONSTRUCTED_VIEW = 244  # ticket_view_constructed.json


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeFreshservice]:
    async with FakeFreshservice(clock=Clock(speed=600)) as f:
        yield f


def ticket_file(root: Path, ticket_id: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "tickets" / f"{ticket_id}.json").read_text())
    return data


async def once(source: Any, **kw: Any) -> int:
    result: int = await source.run(asyncio.Event(), once=True, **kw)
    return result


def add_real_tickets(fake: FakeFreshservice) -> None:
    """The two single-ticket views and a few of the fake's own: fewer than the bulk-stats
    threshold, so the first sync fetches every ticket with its own single-ticket call."""
    fake.add_recorded(fixture("ticket_view_stats.json"))
    fake.add_recorded(fixture("ticket_view_constructed.json"))
    for _ in range(3):
        fake.add_ticket(status=2)


# --- the rule (store.file_content) on real bodies ----------------------------------------------
def recorded_view() -> dict[str, Any]:
    ticket: dict[str, Any] = fixture("ticket_view_stats.json")["ticket"]
    return ticket


def test_a_list_record_of_the_version_on_disk_adds_only_its_stats() -> None:
    view = recorded_view()
    filtered = listed({k: v for k, v in view.items() if k != "stats"})  # the filter endpoint's
    assert file_content(view, filtered, Shape.LIST).content is None
    fresh_stats = {**view["stats"], "inbound_count": 2}
    result = file_content(view, {**filtered, "stats": fresh_stats}, Shape.LIST)
    assert result.content == {**view, "stats": fresh_stats}
    assert not result.needs_view


def test_a_newer_list_record_wins_but_keeps_the_view_fields_and_asks_for_the_view() -> None:
    view = recorded_view()
    newer = listed({k: v for k, v in view.items() if k != "stats"})
    newer.update(updated_at="2023-03-29T08:00:00Z", subject="Renamed", cc_emails=[])
    result = file_content(view, newer, Shape.LIST)
    assert result.needs_view
    assert result.content is not None
    assert result.content["subject"] == "Renamed" and result.content["cc_emails"] == []
    assert result.content["updated_at"] == "2023-03-29T08:00:00Z"
    for field in ("sla_policy_id", "urgency", "impact", "attachments", "bcc_emails"):
        assert result.content[field] == view[field]
    assert result.content["stats"] == view["stats"]  # until the stats backfill brings new ones


def test_a_file_that_never_saw_the_view_simply_takes_the_newer_list_record() -> None:
    record: dict[str, Any] = fixture("tickets_list.json")["tickets"][2]  # description ""
    assert file_content(None, record, Shape.LIST).content == record
    newer = {**record, "updated_at": "2022-07-05T09:00:00Z", "status": 3}
    result = file_content(record, newer, Shape.LIST)
    assert result.content == newer and not result.needs_view


def test_the_single_ticket_view_replaces_the_file_and_nothing_older_does() -> None:
    view = recorded_view()
    merged = {**view, "updated_at": "2023-03-29T08:00:00Z", "approval_status": 4}
    newer_view = {k: v for k, v in merged.items() if k != "related_tickets"}
    assert file_content(merged, newer_view, Shape.VIEW).content == newer_view
    assert file_content(merged, view, Shape.VIEW).content is None  # older: left alone
    assert file_content(merged, listed(view), Shape.LIST).content is None


# --- through the watcher --------------------------------------------------------------------------
async def test_a_reconcile_leaves_the_single_ticket_view_of_an_unchanged_ticket_alone(
    fake: FakeFreshservice, tmp_path: Path
) -> None:
    add_real_tickets(fake)
    assert await once(make_source(fake, tmp_path)) == 0
    for ticket_id in fake.active_ids():
        assert ticket_file(tmp_path, ticket_id) == fake.full_ticket(ticket_id)
    before = {i: (tmp_path / "tickets" / f"{i}.json").stat().st_mtime_ns for i in fake.active_ids()}

    assert await once(make_source(fake, tmp_path), reconcile=True) == 0
    # The filter endpoint's list shape of the same version: nothing to add, nothing written.
    for ticket_id in fake.active_ids():
        assert ticket_file(tmp_path, ticket_id) == fake.full_ticket(ticket_id)
        assert (tmp_path / "tickets" / f"{ticket_id}.json").stat().st_mtime_ns == before[ticket_id]
    constructed = ticket_file(tmp_path, CONSTRUCTED_VIEW)
    assert constructed["cc_emails"] is None
    assert constructed["sla_policy_id"] == 21000057781
    assert constructed["approval_status_name"] == "Not Requested"
    assert "requester_responded_at" not in ticket_file(tmp_path, RECORDED_VIEW)["stats"]


async def test_a_changed_ticket_keeps_its_view_fields_until_its_single_ticket_call_replaces_them(
    fake: FakeFreshservice, tmp_path: Path
) -> None:
    add_real_tickets(fake)
    assert await once(make_source(fake, tmp_path)) == 0
    fake.update_ticket(CONSTRUCTED_VIEW, subject="Printer on fire", urgency=3)
    fake.log.clear()
    seen_before_the_view: list[dict[str, Any]] = []

    def on_arrival(request: Logged) -> None:
        if request.path == f"/api/v2/tickets/{CONSTRUCTED_VIEW}":
            seen_before_the_view.append(ticket_file(tmp_path, CONSTRUCTED_VIEW))

    fake.on_arrival = on_arrival
    assert await once(make_source(fake, tmp_path)) == 0

    # The poll's list record of the new version was laid over the file: its fields won, the
    # fields only the single view carries stayed (urgency still the old one)...
    [merged] = seen_before_the_view
    assert merged["subject"] == "Printer on fire"
    assert merged["updated_at"] == fake.tickets[CONSTRUCTED_VIEW]["updated_at"]
    assert merged["urgency"] == 2 and merged["sla_policy_id"] == 21000057781
    assert merged["cc_emails"] == []
    # ...until the single-ticket call for that version replaced the whole file.
    assert ticket_file(tmp_path, CONSTRUCTED_VIEW) == fake.full_ticket(CONSTRUCTED_VIEW)
    views = [r.path for r in fake.requests(r"/api/v2/tickets/\d+")]
    assert views == [f"/api/v2/tickets/{CONSTRUCTED_VIEW}"]


async def test_a_requester_that_answers_404_is_not_asked_again_after_a_restart(
    fake: FakeFreshservice, tmp_path: Path
) -> None:
    fake.add_ticket(status=2, requester_id=77)  # no such requester: 404
    fake.add_ticket(status=2, requester_id=11)
    fake.add_requester(11, "Known", "Person")
    assert await once(make_source(fake, tmp_path)) == 0
    assert len(fake.requests("/api/v2/requesters/77")) == 1

    assert await once(make_source(fake, tmp_path)) == 0  # a new process: nothing in memory
    assert await once(make_source(fake, tmp_path), reconcile=True) == 0
    assert len(fake.requests("/api/v2/requesters/77")) == 1
    names = (tmp_path / "mappings" / "requesters.txt").read_text().splitlines()
    assert names == ["11:Known Person"]


async def test_an_unknown_requester_is_asked_again_a_day_later(
    fake: FakeFreshservice, tmp_path: Path
) -> None:
    fake.add_ticket(status=2, requester_id=77)
    assert await once(make_source(fake, tmp_path)) == 0
    tickets = tmp_path / "tickets"
    status = read_status(tickets)
    assert status is not None
    assert set(status.extra["unknown_requesters"]) == {"77"}

    fake.add_requester(77, "Late", "Arrival")  # the 404 was transient
    status.extra["unknown_requesters"] = {"77": iso(fake.clock.time() - 86400 - 60)}
    write_status(tickets, status)
    assert await once(make_source(fake, tmp_path)) == 0
    assert len(fake.requests("/api/v2/requesters/77")) == 2
    assert "77:Late Arrival" in (tmp_path / "mappings" / "requesters.txt").read_text()
    status = read_status(tickets)
    assert status is not None and status.extra["unknown_requesters"] == {}


async def test_unknown_requesters_are_kept_only_for_tickets_on_the_board(
    fake: FakeFreshservice, tmp_path: Path
) -> None:
    fake.add_ticket(status=2, requester_id=77)
    fake.add_ticket(status=2, requester_id=78)
    assert await once(make_source(fake, tmp_path)) == 0
    status = read_status(tmp_path / "tickets")
    assert status is not None and set(status.extra["unknown_requesters"]) == {"77", "78"}

    fake.update_ticket(1, status=4)  # 77's only ticket leaves the board
    assert await once(make_source(fake, tmp_path)) == 0
    status = read_status(tmp_path / "tickets")
    assert status is not None and set(status.extra["unknown_requesters"]) == {"78"}


async def test_people_with_null_last_names_get_their_first_names(
    fake: FakeFreshservice, tmp_path: Path
) -> None:
    for agent in fixture("agents_list.json")["agents"]:
        fake.agents[agent["id"]] = agent
    for group in fixture("groups_list.json")["groups"]:
        fake.groups[group["id"]] = group
    requester = fixture("requester_view_constructed.json")["requester"]
    fake.requesters[requester["id"]] = requester
    fake.add_recorded(fixture("ticket_view_constructed.json"))
    assert await once(make_source(fake, tmp_path)) == 0
    mappings = tmp_path / "mappings"
    assert "21000049729:Rachel" in (mappings / "agents.txt").read_text().splitlines()
    assert (mappings / "requesters.txt").read_text() == "21000049727:Andrea\n"
    assert "21000061290:Capacity Management Team" in (mappings / "groups.txt").read_text()
