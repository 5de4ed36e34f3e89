"""`python -m watcher --source demo`: a simulated helpdesk that keeps a tickets folder churning.

It behaves like a real source from the board's side: ticket files in docs/ticket-format.md's
shape written through `app.contract.atomic`, the `id:Name` mapping files, and the watcher status file
after every change. The helpdesk itself (who answers what, when) is `watcher.demo.helpdesk`.

Decisions, also in docs/ticket-format.md:
- Every start is a fresh seed: times are relative to now, so yesterday's files would all be
  overdue. The demo's own leftover ticket files and archive are removed first; a folder whose
  ticket files or archive another source wrote is refused, so a mistyped `--tickets-dir` cannot
  wipe real data.
- The seed also writes a past (`watcher.demo.history`): the tickets resolved, closed or thrown
  away since midnight UTC two days ago, straight into the archive, so a board counting today's
  numbers has a today and a yesterday from the first second.
- A resolve rewrites the file with its final status (4 or 5) and `stats`, as a Freshservice poll
  would, then moves it to `tickets/archive/<resolved date>/<id>.json`; the date is the UTC date
  of `stats.resolved_at`, for the past and the running helpdesk alike.
- The archive keeps whole days: today's folder and the `HISTORY_DAYS` before it (UTC), the rest
  is removed as days pass. Within them the past is never thinned out; of the running helpdesk's
  own resolves only the newest `demo_archive_keep` are kept, so a demo left running for weeks,
  or at a high `demo_speed`, does not fill the disk.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from app.contract.archive import archive_ticket, prune_archive, remove_ticket
from app.contract.atomic import dump_json, write_atomic, write_json_atomic
from app.contract.layout import MAPPING_FILES, archive_root, ticket_id_of_name, ticket_path
from app.contract.mappings import write_mapping
from app.contract.reading import scan_ticket_files
from app.contract.status import WatcherStatus, read_status, write_status
from app.contract.times import iso_of
from app.settings import Settings
from watcher.demo.catalog import AGENTS, GROUPS, REQUESTERS, STATUSES
from watcher.demo.helpdesk import Event, Helpdesk
from watcher.demo.history import HISTORY_DAYS, past_tickets
from watcher.demo.seed import Thresholds
from watcher.demo.tickets import Ticket
from watcher.source import SourceError

log = logging.getLogger("watcher.demo")

HEARTBEAT_SECONDS = 5.0  # with no event due, the status file is still refreshed this often

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def _finish_in_thread(work: Callable[[], object]) -> None:
    """Run file work in a thread; if cancelled meanwhile, let it finish, then re-raise.

    A thread cannot be stopped halfway, so returning at once would leave it writing (a temp file
    still on disk) after the caller believes the source has ended.
    """
    job = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        await asyncio.shield(job)
    except asyncio.CancelledError:
        await asyncio.wait({job})
        if not job.cancelled():
            job.exception()  # retrieved: its failure, if any, is not news after a cancel
        raise


class DemoSource:
    name = "demo"

    def __init__(
        self,
        settings: Settings,
        *,
        seed: int | None = None,
        clock: Clock | None = None,
        archive_keep: int | None = None,
    ) -> None:
        self.settings = settings
        self.tickets_dir = Path(settings.tickets_dir)
        self.mappings_dir = Path(settings.mappings_dir)
        self.clock = clock or _utc_now
        self.rng = random.Random(seed)
        self.helpdesk = Helpdesk(
            settings.demo_tickets,
            self.rng,
            Thresholds.from_hours(settings.fr_warning_hours, settings.fr_critical_hours),
        )
        self.events = 0
        self._last_event = ""
        self._archived: deque[Path] = deque()  # the running helpdesk's, oldest first
        # The running helpdesk's archived resolves kept (the past's are not counted): the
        # setting (10,000: about two days of resolves at demo_speed 1, some 17 MB), or 5x the
        # active tickets if more.
        self._archive_keep = archive_keep or max(
            settings.demo_archive_keep, 5 * settings.demo_tickets
        )
        self._pruned_on: date | None = None

    async def run(self, stop: asyncio.Event, *, once: bool = False, reconcile: bool = False) -> int:
        """Seed, then churn about `demo_speed` events a second until `stop` is set or cancelled.

        File work runs in a thread so that a board running this in its own event loop is never
        blocked by an fsync. `reconcile` means nothing here: every start is a full seed.
        """
        await _finish_in_thread(self.start)
        log.info("demo: %d tickets seeded in %s", len(self.helpdesk.tickets), self.tickets_dir)
        if once:
            return 0
        speed = self.settings.demo_speed
        while not stop.is_set():
            delay = self.rng.expovariate(speed) if speed > 0 else float("inf")
            # Waiting in slices of HEARTBEAT_SECONDS and drawing again is fair: the wait is
            # exponential, hence memoryless.
            try:
                await asyncio.wait_for(stop.wait(), min(delay, HEARTBEAT_SECONDS))
            except TimeoutError:
                pass
            else:
                break
            if delay <= HEARTBEAT_SECONDS:
                await _finish_in_thread(self.step)
            else:
                await _finish_in_thread(self.heartbeat)
        return 0

    # --- the synchronous work (tests call these directly) -------------------------------------
    def start(self) -> list[Ticket]:
        """Claim the folders, write the mappings, the seed and its past; returns the seeded
        (active) tickets."""
        self._clear_own_leftovers()
        for kind, names in (
            ("agents", AGENTS),
            ("requesters", REQUESTERS),
            ("groups", GROUPS),
            ("statuses", STATUSES),
        ):
            write_mapping(self.mappings_dir / MAPPING_FILES[kind], names)
        now = self.clock()
        tickets = self.helpdesk.seed(now, self.settings.demo_tickets)
        for ticket in tickets:
            write_json_atomic(self._path(ticket), ticket)
        # Written as a resolve is (the final file, then into the archive), so that whoever
        # follows the source's changes (NATS) sees the past arrive like any other resolve. No
        # fsync per file: every start writes the past anew (that halves the seed's time).
        for ticket in past_tickets(now, self.helpdesk.th, self.rng, self.helpdesk.first_id):
            write_atomic(self._path(ticket), dump_json(ticket), durable=False)
            self._archive(ticket, churn=False)
        self._prune_days()
        self._write_status("seed")
        return tickets

    def step(self) -> Event:
        """One helpdesk event, written to disk."""
        self._prune_days()
        event = self.helpdesk.step(self.clock())
        write_json_atomic(self._path(event.ticket), event.ticket)
        if event.kind == "resolve":
            self._archive(event.ticket)
        self.events += 1
        self._write_status(f"{event.kind} #{event.ticket['id']}")
        log.debug("demo: %s #%s", event.kind, event.ticket["id"])
        return event

    def heartbeat(self) -> None:
        """No event due: the status file is refreshed, and the archive loses a day at midnight."""
        self._prune_days()
        self._write_status()

    # --- files -----------------------------------------------------------------------------
    def _path(self, ticket: Ticket) -> Path:
        return ticket_path(self.tickets_dir, ticket["id"])

    def _clear_own_leftovers(self) -> None:
        leftovers = [self.tickets_dir / name for name in scan_ticket_files(self.tickets_dir)]
        archive = archive_root(self.tickets_dir)
        if not leftovers and not archive.exists():
            return
        status = read_status(self.tickets_dir)
        if status is None or status.source != self.name:
            raise SourceError(
                f"{self.tickets_dir} holds ticket files that the demo did not write; "
                "point the demo at its own folder (setting demo_dir, or --tickets-dir)"
            )
        for path in leftovers:
            ticket_id = ticket_id_of_name(path.name)
            if ticket_id is not None:
                remove_ticket(self.tickets_dir, ticket_id)  # through the contract: published too
        shutil.rmtree(archive, ignore_errors=True)

    def _archive(self, ticket: Ticket, *, churn: bool = True) -> None:
        """Move a resolved ticket's file out of the board's sight, like a real source's archive,
        into the folder of the UTC date it was resolved (the file's times are UTC). Only the
        running helpdesk's resolves (`churn`) count against `_archive_keep`."""
        resolved = ticket["stats"]["resolved_at"] or ticket["updated_at"]
        day = date.fromisoformat(resolved[:10])
        target = archive_ticket(self.tickets_dir, ticket["id"], day=day)
        if target is None or not churn:
            return
        self._archived.append(target)
        while len(self._archived) > self._archive_keep:
            oldest = self._archived.popleft()
            oldest.unlink(missing_ok=True)
            try:
                oldest.parent.rmdir()
            except OSError:
                pass  # not empty yet

    def _prune_days(self) -> None:
        """Keep today's archive folder and the HISTORY_DAYS before it (UTC dates); checked once
        a day."""
        today = self.clock().astimezone(UTC).date()
        if today == self._pruned_on:
            return
        self._pruned_on = today
        removed = set(prune_archive(self.tickets_dir, HISTORY_DAYS, today=today))
        if removed:
            self._archived = deque(p for p in self._archived if p.parent not in removed)

    def _write_status(self, last_event: str | None = None) -> None:
        """The status file after every change; a heartbeat (no event) keeps the last event."""
        if last_event is not None:
            self._last_event = last_event
        now = iso_of(self.clock())
        status = WatcherStatus(
            source=self.name,
            last_success=now,
            last_attempt=now,
            counts={"active": len(self.helpdesk.tickets)},
            extra={"events": self.events, "last_event": self._last_event},
        )
        write_status(self.tickets_dir, status)
