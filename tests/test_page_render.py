"""The board page: server-rendered first paint, the shared time texts, and the live page in Chromium.

The browser tests run the real templates/board.html and static/ against tests/frontend/harness.py,
a scripted /events; they skip without /usr/bin/chromium (but fail under CI=true).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, chromium_page, require_chromium
from frontend.harness import Harness, fresh_watcher, make_row
from quart import Quart, render_template

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


def sla(fr_due: float | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "sla": "critical",
        "fr_due": fr_due,
        "update_due": None,
        "update_overdue": False,
    } | fields


# One table per text; app/render.py and static/board-format.js must both produce `expected`.
COUNTDOWN_CASES = [
    (sla(NOW + 3 * HOUR + 12 * MINUTE), "FR due in 3 h 12 m"),
    (sla(NOW + 3 * HOUR + 12 * MINUTE + 59.9), "FR due in 3 h 12 m"),
    (sla(NOW), "FR due in < 1 m"),
    (sla(NOW + 59.9), "FR due in < 1 m"),
    (sla(NOW + MINUTE), "FR due in 1 m"),
    (sla(NOW + HOUR - 1), "FR due in 59 m"),
    (sla(NOW + HOUR), "FR due in 1 h"),
    (sla(NOW + DAY - 1), "FR due in 23 h 59 m"),
    (sla(NOW + DAY), "FR due in 1 d"),
    (sla(NOW + DAY + 5 * HOUR + 59 * MINUTE), "FR due in 1 d 5 h"),
    (sla(NOW - 0.001, sla="overdue"), "Overdue by < 1 m"),
    (sla(NOW - 14 * MINUTE, sla="overdue"), "Overdue by 14 m"),
    (sla(NOW - 2 * DAY - HOUR, sla="overdue"), "Overdue by 2 d 1 h"),
    (sla(NOW + HOUR, update_overdue=True), "FR due in 1 h · update overdue"),
    (sla(NOW - 2 * DAY, sla="overdue", update_overdue=True), "Overdue by 2 d"),
    (
        sla(None, sla="responded", update_due=NOW - 2 * HOUR, update_overdue=True),
        "Update overdue by 2 h",
    ),
    (sla(None, sla="responded", update_due=NOW, update_overdue=True), "Update overdue by < 1 m"),
    (sla(None, sla="responded", update_overdue=True), "Update overdue"),
    (sla(None, sla="responded", update_due=NOW + HOUR), "Responded"),
    (sla(None, sla="none"), "No SLA"),
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


def board_ctx(**overrides: Any) -> dict[str, Any]:
    hostile = make_row(
        13, "open", NOW, subject=HOSTILE, description=HOSTILE_DESC, agent=HOSTILE, url=""
    )
    ctx: dict[str, Any] = {
        "sections": {
            "open": [hostile, make_row(14, "open", NOW, url="javascript:alert(3)")],
            "waiting": [make_row(15, "waiting", NOW, sla="overdue", fr_due=NOW - 14 * MINUTE)],
            "other": [],
        },
        "now": NOW,
        "watcher": fresh_watcher(NOW - 12),
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
    async with app.test_request_context("/"):
        return await render_template("board.html", **board_ctx(**overrides))


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
    assert row["class"] == "row sla-overdue prio-medium"
    link = [a for a in page.find("a") if a.get("href", "").endswith("/a/tickets/15")]
    assert link and link[0]["target"] == "_blank" and link[0]["rel"] == "noopener"
    # No link when url is "" or not http(s).
    assert not [a for a in page.find("a") if a.get("href", "").startswith("javascript:")]
    (sla_cell,) = [a for t, a in page.tags if t == "td" and a.get("data-fr-due") == repr(NOW - 840)]
    assert sla_cell["data-sla"] == "overdue"


async def test_first_paint_is_readable_without_javascript() -> None:
    html = await render_board()
    assert '<span class="count" id="count-open">2</span>' in html
    assert '<span class="count" id="count-waiting">1</span>' in html
    assert "Overdue by 14 m" in html
    assert "FR due in 3 h" in html
    assert "10 m ago" in html
    assert "last synced 12 s ago" in html
    assert 'data-events-url="/events?group=3&amp;agent=17"' in html
    assert "group: 3" in html and "agent: 17" in html
    assert "section-other is-empty" in html


async def test_first_paint_counts_sections_sla_states_and_unassigned() -> None:
    sections = board_ctx()["sections"]
    sections["other"] = [make_row(16, "other", NOW, agent="", update_overdue=True, sla="warning")]
    html = await render_board(sections=sections)
    counts = dict(re.findall(r'<span class="n" id="n-([a-z-]+)">(\d+)</span>', html))
    assert counts == {
        "open": "2",
        "waiting": "1",
        "other": "1",
        "overdue": "1",
        "critical": "2",
        "warning": "1",
        "update-overdue": "1",
        "unassigned": "1",
    }
    assert counters(sections)["unassigned"] == 1
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
    for watcher in (None, fresh_watcher(NOW - STALE_AFTER - 1)):
        stale = Elements()
        stale.feed(await render_board(watcher=watcher))
        assert "hidden" not in stale.find("div", id="stale-banner")[0]


async def test_first_paint_shows_watcher_error_and_malformed_counter() -> None:
    html = await render_board(
        watcher=fresh_watcher(NOW, last_error="Freshservice said 401 <Unauthorized>"),
        malformed={"count": 2, "files": ["a.json", "<b>.json"]},
    )
    assert "Freshservice said 401 &lt;Unauthorized&gt;" in html
    assert "2 malformed files" in html
    assert 'title="a.json, &lt;b&gt;.json"' in html


# ---- the live page in Chromium ------------------------------------------------------------


class Board:
    """An open page on the harness, recording dialogs, page errors and CSP violations."""

    def __init__(self, page: Any, harness: Harness) -> None:
        self.page = page
        self.harness = harness
        self.dialogs: list[str] = []
        self.problems: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        page.on("console", self._on_console)

    async def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    def _on_console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(message.text)

    async def ids(self, section: str) -> list[int]:
        return await self.page.eval_on_selector_all(
            f"#rows-{section} tr", "rows => rows.map(r => Number(r.id.slice(2)))"
        )

    async def text(self, selector: str) -> str:
        return await self.page.text_content(selector)

    async def wait(self, expression: str, timeout: float = 5000) -> None:
        """Wait until `expression` is true (as a function: a string would need eval, which CSP blocks)."""
        await self.page.wait_for_function(f"() => ({expression})", timeout=timeout)

    async def wait_live(self, timeout: float = 5000) -> None:
        await self.page.wait_for_selector("#conn.conn-live", timeout=timeout)

    async def mark_page(self) -> None:
        """Tag this document so a later check proves there was no reload."""
        await self.page.evaluate("window.__noReload = true")

    async def not_reloaded(self) -> bool:
        return await self.page.evaluate("window.__noReload === true")


@asynccontextmanager
async def open_board(
    harness: Harness, path: str = "/", color_scheme: str = "dark", wait_live: bool = True
) -> AsyncIterator[Board]:
    require_chromium()
    url = await harness.start()
    try:
        async with chromium_page(color_scheme=color_scheme) as page:
            board = Board(page, harness)
            await page.goto(url + path)
            if wait_live:
                await board.wait_live()
            yield board
            assert board.problems == []
            assert board.dialogs == []
    finally:
        await harness.stop()


def three_rows(now: float | None = None) -> dict[str, list[dict]]:
    now = time.time() if now is None else now
    return {
        "open": [
            make_row(1, "open", now, key=[0, now + 100, -2, now, 1]),
            make_row(2, "open", now, key=[0, now + 300, -2, now, 2]),
        ],
        "waiting": [make_row(5, "waiting", now, key=[1, 0, -3, now, 5])],
        "other": [],
    }


async def test_js_texts_agree_with_python_on_every_case() -> None:
    async with open_board(Harness(sections=three_rows())) as board:
        js = await board.page.evaluate(
            """([now, countdowns, agos, synceds, stales, malformeds, staleAfter]) => {
                const F = window.TicketDashFormat;
                return {
                    countdown: countdowns.map(row => F.countdown(row, now)),
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
            ],
        )
    assert js["countdown"] == [expected for _, expected in COUNTDOWN_CASES]
    assert js["ago"] == [expected for _, expected in AGO_CASES]
    assert js["synced"] == [expected for _, expected in SYNCED_CASES]
    assert js["stale"] == [expected for _, expected in STALE_CASES]
    assert js["malformed"] == [expected for _, expected in MALFORMED_CASES]


async def test_snapshot_renders_rows_and_the_page_query_goes_to_events() -> None:
    harness = Harness(sections=three_rows())
    async with open_board(harness, path="/?group=3&agent=17") as board:
        assert await board.ids("open") == [1, 2]
        assert await board.ids("waiting") == [5]
        assert await board.text("#count-open") == "2"
        assert await board.text("#t-1 .subject") == "Ticket 1"
        assert await board.text("#t-1 .c-sla") == "FR due in 3 h"
        assert harness.event_requests == ["group=3&agent=17"]
        assert await board.page.evaluate("document.body.dataset.connects") == "1"


async def test_patch_adds_moves_and_removes_a_row_without_reload() -> None:
    now = time.time()
    harness = Harness(sections=three_rows(now))
    async with open_board(harness) as board:
        await board.mark_page()
        await board.page.evaluate(
            "for (const id of [1, 2, 5]) document.getElementById('t-' + id).__kept = id"
        )

        # A new ticket whose key sorts between 1 and 2.
        new = make_row(3, "open", now, key=[0, now + 200, -2, now, 3], subject="New one")
        await harness.patch(upsert=[new])
        await board.wait("document.querySelector('#t-3 .subject')?.textContent === 'New one'")
        assert await board.ids("open") == [1, 3, 2]
        assert await board.text("#count-open") == "3"
        assert "changed" in await board.page.get_attribute("#t-3", "class")

        # It moves to Waiting on Agent, before ticket 5 by key.
        moved = new | {"section": "waiting", "key": [0, now + 50, -2, now, 3], "sla": "overdue"}
        await harness.patch(upsert=[moved])
        await board.wait("document.getElementById('t-3')?.closest('tbody')?.id === 'rows-waiting'")
        assert await board.ids("open") == [1, 2]
        assert await board.ids("waiting") == [3, 5]
        assert await board.text("#count-open") == "2"
        assert await board.text("#count-waiting") == "2"
        assert "sla-overdue" in await board.page.get_attribute("#t-3", "class")

        # An update that keeps its place changes text in place.
        await harness.patch(upsert=[three_rows(now)["open"][1] | {"subject": "Renamed"}])
        await board.wait("document.querySelector('#t-2 .subject').textContent === 'Renamed'")

        # It leaves.
        await harness.patch(remove=[3])
        await board.wait("document.getElementById('t-3') === null")
        assert await board.text("#count-waiting") == "1"

        kept = await board.page.evaluate(
            "[1, 2, 5].map(id => document.getElementById('t-' + id).__kept)"
        )
        assert kept == [1, 2, 5]  # the very same DOM nodes all along
        assert "changed" not in await board.page.get_attribute("#t-1", "class")
        assert await board.not_reloaded()


async def test_unchanged_rows_are_left_alone_by_a_new_snapshot() -> None:
    now = time.time()
    harness = Harness(sections=three_rows(now))
    async with open_board(harness) as board:
        await board.mark_page()
        await board.page.evaluate(
            """window.__touched = new Set();
            new MutationObserver(records => records.forEach(r => {
                const tr = (r.target.nodeType === 1 ? r.target : r.target.parentNode).closest('tr');
                if (tr) window.__touched.add(tr.id);
            })).observe(document.querySelector('main'),
                        {subtree: true, childList: true, characterData: true, attributes: true});
            document.getElementById('t-1').__kept = true;"""
        )
        harness.sections["open"] = harness.sections["open"][:1]  # 2 is gone
        harness.sections["waiting"][0] = harness.sections["waiting"][0] | {"agent": "Walter"}
        await harness.end_streams()  # the browser reconnects by itself and gets a snapshot
        await board.wait("document.getElementById('t-2') === null")
        await board.wait("document.querySelector('#t-5 .c-agent').textContent === 'Walter'")
        assert await board.page.evaluate("document.getElementById('t-1').__kept") is True
        touched = await board.page.evaluate("[...window.__touched]")
        assert "t-1" not in touched
        assert await board.not_reloaded()


async def test_hostile_ticket_text_shows_as_text_and_runs_nothing() -> None:
    now = time.time()
    sections = three_rows(now)
    sections["open"][0] |= {"subject": HOSTILE, "description": HOSTILE_DESC}
    harness = Harness(sections=sections)
    async with open_board(harness) as board:
        assert await board.text("#t-1 .subject") == HOSTILE
        assert await board.text("#t-1 .desc") == HOSTILE_DESC
        live = make_row(7, "open", now, subject=HOSTILE, agent=HOSTILE, requester=HOSTILE_DESC)
        await harness.patch(upsert=[live])
        await board.wait("document.getElementById('t-7') !== null")
        assert await board.text("#t-7 .subject") == HOSTILE
        assert await board.text("#t-7 .c-agent") == HOSTILE
        assert await board.text("#t-7 .c-requester") == HOSTILE_DESC
        assert (
            await board.page.evaluate(
                "document.querySelectorAll('main img, main script, main b').length"
            )
            == 0
        )
        await board.page.hover("#t-7 .subject")
    # open_board asserts no dialog opened and no script error happened


async def test_theme_toggle_is_remembered_across_reload() -> None:
    async with open_board(Harness(sections=three_rows()), color_scheme="dark") as board:
        page = board.page
        background = "getComputedStyle(document.body).backgroundColor"
        assert await page.evaluate("document.documentElement.dataset.theme") is None
        dark = await page.evaluate(background)
        await page.focus("#theme-toggle")
        await page.keyboard.press("Enter")  # no mouse needed
        assert await page.evaluate("document.documentElement.dataset.theme") == "light"
        light = await page.evaluate(background)
        assert light != dark
        await page.reload()
        await board.wait_live()
        assert await page.evaluate("document.documentElement.dataset.theme") == "light"
        assert await page.evaluate(background) == light
        assert "Light" in await board.text("#theme-toggle")


async def test_subject_tooltip_shows_description_on_hover_and_keyboard_focus() -> None:
    async with open_board(Harness(sections=three_rows())) as board:
        page = board.page
        assert not await page.is_visible("#t-1 .desc")
        await page.hover("#t-1 .subject")
        await page.wait_for_selector("#t-1 .desc", state="visible")
        assert await board.text("#t-1 .desc") == "Description of ticket 1"
        await page.mouse.move(5, 5)
        await page.wait_for_selector("#t-1 .desc", state="hidden")
        await page.focus("#t-2 .subject")
        await page.wait_for_selector("#t-2 .desc", state="visible")


async def test_countdowns_tick_on_the_server_clock_not_the_tv_clock() -> None:
    skew = 2 * DAY  # the server's clock runs two days ahead of the TV's
    server_now = time.time() + skew
    sections = three_rows(server_now)
    sections["open"][0] |= {"fr_due": server_now + 61.5, "updated_at": server_now - 3 * MINUTE}
    harness = Harness(sections=sections, clock=lambda: time.time() + skew)
    async with open_board(harness) as board:
        assert await board.text("#t-1 .c-updated") == "3 m ago"
        assert await board.text("#t-2 .c-sla") == "FR due in 3 h"
        await board.wait("document.querySelector('#t-1 .c-sla').textContent === 'FR due in < 1 m'")


async def test_reconnects_after_a_502_closes_the_event_source() -> None:
    now = time.time()
    harness = Harness(sections=three_rows(now))
    async with open_board(harness) as board:
        await board.mark_page()
        harness.answers = [502]  # the proxy's answer while the server restarts
        harness.sections["other"] = [make_row(9, "other", now, subject="After restart")]
        await harness.end_streams()
        await board.page.wait_for_selector("#conn.conn-reconnecting")
        await board.wait_live(timeout=10_000)  # EventSource gave up; the page's backoff did not
        await board.page.wait_for_selector("#t-9")
        assert harness.event_requests == ["", "", ""]  # open, the 502, the page's own reconnect
        assert await board.not_reloaded()


async def test_reconnects_when_the_first_answer_is_not_200() -> None:
    harness = Harness(sections=three_rows())
    harness.answers = [502, 503]
    async with open_board(harness, wait_live=False) as board:
        await board.wait_live(timeout=10_000)
        assert len(harness.event_requests) == 3


async def test_stale_banner_when_the_stream_goes_quiet_then_the_watchdog_reconnects() -> None:
    harness = Harness(sections=three_rows(), heartbeat_seconds=1.0)  # quiet after 2 s, watchdog 3 s
    async with open_board(harness) as board:
        assert not await board.page.is_visible("#stale-banner")
        harness.heartbeats = False
        await board.page.wait_for_selector("#stale-banner", state="visible")
        assert "no live connection" in await board.text("#stale-banner")
        assert await board.text("#conn") != "live"
        await board.wait("document.body.dataset.connects === '2'")  # the watchdog reconnected
        harness.heartbeats = True
        await board.page.wait_for_selector("#stale-banner", state="hidden")
        await board.wait_live()
        assert len(harness.event_requests) == 2


async def test_stale_banner_when_the_last_successful_sync_is_too_old() -> None:
    harness = Harness(sections=three_rows(), stale_after_seconds=300)
    async with open_board(harness) as board:
        page = board.page
        assert re.fullmatch(r"last synced \d s ago", await board.text("#synced"))
        old = fresh_watcher(time.time() - 10 * MINUTE, last_error="Freshservice: 503 <retrying>")
        await harness.send(
            "status", {"watcher": old, "malformed": {"count": 2, "files": ["x.json", "y.txt"]}}
        )
        await page.wait_for_selector("#stale-banner", state="visible")
        assert "last successful sync 10 m ago" in await board.text("#stale-banner")
        assert await board.text("#synced") == "last synced 10 m ago"
        assert await board.text("#watch-error") == "Freshservice: 503 <retrying>"
        assert await board.text("#malformed") == "2 malformed files"
        assert await board.text("#conn") == "live"  # the stream is fine; the data is old

        await harness.send("status", {"watcher": fresh_watcher(), "malformed": {"count": 0}})
        await page.wait_for_selector("#stale-banner", state="hidden")
        assert not await page.is_visible("#watch-error")
        assert not await page.is_visible("#malformed")


async def test_first_paint_in_a_browser_without_javascript_shows_the_board() -> None:
    harness = Harness(sections=three_rows())
    url = await harness.start()
    try:
        async with chromium() as browser:
            context = await browser.new_context(java_script_enabled=False)
            page = await context.new_page()
            await page.goto(url + "/", timeout=5000)
            assert await page.text_content("#count-open", timeout=5000) == "2"
            assert await page.text_content("#t-1 .subject", timeout=5000) == "Ticket 1"
            assert await page.is_visible("noscript p", timeout=5000)
            await context.close()
    finally:
        await harness.stop()
