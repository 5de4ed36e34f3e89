"""What a person sees: the real server, real files, headless Chromium.

Each test writes ticket files into the folder a real board (`python -m app` on a free port) is
watching and checks the page in Debian's Chromium: escaping, the theme, the tooltip, rows patched
in place, countdowns on the server's clock, the connection and STALE states. They skip without
/usr/bin/chromium, except under CI=true.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from support.browser import chromium, chromium_page, require_chromium
from support.tickets import DAY, HOUR, MINUTE, write_fresh_status, write_ticket

from app.contract.mappings import write_mapping
from app.contract.status import WatcherStatus, write_status
from app.contract.times import iso

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_DESC = '</span><script>alert("desc")</script><b onmouseover=alert(2)>hi</b>'

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


class BoardPage:
    """The board in Chromium, recording dialogs, script errors, CSP violations and the query
    string of every /events request."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.problems: list[str] = []
        self.event_requests: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        page.on("console", self._on_console)
        page.on("request", self._on_request)

    async def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    def _on_console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(message.text)

    def _on_request(self, request: Any) -> None:
        url = urlsplit(request.url)
        if url.path == "/events":
            self.event_requests.append(url.query)

    async def open(self, url: str, live: bool = True) -> None:
        await self.page.goto(url)
        if live:
            await self.wait_live()

    async def ids(self, section: str) -> list[int]:
        return await self.page.eval_on_selector_all(
            f"#rows-{section} tr", "rows => rows.map(r => Number(r.id.slice(2)))"
        )

    async def text(self, selector: str) -> str:
        return await self.page.text_content(selector)

    async def wait(self, expression: str, timeout: float = 5000) -> None:
        """Until `expression` is true (a function: a string would need eval, which CSP blocks)."""
        await self.page.wait_for_function(f"() => ({expression})", timeout=timeout)

    async def wait_live(self, timeout: float = 5000) -> None:
        await self.page.wait_for_selector("#conn.conn-live", timeout=timeout)

    async def mark_document(self) -> None:
        """Tag this document so a later check proves there was no reload."""
        await self.page.evaluate("window.__sameDocument = true")

    async def same_document(self) -> bool:
        return await self.page.evaluate("window.__sameDocument === true")

    async def keep_nodes(self, *ids: int) -> None:
        """Tag these rows' <tr> nodes, so `kept_nodes` can tell they were never replaced."""
        await self.page.evaluate(
            "ids => ids.forEach(id => { document.getElementById('t-' + id).__kept = id; })",
            list(ids),
        )

    async def kept_nodes(self, *ids: int) -> list[int | None]:
        return await self.page.evaluate(
            "ids => ids.map(id => document.getElementById('t-' + id)?.__kept ?? null)", list(ids)
        )


@asynccontextmanager
async def board_page(color_scheme: str = "dark") -> AsyncIterator[BoardPage]:
    """A fresh page; at the end no dialog opened, no script failed and CSP blocked nothing."""
    async with chromium_page(color_scheme=color_scheme) as page:
        board = BoardPage(page)
        yield board
        assert board.problems == []
        assert board.dialogs == []


def responded(**stats: float) -> dict[str, float]:
    return {"first_responded_at": time.time() - 3 * HOUR, **stats}


def waiting_on_agent() -> dict[str, Any]:
    """Fields of a ticket whose requester replied after the agent: Waiting on Agent."""
    now = time.time()
    return {
        "stats": responded(agent_responded_at=now - 2 * HOUR, requester_responded_at=now - HOUR)
    }


def three_tickets(tickets: Path, **fields: Any) -> None:
    """1 and 2 Open (1 due first), 5 Waiting on Agent."""
    now = int(time.time())
    write_ticket(tickets, 1, fr_due_by=now + 3 * HOUR + 100, **fields)
    write_ticket(tickets, 2, fr_due_by=now + 3 * HOUR + 300, **fields)
    write_ticket(tickets, 5, **waiting_on_agent(), **fields)


# ---- rows --------------------------------------------------------------------------------------


async def test_snapshot_renders_rows_in_order_and_the_page_query_goes_to_events(
    folders, start_board
):
    tickets = folders[0]
    write_fresh_status(tickets)
    three_tickets(tickets, group_id=3, responder_id=17)
    write_ticket(tickets, 9, group_id=4, responder_id=17)  # another team's
    server = start_board()
    async with board_page() as board:
        await board.open(f"{server.url}/?group=3&agent=17")
        assert await board.ids("open") == [1, 2]
        assert await board.ids("waiting") == [5]
        assert await board.text("#count-open") == "2"
        assert await board.text("#t-1 .subject") == "Ticket 1"
        assert await board.text("#t-1 .c-sla") == "FR due in 3 h 1 m"
        assert board.event_requests == ["group=3&agent=17"]
        assert await board.page.evaluate("document.body.dataset.connects") == "1"


async def test_a_row_appears_moves_and_disappears_without_a_reload(folders, start_board):
    tickets, mappings = folders
    write_fresh_status(tickets)
    write_mapping(mappings / "statuses.txt", {6: "Waiting on Agent"})
    three_tickets(tickets)
    now = int(time.time())
    server = start_board()
    async with board_page() as board:
        await board.open(server.url)
        await board.mark_document()
        await board.keep_nodes(1, 2, 5)

        # A new ticket, due between 1 and 2.
        write_ticket(tickets, 3, subject="Core switch down", fr_due_by=now + 3 * HOUR + 200)
        await board.wait(
            "document.querySelector('#t-3 .subject')?.textContent === 'Core switch down'"
        )
        assert await board.ids("open") == [1, 3, 2]
        assert await board.text("#count-open") == "3"
        assert "changed" in await board.page.get_attribute("#t-3", "class")

        # Waiting on Agent by its status, overdue: it moves there, before the answered 5.
        write_ticket(tickets, 3, subject="Core switch down", status=6, fr_due_by=now - MINUTE)
        await board.wait("document.getElementById('t-3')?.closest('tbody')?.id === 'rows-waiting'")
        assert await board.ids("open") == [1, 2]
        assert await board.ids("waiting") == [3, 5]
        assert await board.text("#count-open") == "2"
        assert await board.text("#count-waiting") == "2"
        assert "sla-overdue" in await board.page.get_attribute("#t-3", "class")

        # A change that keeps its place changes the text in place.
        write_ticket(tickets, 2, subject="Renamed", fr_due_by=now + 3 * HOUR + 300)
        await board.wait("document.querySelector('#t-2 .subject').textContent === 'Renamed'")

        (tickets / "3.json").unlink()
        await board.wait("document.getElementById('t-3') === null")
        assert await board.text("#count-waiting") == "1"

        assert await board.kept_nodes(1, 2, 5) == [1, 2, 5]  # the very same DOM nodes
        assert "changed" not in await board.page.get_attribute("#t-1", "class")
        assert await board.same_document()


async def test_after_a_server_restart_the_page_catches_up_by_itself_and_leaves_unchanged_rows_alone(
    folders, start_board
):
    tickets, mappings = folders
    write_fresh_status(tickets)
    write_mapping(mappings / "agents.txt", {17: "Dana Scully", 18: "Walter Skinner"})
    three_tickets(tickets, responder_id=17)
    server = start_board()
    async with board_page() as board:
        await board.open(server.url)
        await board.mark_document()
        await board.keep_nodes(1)
        await board.page.evaluate(
            """window.__touched = new Set();
            new MutationObserver(records => records.forEach(r => {
                const tr = (r.target.nodeType === 1 ? r.target : r.target.parentNode).closest('tr');
                if (tr) window.__touched.add(tr.id);
            })).observe(document.querySelector('main'),
                        {subtree: true, childList: true, characterData: true, attributes: true});"""
        )
        server.stop()
        await board.page.wait_for_selector("#conn.conn-reconnecting")
        await board.page.wait_for_selector("#stale-banner", state="visible")
        assert "no live connection" in await board.text("#stale-banner")

        # While it is down: 2 is resolved, 5 changes hands, 99 is new.
        (tickets / "2.json").unlink()
        write_ticket(tickets, 5, **waiting_on_agent(), responder_id=18)
        write_ticket(tickets, 99, subject="Written while the board was down")
        start_board(port=server.port)

        await board.page.wait_for_selector("#t-99", timeout=10_000)
        await board.wait_live()
        assert await board.ids("open") == [1, 99]
        assert await board.text("#t-5 .c-agent") == "Walter Skinner"
        assert await board.page.is_hidden("#stale-banner")
        assert await board.kept_nodes(1) == [1]
        assert "t-1" not in await board.page.evaluate("[...window.__touched]")
        assert await board.same_document()


# ---- what is on screen -----------------------------------------------------------------------


async def test_hostile_ticket_text_shows_as_text_and_runs_nothing(folders, start_board):
    tickets, mappings = folders
    write_fresh_status(tickets)
    write_mapping(mappings / "agents.txt", {17: HOSTILE})
    write_mapping(mappings / "requesters.txt", {66: HOSTILE_DESC})
    write_ticket(tickets, 1, subject=HOSTILE, description_text=HOSTILE_DESC)
    server = start_board()
    async with board_page() as board:
        await board.open(server.url)
        assert await board.text("#t-1 .subject") == HOSTILE  # the first paint
        assert await board.text("#t-1 .desc") == HOSTILE_DESC
        write_ticket(tickets, 7, subject=HOSTILE, responder_id=17, requester_id=66)  # and JS
        await board.wait("document.getElementById('t-7') !== null")
        assert await board.text("#t-7 .subject") == HOSTILE
        assert await board.text("#t-7 .c-agent") == HOSTILE
        assert await board.text("#t-7 .c-requester") == HOSTILE_DESC
        assert await board.page.locator("main img, main script, main b").count() == 0
        await board.page.hover("#t-7 .subject")
        # A subject's own direction stays inside its cell, in the first paint and in patches.
        for row in ("#t-1", "#t-7"):
            for part in (".subject", ".desc", ".c-requester", ".c-agent", ".c-group"):
                assert await board.page.get_attribute(f"{row} {part}", "dir") == "auto"
    # board_page has checked that no dialog opened and no script failed


async def test_subject_tooltip_shows_the_description_on_hover_and_keyboard_focus(
    folders, start_board
):
    tickets = folders[0]
    write_fresh_status(tickets)
    three_tickets(tickets)
    write_ticket(tickets, 1, description_text="The VPN concentrator rebooted twice.")
    server = start_board(env={"TICKET_DASH_FRESHSERVICE_DOMAIN": "acme.freshservice.com"})
    async with board_page() as board:
        page = board.page
        await board.open(server.url)
        assert not await page.is_visible("#t-1 .desc")
        await page.hover("#t-1 .subject")
        await page.wait_for_selector("#t-1 .desc", state="visible")
        assert await board.text("#t-1 .desc") == "The VPN concentrator rebooted twice."
        await page.mouse.move(5, 5)
        await page.wait_for_selector("#t-1 .desc", state="hidden")
        await page.focus("#t-2 .subject")
        await page.wait_for_selector("#t-2 .desc", state="visible")
        assert await board.text("#t-2 .desc") == "Description of ticket 2"
        link = page.locator("#t-1 .c-id a")
        assert await link.get_attribute("href") == "https://acme.freshservice.com/a/tickets/1"
        assert await link.get_attribute("target") == "_blank"


async def test_theme_choice_is_remembered_across_a_reload(folders, start_board):
    write_fresh_status(folders[0])
    server = start_board()
    async with board_page(color_scheme="dark") as board:
        page = board.page
        background = "getComputedStyle(document.body).backgroundColor"
        await board.open(server.url)
        assert await page.evaluate("document.documentElement.dataset.theme") is None
        assert await board.text("#theme-toggle") == "☾ Dark"  # the system's choice
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
        assert await board.text("#theme-toggle") == "☀ Light"


async def test_first_paint_in_a_browser_without_javascript_shows_the_board(folders, start_board):
    write_fresh_status(folders[0])
    three_tickets(folders[0])
    server = start_board()
    async with chromium() as browser:
        context = await browser.new_context(java_script_enabled=False)
        context.set_default_timeout(5000)
        page = await context.new_page()
        await page.goto(server.url)
        assert await page.text_content("#count-open") == "2"
        assert await page.text_content("#t-1 .subject") == "Ticket 1"
        assert await page.is_visible("noscript p")
        await context.close()


# ---- time ---------------------------------------------------------------------------------


async def test_countdowns_tick_on_the_server_clock_not_the_tv_clock(folders, start_board):
    tickets = folders[0]
    write_fresh_status(tickets)
    now = int(time.time())
    write_ticket(tickets, 2, fr_due_by=now + 3 * HOUR + 30, updated_at=now - 3 * MINUTE)
    server = start_board()
    async with board_page() as board:
        await board.page.clock.install(time=time.time() - 2 * DAY)  # the TV is two days behind
        await board.open(server.url)
        assert await board.text("#t-2 .c-sla") == "FR due in 3 h"  # the first paint
        assert await board.text("#t-2 .c-updated") == "3 m ago"
        now = int(time.time())
        write_ticket(tickets, 1, fr_due_by=now + 64)  # patched in by JS, then ticking
        await board.page.wait_for_selector("#t-1")
        assert await board.text("#t-1 .c-sla") == "FR due in 1 m"
        await board.wait("document.querySelector('#t-1 .c-sla').textContent === 'FR due in < 1 m'")


async def test_sla_state_changes_on_screen_when_its_threshold_passes(folders, start_board):
    tickets = folders[0]
    write_fresh_status(tickets)
    server = start_board()
    async with board_page() as board:
        await board.open(server.url)
        due = int(time.time()) + 4 * HOUR + 4  # Warning now, Critical in about 3 s
        write_ticket(tickets, 7, fr_due_by=due)
        await board.page.wait_for_selector("#t-7.sla-warning")
        await board.page.wait_for_selector("#t-7.sla-critical", timeout=8_000)
        assert await board.text("#t-7 .c-sla") == "FR due in 3 h 59 m"


# ---- connection and STALE ---------------------------------------------------------------------


async def test_stale_banner_when_the_last_successful_sync_is_too_old(folders, start_board):
    tickets = folders[0]
    for ident in (1, 2, 3):  # most ticket files are fine: the two bad ones are not a problem
        write_ticket(tickets, ident)
    write_fresh_status(tickets)
    server = start_board()
    async with board_page() as board:
        page = board.page
        await board.open(server.url)
        assert re.fullmatch(r"last synced \d s ago", await board.text("#synced"))
        assert await page.is_hidden("#stale-banner")
        old = iso(time.time() - 10 * MINUTE)
        error = "Freshservice: 503 <retrying>"
        write_status(tickets, WatcherStatus(source="test", last_success=old, last_error=error))
        (tickets / "8.json").write_text("{not json")
        (tickets / "9.json").write_text('{"id": 9')
        await page.wait_for_selector("#stale-banner", state="visible")
        await board.wait("document.getElementById('malformed').textContent === '2 malformed files'")
        assert await board.text("#stale-reason") == "last successful sync 10 m ago"
        assert await board.text("#synced") == "last synced 10 m ago"
        assert await board.text("#watch-error") == error
        assert await page.get_attribute("#malformed", "title") == "8.json, 9.json"
        assert await board.text("#conn") == "live"  # the stream is fine; the data is old

        write_fresh_status(tickets)
        write_ticket(tickets, 8)
        write_ticket(tickets, 9)
        await page.wait_for_selector("#stale-banner", state="hidden")
        await page.wait_for_selector("#malformed", state="hidden")
        assert not await page.is_visible("#watch-error")
        assert await board.ids("open") == [1, 2, 3, 8, 9]


async def test_stale_banner_appears_by_itself_when_no_new_sync_arrives(folders, start_board):
    tickets = folders[0]
    server = start_board(env={"TICKET_DASH_STALE_AFTER_SECONDS": "4"})
    async with board_page() as board:
        write_fresh_status(tickets)
        await board.open(server.url)
        await board.wait("document.getElementById('synced').textContent.startsWith('last synced')")
        assert await board.page.is_hidden("#stale-banner")
        # No new sync arrives: within a few seconds the page must say so by itself.
        await board.page.wait_for_selector("#stale-banner", state="visible", timeout=8_000)
        assert (await board.text("#stale-reason")).startswith("last successful sync ")
        write_fresh_status(tickets)
        await board.page.wait_for_selector("#stale-banner", state="hidden")


async def test_stale_banner_when_the_stream_goes_quiet_then_the_watchdog_reconnects(
    folders, start_board
):
    write_fresh_status(folders[0])
    # Heartbeats every second: the page calls the stream down after 2 s, reconnects after 3 s.
    server = start_board(env={"TICKET_DASH_HEARTBEAT_SECONDS": "1"})
    async with board_page() as board:
        await board.open(server.url)
        assert await board.page.is_hidden("#stale-banner")
        os.kill(server.pid, signal.SIGSTOP)  # a hung server: the connection stays, nothing comes
        try:
            await board.page.wait_for_selector("#stale-banner", state="visible")
            assert await board.text("#stale-reason") == "no live connection to the server"
            assert await board.text("#conn") == "reconnecting"
            await board.wait("document.body.dataset.connects === '2'")  # the watchdog's
        finally:
            os.kill(server.pid, signal.SIGCONT)
        await board.page.wait_for_selector("#stale-banner", state="hidden")
        await board.wait_live()
        assert board.event_requests == ["", ""]


async def test_an_open_page_takes_a_longer_heartbeat_from_a_reload_and_keeps_its_stream(
    folders, start_board, tmp_path
):
    write_fresh_status(folders[0])
    config = tmp_path / "ticket-dash.toml"
    config.write_text("heartbeat_seconds = 1\n")
    server = start_board(env={"TICKET_DASH_CONFIG": str(config)})
    async with board_page() as board:
        await board.open(server.url)
        # Heartbeats every 4 s from now: a page still judging by 1 s would call its stream down
        # after 2 s of quiet and reconnect after 3 s, again and again.
        config.write_text("heartbeat_seconds = 4\n")
        server.process.send_signal(signal.SIGHUP)
        await board.wait("document.body.dataset.heartbeatTaken === '4'")
        started = time.monotonic()
        while time.monotonic() - started < 9:  # two heartbeats' worth of quiet
            assert await board.text("#conn") == "live"
            await board.page.wait_for_timeout(250)
        assert await board.page.evaluate("document.body.dataset.connects") == "1"
        assert await board.page.is_hidden("#stale-banner")


async def test_reconnects_after_a_502_closes_the_event_source(folders, start_board):
    tickets = folders[0]
    write_fresh_status(tickets)
    server = start_board()
    async with board_page() as board:
        answers: list[int] = []  # what a proxy in front says to the next /events requests

        async def proxy(route: Any) -> None:
            if answers:
                await route.fulfill(status=answers.pop(0), body="Bad Gateway")
            else:
                await route.continue_()

        await board.page.route("**/events*", proxy)
        await board.open(server.url)
        await board.mark_document()
        answers.append(502)  # the proxy's answer while the board restarts
        server.stop()
        write_ticket(tickets, 9, subject="After the restart")
        start_board(port=server.port)
        await board.page.wait_for_selector("#t-9", timeout=10_000)  # EventSource gave up on
        await board.wait_live()  # the 502; the page's own backoff did not
        assert answers == []
        assert board.event_requests == ["", "", ""]  # open, the 502, the page's reconnect
        assert await board.same_document()


async def test_reconnects_when_the_first_answers_are_not_200(folders, start_board):
    write_fresh_status(folders[0])
    server = start_board()
    async with board_page() as board:
        answers = [502, 503]

        async def proxy(route: Any) -> None:
            if answers:
                await route.fulfill(status=answers.pop(0), body="Bad Gateway")
            else:
                await route.continue_()

        await board.page.route("**/events*", proxy)
        await board.open(server.url, live=False)
        await board.wait_live(timeout=10_000)
        assert board.event_requests == ["", "", ""]


async def test_page_reloads_itself_when_a_new_release_is_served(folders, start_board):
    write_fresh_status(folders[0])
    server = start_board()
    async with httpx.AsyncClient() as client:
        version = (await client.get(f"{server.url}/api/tickets")).json()["version"]
    async with board_page() as board:
        await board.open(server.url)
        assert await board.page.get_attribute("body", "data-version") == version
        # Pretend this page came from an older release, then restart the server.
        await board.page.evaluate("document.body.dataset.version = 'old'")
        await board.mark_document()
        async with board.page.expect_navigation(timeout=20_000):
            server.stop()
            start_board(port=server.port)
        assert not await board.same_document()
        await board.wait_live()
        assert await board.page.get_attribute("body", "data-version") == version
