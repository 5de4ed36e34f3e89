"""A fake Freshservice account: an aiohttp server that behaves as ../shared/freshservice-api.md says.

Scripted state (tickets with stats, statuses incl. custom ones, agents, groups, requesters),
Basic auth with `key:X`, per-minute limits per plan (→ 429 + Retry-After), X-RateLimit-* headers,
Link pagination, the 30-day window of the plain list, `updated_since` across all statuses,
deleted/spam only under `filter=`, the filter endpoint (quoted query, 30 a page, `total`), and
injectable faults (5xx, timeouts, malformed bodies, 429 storms). Every request is logged.

Tickets come in the two shapes the real API sends (tests/fixtures/freshservice/ holds recorded
bodies): the single-ticket view (`GET /tickets/{id}`) carries `VIEW_ONLY_FIELDS` and
`cc_emails: null`; the list and filter endpoints leave those fields out and send `cc_emails: []`.
A ticket is stored in the fuller, single-view shape; `listed()` derives the list shape from it.

Time comes from a `Clock` that may run faster than real time (a simulated minute in a second);
give the watcher the same clock.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL

from app.contract.times import iso
from watcher.freshservice.clock import Clock

PLANS = {  # overall credits, list calls, view calls — per minute
    "starter": (100, 40, 50),
    "growth": (200, 70, 80),
    "pro": (400, 120, 140),
    "enterprise": (500, 140, 160),
}
DEFAULT_STATUSES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}
DAY = 86400.0
PRIMARY_WORKSPACE = 2
# Fields only the single-ticket view carries (seen in recorded bodies; the list omits them).
VIEW_ONLY_FIELDS = frozenset(
    {
        "sla_policy_id",
        "urgency",
        "impact",
        "attachments",
        "bcc_emails",
        "approval_status",
        "approval_status_name",
        "applied_business_hours",
        "created_within_business_hours",
        "resolution_notes",
        "resolution_notes_html",
        "related_tickets",
    }
)


def listed(ticket: dict[str, Any]) -> dict[str, Any]:
    """A stored (single-view) ticket as the list and filter endpoints send it."""
    shaped = {k: v for k, v in ticket.items() if k not in VIEW_ONLY_FIELDS}
    if shaped.get("cc_emails") is None:
        shaped["cc_emails"] = []  # null on the single-ticket view, [] in lists
    return shaped


@dataclass
class Fault:
    """Answer requests whose path matches `path` (a regex) with `kind` instead, `times` times."""

    path: str
    kind: str  # "500", "503", "timeout", "malformed", "429", "bad-shape"
    times: int = 1
    query: dict[str, str] = field(default_factory=dict)  # must match these parameters
    delay: float = 5.0  # real seconds, for "timeout"
    retry_after: str | None = "30"  # for "429"

    def matches(self, request: web.Request) -> bool:
        return (
            self.times > 0
            and re.fullmatch(self.path, request.path) is not None
            and all(request.query.get(k) == v for k, v in self.query.items())
        )


@dataclass
class Logged:
    at: float  # simulated seconds (clock.monotonic())
    path: str
    query: dict[str, str]
    status: int
    credits: int
    kind: str  # "list", "view", "other"
    retry_after: float | None = None


# --- the filter query language ---------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(\()|(\))|(AND)\b|(OR)\b|(\w+):([<>]?)('[^']*'|-?\d+|null|true|false))")


def parse_query(text: str) -> Callable[[dict[str, Any]], bool]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot parse query at {text[pos:]!r}")
        pos = m.end()
        if m.group(1):
            tokens.append(("(", None))
        elif m.group(2):
            tokens.append((")", None))
        elif m.group(3):
            tokens.append(("AND", None))
        elif m.group(4):
            tokens.append(("OR", None))
        else:
            raw = m.group(7)
            value: Any = (
                None
                if raw == "null"
                else raw == "true"
                if raw in ("true", "false")
                else raw[1:-1]
                if raw.startswith("'")
                else int(raw)
            )
            tokens.append(("TERM", (m.group(5), m.group(6), value)))
    i = 0

    def term(name: str, op: str, value: Any) -> Callable[[dict[str, Any]], bool]:
        def check(t: dict[str, Any]) -> bool:
            have = t.get(name, (t.get("custom_fields") or {}).get(name))
            if op == "":
                return have == value
            if have is None or value is None:
                return False
            a, b = (have[: len(value)], value) if isinstance(value, str) else (have, value)
            return a >= b if op == ">" else a <= b

        return check

    def expr() -> Callable[[dict[str, Any]], bool]:
        nonlocal i
        parts = [conj()]
        while i < len(tokens) and tokens[i][0] == "OR":
            i += 1
            parts.append(conj())
        return lambda t: any(p(t) for p in parts)

    def conj() -> Callable[[dict[str, Any]], bool]:
        nonlocal i
        parts = [atom()]
        while i < len(tokens) and tokens[i][0] == "AND":
            i += 1
            parts.append(atom())
        return lambda t: all(p(t) for p in parts)

    def atom() -> Callable[[dict[str, Any]], bool]:
        nonlocal i
        if i >= len(tokens):
            raise ValueError("query ends too early")
        kind, value = tokens[i]
        i += 1
        if kind == "(":
            inner = expr()
            if i >= len(tokens) or tokens[i][0] != ")":
                raise ValueError("missing )")
            i += 1
            return inner
        if kind != "TERM":
            raise ValueError(f"unexpected {kind}")
        return term(*value)

    predicate = expr()
    if i != len(tokens):
        raise ValueError("trailing tokens")
    return predicate


class FakeFreshservice:
    def __init__(
        self,
        *,
        key: str = "fake-api-key-123",
        plan: str = "starter",
        clock: Clock | None = None,
        deleted_mode: str = "404",  # or "flag": 200 with deleted: true
        filter_link: bool = False,  # send Link headers on the filter endpoint too
    ) -> None:
        self.key = key
        self.clock = clock or Clock()
        self.limits = PLANS[plan]
        self.deleted_mode = deleted_mode
        self.filter_link = filter_link
        self.filter_page_cap: int | None = None  # unconfirmed in the real API: a 400 beyond it
        self.tickets: dict[int, dict[str, Any]] = {}
        self.stats: dict[int, dict[str, Any]] = {}
        self.statuses = dict(DEFAULT_STATUSES)
        self.agents: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.requesters: dict[int, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.forbidden = False
        self.wrong_domain = False
        self.other_usage = 0  # credits another integration spends each minute
        self.after_request: Callable[[Logged], None] | None = None  # scripted changes mid-cycle
        self.on_arrival: Callable[[Logged], None] | None = None  # before anything is answered
        self._window = -1
        self._used = {"overall": 0, "list": 0, "view": 0}
        self._next_id = 1
        self._stats_id = 900000
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- scripting ----------------------------------------------------------------------------
    def now(self) -> str:
        return iso(self.clock.time())

    def add_status(self, status_id: int, name: str) -> None:
        self.statuses[status_id] = name

    def add_agent(self, agent_id: int, first: str, last: str) -> None:
        self.agents[agent_id] = {
            "id": agent_id,
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}@example.com",
            "active": True,
        }

    def add_group(self, group_id: int, name: str) -> None:
        self.groups[group_id] = {"id": group_id, "name": name}

    def add_requester(self, requester_id: int, first: str, last: str) -> None:
        self.requesters[requester_id] = {
            "id": requester_id,
            "first_name": first,
            "last_name": last,
            "primary_email": f"{first.lower()}.{last.lower()}@example.com",
            "active": True,
        }

    def add_ticket(
        self,
        *,
        status: int = 2,
        age_days: float = 0.0,
        workspace_id: int = PRIMARY_WORKSPACE,
        **fields: Any,
    ) -> dict[str, Any]:
        ticket_id = fields.pop("id", None) or self._next_id
        self._next_id = max(self._next_id, ticket_id) + 1
        created = iso(self.clock.time() - age_days * DAY)
        ticket = {
            "id": ticket_id,
            "workspace_id": workspace_id,
            "subject": f"Ticket {ticket_id}",
            "description": f"<p>Ticket {ticket_id}</p>",
            "description_text": f"Ticket {ticket_id}",
            "status": status,
            "priority": 2,
            "urgency": 1,
            "impact": 1,
            "source": 1,
            "type": "Incident",
            "requester_id": fields.pop("requester_id", None),
            "responder_id": None,
            "group_id": None,
            "department_id": None,
            "category": None,
            "sub_category": None,
            "created_at": created,
            "updated_at": created,
            "due_by": iso(self.clock.time() + 3 * DAY),
            "fr_due_by": iso(self.clock.time() + DAY),
            "is_escalated": False,
            "fr_escalated": False,
            "spam": False,
            "deleted": False,
            "tags": [],
            "cc_emails": None,
            "fwd_emails": [],
            "reply_cc_emails": [],
            "to_emails": None,
            "custom_fields": {},
            # only on the single-ticket view:
            "sla_policy_id": 21000057781,
            "applied_business_hours": 21000011791,
            "created_within_business_hours": True,
            "bcc_emails": None,
            "attachments": [],
            "resolution_notes": None,
            "resolution_notes_html": None,
            "approval_status": 4,
            "approval_status_name": "Not Requested",
        }
        ticket.update(fields)
        self.tickets[ticket_id] = ticket
        self._stats_id += 1
        self.stats[ticket_id] = {
            "ticket_id": self._stats_id,  # NOT the ticket id, as in the real API
            "created_at": created,
            "updated_at": created,
            "first_responded_at": None,
            "agent_responded_at": None,
            "requester_responded_at": None,
            "resolved_at": None,
            "closed_at": None,
            "status_updated_at": created,
            "pending_since": None,
            "opened_at": None,
            "first_assigned_at": None,
            "assigned_at": None,
            "group_escalated": False,
            "inbound_count": 1,
            "outbound_count": 0,
            "first_resp_time_in_secs": None,
            "resolution_time_in_secs": 0,
        }
        return ticket

    def add_recorded(self, view: dict[str, Any]) -> dict[str, Any]:
        """A ticket from a recorded single-ticket view (`{"ticket": {...}}` or the ticket itself),
        kept exactly as recorded: missing keys stay missing, its stats are its own."""
        ticket = dict(view.get("ticket", view))
        stats = ticket.pop("stats", None)
        self.tickets[ticket["id"]] = ticket
        self.stats[ticket["id"]] = dict(stats) if isinstance(stats, dict) else {}
        self._next_id = max(self._next_id, ticket["id"] + 1)
        return ticket

    def update_ticket(self, ticket_id: int, **fields: Any) -> dict[str, Any]:
        ticket = self.tickets[ticket_id]
        now = self.now()
        stats = self.stats[ticket_id]
        if "status" in fields and fields["status"] != ticket["status"]:
            stats["status_updated_at"] = now
            if fields["status"] == 4:
                stats["resolved_at"] = now
            if fields["status"] == 5:
                stats["closed_at"] = now
        ticket.update(fields)
        ticket["updated_at"] = now
        stats["updated_at"] = now
        return ticket

    def respond(self, ticket_id: int) -> None:
        """An agent replies: stats change, and so does updated_at."""
        now = self.now()
        stats = self.stats[ticket_id]
        stats["first_responded_at"] = stats.get("first_responded_at") or now
        stats["agent_responded_at"] = now
        self.update_ticket(ticket_id)

    def delete_ticket(self, ticket_id: int) -> None:
        self.tickets[ticket_id]["deleted"] = True  # trashed: updated_at does not move

    def spam_ticket(self, ticket_id: int) -> None:
        self.tickets[ticket_id]["spam"] = True

    def active_ids(self, excluded: tuple[int, ...] = (4, 5)) -> set[int]:
        return {
            i
            for i, t in self.tickets.items()
            if t["status"] not in excluded
            and not t.get("deleted")
            and not t.get("spam")
            and t.get("workspace_id", PRIMARY_WORKSPACE) == PRIMARY_WORKSPACE
        }

    def full_ticket(self, ticket_id: int) -> dict[str, Any]:
        """What `GET /api/v2/tickets/{id}?include=stats` answers (inside `{"ticket": ...}`)."""
        return {**self.tickets[ticket_id], "stats": dict(self.stats[ticket_id])}

    def listed_ticket(self, ticket_id: int, *, stats: bool = True) -> dict[str, Any]:
        """The ticket as the list (`include=stats`) or, without stats, the filter endpoint sends it."""
        shaped = listed(self.tickets[ticket_id])
        if stats:
            shaped["stats"] = dict(self.stats[ticket_id])
        return shaped

    def requests(self, path_regex: str = ".*", status: int | None = None) -> list[Logged]:
        return [
            r
            for r in self.log
            if re.fullmatch(path_regex, r.path) and (status is None or r.status == status)
        ]

    # --- the server ---------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/api/v2/tickets", self._list_tickets)
        app.router.add_get("/api/v2/tickets/filter", self._filter_tickets)
        app.router.add_get("/api/v2/tickets/{id:\\d+}", self._view_ticket)
        app.router.add_get("/api/v2/ticket_form_fields", self._form_fields)
        app.router.add_get("/api/v2/agents", self._list("agents"))
        app.router.add_get("/api/v2/groups", self._list("groups"))
        app.router.add_get("/api/v2/requesters", self._list("requesters"))
        app.router.add_get("/api/v2/agents/{id:\\d+}", self._one("agents", "agent"))
        app.router.add_get("/api/v2/requesters/{id:\\d+}", self._one("requesters", "requester"))
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeFreshservice:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @staticmethod
    def _cost(request: web.Request) -> tuple[str, int]:
        path = request.path
        include = bool(request.query.get("include"))
        if path in ("/api/v2/tickets", "/api/v2/tickets/filter") or path in (
            "/api/v2/agents",
            "/api/v2/requesters",
            "/api/v2/groups",
        ):
            return "list", 1 + (2 if include else 0)
        if re.fullmatch(r"/api/v2/tickets/\d+", path):
            return "view", 1 + (1 if include else 0)
        return "other", 1

    def _error(self, status: int, description: str, code: str = "") -> web.Response:
        body = {
            "description": description,
            "errors": [{"field": "", "message": description, "code": code}],
        }
        return web.json_response(body, status=status)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        kind, credits = self._cost(request)
        entry = Logged(self.clock.monotonic(), request.path, dict(request.query), 0, 0, kind)
        self.log.append(entry)
        if self.on_arrival is not None:
            self.on_arrival(entry)
        response = await self._answer(request, handler, kind, credits, entry)
        entry.status = response.status
        if self.after_request is not None:
            self.after_request(entry)
        response.headers["Date"] = email.utils.formatdate(self.clock.time(), usegmt=True)
        return response

    async def _answer(
        self, request: web.Request, handler: Any, kind: str, credits: int, entry: Logged
    ) -> web.StreamResponse:
        if self.wrong_domain:
            return web.Response(
                status=404, text="<html>Not a Freshservice account</html>", content_type="text/html"
            )
        auth = request.headers.get("Authorization", "")
        try:
            user, _, password = (
                base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            )
        except ValueError:
            user = password = ""
        if not auth.startswith("Basic ") or user != self.key or password != "X":
            return self._error(
                401, "You have to be logged in to perform this action.", "invalid_credentials"
            )
        if self.forbidden:
            return self._error(
                403, "You are not authorized to perform this action.", "access_denied"
            )
        if request.headers.get("Accept") != "application/json":
            return self._error(406, "Accept must be application/json")
        # the account's per-minute limits
        now = self.clock.monotonic()
        window = int(now // 60)
        if window != self._window:
            self._window = window
            self._used = {"overall": self.other_usage, "list": 0, "view": 0}
        retry_after = math.ceil((window + 1) * 60 - now)
        overall, list_limit, view_limit = self.limits
        over = self._used["overall"] + credits > overall or (
            kind in ("list", "view")
            and self._used[kind] + 1 > (list_limit if kind == "list" else view_limit)
        )
        fault = next((f for f in self.faults if f.matches(request)), None)
        if fault is not None and fault.kind == "429":
            fault.times -= 1
            over = True
            retry_after = (
                int(fault.retry_after)
                if fault.retry_after and fault.retry_after.isdigit()
                else retry_after
            )
        if over:
            headers = {"X-RateLimit-Total": str(overall), "X-RateLimit-Remaining": "0"}
            if fault is None or fault.kind != "429" or fault.retry_after is not None:
                headers["Retry-After"] = str(max(1, retry_after))
                entry.retry_after = float(max(1, retry_after))
            response = self._error(429, "You have exceeded the limit of requests per minute")
            response.headers.update(headers)
            return response
        self._used["overall"] += credits
        if kind in ("list", "view"):
            self._used[kind] += 1
        entry.credits = credits
        if fault is not None:
            fault.times -= 1
            if fault.kind in ("500", "502", "503", "504"):
                return self._error(int(fault.kind), "Something went wrong")
            if fault.kind == "timeout":
                await asyncio.sleep(fault.delay)
            if fault.kind == "malformed":
                return web.Response(
                    status=200, text='{"tickets": [', content_type="application/json"
                )
            if fault.kind == "bad-shape":
                return web.json_response({"tickets": "none", "total": "many"})
        response = await handler(request)
        response.headers["X-RateLimit-Total"] = str(overall)
        response.headers["X-RateLimit-Remaining"] = str(max(0, overall - self._used["overall"]))
        response.headers["X-RateLimit-Used-CurrentRequest"] = str(credits)
        return response

    # --- endpoints ----------------------------------------------------------------------------
    def _paginate(
        self,
        request: web.Request,
        items: list[dict[str, Any]],
        per_page: int,
        key: str,
        decorate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        **extra: Any,
    ) -> web.Response:
        try:
            page = int(request.query.get("page", "1"))
        except ValueError:
            return self._error(400, "page must be a number", "invalid_value")
        if page < 1:
            return self._error(400, "page must be positive", "invalid_value")
        chunk = items[(page - 1) * per_page : page * per_page]
        if decorate is not None:
            chunk = [decorate(item) for item in chunk]
        response = web.json_response({key: chunk, **extra})
        if page * per_page < len(items) and (
            key != "tickets" or "total" not in extra or self.filter_link
        ):
            next_url = URL(str(request.url)).update_query(page=str(page + 1))
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return response

    def _per_page(self, request: web.Request) -> int | web.Response:
        try:
            per_page = int(request.query.get("per_page", "30"))
        except ValueError:
            return self._error(400, "per_page must be a number", "invalid_value")
        if not 1 <= per_page <= 100:
            return self._error(400, "It should be between 1 and 100", "invalid_value")
        return per_page

    def _in_workspace(self, ticket: dict[str, Any], request: web.Request) -> bool:
        workspace = ticket.get("workspace_id", PRIMARY_WORKSPACE)  # absent: no workspaces
        wanted = request.query.get("workspace_id")
        if wanted is None:
            return workspace == PRIMARY_WORKSPACE
        return wanted == "0" or str(workspace) == wanted

    async def _list_tickets(self, request: web.Request) -> web.Response:
        per_page = self._per_page(request)
        if isinstance(per_page, web.Response):
            return per_page
        q = request.query
        chosen = q.get("filter")
        since = q.get("updated_since")
        if since is not None and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", since):
            return self._error(400, "updated_since is not a valid time", "invalid_value")
        window_start = iso(self.clock.time() - 30 * DAY)
        items = []
        for t in self.tickets.values():
            if not self._in_workspace(t, request):
                continue
            if chosen == "deleted":
                if not t.get("deleted"):
                    continue
            elif chosen == "spam":
                if not t.get("spam") or t.get("deleted"):
                    continue
            elif t.get("deleted") or t.get("spam"):
                continue
            if since is not None:
                if t["updated_at"] < since:
                    continue
            elif t["created_at"] < window_start:
                continue
            items.append(t)
        items.sort(key=lambda t: (t["created_at"], t["id"]), reverse=q.get("order_type") != "asc")
        with_stats = q.get("include") == "stats"
        return self._paginate(
            request,
            items,
            per_page,
            "tickets",
            decorate=lambda t: self.listed_ticket(t["id"], stats=with_stats),
        )

    async def _filter_tickets(self, request: web.Request) -> web.Response:
        raw = request.query.get("query", "")
        if len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
            return self._error(500, "Internal server error")  # what unquoted queries produced
        if len(raw) > 512:
            return self._error(400, "query is too long", "invalid_value")
        try:
            predicate = parse_query(raw[1:-1])
        except ValueError as exc:
            return self._error(400, str(exc), "invalid_value")
        if self.filter_page_cap and int(request.query.get("page", "1")) > self.filter_page_cap:
            return self._error(400, "page is beyond the last page allowed", "invalid_value")
        scoped = "workspace_id" in raw
        items = [
            t
            for t in self.tickets.values()
            if not t.get("deleted")
            and not t.get("spam")
            and (scoped or t.get("workspace_id", PRIMARY_WORKSPACE) == PRIMARY_WORKSPACE)
            and predicate(t)
        ]
        items.sort(key=lambda t: (t["created_at"], t["id"]), reverse=True)
        return self._paginate(request, items, 30, "tickets", decorate=listed, total=len(items))

    async def _view_ticket(self, request: web.Request) -> web.Response:
        ticket_id = int(request.match_info["id"])
        ticket = self.tickets.get(ticket_id)
        if ticket is None or (ticket.get("deleted") and self.deleted_mode == "404"):
            return self._error(404, "Record not found")
        body = dict(ticket)
        if request.query.get("include") == "stats":
            body["stats"] = dict(self.stats[ticket_id])
        return web.json_response({"ticket": body})

    async def _form_fields(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ticket_fields": [
                    {"id": 1, "name": "requester", "label": "Requester", "choices": []},
                    {
                        "id": 7,
                        "name": "status",
                        "label": "Status",
                        "choices": [
                            {"id": i, "value": n} for i, n in sorted(self.statuses.items())
                        ],
                    },
                    {
                        "id": 8,
                        "name": "priority",
                        "label": "Priority",
                        "choices": [
                            {"id": i, "value": n}
                            for i, n in ((1, "Low"), (2, "Medium"), (3, "High"), (4, "Urgent"))
                        ],
                    },
                ]
            }
        )

    def _list(self, name: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            per_page = self._per_page(request)
            if isinstance(per_page, web.Response):
                return per_page
            items = [getattr(self, name)[i] for i in sorted(getattr(self, name))]
            return self._paginate(request, items, per_page, name)

        return handler

    def _one(self, name: str, key: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            record = getattr(self, name).get(int(request.match_info["id"]))
            if record is None:
                return self._error(404, "Record not found")
            return web.json_response({key: record})

        return handler


# --- helpers for the tests and the benchmark --------------------------------------------------
def watcher_settings(tickets_root: Any, url: str, **overrides: Any) -> Any:
    """Settings for a watcher against the fake, writing below `tickets_root`."""
    from pathlib import Path

    from app.settings import Settings

    root = Path(tickets_root)
    values: dict[str, Any] = {
        "tickets_dir": root / "tickets",
        "mappings_dir": root / "mappings",
        "freshservice_url": url,
        "token_file": root / "token.txt",
        "request_timeout_seconds": 2.0,
    }
    values.update(overrides)
    return Settings(**values)


def make_source(fake: FakeFreshservice, root: Any, **overrides: Any) -> Any:
    from watcher.freshservice import FreshserviceSource

    return FreshserviceSource(
        watcher_settings(root, fake.url, **overrides),
        clock=fake.clock,
        environ={"TICKET_DASH_FRESHSERVICE_TOKEN": fake.key},
    )
