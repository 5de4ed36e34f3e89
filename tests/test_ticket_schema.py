"""docs/ticket.schema.json is the contract every source writes to: it must hold what the board
needs, refuse what would break it, and leave the rest of Freshservice's ticket alone. It is checked
against real Freshservice bodies (tests/fixtures/freshservice/) and against every file the watcher
writes from the fake Freshservice. (The simulated helpdesk's files: tests/test_demo_source.py.)"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fake_freshservice import FakeFreshservice, make_source
from jsonschema import Draft202012Validator

from app.contract.ticket import ticket_from_json
from watcher.freshservice.clock import Clock

DOCS = Path(__file__).resolve().parent.parent / "docs"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "freshservice"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads((DOCS / "ticket.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def documented_example() -> dict[str, Any]:
    """The example ticket in docs/ticket-format.md (the first ```json block), so the docs stay true."""
    text = (DOCS / "ticket-format.md").read_text("utf-8")
    match = re.search(r"```json\n(.*?)\n```", text, re.DOTALL)
    assert match, "docs/ticket-format.md has no ```json example"
    example: dict[str, Any] = json.loads(match.group(1))
    return example


MINIMAL = {
    "id": 4711,
    "subject": "VPN down in Leeds",
    "status": 2,
    "priority": 4,
    "created_at": "2025-11-27T08:40:00Z",
    "updated_at": "2025-11-27T09:05:13Z",
}


def errors(validator: Draft202012Validator, ticket: Any) -> list[str]:
    return [e.message for e in validator.iter_errors(ticket)]


def test_documented_example_is_a_valid_ticket(validator: Draft202012Validator) -> None:
    assert errors(validator, documented_example()) == []


def test_the_six_fields_the_board_needs_are_enough(validator: Draft202012Validator) -> None:
    assert errors(validator, MINIMAL) == []


@pytest.mark.parametrize(
    "field", ["id", "subject", "status", "priority", "created_at", "updated_at"]
)
def test_schema_rejects_a_ticket_missing_a_required_field(
    validator: Draft202012Validator, field: str
) -> None:
    ticket = {k: v for k, v in MINIMAL.items() if k != field}
    assert errors(validator, ticket) == [f"'{field}' is a required property"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "2"),
        ("status", None),
        ("id", "4711"),
        ("id", 0),
        ("id", 1.5),
        ("priority", 5),
        ("priority", 0),
        ("subject", None),
        ("created_at", "2025-11-27 08:40:00"),
        ("updated_at", "2025-11-27T09:05:13+00:00"),
        ("fr_due_by", "tomorrow"),
        ("responder_id", "17"),
        ("tags", "noc"),
        ("stats", []),
    ],
)
def test_schema_rejects_a_wrongly_typed_field(
    validator: Draft202012Validator, field: str, value: Any
) -> None:
    assert errors(validator, {**MINIMAL, field: value})


def test_schema_rejects_a_wrongly_typed_stats_time(validator: Draft202012Validator) -> None:
    ticket = {**MINIMAL, "stats": {"first_responded_at": 1764230000}}
    assert errors(validator, ticket)


def test_optional_fields_may_be_null(validator: Draft202012Validator) -> None:
    example = documented_example()
    required = {"id", "subject", "status", "priority", "created_at", "updated_at"}
    nulled = {k: (v if k in required else None) for k, v in example.items()}
    assert errors(validator, nulled) == []
    stats = {k: None for k in example["stats"]}
    assert errors(validator, {**MINIMAL, "stats": stats}) == []


def test_fields_freshservice_adds_later_are_allowed(validator: Draft202012Validator) -> None:
    ticket = copy.deepcopy(documented_example())
    ticket["planned_effort"] = "2h"
    ticket["stats"]["reopened_count"] = 1
    assert errors(validator, ticket) == []


def test_stats_ticket_id_is_not_required_to_match_the_ticket_id(
    validator: Draft202012Validator,
) -> None:
    ticket = {**MINIMAL, "stats": {"ticket_id": 27000004711}}
    assert errors(validator, ticket) == []


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def real_tickets() -> list[dict[str, Any]]:
    """Every ticket of the recorded (and the two constructed) bodies, list and single view."""
    listed: list[dict[str, Any]] = fixture("tickets_list.json")["tickets"]
    views = [fixture(name)["ticket"] for name in sorted(FIXTURES.glob("ticket_view_*.json"))]
    return listed + views


@pytest.mark.parametrize("ticket", real_tickets(), ids=lambda t: f"ticket-{t['id']}")
def test_real_freshservice_tickets_are_valid(
    validator: Draft202012Validator, ticket: dict[str, Any]
) -> None:
    assert errors(validator, ticket) == []


def test_what_real_data_carries_is_described(validator: Draft202012Validator) -> None:
    view = fixture("ticket_view_constructed.json")["ticket"]
    assert view["source"] == 13 and view["cc_emails"] is None  # beyond the list; null
    assert "requester_responded_at" not in view["stats"]
    assert errors(validator, {**view, "bcc_emails": "a@example.com"})  # typed, not just allowed
    assert errors(validator, {**view, "stats": {**view["stats"], "inbound_count": "1"}})
    assert errors(validator, {**view, "approval_status": "Not Requested"})


async def test_every_file_the_watcher_writes_from_real_shapes_is_valid_and_readable(
    validator: Draft202012Validator, tmp_path: Path
) -> None:
    async with FakeFreshservice(clock=Clock(speed=600)) as fake:
        for ticket in real_tickets():
            fake.add_recorded(ticket)
        for status in (2, 3, 2, 3):
            fake.add_ticket(status=status, source=13, cc_emails=None)
        source = make_source(fake, tmp_path)
        assert await source.run(asyncio.Event(), once=True) == 0
        fake.update_ticket(244, subject="changed: the poll lays the list shape over the view")
        fake.respond(1)
        assert await make_source(fake, tmp_path).run(asyncio.Event(), once=True) == 0
        files = sorted(p for p in (tmp_path / "tickets").glob("*.json") if p.stem.isdigit())
        assert {int(p.stem) for p in files} == fake.active_ids()
        for path in files:
            data = json.loads(path.read_text("utf-8"))
            assert errors(validator, data) == [], path.name
            assert ticket_from_json(data).id == data["id"]  # and the board reads it
        recorded = ticket_from_json(json.loads((tmp_path / "tickets" / "100.json").read_text()))
        assert recorded.requester_responded_at is None  # absent in the recorded stats
        for ticket_id in fake.active_ids():  # and the fake's own bodies, both shapes
            assert errors(validator, fake.full_ticket(ticket_id)) == []
            assert errors(validator, fake.listed_ticket(ticket_id)) == []
