"""The board: incremental ordering, changes as (old, new), and the SLA clock."""

from __future__ import annotations

from support.tickets import HOUR, MINUTE, NOW, ticket_json

from app.contract.mappings import Names
from app.contract.ticket import ticket_from_json
from app.live.board import CROSSING_EPSILON, Board
from app.rules.categorise import SectionRules
from app.rules.rows import RowContext
from app.rules.sla import SlaPolicy
from app.settings import load_settings

SETTINGS = load_settings(environ={})


def new_board() -> Board:
    return Board(
        RowContext(
            names=Names(),
            rules=SectionRules.from_settings(SETTINGS),
            policy=SlaPolicy.from_settings(SETTINGS),
            link_base="",
            description_chars=100,
        )
    )


def t(ident, **fields):
    return ticket_from_json(ticket_json(ident, **fields))


def ids(board, section):
    return [r["id"] for r in board.section_rows(section)]


def test_rows_are_kept_in_display_order_as_tickets_change():
    board = new_board()
    board.put(t(1, fr_due_by=NOW + 10 * HOUR), NOW)
    board.put(t(2, fr_due_by=NOW + 1 * HOUR), NOW)
    board.put(t(3, stats={"first_responded_at": NOW - HOUR}), NOW)
    assert ids(board, "open") == [2, 1, 3]
    board.put(t(1, fr_due_by=NOW + 30 * MINUTE), NOW)
    assert ids(board, "open") == [1, 2, 3]


def test_a_change_reports_old_and_new_row_and_no_change_reports_nothing():
    board = new_board()
    first = board.put(t(1), NOW)
    assert first.old is None and first.new["id"] == 1
    assert board.put(t(1), NOW) is None
    moved = board.put(t(1, status=3), NOW)
    assert moved.old["section"] == "open" and moved.new["section"] == "other"
    assert ids(board, "open") == [] and ids(board, "other") == [1]


def test_resolving_a_ticket_removes_its_row():
    board = new_board()
    board.put(t(1), NOW)
    gone = board.put(t(1, status=4), NOW)
    assert gone.old["id"] == 1 and gone.new is None
    assert board.counts() == {"open": 0, "waiting": 0, "other": 0}


def test_dropping_a_file_removes_the_row():
    board = new_board()
    board.put(t(1), NOW)
    assert board.drop(1).new is None
    assert board.drop(1) is None


def test_clock_wakes_exactly_at_the_next_threshold_and_changes_the_state():
    board = new_board()
    board.put(t(1, fr_due_by=NOW + 4 * HOUR + 10), NOW)  # warning; critical in 10 s
    assert board.rows[1]["sla"] == "warning"
    wake = board.next_wake()
    assert wake == NOW + 10 + CROSSING_EPSILON
    assert board.tick(wake - 0.01) == []
    (change,) = board.tick(wake)
    assert change.old["sla"] == "warning" and change.new["sla"] == "critical"
    assert board.next_wake() == NOW + 4 * HOUR + 10 + CROSSING_EPSILON


def test_update_sla_breach_moves_the_row_on_the_clock_alone():
    board = new_board()
    answered = {"first_responded_at": NOW}
    board.put(t(1, priority=4, updated_at=NOW, due_by=None, stats=answered), NOW)
    (change,) = board.tick(NOW + 30 * MINUTE + 1)
    assert change.new["section"] == "waiting"
    assert change.new["update_overdue"] is True
    assert board.next_wake() is None


def test_a_changed_ticket_replaces_its_pending_crossing():
    board = new_board()
    board.put(t(1, fr_due_by=NOW + 4 * HOUR + 10), NOW)
    board.put(t(1, stats={"first_responded_at": NOW}), NOW)  # answered: no FR crossing
    assert board.tick(NOW + 20) == []


def test_a_service_request_turns_fr_overdue_on_the_clock_then_counts_down_to_due_by():
    board = new_board()
    request = {"type": "Service Request", "fr_due_by": NOW + 10, "due_by": NOW + 20 * HOUR}
    board.put(t(1, **request), NOW)
    assert (board.rows[1]["sla"], board.rows[1]["sla_kind"]) == ("critical", "fr")
    assert board.next_wake() == NOW + 10 + CROSSING_EPSILON
    (change,) = board.tick(NOW + 10 + CROSSING_EPSILON)
    assert change.new["sla"] == "overdue" and change.new["sla_due"] == NOW + 10
    answered = board.put(t(1, **request, stats={"first_responded_at": NOW + 60}), NOW + 60)
    assert answered.new["sla"] == "normal" and answered.new["sla_kind"] == "due"
    assert answered.new["sla_due"] == NOW + 20 * HOUR and answered.new["fr_due"] is None
    assert board.next_wake() == NOW + 8 * HOUR + CROSSING_EPSILON  # due_by's Warning


def test_the_sla_clock_heap_stays_bounded_while_tickets_keep_changing() -> None:
    """Every reschedule leaves a stale heap entry behind; they must not pile up (a soak found
    +17 MB an hour on a busy board)."""
    board = new_board()
    for step in range(20_000):
        ident = step % 50 + 1
        data = ticket_json(ident, now=NOW, fr_due_by=NOW + 86400 + step)  # a new crossing each time
        board.put(ticket_from_json(data), NOW)
    assert len(board._crossings) <= 2 * len(board._scheduled) + 64
    assert board.next_wake() is not None
