"""`python -m watcher --source demo`: a simulated helpdesk that keeps a tickets folder churning.

It behaves like a real source from the board's side: ticket files in docs/ticket-format.md's
shape written through `app.contract.atomic`, the `id:Name` mapping files, and the watcher status file
after every change. The helpdesk itself (who answers what, when) is `watcher.demo.helpdesk`.

Decisions, also in docs/ticket-format.md:
- Every start is a fresh seed: times are relative to now, so yesterday's files would all be
  overdue. The demo's own leftover ticket files are removed first; a folder whose ticket files
  were written by another source is refused, so a mistyped `--tickets-dir` cannot wipe real data.
- A resolve rewrites the file with its final status (4 or 5), as a Freshservice poll would, then
  moves it to `tickets/archive/<resolved date>/<id>.json`. Only the newest archived files are
  kept, so a demo left running for weeks does not fill the disk.
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

from app.contract.archive import archive_ticket, remove_ticket
from app.contract.atomic import write_json_atomic
from app.contract.layout import MAPPING_FILES, archive_root, ticket_id_of_name, ticket_path
from app.contract.mappings import write_mapping
from app.contract.reading import scan_ticket_files
from app.contract.status import WatcherStatus, read_status, write_status
from app.contract.times import iso_of
from app.settings import Settings
from watcher.demo.catalog import AGENTS, GROUPS, REQUESTERS, STATUSES
from watcher.demo.helpdesk import Event, Helpdesk
from watcher.demo.seed import Thresholds
from watcher.demo.tickets import Ticket
from watcher.source import SourceError

log = logging.getLogger("watcher.demo")

ARCHIVE_KEEP_MIN = 200  # archived files kept: this, or 5x the active tickets if more
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
        self, settings: Settings, *, seed: int | None = None, clock: Clock | None = None
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
        self._archived: deque[Path] = deque()
        self._archive_keep = max(ARCHIVE_KEEP_MIN, 5 * settings.demo_tickets)

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
                await _finish_in_thread(self._write_status)
        return 0

    # --- the synchronous work (tests call these directly) -------------------------------------
    def start(self) -> list[Ticket]:
        """Claim the folders, write the mappings and the seed; returns the seeded tickets."""
        self._clear_own_leftovers()
        for kind, names in (
            ("agents", AGENTS),
            ("requesters", REQUESTERS),
            ("groups", GROUPS),
            ("statuses", STATUSES),
        ):
            write_mapping(self.mappings_dir / MAPPING_FILES[kind], names)
        tickets = self.helpdesk.seed(self.clock(), self.settings.demo_tickets)
        for ticket in tickets:
            write_json_atomic(self._path(ticket), ticket)
        self._write_status("seed")
        return tickets

    def step(self) -> Event:
        """One helpdesk event, written to disk."""
        event = self.helpdesk.step(self.clock())
        write_json_atomic(self._path(event.ticket), event.ticket)
        if event.kind == "resolve":
            self._archive(event.ticket)
        self.events += 1
        self._write_status(f"{event.kind} #{event.ticket['id']}")
        log.debug("demo: %s #%s", event.kind, event.ticket["id"])
        return event

    # --- files -----------------------------------------------------------------------------
    def _path(self, ticket: Ticket) -> Path:
        return ticket_path(self.tickets_dir, ticket["id"])

    def _clear_own_leftovers(self) -> None:
        leftovers = [self.tickets_dir / name for name in scan_ticket_files(self.tickets_dir)]
        if not leftovers:
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
        shutil.rmtree(archive_root(self.tickets_dir), ignore_errors=True)

    def _archive(self, ticket: Ticket) -> None:
        """Move a resolved ticket's file out of the board's sight, like a real source's archive."""
        resolved = ticket["stats"]["resolved_at"] or ticket["updated_at"]
        day = date.fromisoformat(resolved[:10])
        target = archive_ticket(self.tickets_dir, ticket["id"], day=day)
        if target is None:
            return
        self._archived.append(target)
        while len(self._archived) > self._archive_keep:
            oldest = self._archived.popleft()
            oldest.unlink(missing_ok=True)
            try:
                oldest.parent.rmdir()
            except OSError:
                pass  # not empty yet

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
