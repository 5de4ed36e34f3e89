"""Reading ticket files: every malformed kind is refused with a reason, never a crash."""

from __future__ import annotations

import json

import pytest
from support.tickets import ticket_json, write_ticket

from app.contract.layout import ticket_id_of
from app.contract.mappings import parse_mapping
from app.contract.text import MAX_NAME_CHARS, MAX_SUBJECT_CHARS
from app.contract.ticket import MalformedTicket, ticket_from_bytes
from app.live.folder import TicketFolder


def test_a_good_file_reads_with_its_stats():
    t = ticket_from_bytes(json.dumps(ticket_json(7, stats={"first_responded_at": 0})).encode())
    assert t.id == 7
    assert t.first_responded_at == 0.0


def test_control_and_direction_marks_are_taken_out_of_ticket_text_and_the_rest_kept():
    hostile = "VPN\x00 down\x1b[2J in \u202eeeL\u202c\x07 \u2066office\u2069\x85"
    raw = json.dumps(
        ticket_json(8, subject=hostile, description_text="line one\nline\ttwo\x00 שלום עולם")
    ).encode()
    t = ticket_from_bytes(raw)
    assert t.subject == "VPN down[2J in eeL office"
    assert t.description_text == "line one\nline\ttwo שלום עולם"  # line ends, tabs, Hebrew stay


def test_names_in_mapping_files_are_cleaned_the_same_way():
    names = parse_mapping("66:Mallory\x00 \u202eyrollaM\u202c\x1b\n67:דנה כהן\n")
    assert names == {66: "Mallory yrollaM", 67: "דנה כהן"}


def test_a_subject_or_name_of_a_megabyte_is_cut_to_what_a_row_can_show():
    raw = json.dumps(ticket_json(9, subject="Printer " * 150_000, type="T" * 10_000)).encode()
    t = ticket_from_bytes(raw)
    assert len(t.subject) == MAX_SUBJECT_CHARS and t.subject.startswith("Printer Printer")
    assert t.subject.endswith("…") and len(t.type) == MAX_NAME_CHARS
    names = parse_mapping(f"66:{'Mallory ' * 100_000}\n67:Dana\n")
    assert len(names[66]) == MAX_NAME_CHARS and names[67] == "Dana"
    normal = ticket_from_bytes(json.dumps(ticket_json(10, subject="x" * 255)).encode())
    assert normal.subject == "x" * 255  # Freshservice's longest subject, whole


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"id": 1, "subj', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "not hold a JSON object"),
        (json.dumps({**ticket_json(1), "status": "open"}).encode(), "status is not a whole number"),
        (
            json.dumps({k: v for k, v in ticket_json(1).items() if k != "subject"}).encode(),
            "subject is missing",
        ),
        (json.dumps({**ticket_json(1), "priority": 9}).encode(), "priority 9"),
        (json.dumps({**ticket_json(1), "updated_at": "yesterday"}).encode(), "not an ISO time"),
        (json.dumps({**ticket_json(1), "stats": []}).encode(), "stats is not an object"),
        (json.dumps({**ticket_json(1), "id": True}).encode(), "id is not a whole number"),
    ],
)
def test_malformed_content_is_refused_with_a_reason(raw, reason):
    with pytest.raises(MalformedTicket, match=reason):
        ticket_from_bytes(raw)


def test_only_ticket_files_directly_in_the_folder_count(tmp_path):
    assert ticket_id_of(tmp_path / "12.json", tmp_path) == 12
    assert ticket_id_of(tmp_path / "12.txt", tmp_path) == 12
    for ignored in (".12.json.abc.tmp", ".watcher.json", "12.json.bak", "notes.json", "012.json"):
        assert ticket_id_of(tmp_path / ignored, tmp_path) is None
    assert ticket_id_of(tmp_path / "archive" / "2026-11-28" / "12.json", tmp_path) is None


def test_huge_file_is_malformed_not_read(tmp_path):
    (tmp_path / "1.json").write_bytes(b" " * 5000)
    folder = TicketFolder(tmp_path, max_file_bytes=1000)
    ticket, changed = folder.read(1)
    assert ticket is None and changed
    assert "larger than 1000 bytes" in folder.malformed.reasons["1.json"]


def test_file_holding_another_ticket_is_malformed(tmp_path):
    (tmp_path / "1.json").write_text(json.dumps(ticket_json(2)))
    folder = TicketFolder(tmp_path, max_file_bytes=100_000)
    assert folder.read(1)[0] is None
    assert folder.malformed.reasons["1.json"] == "holds ticket 2, not 1"


def test_original_txt_files_are_read_and_json_wins(tmp_path):
    (tmp_path / "5.txt").write_text(json.dumps(ticket_json(5, subject="from txt")))
    folder = TicketFolder(tmp_path, max_file_bytes=100_000)
    assert folder.read(5)[0].subject == "from txt"
    write_ticket(tmp_path, 5, subject="from json")
    assert folder.read(5)[0].subject == "from json"


def test_malformed_file_is_forgotten_when_fixed_or_removed(tmp_path):
    (tmp_path / "3.json").write_text("{")
    folder = TicketFolder(tmp_path, max_file_bytes=100_000)
    folder.read(3)
    assert folder.malformed.to_json()["count"] == 1
    write_ticket(tmp_path, 3)
    assert folder.read(3)[0].id == 3
    assert folder.malformed.to_json()["count"] == 0
