"""The board page's texts and first paint: one table of cases for the time texts, which both
app/web/render.py and static/board-format.js must produce, and the server-rendered HTML.

What the live page does in a browser is tests/test_board_e2e.py's, against the real server.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from support.browser import chromium_page
from support.tickets import ticket_json

from app.contract.mappings import Names
from app.contract.ticket import ticket_from_json
from app.rules.categorise import SectionRules
from app.rules.rows import Row, RowContext, build_row
from app.rules.sla import SlaPolicy
from app.settings import load_settings
from app.web.board_page import BoardPage
from app.web.render import (
    ago,
    countdown,
    counters,
    is_stale,
    malformed_text,
    register,
    synced_text,
)

ROOT = Path(__file__).resolve().parents[1]
NOW = 1_764_300_000.0
MINUTE, HOUR, DAY = 60, 3600, 86400
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_DESC = '</span><script>alert("desc")</script><b onmouseover=alert(2)>hi</b>'


def iso(t: float, zone: str = "Z") -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S") + zone


def sla(due: float | None = None, kind: str | None = "fr", **fields: Any) -> dict[str, Any]:
    """The SLA fields of a row: its next deadline `due` of `kind` ("fr" | "due")."""
    return {
        "sla": "critical",
        "sla_kind": kind if due is not None else None,
        "sla_due": due,
        "update_due": None,
        "update_overdue": False,
    } | fields


# One table per text; app/render.py and static/board-format.js must both produce `expected`.
COUNTDOWN_CASES = [
    (sla(NOW + 3 * HOUR + 12 * MINUTE), "FR due in 3 h 12 m"),
    (sla(NOW + 3 * HOUR + 12 * MINUTE + 59.9), "FR due in 3 h 12 m"),
    (sla(NOW + 2 * HOUR + 10 * MINUTE), "FR due in 2 h 10 m"),
    (sla(NOW), "FR due in < 1 m"),  # exactly at the deadline: not yet overdue
    (sla(NOW + 59.9), "FR due in < 1 m"),
    (sla(NOW + MINUTE), "FR due in 1 m"),
    (sla(NOW + HOUR - 1), "FR due in 59 m"),
    (sla(NOW + HOUR), "FR due in 1 h"),
    (sla(NOW + DAY - 1), "FR due in 23 h 59 m"),
    (sla(NOW + DAY), "FR due in 1 d"),
    (sla(NOW + DAY + 5 * HOUR + 59 * MINUTE), "FR due in 1 d 5 h"),
    (sla(NOW - 0.001, sla="overdue"), "FR overdue by < 1 m"),  # 1 ms after
    (sla(NOW - 35 * MINUTE, sla="overdue"), "FR overdue by 35 m"),
    (sla(NOW - 2 * DAY - HOUR, sla="overdue"), "FR overdue by 2 d 1 h"),
    (sla(NOW + HOUR, update_overdue=True), "FR due in 1 h · update overdue"),
    (sla(NOW - 2 * DAY, sla="overdue", update_overdue=True), "FR overdue by 2 d"),
    (sla(NOW + 3 * DAY + 4 * HOUR, "due", sla="normal"), "Due in 3 d 4 h"),
    (sla(NOW + DAY - 1, "due", sla="normal"), "Due in 23 h 59 m"),
    (sla(NOW, "due"), "Due in < 1 m"),  # exactly at the deadline
    (sla(NOW - 0.001, "due", sla="overdue"), "Overdue by < 1 m"),  # 1 ms after
    (sla(NOW - 14 * MINUTE, "due", sla="overdue"), "Overdue by 14 m"),
    (sla(NOW - 2 * HOUR, "due", sla="overdue"), "Overdue by 2 h"),
    (sla(NOW + DAY, "due", sla="normal", update_overdue=True), "Due in 1 d · update overdue"),
    (sla(NOW - HOUR, "due", sla="overdue", update_overdue=True), "Overdue by 1 h"),
    (
        sla(None, sla="none", update_due=NOW - 2 * HOUR, update_overdue=True),
        "Update overdue by 2 h",
    ),
    (sla(None, sla="none", update_due=NOW, update_overdue=True), "Update overdue by < 1 m"),
    (sla(None, sla="none", update_overdue=True), "Update overdue"),
    (sla(None, sla="none", update_due=NOW + HOUR), "No SLA"),
]
AGO_CASES = [
    (None, ""),
    (NOW + 5, "just now"),  # a clock a little ahead is not "in the future"
    (NOW - 59.9, "just now"),
    (NOW - MINUTE, "1 m ago"),
    (NOW - 12 * MINUTE, "12 m ago"),
    (NOW - HOUR + 1, "59 m ago"),
    (NOW - HOUR, "1 h ago"),
    (NOW - DAY + 1, "23 h ago"),
    (NOW - DAY, "1 d ago"),
    (NOW - 3 * DAY, "3 d ago"),
]
SYNCED_CASES = [
    (None, "no watcher status"),
    ({"last_success": None}, "never synced"),
    ({"last_success": "not a time"}, "never synced"),
    ({"last_success": iso(NOW - 12)}, "last synced 12 s ago"),
    ({"last_success": iso(NOW - 12, zone="")}, "last synced 12 s ago"),  # no zone: UTC
    ({"last_success": iso(NOW - 12, zone="+00:00")}, "last synced 12 s ago"),
    ({"last_success": iso(NOW + 5)}, "last synced 0 s ago"),
    ({"last_success": iso(NOW + 60)}, "last synced 0 s ago"),
    ({"last_success": iso(NOW + 61)}, "last sync in the future (clock?)"),
    ({"last_success": iso(NOW - 59)}, "last synced 59 s ago"),
    ({"last_success": iso(NOW - 60)}, "last synced 1 m ago"),
    ({"last_success": iso(NOW - 2 * DAY)}, "last synced 2 d ago"),
]
STALE_AFTER = 300
STALE_CASES = [
    (None, True),
    ({"last_success": None}, True),
    ({"last_success": iso(NOW - STALE_AFTER)}, False),
    ({"last_success": iso(NOW - STALE_AFTER - 1)}, True),
    ({"last_success": iso(NOW)}, False),
    ({"last_success": iso(NOW + 60)}, False),  # a clock a minute ahead is believed
    ({"last_success": iso(NOW + 61)}, True),  # further ahead: a dead watcher could hide there
]
MALFORMED_CASES = [
    (None, ""),
    ({"count": 0, "files": []}, ""),
    ({"count": 1, "files": ["a.json"]}, "1 malformed file"),
    ({"count": 3, "files": ["a.json", "b.json", "c.txt"]}, "3 malformed files"),
]


@pytest.mark.parametrize(("row", "expected"), COUNTDOWN_CASES)
def test_countdown_text_at_every_threshold_edge(row: dict, expected: str) -> None:
    assert countdown(row, NOW) == expected


@pytest.mark.parametrize(("t", "expected"), AGO_CASES)
def test_ago_text_at_every_threshold_edge(t: float | None, expected: str) -> None:
    assert ago(t, NOW) == expected


@pytest.mark.parametrize(("watcher", "expected"), SYNCED_CASES)
def test_last_synced_text(watcher: dict | None, expected: str) -> None:
    assert synced_text(watcher, NOW) == expected


@pytest.mark.parametrize(("watcher", "expected"), STALE_CASES)
def test_stale_when_last_sync_missing_or_older_than_limit(
    watcher: dict | None, expected: bool
) -> None:
    assert is_stale(watcher, NOW, STALE_AFTER) is expected


@pytest.mark.parametrize(("malformed", "expected"), MALFORMED_CASES)
def test_malformed_counter_text(malformed: dict | None, expected: str) -> None:
    assert malformed_text(malformed) == expected


# ---- server-rendered first paint -----------------------------------------------------------


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


SETTINGS = load_settings(environ={})


def row(
    ident: int, link_base: str = "", agents: dict[int, str] | None = None, **fields: Any
) -> Row:
    """The row the board builds for this ticket at NOW (status 6 is "Waiting on Agent")."""
    context = RowContext(
        names=Names(agents=agents or {}, statuses={6: "Waiting on Agent"}),
        rules=SectionRules.from_settings(SETTINGS),
        policy=SlaPolicy.from_settings(SETTINGS),
        link_base=link_base,
        description_chars=SETTINGS.description_chars,
    )
    ticket = ticket_json(ident, now=NOW, **{"updated_at": NOW - 10 * MINUTE, **fields})
    return build_row(ticket_from_json(ticket), NOW, context)


ANSWERED = {"first_responded_at": NOW - 2 * HOUR}
SR = "Service Request"
# A ticket's next unmet deadline, from its file to its row's state, kind and SLA text (both sides).
TICKET_SLA_CASES = [
    # A Service Request is first measured against its own fr_due_by, then against due_by.
    ({"type": SR, "fr_due_by": NOW - 35 * MINUTE, "due_by": NOW + 16 * HOUR}, "overdue", "fr",
     "FR overdue by 35 m"),
    ({"type": SR, "fr_due_by": NOW - 35 * MINUTE, "due_by": NOW + 3 * DAY + 4 * HOUR,
      "stats": ANSWERED}, "normal", "due", "Due in 3 d 4 h"),
    ({"fr_due_by": NOW + 2 * HOUR + 10 * MINUTE, "due_by": NOW + DAY}, "critical", "fr",
     "FR due in 2 h 10 m"),
    ({"fr_due_by": NOW - HOUR, "due_by": NOW + 2 * HOUR + 10 * MINUTE, "stats": ANSWERED},
     "critical", "due", "Due in 2 h 10 m"),  # an answered Incident: due_by
    ({"fr_due_by": NOW + 5 * HOUR, "due_by": NOW - 2 * HOUR}, "overdue", "due", "Overdue by 2 h"),
    ({"fr_due_by": None, "due_by": None}, "none", None, "No SLA"),
    ({"fr_due_by": NOW + HOUR, "due_by": None, "stats": ANSWERED}, "none", None, "No SLA"),
    # The boundary: at the deadline itself not yet overdue, a second later overdue.
    ({"fr_due_by": NOW, "due_by": NOW + DAY}, "critical", "fr", "FR due in < 1 m"),
    ({"fr_due_by": NOW - 1, "due_by": NOW + DAY}, "overdue", "fr", "FR overdue by < 1 m"),
    ({"due_by": NOW, "stats": ANSWERED}, "critical", "due", "Due in < 1 m"),
    ({"due_by": NOW - 1, "stats": ANSWERED}, "overdue", "due", "Overdue by < 1 m"),
]  # fmt: skip


def ticket_sla_rows() -> list[Row]:
    return [row(1, **fields) for fields, *_ in TICKET_SLA_CASES]


@pytest.mark.parametrize(("fields", "state", "kind", "text"), TICKET_SLA_CASES)
def test_sla_cell_shows_the_next_unmet_deadline(
    fields: dict[str, Any], state: str, kind: str | None, text: str
) -> None:
    r = row(1, **fields)
    assert (r["sla"], r["sla_kind"], countdown(r, NOW)) == (state, kind, text)
    due_field = {"fr": "fr_due_by", "due": "due_by"}.get(kind or "")
    assert r["sla_due"] == (fields[due_field] if due_field else None)
    assert r["fr_due"] == (None if "stats" in fields else fields.get("fr_due_by", NOW + DAY))


def watcher(last_success: float, **fields: Any) -> dict[str, Any]:
    """The watcher status as the page gets it."""
    return {"source": "demo", "last_success": iso(last_success), "last_error": None} | fields


def board_ctx(**overrides: Any) -> dict[str, Any]:
    hostile = row(
        13,
        subject=HOSTILE,
        description_text=HOSTILE_DESC,
        responder_id=17,
        agents={17: HOSTILE},
        fr_due_by=NOW + 3 * HOUR + 30,
    )
    sections = {
        "open": [hostile, row(14, link_base="javascript:alert(", fr_due_by=NOW + 5 * HOUR)],
        "waiting": [
            row(
                15,
                link_base="https://acme.freshservice.com/a/tickets/",
                status=6,
                fr_due_by=NOW - 14 * MINUTE,
            )
        ],
        "other": [],
    }
    assert [[r["section"] for r in rows] for rows in sections.values()] == [
        ["open", "open"],
        ["waiting"],
        [],
    ]
    ctx: dict[str, Any] = {
        "sections": sections,
        "now": NOW,
        "watcher": watcher(NOW - 12),
        "malformed": {"count": 0, "files": []},
        "stale_after_seconds": STALE_AFTER,
        "query_string": "group=3&agent=17",
        "filters": {"group": ["3"], "agent": ["17"], "section": []},
        "title": "Ticket Dash",
    }
    return ctx | overrides


async def render_board(**overrides: Any) -> str:
    app = Quart(
        __name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static")
    )
    register(app)
    page = BoardPage(app.jinja_env)
    async with app.test_request_context("/"):
        # as the route does: in a worker thread (Jinja runs its own loop for an async environment)
        return (await asyncio.to_thread(page.render, board_ctx(**overrides))).decode()


async def test_first_paint_shows_hostile_ticket_text_escaped() -> None:
    html = await render_board()
    page = Elements()
    page.feed(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#34;desc&#34;)&lt;/script&gt;" in html
    assert not page.find("img")
    assert not page.find("b")
    assert "alert" not in page.script_text
    assert page.find("span", id="d-13", role="tooltip")


async def render_twice(page: BoardPage, first: dict, second: dict) -> tuple[str, str]:
    app = Quart(__name__, template_folder=str(ROOT / "templates"))
    async with app.test_request_context("/"):
        a = await asyncio.to_thread(page.render, first)
        b = await asyncio.to_thread(page.render, second)
    return a.decode(), b.decode()


def markup_page() -> BoardPage:
    app = Quart(__name__, template_folder=str(ROOT / "templates"))
    register(app)
    return BoardPage(app.jinja_env)


async def test_a_page_after_one_change_renders_only_the_changed_row() -> None:
    page = markup_page()
    first = board_ctx()
    changed = row(14, subject="Printer on fire", fr_due_by=NOW + 5 * HOUR)
    second = board_ctx(
        sections={**first["sections"], "open": [first["sections"]["open"][0], changed]}
    )
    a, b = await render_twice(page, first, second)
    assert page.rows.rendered == 3 + 1  # three rows once, then only the one that changed
    assert "Printer on fire" in b and "Printer on fire" not in a


async def test_the_clock_texts_follow_the_page_time_without_rendering_the_rows_again() -> None:
    page = markup_page()
    later = NOW + 2 * HOUR
    first = board_ctx()
    a, b = await render_twice(page, first, board_ctx(now=later, sections=first["sections"]))
    assert page.rows.rendered == 3
    assert "FR overdue by 14 m" in a and "FR overdue by 2 h 14 m" in b  # ticket 15's countdown
    assert "10 m ago" in a and "2 h ago" in b


async def test_the_clock_texts_are_escaped_too() -> None:
    html = await render_board(
        sections={"open": [row(22, fr_due_by=NOW + 30)], "waiting": [], "other": []}
    )
    assert "FR due in &lt; 1 m" in html and "< 1 m" not in html


async def test_ticket_text_cannot_reach_into_the_page_around_its_row() -> None:
    # NULs and texts shaped like the pieces' markers: the markers are random per process.
    sneaky = "\x00sla-0000000000000000\x00 \x00row-x\x00</td></tr><tr><td>forged"
    page = markup_page()
    ctx = board_ctx(
        sections={
            "open": [row(21, subject=sneaky, description_text=sneaky)],
            "waiting": [],
            "other": [],
        }
    )
    html, _ = await render_twice(page, ctx, ctx)
    parsed = Elements()
    parsed.feed(html)
    assert [r["id"] for r in parsed.find("tr") if r.get("id", "").startswith("t-")] == ["t-21"]
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;forged" in html


async def test_pieces_of_rows_that_left_the_board_are_forgotten() -> None:
    page = markup_page()
    many = [row(100 + n) for n in range(300)]
    app = Quart(__name__, template_folder=str(ROOT / "templates"))
    async with app.test_request_context("/"):
        ctx = board_ctx(sections={"open": many, "waiting": [], "other": []})
        await asyncio.to_thread(page.render, ctx)
        left = {many[0]["id"]: many[0]}  # everything else left the board
        ctx = board_ctx(sections={"open": many[:1], "waiting": [], "other": []})
        await asyncio.to_thread(page.render, ctx, left)
    assert len(page.rows._pieces) == 1


async def test_first_paint_has_no_inline_script_or_handler_so_a_strict_csp_works() -> None:
    page = Elements()
    page.feed(await render_board())
    scripts = page.find("script")
    assert scripts and all(s.get("src", "").startswith("/static/") for s in scripts)
    assert page.script_text.strip() == ""
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)


async def test_first_paint_rows_follow_the_row_markup() -> None:
    page = Elements()
    page.feed(await render_board())
    (row,) = page.find("tr", id="t-15")
    assert row["class"] == "row sla-overdue prio-medium unassigned"
    link = [a for a in page.find("a") if a.get("href", "").endswith("/a/tickets/15")]
    assert link and link[0]["target"] == "_blank" and link[0]["rel"] == "noopener"
    # No link when url is "" or not http(s).
    assert not [a for a in page.find("a") if a.get("href", "").startswith("javascript:")]
    (sla_cell,) = [
        a for t, a in page.tags if t == "td" and a.get("data-sla-due") == repr(NOW - 840)
    ]
    assert sla_cell["data-sla"] == "overdue" and sla_cell["data-sla-kind"] == "fr"


async def test_first_paint_is_readable_without_javascript() -> None:
    html = await render_board()
    assert '<span class="count" id="count-open">2</span>' in html
    assert '<span class="count" id="count-waiting">1</span>' in html
    assert "FR overdue by 14 m" in html
    assert "FR due in 3 h" in html
    assert "10 m ago" in html
    assert "last synced 12 s ago" in html
    assert 'data-events-url="/events?group=3&amp;agent=17"' in html
    assert "group: 3" in html and "agent: 17" in html
    assert "section-other is-empty" in html


async def test_first_paint_counts_sections_sla_states_and_unassigned() -> None:
    sections = board_ctx()["sections"]
    quiet = row(  # Pending, nobody assigned, no update for four days: Waiting on Agent
        16, status=3, responder_id=None, fr_due_by=NOW + 8 * HOUR, updated_at=NOW - 4 * DAY
    )
    assert quiet["section"] == "waiting" and quiet["update_overdue"]
    sections["waiting"].append(quiet)
    html = await render_board(sections=sections)
    counts = dict(re.findall(r'<span class="n" id="n-([a-z-]+)">(\d+)</span>', html))
    assert counts == {
        "open": "2",
        "waiting": "2",
        "other": "0",
        "overdue": "1",
        "critical": "1",
        "warning": "2",
        "update-overdue": "1",
        "unassigned": "3",
    }
    assert counters(sections)["unassigned"] == 3
    assert 'class="row sla-warning prio-medium update-overdue unassigned"' in html


async def test_sections_filtered_away_are_not_drawn_at_all() -> None:
    html = await render_board(filters={"group": [], "agent": [], "section": ["waiting"]})
    assert 'id="rows-waiting"' in html and 'id="n-waiting"' in html
    for gone in ("open", "other"):
        assert f'id="rows-{gone}"' not in html and f'id="n-{gone}"' not in html


async def test_first_paint_shows_stale_banner_without_a_recent_sync() -> None:
    fresh = Elements()
    fresh.feed(await render_board())
    assert "hidden" in fresh.find("div", id="stale-banner")[0]
    for old in (None, watcher(NOW - STALE_AFTER - 1)):
        stale = Elements()
        stale.feed(await render_board(watcher=old))
        assert "hidden" not in stale.find("div", id="stale-banner")[0]


async def test_first_paint_shows_watcher_error_and_malformed_counter() -> None:
    html = await render_board(
        watcher=watcher(NOW, last_error="Freshservice said 401 <Unauthorized>"),
        malformed={"count": 2, "files": ["a.json", "<b>.json"]},
    )
    assert "Freshservice said 401 &lt;Unauthorized&gt;" in html
    assert "2 malformed files" in html
    assert 'title="a.json, &lt;b&gt;.json"' in html


# ---- the page's JavaScript produces the same texts --------------------------------------------


async def test_js_texts_agree_with_python_on_every_case(start_board) -> None:
    server = start_board()
    async with chromium_page() as page:
        await page.goto(server.url)  # the real page, which loads static/board-format.js
        js = await page.evaluate(
            """([now, countdowns, agos, synceds, stales, malformeds, staleAfter, tickets]) => {
                const F = window.TicketDashFormat;
                return {
                    countdown: countdowns.map(row => F.countdown(row, now)),
                    tickets: tickets.map(row => F.countdown(row, now)),
                    ago: agos.map(t => F.ago(t, now)),
                    synced: synceds.map(w => F.syncedText(w, now)),
                    stale: stales.map(w => F.isStale(w, now, staleAfter)),
                    malformed: malformeds.map(m => F.malformedText(m)),
                };
            }""",
            [
                NOW,
                [row for row, _ in COUNTDOWN_CASES],
                [t for t, _ in AGO_CASES],
                [w for w, _ in SYNCED_CASES],
                [w for w, _ in STALE_CASES],
                [m for m, _ in MALFORMED_CASES],
                STALE_AFTER,
                ticket_sla_rows(),
            ],
        )
    assert js["countdown"] == [expected for _, expected in COUNTDOWN_CASES]
    assert js["tickets"] == [text for *_, text in TICKET_SLA_CASES]
    assert js["ago"] == [expected for _, expected in AGO_CASES]
    assert js["synced"] == [expected for _, expected in SYNCED_CASES]
    assert js["stale"] == [expected for _, expected in STALE_CASES]
    assert js["malformed"] == [expected for _, expected in MALFORMED_CASES]
