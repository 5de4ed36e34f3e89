"""`FreshserviceSource`: the cycle loop, the status file, stopping cleanly.

A cycle is a full reconciliation when none has completed yet (or on `--reconcile`, or every
`reconcile_minutes`), else an incremental poll. The resume state (cursor, last reconciliation;
in `extra` the single-ticket views still owed and the requesters that answered 404) lives in
tickets/.watcher.json, so a restart continues with a poll and does not ask again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from typing import Any

from app.contract.archive import prune_archive
from app.contract.status import WatcherStatus, read_status, write_status
from app.contract.times import iso, parse_iso_or_none, utc_now_iso
from app.settings import Settings
from watcher.freshservice.client import FreshserviceClient, api_base_url, mark_as_background
from watcher.freshservice.clock import Clock
from watcher.freshservice.errors import AuthError, FreshserviceError, WrongDomainError
from watcher.freshservice.names import NameSync
from watcher.freshservice.ratelimit import RateBudget
from watcher.freshservice.store import TicketFiles
from watcher.freshservice.sync import TicketSync
from watcher.freshservice.token import find_api_key

log = logging.getLogger("watcher.freshservice")

SLOW_RETRY_SECONDS = 60.0  # after an error only a person can fix (key, domain)


class FreshserviceSource:
    name = "freshservice"

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.environ = os.environ if environ is None else environ
        if settings.workspace_id and not settings.workspace_id.isdigit():
            raise FreshserviceError(
                f"setting 'workspace_id' must be a number or empty, not {settings.workspace_id!r}."
            )
        self.budget = RateBudget(
            credits_per_minute=settings.rate_limit_per_minute,
            list_per_minute=settings.list_rate_limit_per_minute,
            view_per_minute=settings.view_rate_limit_per_minute,
            clock=self.clock,
        )
        self.files = TicketFiles(settings.tickets_dir)
        self.status = read_status(settings.tickets_dir) or WatcherStatus()
        self.status.source = self.name

    def _client(self) -> FreshserviceClient:
        key = find_api_key(self.settings.token_file, self.environ)
        return FreshserviceClient(
            base_url=api_base_url(
                self.settings.freshservice_url, self.settings.freshservice_domain
            ),
            key=key,
            budget=self.budget,
            clock=self.clock,
            timeout_seconds=self.settings.request_timeout_seconds,
            max_concurrency=self.settings.max_concurrency,
            retries=self.settings.request_retries,
        )

    def _workers(self) -> int:
        # One slot of the concurrency stays free for the polls.
        return max(1, self.settings.max_concurrency - 1)

    def _write_status(self, sync: TicketSync | None, client: FreshserviceClient | None) -> None:
        counts: dict[str, float] = {
            "active": len(self.files.ids()),
            "archived": self.files.archived,
        }
        if sync is not None:
            counts["stats_pending"] = len(sync.pending_stats)
            counts["views_pending"] = len(sync.pending_views)
            self.status.extra.update(sync.resume_state())
        if client is not None:
            counts["api_calls"] = client.calls
            counts["api_credits"] = client.credits
        counts["rate_limited"] = self.budget.rate_limited
        self.status.counts = counts
        self.settings.tickets_dir.mkdir(parents=True, exist_ok=True)
        write_status(self.settings.tickets_dir, self.status)

    def _fail(self, exc: FreshserviceError, *, once: bool = False) -> None:
        self.status.last_error = str(exc)
        # With --once the command line prints the one line itself.
        log.log(logging.DEBUG if once else logging.ERROR, "%s", exc)

    def _reconcile_due(self) -> bool:
        last = parse_iso_or_none(self.status.last_reconcile)
        cursor = parse_iso_or_none(self.status.cursor)
        if last is None or cursor is None:
            return True
        return self.clock.time() - last >= self.settings.reconcile_minutes * 60

    async def _cycle(self, sync: TicketSync, reconcile: bool) -> None:
        self.status.last_attempt = utc_now_iso()
        cursor = parse_iso_or_none(self.status.cursor)
        if reconcile or cursor is None:
            started = await sync.reconcile()
            self.status.last_reconcile = iso(self.clock.time())
            prune_archive(self.settings.tickets_dir, self.settings.archive_retention_days)
            if cursor is None:
                self.status.cursor = iso(started)
        else:
            self.status.cursor = iso(await sync.poll(cursor))
        self.status.last_success = utc_now_iso()
        self.status.last_error = None

    async def run(self, stop: asyncio.Event, *, once: bool = False, reconcile: bool = False) -> int:
        try:
            client = self._client()
        except FreshserviceError as exc:
            self._fail(exc, once=once)
            self._write_status(None, None)
            raise
        async with client:
            sync = TicketSync(
                client,
                self.files,
                NameSync(client, self.settings.mappings_dir, self.settings.workspace_id),
                self.settings,
                self.clock,
            )
            sync.resume(self.status.extra)
            if once:
                return await self._run_once(stop, sync, client, reconcile)
            return await self._run_forever(stop, sync, client, reconcile)

    async def _until_stopped(self, stop: asyncio.Event, work: Any) -> bool:
        """Run `work` unless `stop` is set first (then cancel it). True if it finished."""
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            task.cancel()
            stopper.cancel()
            raise
        stopper.cancel()
        if task in done:
            task.result()
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    async def _run_once(
        self, stop: asyncio.Event, sync: TicketSync, client: FreshserviceClient, reconcile: bool
    ) -> int:
        try:
            do_reconcile = reconcile or self.status.last_reconcile is None
            if await self._until_stopped(stop, self._cycle(sync, do_reconcile)):
                await self._until_stopped(stop, sync.backfill_all(self._workers()))
        except FreshserviceError as exc:
            self._fail(exc, once=True)
            raise
        finally:
            self._write_status(sync, client)
        return 0

    async def _reconcile_in_background(self, sync: TicketSync) -> None:
        """The periodic reconciliation runs beside the polls, so the board stays live."""
        mark_as_background()
        try:
            await sync.reconcile()
        except FreshserviceError as exc:
            self._fail(exc)
            return
        self.status.last_reconcile = iso(self.clock.time())
        prune_archive(self.settings.tickets_dir, self.settings.archive_retention_days)

    async def _run_forever(
        self, stop: asyncio.Event, sync: TicketSync, client: FreshserviceClient, reconcile: bool
    ) -> int:
        backfill = asyncio.create_task(
            sync.backfill_forever(self._workers(), self.settings.poll_seconds)
        )
        reconciling: asyncio.Task[None] | None = None
        first = True
        try:
            while not stop.is_set():
                # Without a complete reconciliation (or when asked) it runs in the foreground:
                # the polls need its cursor. Later ones run beside the polls.
                foreground = (first and reconcile) or parse_iso_or_none(self.status.cursor) is None
                foreground = foreground or self.status.last_reconcile is None
                idle = reconciling is None or reconciling.done()
                if not foreground and not first and idle and self._reconcile_due():
                    reconciling = asyncio.create_task(self._reconcile_in_background(sync))
                first = False
                wait = self.settings.poll_seconds
                try:
                    if not await self._until_stopped(stop, self._cycle(sync, foreground)):
                        break
                except (AuthError, WrongDomainError) as exc:
                    self._fail(exc)
                    wait = max(wait, SLOW_RETRY_SECONDS)
                    if isinstance(exc, AuthError):
                        with contextlib.suppress(FreshserviceError):
                            client.key = find_api_key(self.settings.token_file, self.environ)
                except FreshserviceError as exc:
                    self._fail(exc)
                self._write_status(sync, client)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait / self.clock.speed)
        finally:
            for task in (backfill, reconciling):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            self._write_status(sync, client)
        return 0

    async def sync_mappings_once(self) -> int:
        """`python -m watcher sync-mappings`: statuses, agents, groups, requesters of active tickets."""
        async with self._client() as client:
            names = NameSync(client, self.settings.mappings_dir, self.settings.workspace_id)
            await names.sync_statuses()
            await names.sync_agents_and_groups()
            for requester_id in sorted(self.files.requester_ids()):
                await names.fetch_requester(requester_id)
        return 0
