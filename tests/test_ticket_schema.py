"""docs/ticket.schema.json is the contract every source writes to: it must hold what the board
needs, refuse what would break it, and leave the rest of Freshservice's ticket alone."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

DOCS = Path(__file__).resolve().parent.parent / "docs"


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
