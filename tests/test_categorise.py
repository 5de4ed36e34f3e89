"""Which section a ticket lands in, and the order within a section."""

from __future__ import annotations

import pytest
from support.tickets import HOUR, MINUTE, NOW, ticket_json

from app.contract.mappings import Names
from app.contract.ticket import ticket_from_json
from app.rules.categorise import SectionRules, categorise
from app.rules.rows import RowContext, build_row, sort_key
from app.rules.sla import SlaPolicy
from app.settings import load_settings

SETTINGS = load_settings(environ={})
RULES = SectionRules.from_settings(SETTINGS)
POLICY = SlaPolicy.from_settings(SETTINGS)
CUSTOM = {6: "Waiting on Customer", 7: "On Hold", 8: "Customer Replied", 9: "Closed - Duplicate"}


def section_of(names=CUSTOM, now=NOW, **fields):
    t = ticket_from_json(ticket_json(**fields))
    return categorise(t, Names(statuses=names).status_name(t.status), now, RULES, POLICY)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (2, ("open", None)),
        (3, ("other", None)),
        (4, ("hidden", None)),
        (5, ("hidden", None)),
        (6, ("other", None)),  # Waiting on Customer
        (7, ("other", None)),  # On Hold
        (8, ("waiting", "status")),  # Customer Replied, by name
        (42, ("other", None)),  # an unknown custom status is still active
    ],
)
def test_status_decides_the_section(status, expected):
    assert section_of(status=status) == expected


def test_status_mapping_by_id_overrides_names():
    rules = SectionRules.from_settings(
        load_settings({"status_sections": {"2": "open", "6": "waiting"}}, environ={})
    )
    t = ticket_from_json(ticket_json(status=6))
    assert categorise(t, "Waiting on Customer", NOW, rules, POLICY) == ("waiting", "status")


def test_customer_reply_after_agent_reply_means_waiting_on_agent():
    replied = section_of(
        stats={
            "first_responded_at": NOW - 3 * HOUR,
            "agent_responded_at": NOW - 2 * HOUR,
            "requester_responded_at": NOW - 1 * HOUR,
        }
    )
    assert replied == ("waiting", "customer_reply")


def test_agent_reply_after_customer_reply_stays_open():
    answered = section_of(
        stats={
            "first_responded_at": NOW - 3 * HOUR,
            "agent_responded_at": NOW - 1 * HOUR,
            "requester_responded_at": NOW - 2 * HOUR,
        }
    )
    assert answered == ("open", None)


def test_update_overdue_ticket_moves_to_waiting_on_agent():
    stale = dict(priority=4, updated_at=NOW - 30 * MINUTE)
    assert section_of(**stale) == ("open", None)
    assert section_of(now=NOW + 1, **stale) == ("waiting", "update_overdue")


def test_resolved_ticket_is_hidden_even_when_overdue():
    assert section_of(status=4, priority=4, updated_at=NOW - 10 * HOUR) == ("hidden", None)


def test_unknown_status_gets_a_readable_name():
    assert Names().status_name(42) == "Status #42"
    assert Names().status_name(2) == "Open"


def test_order_needs_first_response_then_next_deadline_then_priority_then_oldest():
    def key(**fields):
        return sort_key(ticket_from_json(ticket_json(**fields)))

    answered = {"first_responded_at": NOW - HOUR}
    answered_due_soon = key(ident=1, due_by=NOW + HOUR, stats=answered)
    answered_due_later = key(ident=6, due_by=NOW + 3 * HOUR, stats=answered)
    answered_no_deadline = key(ident=7, due_by=None, stats=answered)
    due_soon = key(ident=2, fr_due_by=NOW + HOUR)
    due_later_urgent = key(ident=3, fr_due_by=NOW + 2 * HOUR, priority=4)
    due_later_low = key(ident=4, fr_due_by=NOW + 2 * HOUR, priority=1)
    due_later_low_older = key(ident=5, fr_due_by=NOW + 2 * HOUR, priority=1, updated_at=NOW - HOUR)
    resolution_first = key(ident=8, fr_due_by=NOW + 5 * HOUR, due_by=NOW + 90 * MINUTE)
    no_deadline = key(ident=9, fr_due_by=None, due_by=None, priority=4)
    order = [
        due_soon,
        resolution_first,
        due_later_urgent,
        due_later_low_older,
        due_later_low,
        no_deadline,
        answered_due_soon,
        answered_due_later,
        answered_no_deadline,
    ]
    assert sorted(reversed(order)) == order


def test_row_uses_mapped_names_and_falls_back_to_ids():
    ctx = RowContext(
        names=Names(agents={7: "Dana Scully"}, groups={}, requesters={100: "Fox Mulder"}),
        rules=RULES,
        policy=POLICY,
        link_base="https://acme.freshservice.com/a/tickets/",
        description_chars=10,
    )
    row = build_row(ticket_from_json(ticket_json(responder_id=7, group_id=3)), NOW, ctx)
    assert row["agent"] == "Dana Scully"
    assert row["requester"] == "Fox Mulder"
    assert row["group"] == "Group #3"
    assert row["url"] == "https://acme.freshservice.com/a/tickets/1"
    assert row["description"] == "Descripti…"
    unassigned = build_row(
        ticket_from_json(ticket_json(responder_id=None, requester_id=5)), NOW, ctx
    )
    assert unassigned["agent"] == ""
    assert unassigned["requester"] == "Requester #5"
