"""The sync: full reconciliation, incremental polls, the stats backfill, and leaving the board.

- `reconcile()` finds every active ticket whatever its age (the filter endpoint, one query per
  active status), writes each page as it arrives, queues tickets whose stats are missing or stale
  for the backfill, and, only once every query finished, confirms each ticket on disk that was not
  seen with a single-ticket call (404, `deleted` or `spam` or an inactive status → archive).
- `poll()` asks `updated_since` = cursor − overlap with stats, all pages; only after every page
  arrived does it upsert active tickets and archive resolved/closed ones. The new cursor is the
  server's `Date` of the first page, so our clock's skew does not matter.
- The backfill fetches stats for queued tickets as background work, which leaves part of every
  minute to the polls (`client.mark_as_background`): one `GET /tickets/{id}?include=stats` each,
  or, after a reconciliation queued many, the incremental list when that is cheaper (below).
  Then requester names, then the single-ticket view for files that keep single-view-only
  fields of an older version (store.file_content, rule 4).

A failure raises; whatever was not yet applied is not applied, and nothing is archived on a
guess.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from multidict import CIMultiDictProxy

from app.contract.times import iso, parse_iso
from app.settings import Settings
from watcher.freshservice.client import FreshserviceClient, mark_as_background
from watcher.freshservice.clock import Clock
from watcher.freshservice.errors import (
    AuthError,
    FreshserviceError,
    MalformedError,
    PageCapReached,
)
from watcher.freshservice.names import NameSync
from watcher.freshservice.pagination import filter_tickets, linked_pages, records
from watcher.freshservice.ratelimit import LIST_WITH_STATS_CREDITS, VIEW_WITH_STATS_CREDITS
from watcher.freshservice.store import Shape, TicketFiles

log = logging.getLogger(__name__)

EARLIEST_DAY = date(2010, 1, 1)  # before Freshservice existed
LIST_PAGE = 100  # tickets per page of the incremental list
BULK_MIN_TICKETS = 20  # below this, single calls are quick anyway


def server_time(headers: CIMultiDictProxy[str], clock: Clock) -> float:
    try:
        return parsedate_to_datetime(headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError, IndexError):
        return clock.time()


class TicketSync:
    def __init__(
        self,
        client: FreshserviceClient,
        files: TicketFiles,
        names: NameSync,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.client = client
        self.files = files
        self.names = names
        self.settings = settings
        self.clock = clock
        self.pending_stats: dict[int, None] = {}  # an ordered set
        self.pending_views: dict[int, None] = {}  # files keeping view fields of an older version
        self.statuses: dict[int, str] = {}
        self._requesters_in_flight: set[int] = set()
        self.bulk_wanted = False  # a reconciliation queued many tickets: try bulk_stats first
        self.bulk_running = False

    # --- what is active -------------------------------------------------------------------
    def is_active(self, ticket: dict[str, Any]) -> bool:
        if ticket.get("deleted") or ticket.get("spam"):
            return False
        status = ticket.get("status")
        if self.settings.active_statuses:
            return status in self.settings.active_statuses
        return status not in self.settings.excluded_statuses

    def active_statuses(self) -> list[int]:
        if self.settings.active_statuses:
            return sorted(self.settings.active_statuses)
        return sorted(s for s in self.statuses if s not in self.settings.excluded_statuses)

    def _query(self, status: int) -> str:
        if self.settings.workspace_id:
            return f"workspace_id:{self.settings.workspace_id} AND status:{status}"
        return f"status:{status}"

    def apply(self, ticket: dict[str, Any], shape: Shape) -> None:
        """Upsert an active ticket or archive one that left the board."""
        if self.is_active(ticket):
            self._upsert(ticket, shape)
            if isinstance(ticket.get("stats"), dict):
                self.pending_stats.pop(ticket["id"], None)
        else:
            self.files.archive(ticket["id"], ticket)
            self.pending_stats.pop(ticket["id"], None)
            self.pending_views.pop(ticket["id"], None)

    def _upsert(self, ticket: dict[str, Any], shape: Shape) -> None:
        if self.files.upsert(ticket, shape).needs_view:
            self.pending_views[ticket["id"]] = None
        elif shape is Shape.VIEW:
            self.pending_views.pop(ticket["id"], None)

    # --- resume state (kept in the status file's `extra`) ----------------------------------
    def resume(self, extra: Mapping[str, Any]) -> None:
        """Take up what an earlier run left queued: single-ticket views still owed, and
        requesters that answered 404."""
        views = extra.get("views_pending")
        if isinstance(views, list):
            for ticket_id in views:
                if isinstance(ticket_id, int) and not isinstance(ticket_id, bool):
                    self.pending_views[ticket_id] = None
        self.names.resume_unknown(extra.get("unknown_requesters"))

    def resume_state(self) -> dict[str, Any]:
        """The same, for the status file, pruned to the tickets on the board."""
        on_board = self.files.ids()
        return {
            "views_pending": sorted(i for i in self.pending_views if i in on_board),
            "unknown_requesters": self.names.unknown_state(self.files.requester_ids()),
        }

    # --- full reconciliation --------------------------------------------------------------
    async def reconcile(self) -> float:
        """Returns the server time at its start (a safe poll cursor)."""
        self.statuses, headers = await self.names.sync_statuses()
        started = server_time(headers, self.clock)
        seen: set[int] = set()
        for status in self.active_statuses():
            await self._find_active(self._query(status), seen, None)
        # Every query finished: only now may a missing ticket be considered gone.
        missing = sorted(self.files.ids() - seen)
        if missing:
            log.info("confirming %d ticket(s) no longer in the active set", len(missing))
        for ticket_id in missing:
            await self.fetch_one(ticket_id)
        await self.names.sync_agents_and_groups()
        return started

    async def _find_active(
        self, query: str, seen: set[int], days: tuple[date, date] | None
    ) -> None:
        """Write every ticket the query finds, page by page. Should the filter endpoint cap
        its pages, the query is split by creation day until each part fits."""
        ranged = query
        if days is not None:
            ranged = f"{query} AND created_at:>'{days[0]}' AND created_at:<'{days[1]}'"
        try:
            async for page in filter_tickets(self.client, ranged):
                for ticket in page:
                    if ticket["id"] in seen or not self.is_active(ticket):
                        continue
                    seen.add(ticket["id"])
                    needs_stats = self.files.needs_stats(ticket)
                    self._upsert(ticket, Shape.LIST)
                    if needs_stats:
                        self.pending_stats[ticket["id"]] = None
                        self.bulk_wanted = True
        except PageCapReached:
            first, last = days or (EARLIEST_DAY, self.clock.utcnow().date() + timedelta(days=1))
            if first >= last:
                raise
            middle = first + (last - first) / 2
            log.info("splitting %r at %s: the filter endpoint caps its pages", query, middle)
            await self._find_active(query, seen, (first, middle))
            await self._find_active(query, seen, (middle + timedelta(days=1), last))

    async def fetch_one(self, ticket_id: int) -> None:
        """The single-ticket call: 404 → archive; deleted/spam/inactive → archive; else upsert."""
        answer = await self.client.get(
            f"/api/v2/tickets/{ticket_id}",
            {"include": "stats"},
            kind="view",
            credits=VIEW_WITH_STATS_CREDITS,
            missing_ok=True,
        )
        if answer is None:
            self.files.archive(ticket_id)
            self.pending_stats.pop(ticket_id, None)
            self.pending_views.pop(ticket_id, None)
            return
        ticket = answer.data.get("ticket") if isinstance(answer.data, dict) else None
        if not isinstance(ticket, dict) or ticket.get("id") != ticket_id:
            raise MalformedError(f"Freshservice sent an unreadable ticket {ticket_id}.")
        self.apply(ticket, Shape.VIEW)

    # --- incremental poll -----------------------------------------------------------------
    async def poll(self, cursor: float) -> float:
        """Apply every change since `cursor` − overlap; returns the next cursor."""
        params: dict[str, str | int] = {
            "updated_since": iso(cursor - self.settings.poll_overlap_seconds),
            "include": "stats",
            "per_page": LIST_PAGE,
        }
        if self.settings.workspace_id:
            params["workspace_id"] = self.settings.workspace_id
        changed: dict[int, dict[str, Any]] = {}
        next_cursor: float | None = None
        async for answer in linked_pages(
            self.client,
            "/api/v2/tickets",
            params,
            "tickets",
            kind="list",
            credits=LIST_WITH_STATS_CREDITS,
        ):
            if next_cursor is None:
                next_cursor = server_time(answer.headers, self.clock)
            for ticket in records(answer, "tickets"):
                old = changed.get(ticket["id"])
                if old is None or str(ticket.get("updated_at")) >= str(old.get("updated_at")):
                    changed[ticket["id"]] = ticket
        # Every page arrived: apply.
        on_board = self.files.ids()
        for ticket in changed.values():
            if self.is_active(ticket) or ticket["id"] in on_board:
                self.apply(ticket, Shape.LIST)
        assert next_cursor is not None
        return next_cursor

    # --- stats backfill and requester names -----------------------------------------------
    def queue_requesters(self) -> list[int]:
        missing = self.names.missing_requesters(self.files.requester_ids())
        return [r for r in missing if r not in self._requesters_in_flight]

    async def _backfill_step(self) -> bool:
        """One item of background work; False when there is none."""
        if self.bulk_wanted and not self.bulk_running:
            self.bulk_wanted = False
            self.bulk_running = True
            try:
                await self._bulk_stats()
            finally:
                self.bulk_running = False
            return True
        if self.pending_stats and not self.bulk_running:
            ticket_id = next(iter(self.pending_stats))
            del self.pending_stats[ticket_id]
            try:
                await self.fetch_one(ticket_id)
            except BaseException:
                self.pending_stats[ticket_id] = None
                raise
            return True
        requesters = self.queue_requesters()
        if requesters:
            self._requesters_in_flight.add(requesters[0])
            try:
                await self.names.fetch_requester(requesters[0])
            finally:
                self._requesters_in_flight.discard(requesters[0])
            return True
        if self.pending_views:
            ticket_id = next(iter(self.pending_views))
            del self.pending_views[ticket_id]
            if self.files.read(ticket_id) is None:
                return True  # it left the board meanwhile
            try:
                await self.fetch_one(ticket_id)
            except BaseException:
                self.pending_views[ticket_id] = None
                raise
            return True
        return False

    # --- stats for many tickets at once -----------------------------------------------------
    # After a first reconciliation hundreds of tickets wait for their stats. One single-ticket
    # call each costs 2 credits and a slot of the view sub-limit (Starter: 50 a minute): 1,000
    # tickets take 25 minutes. The incremental list returns 100 tickets *with* stats for 3
    # credits, so when the tickets changed since the oldest waiting ticket's last update are few
    # enough, `GET /tickets?updated_since=<that day>&include=stats` is much faster. One filter
    # call (`"updated_at:>'<day>'"`, its `total`) tells how many pages that is; the cheaper way
    # in minutes under the budget wins. What the list does not cover is left to single calls.
    async def _changed_since(self, day: str) -> int:
        query = f"updated_at:>'{day}'"
        if self.settings.workspace_id:
            query = f"workspace_id:{self.settings.workspace_id} AND {query}"
        answer = await self.client.get(
            "/api/v2/tickets/filter", {"query": f'"{query}"', "page": 1}, kind="list"
        )
        assert answer is not None
        total = answer.data.get("total") if isinstance(answer.data, dict) else None
        return total if isinstance(total, int) and not isinstance(total, bool) else -1

    async def _bulk_stats(self) -> bool:
        """Fetch stats with the incremental list if cheaper. True if it did."""
        waiting: dict[int, str] = {}
        for ticket_id in list(self.pending_stats):
            ticket = self.files.read(ticket_id)
            updated = ticket.get("updated_at") if ticket else None
            if isinstance(updated, str) and len(updated) >= 10:
                waiting[ticket_id] = updated
        if len(waiting) < BULK_MIN_TICKETS:
            return False
        day = min(waiting.values())[:10]
        total = await self._changed_since(day)
        if total < 0:
            return False
        pages = math.ceil(total / LIST_PAGE)
        budget = self.client.budget
        by_list = budget.minutes_for(list_calls=pages, credits=LIST_WITH_STATS_CREDITS * pages)
        by_views = budget.minutes_for(
            views=len(waiting), credits=VIEW_WITH_STATS_CREDITS * len(waiting)
        )
        if by_list >= by_views:
            log.info("stats: %d single calls beat %d list pages", len(waiting), pages)
            return False
        log.info("stats for %d tickets from %d list page(s) since %s", len(waiting), pages, day)
        params: dict[str, str | int] = {
            "updated_since": iso(parse_iso(f"{day}T00:00:00Z")),
            "include": "stats",
            "per_page": LIST_PAGE,
        }
        if self.settings.workspace_id:
            params["workspace_id"] = self.settings.workspace_id
        async for answer in linked_pages(
            self.client,
            "/api/v2/tickets",
            params,
            "tickets",
            kind="list",
            credits=LIST_WITH_STATS_CREDITS,
        ):
            on_board = self.files.ids()
            for ticket in records(answer, "tickets"):
                if ticket["id"] in on_board or self.is_active(ticket):
                    self.apply(ticket, Shape.LIST)
            if not any(i in self.pending_stats for i in waiting):
                break  # everything we waited for arrived: the remaining pages are not needed
        return True

    async def backfill_all(self, workers: int) -> None:
        """Work until nothing is queued (used by `--once`); raises the first failure."""

        async def worker() -> None:
            while True:
                if await self._backfill_step():
                    continue
                if not self.bulk_running:
                    return
                await self.clock.sleep(1.0)  # another worker lists stats in bulk

        # The two queues are shared; the workers take turns through them.
        await asyncio.gather(*(worker() for _ in range(max(1, workers))))

    async def backfill_forever(self, workers: int, idle_seconds: float) -> None:
        """Background work beside the polls; errors are logged, the work retried later."""

        async def worker() -> None:
            mark_as_background()
            while True:
                try:
                    if not await self._backfill_step():
                        await self.clock.sleep(idle_seconds)
                except AuthError:
                    await self.clock.sleep(max(idle_seconds, 60.0))  # the cycle reports it
                except FreshserviceError as exc:
                    log.warning("stats backfill: %s", exc)
                    await self.clock.sleep(idle_seconds)

        await asyncio.gather(*(worker() for _ in range(max(1, workers))))
