"""The support code tests and benchmarks share (tests/support) does what they rely on."""

from __future__ import annotations

import os
import time
from pathlib import Path

from support.ports import LOWEST, free_ports
from support.server import ROOT, board_environment, launch_board
from support.sse import SseParser
from support.tickets import NOW, write_ticket

from app.contract.mappings import Names
from app.contract.ticket import ticket_from_bytes
from app.rules.categorise import SectionRules
from app.rules.rows import RowContext, build_row
from app.rules.sla import SlaPolicy
from app.settings import load_settings

STREAM = (
    b'retry: 2000\nid: 1\nevent: snapshot\ndata: {"seq": 1}\n\n'
    b": ok\n\n"  # a keep-alive comment: no event
    b': heartbeat\nevent: heartbeat\ndata: {"server_time": 5}\n\n'
    b"data: line one\ndata: line two\n\n"
)


def test_the_sse_parser_reads_the_same_events_however_the_bytes_are_split():
    expected = [
        ("snapshot", b'{"seq": 1}', "1", 2000, 52),
        ("heartbeat", b'{"server_time": 5}', None, None, 55),
        ("message", b"line one\nline two", None, None, 31),
    ]
    for cut in range(len(STREAM) + 1):
        parser = SseParser()
        events = parser.feed(STREAM[:cut]) + parser.feed(STREAM[cut:])
        assert [(e.event, e.data, e.id, e.retry, e.size) for e in events] == expected, cut


def test_a_started_board_leaves_no_open_log_file_in_this_process(folders, tmp_path):
    board = launch_board(*folders, log_dir=tmp_path)
    try:
        board.wait_ready()
        mine = {os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")}
        assert str(board.log_path) not in mine  # nothing for a garbage collection to warn about
        assert "Running on http://127.0.0.1" in board.output()
    finally:
        board.stop()


def test_a_board_gets_none_of_the_callers_settings_and_this_checkouts_code(monkeypatch):
    monkeypatch.setenv("TICKET_DASH_BIND", "0.0.0.0:443")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/run/credentials/x")
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    env = board_environment({"TICKET_DASH_HEARTBEAT_SECONDS": "1"})
    assert "TICKET_DASH_BIND" not in env and "CREDENTIALS_DIRECTORY" not in env
    assert env["TICKET_DASH_HEARTBEAT_SECONDS"] == "1"
    assert env["PYTHONPATH"] == str(ROOT)


def test_a_ticket_written_for_a_live_board_is_open_and_on_time_whatever_the_date(
    tmp_path, monkeypatch
):
    later = NOW + 30 * 24 * 3600  # a month after the table tests' fixed NOW
    monkeypatch.setattr(time, "time", lambda: later)
    path = write_ticket(tmp_path, 1)
    settings = load_settings(environ={})
    context = RowContext(
        names=Names(),
        rules=SectionRules.from_settings(settings),
        policy=SlaPolicy.from_settings(settings),
        link_base="",
        description_chars=100,
    )
    row = build_row(ticket_from_bytes(path.read_bytes()), later, context)
    assert (row["section"], row["sla"], row["update_overdue"]) == ("open", "normal", False)


def test_free_ports_are_distinct_and_below_the_kernels_ephemeral_range():
    """Outgoing connections take their local port from that range: a busy machine could take a
    port from there before the board binds it ("Address already in use")."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = free_ports(20)
    assert len(set(ports)) == 20
    assert all(LOWEST <= port < low for port in ports)
