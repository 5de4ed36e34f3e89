"""The simulated helpdesk's past: the tickets it resolved, closed or threw away before the start.

A board that counts today's numbers (created, resolved, first responses and resolutions late,
the median first response) needs a past, so the seed writes one besides the active tickets:
tickets that arrived at random over the last days, each replayed through the same actions as the
running helpdesk (a first response, now and then a customer reply, a resolve, sometimes a close
later) and kept when it was resolved between midnight UTC `HISTORY_DAYS` days ago and now. The
source archives each under the UTC date of its `stats.resolved_at`, as it archives a resolve.

Arrivals are spread evenly over the day: a NOC works around the clock, and the board counts in
its own time zone, which the demo does not know, so any time zone's today and yesterday are
covered. Which tickets go wrong is a rotation, not a coin flip (like `seed.SEED_PLAN`): any
stretch of a few hours has late first responses, late resolutions, spam and a deleted ticket,
whatever the random seed. No files here; `watcher.demo.source` writes them.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, time, timedelta

from app.contract.times import parse_iso_datetime
from watcher.demo.catalog import (
    CLOSED,
    CUSTOMER_REPLIED,
    OPEN,
    PENDING,
    PROBLEMS,
    RESOLVED,
    SPAM,
    WAITING_ON_CUSTOMER,
    Problem,
)
from watcher.demo.seed import Thresholds, first_response_target
from watcher.demo.tickets import (
    Ticket,
    agent_reply,
    random_agent,
    random_ticket,
    requester_reply,
    resolve,
    set_status,
)

HISTORY_DAYS = 2  # UTC days before today that the history fills (the demo keeps their folders)
ARRIVALS_PER_HOUR = 4.0  # about a hundred tickets a day
# Every n-th ticket: coprime periods, so the kinds of trouble do not line up.
LATE_FIRST_RESPONSE_EVERY = 7
LATE_RESOLUTION_EVERY = 9
SPAM_EVERY = 23
DELETED_EVERY = 29
CLOSE_SHARE = 0.3  # resolved tickets closed later (when that time has come)
CUSTOMER_REPLY_SHARE = 0.4
FIRST_RESPONSE_MEDIAN_MINUTES = 20.0
LATE_BY_MEDIAN_MINUTES = {"first_response": 35.0, "resolution": 90.0}


def _minutes(rng: random.Random, median: float, spread: float = 0.8) -> timedelta:
    """A log-normal number of minutes: mostly near `median`, now and then much longer."""
    return timedelta(minutes=rng.lognormvariate(math.log(median), spread))


def _due(ticket: Ticket, field: str) -> datetime:
    return parse_iso_datetime(ticket[field])


def past_tickets(
    now: datetime, thresholds: Thresholds, rng: random.Random, below_id: int
) -> list[Ticket]:
    """The history up to `now`, oldest first, with ids counting up to `below_id - 1`."""
    now = now.astimezone(UTC)
    window = datetime.combine(now.date() - timedelta(days=HISTORY_DAYS), time(), UTC)
    arrivals = []
    moment = window - timedelta(days=1)  # a day of lead-in: the first day starts busy
    while True:
        moment += timedelta(hours=rng.expovariate(ARRIVALS_PER_HOUR))
        if moment >= now:
            break
        arrivals.append(moment.replace(microsecond=0))
    first_id = below_id - len(arrivals)
    kept = []
    for n, created in enumerate(arrivals, start=1):
        ticket = _replay(first_id + n - 1, n, created, now, thresholds, rng)
        if ticket is None:
            continue  # still open at `now`: the active tickets stand for those
        if window <= parse_iso_datetime(ticket["stats"]["resolved_at"]) <= now:
            kept.append(ticket)
    return kept


def _replay(
    ident: int, n: int, created: datetime, now: datetime, th: Thresholds, rng: random.Random
) -> Ticket | None:
    """Ticket number `n` of the history, from its arrival to its last change before `now`;
    None if it is not finished by then."""
    if n % SPAM_EVERY == 0:
        return _thrown_away(ident, rng.choice(SPAM), "spam", created, now, th, rng)
    if n % DELETED_EVERY == 0:  # a duplicate of a real problem
        return _thrown_away(ident, rng.choice(PROBLEMS), "deleted", created, now, th, rng)
    priority = rng.choices((1, 2, 3, 4), (2, 4, 3, 1))[0]
    fr_due = created + first_response_target(priority, th, rng)
    ticket = random_ticket(
        ident, rng.choice(PROBLEMS), rng, created=created, fr_due=fr_due, priority=priority
    )
    if n % LATE_FIRST_RESPONSE_EVERY == 0:
        answered = fr_due + _minutes(rng, LATE_BY_MEDIAN_MINUTES["first_response"])
    else:
        answered = created + min(
            _minutes(rng, FIRST_RESPONSE_MEDIAN_MINUTES, 0.9), (fr_due - created) * 0.9
        )
    answered = max(answered, created + timedelta(minutes=1)).replace(microsecond=0)
    due = _due(ticket, "due_by")
    if n % LATE_RESOLUTION_EVERY == 0:
        resolved = due + _minutes(rng, LATE_BY_MEDIAN_MINUTES["resolution"])
    else:
        resolved = answered + (due - answered) * rng.uniform(0.05, 0.9)
    resolved = max(resolved, answered + timedelta(minutes=5)).replace(microsecond=0)
    if resolved > now:
        return None
    agent = ticket["responder_id"] or random_agent(rng)
    agent_reply(ticket, agent, answered)
    set_status(ticket, rng.choice((OPEN, PENDING, WAITING_ON_CUSTOMER)), answered)
    if rng.random() < CUSTOMER_REPLY_SHARE:
        between = resolved - answered
        requester_reply(ticket, answered + between * rng.uniform(0.2, 0.5))
        set_status(ticket, CUSTOMER_REPLIED, answered + between * 0.5)
        agent_reply(ticket, agent, answered + between * rng.uniform(0.6, 0.9))
    resolve(ticket, RESOLVED, resolved)
    if rng.random() < CLOSE_SHARE:
        closed = resolved + timedelta(hours=rng.uniform(0.5, 30))
        if closed <= now:
            resolve(ticket, CLOSED, closed.replace(microsecond=0))
    return ticket


def _thrown_away(
    ident: int,
    problem: Problem,
    flag: str,
    created: datetime,
    now: datetime,
    th: Thresholds,
    rng: random.Random,
) -> Ticket | None:
    """A ticket an agent marked as spam or deleted (a duplicate) before answering it; closed
    then, so it is out of every count (docs/ticket-format.md: `spam`, `deleted`)."""
    fr_due = created + first_response_target(1, th, rng)
    ticket = random_ticket(ident, problem, rng, created=created, fr_due=fr_due, priority=1)
    gone = (created + timedelta(minutes=rng.uniform(3, 90))).replace(microsecond=0)
    if gone > now:
        return None
    ticket[flag] = True
    set_status(ticket, CLOSED, gone)
    return ticket
