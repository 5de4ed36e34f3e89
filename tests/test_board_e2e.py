"""What a person sees: the real server, real files, headless Chromium, no reloads.

Each test writes ticket files into a folder a real hypercorn is watching and checks the page
in Debian's Chromium. They skip without /usr/bin/chromium, except under CI=true.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.browser import chromium_page, require_chromium
from support.ports import free_port
from support.server import BoardProcess, launch_board, serving
from support.tickets import HOUR, write_ticket

from app.contract.status import WatcherStatus, write_status
from app.contract.times import utc_now_iso

HOSTILE = "<img src=x onerror=alert(1)>"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


def start_server(tickets: Path, mappings: Path, port: int) -> BoardProcess:
    server = launch_board(tickets, mappings, log_dir=tickets.parent / "logs", port=port)
    server.wait_ready()
    return server


def fresh_status(tickets: Path) -> None:
    write_status(tickets, WatcherStatus(source="test", last_success=utc_now_iso()))


async def test_a_row_appears_moves_and_disappears_without_a_reload(folders):
    tickets = folders[0]
    fresh_status(tickets)
    with serving(*folders, log_dir=folders[0].parent) as server:
        async with chromium_page() as page:
            await page.goto(server.url)
            await page.evaluate("window.__sameDocument = true")
            await page.wait_for_selector("#conn.conn-live")
            write_ticket(tickets, 42, subject="Core switch down")
            await page.wait_for_selector("#rows-open #t-42")
            assert await page.inner_text("#count-open") == "1"
            write_ticket(tickets, 42, subject="Core switch down", status=3)
            await page.wait_for_selector("#rows-other #t-42")
            assert await page.locator("#rows-open #t-42").count() == 0
            (tickets / "42.json").unlink()
            await page.wait_for_selector("#t-42", state="detached")
            assert await page.evaluate("window.__sameDocument") is True


async def test_sla_state_changes_on_screen_when_its_threshold_passes(folders):
    tickets = folders[0]
    fresh_status(tickets)
    due = int(time.time()) + 4 * HOUR + 10  # Warning now, Critical in about 10 s
    write_ticket(tickets, 7, fr_due_by=due)
    with serving(*folders, log_dir=folders[0].parent) as server:
        async with chromium_page() as page:
            await page.goto(server.url)
            await page.wait_for_selector("#t-7.sla-warning")
            await page.wait_for_selector("#t-7.sla-critical", timeout=15_000)
            text = await page.inner_text("#t-7 .c-sla")
            assert text.startswith("FR due in 3 h 59 m") or text.startswith("FR due in 4 h")


async def test_hostile_subject_shows_as_text_and_runs_nothing(folders):
    tickets = folders[0]
    fresh_status(tickets)
    write_ticket(tickets, 1, subject=HOSTILE, description_text=HOSTILE)
    with serving(*folders, log_dir=folders[0].parent) as server:
        async with chromium_page() as page:
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            await page.goto(server.url)
            assert await page.inner_text("#t-1 .subject") == HOSTILE  # first paint
            write_ticket(tickets, 2, subject=HOSTILE)  # and patched in by JS
            await page.wait_for_selector("#t-2")
            assert await page.inner_text("#t-2 .subject") == HOSTILE
            assert await page.locator("main img").count() == 0
            await page.wait_for_timeout(300)
            assert dialogs == []


async def test_tooltip_shows_the_description_and_the_id_links_to_freshservice(folders):
    tickets = folders[0]
    fresh_status(tickets)
    write_ticket(tickets, 5, description_text="The VPN concentrator rebooted twice.")
    env = {"TICKET_DASH_FRESHSERVICE_DOMAIN": "acme.freshservice.com"}
    with serving(*folders, log_dir=folders[0].parent, env=env) as server:
        async with chromium_page() as page:
            await page.goto(server.url)
            await page.hover("#t-5 .subject")
            tip = page.locator("#t-5 .desc")
            await tip.wait_for(state="visible")
            assert await tip.inner_text() == "The VPN concentrator rebooted twice."
            link = await page.get_attribute("#t-5 .c-id a", "href")
            assert link == "https://acme.freshservice.com/a/tickets/5"


async def test_theme_choice_survives_a_reload(folders):
    fresh_status(folders[0])
    with serving(*folders, log_dir=folders[0].parent) as server:
        async with chromium_page(color_scheme="dark") as page:
            await page.goto(server.url)
            before = await page.get_attribute("html", "data-theme")
            await page.click("#theme-toggle")
            after = await page.get_attribute("html", "data-theme")
            assert after != before
            await page.reload()
            assert await page.get_attribute("html", "data-theme") == after


async def test_stale_banner_appears_when_the_last_sync_grows_old(folders):
    tickets = folders[0]
    fresh_status(tickets)
    env = {"TICKET_DASH_STALE_AFTER_SECONDS": "6"}
    with serving(*folders, log_dir=folders[0].parent, env=env) as server:
        async with chromium_page() as page:
            fresh_status(tickets)
            await page.goto(server.url)
            await page.wait_for_selector("#conn.conn-live")
            assert await page.is_hidden("#stale-banner")
            # No new sync arrives: within a few seconds the page must say so by itself.
            await page.wait_for_selector("#stale-banner", state="visible", timeout=12_000)
            fresh_status(tickets)
            await page.wait_for_selector("#stale-banner", state="hidden", timeout=5_000)


async def test_page_recovers_by_itself_after_the_server_restarts(folders):
    tickets = folders[0]
    fresh_status(tickets)
    port = free_port()
    server = start_server(*folders, port=port)
    try:
        async with chromium_page() as page:
            await page.goto(server.url)
            await page.evaluate("window.__sameDocument = true")
            await page.wait_for_selector("#conn.conn-live")
            server.stop()
            await page.wait_for_selector("#conn.conn-reconnecting, #conn.conn-offline")
            await page.wait_for_selector("#stale-banner", state="visible", timeout=10_000)
            write_ticket(tickets, 99, subject="Written while the board was down")
            server = start_server(*folders, port=port)
            await page.wait_for_selector("#t-99", timeout=40_000)
            await page.wait_for_selector("#conn.conn-live")
            assert await page.evaluate("window.__sameDocument") is True
    finally:
        server.stop()


async def test_page_reloads_itself_when_a_new_release_is_served(folders):
    fresh_status(folders[0])
    port = free_port()
    server = start_server(*folders, port=port)
    try:
        async with chromium_page() as page:
            await page.goto(server.url)
            await page.wait_for_selector("#conn.conn-live")
            # Pretend this page came from an older release, then restart the server.
            await page.evaluate("document.body.dataset.version = 'old'; window.__oldPage = true")
            async with page.expect_navigation(timeout=40_000):
                server.stop()
                server = start_server(*folders, port=port)
            assert await page.evaluate("window.__oldPage === undefined")
            await page.wait_for_selector("#conn.conn-live")
            assert await page.get_attribute("body", "data-version") not in ("old", "")
    finally:
        server.stop()
