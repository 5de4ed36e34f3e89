"""The Freshservice watcher against the fake: reconcile, polls, leaving the board, resuming."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_freshservice import FakeFreshservice, Fault, make_source

from app.contract.status import read_status
from app.contract.times import parse_iso
from watcher.freshservice.clock import Clock
from watcher.freshservice.errors import FreshserviceError

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def fake():
    async with FakeFreshservice(clock=Clock(speed=600)) as f:
        f.add_status(6, "Waiting on Customer")
        yield f


def on_board(root: Path) -> set[int]:
    return {int(p.stem) for p in (root / "tickets").glob("*.json") if p.stem.isdigit()}


def ticket_file(root: Path, ticket_id: int) -> dict:
    return json.loads((root / "tickets" / f"{ticket_id}.json").read_text())


def archived(root: Path, ticket_id: int) -> dict | None:
    day = datetime.now(UTC).date().isoformat()
    path = root / "tickets" / "archive" / day / f"{ticket_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


async def once(source, **kw) -> int:
    return await source.run(asyncio.Event(), once=True, **kw)


def seed(fake: FakeFreshservice, active: int = 30, old: int = 5, done: int = 5) -> None:
    for i in range(active):
        age = 45 + i if i < old else i % 20
        fake.add_ticket(status=(2, 3, 6)[i % 3], age_days=age, requester_id=100 + i % 7)
    for i in range(done):
        fake.add_ticket(status=4 + i % 2, age_days=2)
    for r in range(100, 107):
        fake.add_requester(r, f"Req{r}", "Person")


async def test_first_sync_finds_300_active_tickets_of_any_age_with_their_stats(fake, tmp_path):
    seed(fake, active=300, old=60, done=40)
    assert await once(make_source(fake, tmp_path)) == 0

    assert on_board(tmp_path) == fake.active_ids()
    for ticket_id in (1, 59, 150, 299):  # 1..60 were created 45+ days ago
        # stats came from the list, so the file holds the list shape with stats (no
        # single-ticket call was needed, and none was made)
        assert ticket_file(tmp_path, ticket_id) == fake.listed_ticket(ticket_id)
    # every active status was asked for, with the quoted query the API needs
    queries = {r.query["query"] for r in fake.requests("/api/v2/tickets/filter")}
    assert {'"status:2"', '"status:3"', '"status:6"'} <= queries
    assert fake.requests(status=429) == []
    # 340 tickets changed in the oldest active ticket's time: 4 list pages beat 300 single calls
    assert fake.requests(r"/api/v2/tickets/\d+") == []
    assert len(fake.requests("/api/v2/tickets")) == 4


async def test_stats_come_one_call_per_ticket_when_the_history_is_busy(fake, tmp_path):
    seed(fake, active=30, old=0)
    for _ in range(3000):  # many tickets resolved lately: listing all changes would cost more
        fake.add_ticket(status=4, age_days=1)
    assert await once(make_source(fake, tmp_path)) == 0
    for ticket_id in fake.active_ids():
        assert ticket_file(tmp_path, ticket_id) == fake.full_ticket(ticket_id)
    assert len(fake.requests(r"/api/v2/tickets/\d+")) == 30
    assert fake.requests("/api/v2/tickets") == []


async def test_the_board_fills_before_the_stats_backfill_finishes(fake, tmp_path):
    seed(fake, active=40)
    fake.faults.append(Fault(r"/api/v2/tickets(/\d+)?", "500", times=1000))
    with pytest.raises(FreshserviceError, match="500"):
        await once(make_source(fake, tmp_path))
    assert on_board(tmp_path) == fake.active_ids()
    assert "stats" not in ticket_file(tmp_path, 1)


async def test_steady_state_poll_is_exactly_one_call(fake, tmp_path):
    seed(fake)
    await once(make_source(fake, tmp_path))
    fake.log.clear()
    assert await once(make_source(fake, tmp_path)) == 0
    assert len(fake.log) == 1
    request = fake.log[0]
    assert request.path == "/api/v2/tickets"
    assert request.query["include"] == "stats" and request.query["per_page"] == "100"
    assert "updated_since" in request.query
    assert request.credits == 3


async def test_poll_adds_new_updates_changed_and_archives_resolved(fake, tmp_path):
    seed(fake)
    await once(make_source(fake, tmp_path))
    fake.log.clear()
    new = fake.add_ticket(status=2, subject="Printer on fire")["id"]
    fake.respond(2)
    fake.update_ticket(3, subject="Renamed")
    fake.update_ticket(4, status=4)
    fake.update_ticket(5, status=5)

    assert await once(make_source(fake, tmp_path)) == 0
    assert len(fake.log) == 1
    assert on_board(tmp_path) == fake.active_ids()
    assert ticket_file(tmp_path, new) == fake.listed_ticket(new)  # a poll sees the list shape
    assert ticket_file(tmp_path, 2)["stats"]["first_responded_at"] is not None
    assert ticket_file(tmp_path, 3)["subject"] == "Renamed"
    assert archived(tmp_path, 4)["status"] == 4
    assert archived(tmp_path, 5)["status"] == 5


async def test_polls_follow_link_pages(fake, tmp_path):
    seed(fake)
    await once(make_source(fake, tmp_path))
    fake.log.clear()
    for _ in range(150):
        fake.add_ticket(status=2)
    assert await once(make_source(fake, tmp_path)) == 0
    assert [r.query.get("page", "1") for r in fake.log] == ["1", "2"]
    assert on_board(tmp_path) == fake.active_ids()


@pytest.mark.parametrize("deleted_mode", ["404", "flag"])
async def test_deleted_and_spam_tickets_leave_after_a_confirmed_reconciliation(
    fake, tmp_path, deleted_mode
):
    fake.deleted_mode = deleted_mode
    seed(fake)
    await once(make_source(fake, tmp_path))
    fake.delete_ticket(7)
    fake.spam_ticket(8)
    await once(make_source(fake, tmp_path))  # a poll cannot see them go
    assert {7, 8} <= on_board(tmp_path)

    fake.log.clear()
    assert await once(make_source(fake, tmp_path), reconcile=True) == 0
    assert on_board(tmp_path) == fake.active_ids()
    assert archived(tmp_path, 7) is not None and archived(tmp_path, 8)["spam"] is True
    confirmations = {r.path for r in fake.requests(r"/api/v2/tickets/\d+")}
    assert confirmations == {"/api/v2/tickets/7", "/api/v2/tickets/8"}


async def test_a_ticket_that_moved_status_during_reconcile_is_not_archived(fake, tmp_path):
    seed(fake)
    await once(make_source(fake, tmp_path))
    assert fake.tickets[8]["status"] == 3

    def move_after_status_2_was_listed(request):
        if request.query.get("query") == '"status:2"':
            fake.update_ticket(8, status=2)  # now in neither the status:2 nor the status:3 answer

    fake.after_request = move_after_status_2_was_listed
    fake.log.clear()
    assert await once(make_source(fake, tmp_path), reconcile=True) == 0
    assert 8 in on_board(tmp_path)
    assert ticket_file(tmp_path, 8)["status"] == 2
    assert [r.path for r in fake.requests(r"/api/v2/tickets/\d+")] == ["/api/v2/tickets/8"]


@pytest.mark.parametrize("links", [False, True])
async def test_filter_pages_are_followed_with_or_without_link_headers(fake, tmp_path, links):
    fake.filter_link = links
    for i in range(95):
        fake.add_ticket(status=2, age_days=i)
    assert await once(make_source(fake, tmp_path)) == 0
    assert on_board(tmp_path) == fake.active_ids()
    by_status = [r for r in fake.requests("/api/v2/tickets/filter") if "status" in r.query["query"]]
    assert len(by_status) == 4 + 1 + 1  # status 2, then 3 and 6


async def test_a_page_cap_on_the_filter_endpoint_splits_the_query_by_creation_day(fake, tmp_path):
    fake.filter_page_cap = 2  # 60 tickets at most per query
    for i in range(200):
        fake.add_ticket(status=2, age_days=i * 3)
    assert await once(make_source(fake, tmp_path)) == 0
    assert on_board(tmp_path) == fake.active_ids()
    assert fake.requests(status=429) == []


async def test_500_in_the_middle_of_pagination_archives_nothing(fake, tmp_path):
    seed(fake, active=150)  # 50 a status: two filter pages each
    await once(make_source(fake, tmp_path))
    before = on_board(tmp_path)
    for ticket_id in range(1, 10):
        fake.delete_ticket(ticket_id)  # gone, but a failed reconcile must not conclude that
    fake.faults.append(Fault("/api/v2/tickets/filter", "500", times=100, query={"page": "2"}))
    with pytest.raises(FreshserviceError, match="500"):
        await once(make_source(fake, tmp_path, request_retries=2), reconcile=True)
    assert on_board(tmp_path) == before
    assert not (tmp_path / "tickets" / "archive").exists()
    status = read_status(tmp_path / "tickets")
    assert status.last_error and "500" in status.last_error
    assert len(fake.requests("/api/v2/tickets/filter", status=500)) == 3  # retried twice


async def test_500_on_a_later_poll_page_applies_nothing(fake, tmp_path):
    seed(fake)
    await once(make_source(fake, tmp_path))
    cursor = read_status(tmp_path / "tickets").cursor
    for _ in range(120):
        fake.add_ticket(status=2)
    fake.update_ticket(4, status=4)
    fake.faults.append(Fault("/api/v2/tickets", "503", times=100, query={"page": "2"}))
    with pytest.raises(FreshserviceError):
        await once(make_source(fake, tmp_path, request_retries=1))
    assert 4 in on_board(tmp_path) and len(on_board(tmp_path)) == 30
    assert read_status(tmp_path / "tickets").cursor == cursor


@pytest.mark.parametrize("kind", ["malformed", "bad-shape"])
async def test_a_malformed_answer_reveals_nothing(fake, tmp_path, kind):
    seed(fake)
    await once(make_source(fake, tmp_path))
    fake.update_ticket(4, status=4)
    fake.faults.append(Fault("/api/v2/tickets", kind))
    with pytest.raises(FreshserviceError, match="Freshservice sent"):
        await once(make_source(fake, tmp_path))
    assert 4 in on_board(tmp_path)
    assert await once(make_source(fake, tmp_path)) == 0  # the next cycle retries
    assert 4 not in on_board(tmp_path)


async def test_restart_resumes_from_the_persisted_cursor(fake, tmp_path):
    seed(fake)
    await once(make_source(fake, tmp_path))
    status = read_status(tmp_path / "tickets")
    assert status.cursor and status.last_reconcile
    fake.log.clear()
    source = make_source(fake, tmp_path, poll_overlap_seconds=60)
    stop = asyncio.Event()
    fake.after_request = lambda request: stop.set()  # stop after the first request
    task = asyncio.create_task(source.run(stop))
    assert await asyncio.wait_for(task, 5) == 0
    first = fake.log[0]
    assert first.path == "/api/v2/tickets"
    assert parse_iso(first.query["updated_since"]) == parse_iso(status.cursor) - 60


async def test_a_custom_status_shows_its_name(fake, tmp_path):
    seed(fake)
    await once(make_source(fake, tmp_path))
    statuses = (tmp_path / "mappings" / "statuses.txt").read_text().splitlines()
    assert "6:Waiting on Customer" in statuses
    assert any(ticket_file(tmp_path, i)["status"] == 6 for i in on_board(tmp_path))


async def test_a_file_is_rewritten_only_when_its_content_changed(fake, tmp_path):
    seed(fake)
    await once(make_source(fake, tmp_path))
    fake.update_ticket(2, subject="changed")
    path = tmp_path / "tickets" / "1.json"
    before = path.stat().st_mtime_ns, path.stat().st_ino
    fake.update_ticket(1)  # 1 comes back in the poll, unchanged apart from updated_at...
    fake.tickets[1]["updated_at"] = ticket_file(tmp_path, 1)["updated_at"]  # ...not even that
    fake.stats[1]["updated_at"] = ticket_file(tmp_path, 1)["stats"]["updated_at"]
    await once(make_source(fake, tmp_path))
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before
    assert ticket_file(tmp_path, 2)["subject"] == "changed"


async def test_requester_names_are_fetched_once_each_for_active_tickets_only(fake, tmp_path):
    fake.add_ticket(status=2, requester_id=11)
    fake.add_ticket(status=3, requester_id=12)
    fake.add_ticket(status=2, requester_id=11)
    fake.add_ticket(status=4, requester_id=13)  # resolved: not on the board
    for r in range(10, 40):
        fake.add_requester(r, f"First{r}", "Last")
    await once(make_source(fake, tmp_path))
    names = (tmp_path / "mappings" / "requesters.txt").read_text().splitlines()
    assert names == ["11:First11 Last", "12:First12 Last"]
    assert sorted(r.path for r in fake.requests("/api/v2/requesters.*")) == [
        "/api/v2/requesters/11",
        "/api/v2/requesters/12",
    ]
    fake.log.clear()
    await once(make_source(fake, tmp_path))
    assert fake.requests("/api/v2/requesters.*") == []


async def test_agents_and_groups_are_written_as_mappings(fake, tmp_path):
    fake.add_agent(1, "Dana", "Scully")
    fake.add_agent(2, "Fox", "Mulder")
    fake.add_group(5, "Network")
    seed(fake, active=3)
    await once(make_source(fake, tmp_path))
    mappings = tmp_path / "mappings"
    assert (mappings / "agents.txt").read_text() == "1:Dana Scully\n2:Fox Mulder\n"
    assert (mappings / "groups.txt").read_text() == "5:Network\n"


async def test_sync_mappings_command_refreshes_names(fake, tmp_path):
    fake.add_agent(1, "Dana", "Scully")
    seed(fake, active=3)
    await once(make_source(fake, tmp_path))
    fake.requesters[100]["first_name"] = "Renamed"
    assert await make_source(fake, tmp_path).sync_mappings_once() == 0
    assert "100:Renamed Person" in (tmp_path / "mappings" / "requesters.txt").read_text()


async def test_workspace_id_scopes_every_ticket_query(fake, tmp_path):
    fake.add_ticket(status=2, workspace_id=3)
    fake.add_ticket(status=2)  # primary workspace
    await once(make_source(fake, tmp_path, workspace_id="3"))
    await once(make_source(fake, tmp_path, workspace_id="3"))
    assert on_board(tmp_path) == {1}
    filters = {r.query["query"] for r in fake.requests("/api/v2/tickets/filter")}
    assert all(q.startswith('"workspace_id:3 AND ') for q in filters)
    assert fake.requests("/api/v2/tickets")[-1].query["workspace_id"] == "3"


async def test_archived_days_older_than_the_retention_are_removed(tmp_path):
    from datetime import date

    from app.contract.archive import archive_ticket, prune_archive

    tickets = tmp_path / "tickets"
    tickets.mkdir()
    for ticket_id, day in ((1, date(2026, 1, 1)), (2, date(2026, 3, 1))):
        (tickets / f"{ticket_id}.json").write_text("{}")
        archive_ticket(tickets, ticket_id, day=day)
    removed = prune_archive(tickets, 30, today=date(2026, 3, 10))
    assert [p.name for p in removed] == ["2026-01-01"]
    assert (tickets / "archive" / "2026-03-01" / "2.json").exists()
    assert prune_archive(tickets, 0, today=date(2030, 1, 1)) == []


async def test_the_service_backfills_stats_and_reconciles_periodically(fake, tmp_path):
    seed(fake, active=40)
    source = make_source(fake, tmp_path, poll_seconds=15, reconcile_minutes=2)
    stop = asyncio.Event()
    done = asyncio.Event()

    def script(request):
        if request.path == "/api/v2/tickets" and not fake.tickets[13]["deleted"]:
            fake.delete_ticket(13)  # after the first reconcile: only the next one can notice
        board = on_board(tmp_path)
        if fake.tickets[13]["deleted"] and board == fake.active_ids():
            if all("stats" in ticket_file(tmp_path, i) for i in board):
                done.set()

    fake.after_request = script
    task = asyncio.create_task(source.run(stop))
    await asyncio.wait_for(done.wait(), 10)
    stop.set()
    assert await asyncio.wait_for(task, 5) == 0
    assert archived(tmp_path, 13) is not None
    status = read_status(tmp_path / "tickets")
    assert status.last_error is None
    assert len(fake.requests("/api/v2/ticket_form_fields")) >= 2  # reconciled again


async def test_polls_go_on_while_a_periodic_reconciliation_runs(fake, tmp_path):
    seed(fake)
    source = make_source(
        fake, tmp_path, poll_seconds=15, reconcile_minutes=1, request_timeout_seconds=5
    )
    stop = asyncio.Event()
    change_seen = asyncio.Event()
    polls = 0

    def on_arrival(request):
        nonlocal polls
        if request.path == "/api/v2/tickets":
            polls += 1
            if polls == 1:  # the next reconciliation will hang on its first call for 3 s
                fake.faults.append(Fault("/api/v2/ticket_form_fields", "timeout", delay=3))
        elif request.path == "/api/v2/ticket_form_fields" and polls:
            fake.update_ticket(2, subject="changed while reconciling")

    def after_request(request):
        if 2 in on_board(tmp_path) and ticket_file(tmp_path, 2)["subject"].startswith("changed"):
            change_seen.set()

    fake.on_arrival = on_arrival
    fake.after_request = after_request
    task = asyncio.create_task(source.run(stop))
    await asyncio.wait_for(change_seen.wait(), 2.5)  # before the reconciliation got its answer
    stop.set()
    assert await asyncio.wait_for(task, 5) == 0
