"""The simulated helpdesk's state and its churn, in memory; no files here (see watcher/demo.py).

`Helpdesk.seed` builds the starting set of tickets, `Helpdesk.step` performs one random helpdesk
action and reports which ticket it changed. Randomness comes from the `random.Random` passed in
and time from the `now` passed to each call, so a seeded run with a fixed clock is reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from app.contract.times import iso_of
from watcher.demo.catalog import (
    CLOSED,
    CUSTOMER_REPLIED,
    ESCAPING_SUBJECT,
    ON_HOLD,
    OPEN,
    PENDING,
    PROBLEMS,
    RESOLVED,
    WAITING_ON_CUSTOMER,
    Problem,
)
from watcher.demo.seed import (
    DUE_WALK_MINUTES,
    SEED_PLAN,
    Slot,
    Thresholds,
    first_response_target,
    place_deadline,
)
from watcher.demo.tickets import (
    Ticket,
    agent_reply,
    needs_first_response,
    random_agent,
    random_ticket,
    requester_reply,
    resolve,
    set_priority,
    set_status,
)

ACTIVE_STATUSES = (OPEN, PENDING, WAITING_ON_CUSTOMER, ON_HOLD, CUSTOMER_REPLIED)
AWAITING_CUSTOMER = (OPEN, PENDING, WAITING_ON_CUSTOMER, ON_HOLD)
SEED_REPLY_STATUSES = (PENDING, WAITING_ON_CUSTOMER, CUSTOMER_REPLIED, ON_HOLD, OPEN)
INCIDENTS = tuple(p for p in PROBLEMS if p.type == "Incident" and p.subject != ESCAPING_SUBJECT)
REQUESTS = tuple(p for p in PROBLEMS if p.type == "Service Request")
ESCAPING_PROBLEM = next(p for p in PROBLEMS if p.subject == ESCAPING_SUBJECT)
# Eleven entries (coprime with the 13-slot SEED_PLAN): all four priorities, Urgent the rarest.
SEED_PRIORITIES = (2, 3, 1, 4, 2, 2, 3, 1, 2, 3, 1)
WALKER_SHARE = 0.2  # share of new tickets born a few minutes before their first-response deadline
HOLD_AFTER_CROSSING = timedelta(minutes=5)  # walkers stay unanswered this long after crossing
# Other new tickets wait for their first answer minutes, as in a NOC, not the seconds an event
# a second would give them (log-normal: median, spread); never past their deadline.
RESPONSE_WAIT_MINUTES = (4.0, 0.6)
# New tickets and resolves, against the other events: about 4 of each a minute at demo_speed 1,
# so a ticket stays some ten minutes and a day's counts move every minute or so.
CHURN = 0.2


class Event(NamedTuple):
    kind: str  # new | first_response | customer_reply | agent_reply | status | priority | resolve
    ticket: Ticket


class Helpdesk:
    def __init__(
        self, target: int, rng: random.Random, thresholds: Thresholds, first_id: int = 4101
    ) -> None:
        self.target = max(target, 1)
        self.rng = rng
        self.th = thresholds
        self.tickets: dict[int, Ticket] = {}
        self.first_id = first_id  # the seed's first; the past (watcher.demo.history) is below it
        self._next_id = first_id
        # Walkers nobody answers or resolves before they have visibly crossed their threshold.
        self._hold_until: dict[int, datetime] = {}
        self._seeded_replies = 0

    # --- the starting set -----------------------------------------------------------------------
    def seed(self, now: datetime, count: int) -> list[Ticket]:
        for i in range(count):
            slot = SEED_PLAN[i % len(SEED_PLAN)]
            priority = SEED_PRIORITIES[i % len(SEED_PRIORITIES)]
            if i == min(4, count - 1):
                problem = ESCAPING_PROBLEM
            else:
                pool = REQUESTS if i % 3 == 2 else INCIDENTS
                problem = pool[(i // 3) % len(pool)]
            if slot.target == "responded":
                self._seed_responded(now, problem, priority, slot)
            else:
                self._seed_unanswered(now, problem, priority, slot.target, slot.old)
        return list(self.tickets.values())

    def _seed_unanswered(
        self, now: datetime, problem: Problem, priority: int, target: str, old: bool
    ) -> None:
        rng = self.rng
        due_in = first_response_target(priority, self.th, rng)
        if old:
            created = now - timedelta(days=rng.uniform(31, 60))
            fr_due = created + due_in
        else:
            fr_due, crossing = place_deadline(target, now, self.th, rng)
            created = min(fr_due - due_in, now - timedelta(minutes=rng.uniform(5, 90)))
            if crossing is not None:
                self._hold_until[self._next_id] = crossing + HOLD_AFTER_CROSSING
        self._add(problem, created, fr_due, priority)

    def _seed_responded(self, now: datetime, problem: Problem, priority: int, slot: Slot) -> None:
        rng = self.rng
        if slot.old:
            age = timedelta(days=rng.uniform(31, 60))
        elif slot.twist == "young":
            age = timedelta(minutes=rng.uniform(15, 50))
        elif slot.twist == "due_passed":
            age = timedelta(hours=rng.uniform(4, 30))
        else:
            age = timedelta(hours=rng.uniform(2, 72))
        created = now - age
        fr_due = created + first_response_target(priority, self.th, rng)
        due = None
        if slot.twist == "due_passed":
            due = now - timedelta(minutes=rng.uniform(10, 120))
        elif slot.twist == "due_soon":
            due = now + timedelta(minutes=rng.uniform(*DUE_WALK_MINUTES))
            self._hold_until[self._next_id] = due + HOLD_AFTER_CROSSING
        elif slot.twist == "young" and self._next_id % 2 == 0:
            # every other young one: its resolution in the Warning window (the rest are Normal)
            due = (
                now
                + self.th.critical
                + (self.th.warning - self.th.critical) * rng.uniform(0.2, 0.8)
            )
        if due is not None and fr_due >= due:
            fr_due = created + (due - created) * 0.3
        ticket = self._add(problem, created, fr_due, priority, due)
        # Replay its history in the past: answered early on, then some recent activity.
        if slot.twist == "young":
            answered = created + timedelta(minutes=rng.uniform(3, 12))
        else:
            answered = created + age * rng.uniform(0.05, 0.4)
        last = now - (now - answered) * rng.uniform(0.02, 0.5)
        agent = self._agent()
        agent_reply(ticket, agent, answered)
        status = SEED_REPLY_STATUSES[self._seeded_replies % len(SEED_REPLY_STATUSES)]
        self._seeded_replies += 1
        if status == CUSTOMER_REPLIED:
            requester_reply(ticket, last)
        elif status == OPEN:
            agent_reply(ticket, agent, last)
        set_status(ticket, status, last)

    # --- churn -------------------------------------------------------------------------------
    def step(self, now: datetime) -> Event:
        """Perform one random helpdesk action at `now`; a resolved ticket leaves `tickets`."""
        actions: dict[str, tuple[float, list[int], Callable[[Ticket, datetime], None]]] = {
            "first_response": (2.0, self._ids(now, self._can_first_respond), self._first_response),
            "customer_reply": (1.5, self._ids(now, self._can_customer_reply), self._customer_reply),
            "agent_reply": (1.5, self._ids(now, self._can_agent_reply), self._agent_reply),
            "status": (1.5, self._ids(now, self._can_change_status), self._change_status),
            "priority": (0.7, list(self.tickets), self._change_priority),
            "resolve": (self._resolve_weight(), self._ids(now, self._can_resolve), self._resolve),
        }
        kinds = ["new"] + [k for k, (_, ids, _) in actions.items() if ids]
        weights = [self._new_weight()] + [actions[k][0] for k in kinds[1:]]
        kind = self.rng.choices(kinds, weights)[0]
        if kind == "new":
            return Event("new", self._new(now))
        _, ids, act = actions[kind]
        ticket = self.tickets[self.rng.choice(ids)]
        act(ticket, now)
        if kind == "resolve":
            del self.tickets[ticket["id"]]
            self._hold_until.pop(ticket["id"], None)
        return Event(kind, ticket)

    def _new_weight(self) -> float:
        return 2.0 * CHURN * min((self.target / max(len(self.tickets), 1)) ** 2, 10.0)

    def _resolve_weight(self) -> float:
        return 2.0 * CHURN * (len(self.tickets) / self.target) ** 2

    def _ids(self, now: datetime, test: Callable[[Ticket, datetime], bool]) -> list[int]:
        return [ident for ident, t in self.tickets.items() if test(t, now)]

    def _held(self, ticket: Ticket, now: datetime) -> bool:
        until = self._hold_until.get(ticket["id"])
        return until is not None and now < until

    def _can_first_respond(self, ticket: Ticket, now: datetime) -> bool:
        return needs_first_response(ticket) and not self._held(ticket, now)

    def _can_customer_reply(self, ticket: Ticket, now: datetime) -> bool:
        stats = ticket["stats"]
        agent, requester = stats["agent_responded_at"], stats["requester_responded_at"]
        return (
            ticket["status"] in AWAITING_CUSTOMER
            and agent is not None
            and agent < iso_of(now)  # strictly later, at Freshservice's one-second resolution
            and (requester is None or requester < agent)
        )

    def _can_agent_reply(self, ticket: Ticket, now: datetime) -> bool:
        stats = ticket["stats"]
        agent, requester = stats["agent_responded_at"], stats["requester_responded_at"]
        return (
            requester is not None
            and requester < iso_of(now)
            and (agent is None or agent < requester)
        )

    def _can_change_status(self, ticket: Ticket, now: datetime) -> bool:
        return not needs_first_response(ticket) and ticket["status"] in ACTIVE_STATUSES

    def _can_resolve(self, ticket: Ticket, now: datetime) -> bool:
        return not self._held(ticket, now)

    # --- the actions --------------------------------------------------------------------------
    def _new(self, now: datetime) -> Ticket:
        rng = self.rng
        priority = rng.choices((1, 2, 3, 4), (2, 4, 3, 1))[0]
        problem = rng.choice(PROBLEMS)
        if rng.random() < WALKER_SHARE:
            fr_due, crossing = place_deadline("to_overdue", now, self.th, rng)
            assert crossing is not None
            self._hold_until[self._next_id] = crossing + HOLD_AFTER_CROSSING
        else:
            fr_due = now + first_response_target(priority, self.th, rng)
            wait = timedelta(
                minutes=rng.lognormvariate(
                    math.log(RESPONSE_WAIT_MINUTES[0]), RESPONSE_WAIT_MINUTES[1]
                )
            )
            self._hold_until[self._next_id] = now + min(wait, (fr_due - now) * 0.9)
        return self._add(problem, now, fr_due, priority)

    def _first_response(self, ticket: Ticket, now: datetime) -> None:
        agent_reply(ticket, ticket["responder_id"] or self._agent(), now)
        set_status(ticket, self.rng.choice((OPEN, PENDING, WAITING_ON_CUSTOMER)), now)

    def _customer_reply(self, ticket: Ticket, now: datetime) -> None:
        requester_reply(ticket, now)
        set_status(ticket, self.rng.choice((CUSTOMER_REPLIED, CUSTOMER_REPLIED, OPEN)), now)

    def _agent_reply(self, ticket: Ticket, now: datetime) -> None:
        agent_reply(ticket, ticket["responder_id"] or self._agent(), now)
        set_status(ticket, self.rng.choice((PENDING, WAITING_ON_CUSTOMER, OPEN)), now)

    def _change_status(self, ticket: Ticket, now: datetime) -> None:
        choices = [
            s for s in (OPEN, PENDING, WAITING_ON_CUSTOMER, ON_HOLD) if s != ticket["status"]
        ]
        set_status(ticket, self.rng.choice(choices), now)

    def _change_priority(self, ticket: Ticket, now: datetime) -> None:
        current = ticket["priority"]
        options = [p for p in (current - 1, current + 1) if 1 <= p <= 4]
        set_priority(ticket, self.rng.choice(options), now)

    def _resolve(self, ticket: Ticket, now: datetime) -> None:
        if needs_first_response(ticket):
            agent_reply(ticket, ticket["responder_id"] or self._agent(), now)
        resolve(ticket, self.rng.choice((RESOLVED, RESOLVED, RESOLVED, CLOSED)), now)

    # --- helpers ------------------------------------------------------------------------------
    def _agent(self) -> int:
        return random_agent(self.rng)

    def _add(
        self,
        problem: Problem,
        created: datetime,
        fr_due: datetime,
        priority: int,
        due: datetime | None = None,
    ) -> Ticket:
        ident = self._next_id
        self._next_id += 1
        ticket = random_ticket(
            ident, problem, self.rng, created=created, fr_due=fr_due, priority=priority, due=due
        )
        self.tickets[ident] = ticket
        return ticket
