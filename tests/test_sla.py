"""First-response and update SLA states, at every threshold edge, with a frozen clock."""

from __future__ import annotations

import pytest
from support.tickets import HOUR, MINUTE, NOW, ticket_json

from app.contract.ticket import ticket_from_json
from app.rules.sla import (
    SlaPolicy,
    first_response_due,
    first_response_state,
    next_crossing,
    update_overdue,
)
from app.settings import load_settings

POLICY = SlaPolicy.from_settings(load_settings(environ={}))


def ticket(**fields):
    return ticket_from_json(ticket_json(**fields))


@pytest.mark.parametrize(
    ("left", "state"),
    [
        (-1, "overdue"),
        (0, "critical"),
        (4 * HOUR - 1, "critical"),
        (4 * HOUR, "warning"),
        (12 * HOUR - 1, "warning"),
        (12 * HOUR, "normal"),
        (72 * HOUR, "normal"),
    ],
)
def test_first_response_state_by_time_left(left, state):
    assert first_response_state(ticket(fr_due_by=NOW + left), NOW, POLICY) == state


def test_answered_ticket_is_responded_whatever_its_due_time():
    answered = ticket(fr_due_by=NOW - HOUR, stats={"first_responded_at": NOW - 2 * HOUR})
    assert first_response_state(answered, NOW, POLICY) == "responded"
    assert first_response_due(answered) is None


def test_ticket_without_any_due_time_has_no_sla():
    assert first_response_state(ticket(fr_due_by=None, due_by=None), NOW, POLICY) == "none"


def test_service_request_is_measured_against_due_by():
    request = ticket(type="Service Request", fr_due_by=NOW + 48 * HOUR, due_by=NOW - MINUTE)
    assert first_response_state(request, NOW, POLICY) == "overdue"


def test_thresholds_come_from_settings():
    tight = SlaPolicy.from_settings(
        load_settings({"fr_warning_hours": 2, "fr_critical_hours": 1}, environ={})
    )
    assert first_response_state(ticket(fr_due_by=NOW + 90 * MINUTE), NOW, tight) == "warning"
    assert first_response_state(ticket(fr_due_by=NOW + 3 * HOUR), NOW, tight) == "normal"


@pytest.mark.parametrize(
    ("priority", "minutes"),
    [(4, 30), (3, 2 * 24 * 60), (2, 3 * 24 * 60), (1, 4 * 24 * 60)],
)
def test_update_sla_breaches_after_the_priority_limit(priority, minutes):
    t = ticket(priority=priority, updated_at=NOW - minutes * MINUTE)
    assert not update_overdue(t, NOW, POLICY)  # exactly at the limit: not yet
    assert update_overdue(t, NOW + 1, POLICY)


def test_next_crossing_is_the_earliest_future_threshold():
    t = ticket(priority=1, fr_due_by=NOW + 13 * HOUR, updated_at=NOW)
    assert next_crossing(t, NOW, POLICY) == NOW + 1 * HOUR  # warning at due - 12 h
    assert next_crossing(t, NOW + 1 * HOUR + 1, POLICY) == NOW + 9 * HOUR  # critical
    assert next_crossing(t, NOW + 9 * HOUR + 1, POLICY) == NOW + 13 * HOUR  # overdue
    assert next_crossing(t, NOW + 13 * HOUR + 1, POLICY) == NOW + 4 * 24 * HOUR  # update SLA


def test_answered_ticket_only_crosses_its_update_sla():
    t = ticket(priority=4, updated_at=NOW, stats={"first_responded_at": NOW})
    assert next_crossing(t, NOW, POLICY) == NOW + 30 * MINUTE
    assert next_crossing(t, NOW + 31 * MINUTE, POLICY) is None
