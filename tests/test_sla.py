"""SLA states of the next unmet deadline and the update SLA, at every threshold edge, with a
frozen clock."""

from __future__ import annotations

import pytest
from support.tickets import HOUR, MINUTE, NOW, ticket_json

from app.contract.ticket import ticket_from_json
from app.rules.sla import (
    Deadline,
    SlaPolicy,
    first_response_due,
    next_crossing,
    next_deadline,
    sla_state,
    update_overdue,
)
from app.settings import load_settings

POLICY = SlaPolicy.from_settings(load_settings(environ={}))
ANSWERED = {"first_responded_at": NOW - 2 * HOUR}


def ticket(**fields):
    return ticket_from_json(ticket_json(**fields))


@pytest.mark.parametrize(
    ("left", "state"),
    [
        (-0.001, "overdue"),  # 1 ms after the deadline
        (-1, "overdue"),
        (0, "critical"),  # exactly at the deadline: not yet overdue
        (4 * HOUR - 1, "critical"),
        (4 * HOUR, "warning"),
        (12 * HOUR - 1, "warning"),
        (12 * HOUR, "normal"),
        (72 * HOUR, "normal"),
    ],
)
@pytest.mark.parametrize("kind", ["fr", "due"])
def test_state_of_the_next_deadline_by_time_left_for_either_kind(left, state, kind):
    due = NOW + 10 * HOUR  # files hold whole seconds: the clock moves instead
    if kind == "fr":
        t = ticket(fr_due_by=due, due_by=due + 100 * HOUR)
    else:
        t = ticket(fr_due_by=NOW - HOUR, due_by=due, stats=ANSWERED)
    assert next_deadline(t) == Deadline(kind, due)
    assert sla_state(t, due - left, POLICY) == state


def test_service_request_is_first_measured_against_its_own_fr_due_by():
    request = ticket(type="Service Request", fr_due_by=NOW - 35 * MINUTE, due_by=NOW + 2 * HOUR)
    assert next_deadline(request) == Deadline("fr", NOW - 35 * MINUTE)
    assert sla_state(request, NOW, POLICY) == "overdue"  # before: Normal against due_by


def test_service_request_answered_is_measured_against_due_by():
    request = ticket(
        type="Service Request", fr_due_by=NOW - 35 * MINUTE, due_by=NOW + 20 * HOUR, stats=ANSWERED
    )
    assert next_deadline(request) == Deadline("due", NOW + 20 * HOUR)
    assert sla_state(request, NOW, POLICY) == "normal"
    assert first_response_due(request) is None


def test_answered_incident_is_measured_against_due_by():
    incident = ticket(fr_due_by=NOW - HOUR, due_by=NOW + 3 * HOUR, stats=ANSWERED)
    assert next_deadline(incident) == Deadline("due", NOW + 3 * HOUR)
    assert sla_state(incident, NOW, POLICY) == "critical"


def test_resolution_due_before_first_response_comes_first():
    t = ticket(fr_due_by=NOW + 5 * HOUR, due_by=NOW + 2 * HOUR)
    assert next_deadline(t) == Deadline("due", NOW + 2 * HOUR)


def test_same_time_for_both_is_the_first_response():
    t = ticket(fr_due_by=NOW + 2 * HOUR, due_by=NOW + 2 * HOUR)
    assert next_deadline(t) == Deadline("fr", NOW + 2 * HOUR)


def test_a_missing_deadline_leaves_the_other():
    assert next_deadline(ticket(fr_due_by=None)) == Deadline("due", NOW + 48 * HOUR)
    assert next_deadline(ticket(due_by=None)) == Deadline("fr", NOW + 24 * HOUR)


def test_ticket_without_any_deadline_has_no_sla():
    assert next_deadline(ticket(fr_due_by=None, due_by=None)) is None
    assert sla_state(ticket(fr_due_by=None, due_by=None), NOW, POLICY) == "none"
    answered = ticket(fr_due_by=NOW + HOUR, due_by=None, stats=ANSWERED)
    assert sla_state(answered, NOW, POLICY) == "none"


def test_thresholds_come_from_settings():
    tight = SlaPolicy.from_settings(
        load_settings({"fr_warning_hours": 2, "fr_critical_hours": 1}, environ={})
    )
    assert sla_state(ticket(fr_due_by=NOW + 90 * MINUTE), NOW, tight) == "warning"
    assert sla_state(ticket(fr_due_by=NOW + 3 * HOUR), NOW, tight) == "normal"
    answered = ticket(due_by=NOW + 90 * MINUTE, stats=ANSWERED)
    assert sla_state(answered, NOW, tight) == "warning"  # the same windows for due_by


@pytest.mark.parametrize(
    ("priority", "minutes"),
    [(4, 30), (3, 2 * 24 * 60), (2, 3 * 24 * 60), (1, 4 * 24 * 60)],
)
def test_update_sla_breaches_after_the_priority_limit(priority, minutes):
    t = ticket(priority=priority, updated_at=NOW - minutes * MINUTE)
    assert not update_overdue(t, NOW, POLICY)  # exactly at the limit: not yet
    assert update_overdue(t, NOW + 1, POLICY)


def test_next_crossing_is_the_earliest_future_threshold():
    t = ticket(priority=1, fr_due_by=NOW + 13 * HOUR, due_by=None, updated_at=NOW)
    assert next_crossing(t, NOW, POLICY) == NOW + 1 * HOUR  # warning at due - 12 h
    assert next_crossing(t, NOW + 1 * HOUR + 1, POLICY) == NOW + 9 * HOUR  # critical
    assert next_crossing(t, NOW + 9 * HOUR + 1, POLICY) == NOW + 13 * HOUR  # overdue
    assert next_crossing(t, NOW + 13 * HOUR + 1, POLICY) == NOW + 4 * 24 * HOUR  # update SLA


def test_next_crossing_considers_both_unmet_deadlines():
    t = ticket(priority=1, fr_due_by=NOW + 13 * HOUR, due_by=NOW + 14 * HOUR, updated_at=NOW)
    times = []
    at = NOW
    while (when := next_crossing(t, at, POLICY)) is not None:
        times.append(when)
        at = when + 0.001
    hours = [(w - NOW) / HOUR for w in times]
    assert hours == [1, 2, 9, 10, 13, 14, 96]  # fr and due thresholds, then the update SLA


def test_a_met_first_response_leaves_only_due_by_and_update_crossings():
    t = ticket(
        priority=4, fr_due_by=NOW + HOUR, due_by=NOW + 20 * HOUR, updated_at=NOW, stats=ANSWERED
    )
    assert next_crossing(t, NOW, POLICY) == NOW + 30 * MINUTE  # update SLA
    assert next_crossing(t, NOW + 31 * MINUTE, POLICY) == NOW + 8 * HOUR  # due_by warning


def test_ticket_without_deadlines_only_crosses_its_update_sla():
    t = ticket(priority=4, updated_at=NOW, fr_due_by=None, due_by=None, stats=ANSWERED)
    assert next_crossing(t, NOW, POLICY) == NOW + 30 * MINUTE
    assert next_crossing(t, NOW + 31 * MINUTE, POLICY) is None
