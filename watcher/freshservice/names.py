"""Names for the board: mappings/agents.txt, groups.txt, statuses.txt, requesters.txt (`id:Name`).

Agents and groups are listed (a page or two); statuses come from `ticket_form_fields`, so custom
statuses show their real names. Requesters are never listed (accounts have tens of thousands):
each requester of an active ticket is fetched once with `GET /api/v2/requesters/{id}` and kept in
requesters.txt, which is the cache. A requester Freshservice does not know (404, and not an
agent) is remembered with the time of that answer, across restarts (the status file's `extra`,
`unknown_requesters`), and asked again only after `UNKNOWN_RETRY_SECONDS`, in case the 404 was
transient.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Set
from pathlib import Path
from typing import Any

from multidict import CIMultiDictProxy

from app.contract.layout import MAPPING_FILES
from app.contract.mappings import DEFAULT_STATUS_NAMES, read_mapping, write_mapping
from app.contract.times import iso, parse_iso_or_none
from watcher.freshservice.client import FreshserviceClient
from watcher.freshservice.errors import MalformedError
from watcher.freshservice.pagination import linked_pages, records

log = logging.getLogger(__name__)

UNKNOWN_RETRY_SECONDS = 86400.0  # a requester that answered 404 is asked again a day later


def person_name(record: dict[str, Any]) -> str:
    name = " ".join(str(record.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    return name or str(record.get("primary_email") or record.get("email") or "")


def status_choices(data: Any) -> dict[int, str]:
    """The `status` field's choices from a ticket_form_fields answer."""
    fields = data.get("ticket_fields") if isinstance(data, dict) else None
    if isinstance(fields, list):
        for f in fields:
            if isinstance(f, dict) and f.get("name") == "status":
                choices = f.get("choices")
                if isinstance(choices, list):
                    found = {
                        c["id"]: str(c.get("value") or c.get("name") or c["id"])
                        for c in choices
                        if isinstance(c, dict) and isinstance(c.get("id"), int)
                    }
                    if found:
                        return found
    raise MalformedError("Freshservice sent ticket form fields without the status choices.")


class NameSync:
    """Keeps mappings/ true for the board, from Freshservice."""

    def __init__(self, client: FreshserviceClient, mappings_dir: Path, workspace_id: str) -> None:
        self.client = client
        self.dir = mappings_dir
        self.workspace_id = workspace_id
        self.requesters = read_mapping(self._path("requesters"))
        self.agents = read_mapping(self._path("agents"))
        self.unknown_requesters: dict[int, float] = {}  # id → when Freshservice answered 404

    def _path(self, kind: str) -> Path:
        return self.dir / MAPPING_FILES[kind]

    def _params(self, **params: str | int) -> dict[str, str | int]:
        if self.workspace_id:
            params["workspace_id"] = self.workspace_id
        return params

    async def sync_statuses(self) -> tuple[dict[int, str], CIMultiDictProxy[str]]:
        """Status names into statuses.txt; also returns the answer's headers (its Date)."""
        answer = await self.client.get("/api/v2/ticket_form_fields", self._params(), kind="other")
        assert answer is not None
        statuses = {**DEFAULT_STATUS_NAMES, **status_choices(answer.data)}
        write_mapping(self._path("statuses"), statuses)
        return statuses, answer.headers

    async def _list(self, path: str, key: str) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        async for answer in linked_pages(self.client, path, {"per_page": 100}, key, kind="list"):
            for record in records(answer, key):
                found[record["id"]] = record
        return found

    async def sync_agents_and_groups(self) -> None:
        agents = await self._list("/api/v2/agents", "agents")
        self.agents = {i: person_name(a) for i, a in agents.items()}
        write_mapping(self._path("agents"), self.agents)
        groups = await self._list("/api/v2/groups", "groups")
        write_mapping(
            self._path("groups"), {i: str(g.get("name") or "") for i, g in groups.items()}
        )

    def missing_requesters(self, wanted: set[int]) -> list[int]:
        """Requesters in `wanted` without a name, except those that answered 404 lately."""
        now = self.client.clock.time()
        return sorted(
            r
            for r in wanted - set(self.requesters)
            if now - self.unknown_requesters.get(r, -math.inf) >= UNKNOWN_RETRY_SECONDS
        )

    def resume_unknown(self, saved: object) -> None:
        """Requesters that answered 404 in an earlier run, as `unknown_state` wrote them."""
        if not isinstance(saved, dict):
            return
        for key, when in saved.items():
            moment = parse_iso_or_none(when)
            if isinstance(key, str) and key.isascii() and key.isdigit() and moment is not None:
                self.unknown_requesters[int(key)] = moment

    def unknown_state(self, on_board: Set[int]) -> dict[str, str]:
        """The unknown requesters worth keeping, those of tickets on the board (the others are
        forgotten), as `{"<id>": "<time of the 404>"}` for the status file."""
        self.unknown_requesters = {
            r: t for r, t in self.unknown_requesters.items() if r in on_board
        }
        return {str(r): iso(t) for r, t in sorted(self.unknown_requesters.items())}

    async def fetch_requester(self, requester_id: int) -> None:
        """One requester's name into requesters.txt (an agent's name if it is an agent)."""
        answer = await self.client.get(
            f"/api/v2/requesters/{requester_id}", kind="other", missing_ok=True
        )
        name = ""
        if answer is not None:
            record = answer.data.get("requester") if isinstance(answer.data, dict) else None
            if not isinstance(record, dict):
                raise MalformedError("Freshservice sent a requester we could not read.")
            name = person_name(record)
        elif requester_id in self.agents:  # agents can raise tickets too
            name = self.agents[requester_id]
        if not name:
            self.unknown_requesters[requester_id] = self.client.clock.time()
            return
        self.unknown_requesters.pop(requester_id, None)
        self.requesters[requester_id] = name
        write_mapping(self._path("requesters"), self.requesters)
