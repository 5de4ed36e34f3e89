"""Today's strip in a real browser: the numbers of /api/summary, per the page's filters, patched
live, and a sparkline per trend."""

from __future__ import annotations

import time

import pytest
from support.browser import chromium_page, require_chromium
from support.tickets import write_ticket
from test_summary_e2e import ZONE, get_summary, write_day


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


async def strip_number(page, key: str) -> str:
    return await page.text_content(f'#today [data-today="{key}"] .n')


async def test_the_strip_shows_todays_numbers_follows_filters_and_updates_live(
    start_board, folders
):
    tickets, mappings = folders
    write_day(tickets, mappings)
    board = start_board(env={"TICKET_DASH_TIMEZONE": ZONE})
    everything = get_summary(board.url)["today"]
    network = get_summary(board.url, "?group=Network")["today"]
    assert everything["created"] == 1 and everything["fr_breached"] == 1

    async with chromium_page() as page:
        await page.goto(f"{board.url}/?group=Network")
        await page.wait_for_selector("#conn.conn-live")
        assert await strip_number(page, "created") == str(network["created"])
        assert await strip_number(page, "resolved") == str(network["resolved"])
        assert await strip_number(page, "fr_breached") == str(network["fr_breached"])
        # yesterday is known here (an older archive day): more FR breaches than yesterday
        assert "is-worse" in await page.get_attribute('#today [data-today="fr_breached"]', "class")
        # a sparkline per trend, drawn from the stored sample
        path = await page.get_attribute('#today [data-trend="open"] svg path', "d")
        assert path and path.startswith("M")

        # a new Network ticket today: the strip counts it without a reload
        write_ticket(tickets, 6, group_id=7, created_at=time.time() - 1)
        await page.wait_for_function(
            "n => document.querySelector('#today [data-today=\"created\"] .n').textContent == n",
            arg=str(network["created"] + 1),
            timeout=10_000,
        )
        # a Servers ticket is not this screen's: the number stays
        write_ticket(tickets, 7, group_id=8, created_at=time.time() - 1)
        await page.wait_for_timeout(3000)
        assert await strip_number(page, "created") == str(network["created"] + 1)

        await page.goto(board.url)
        await page.wait_for_selector("#conn.conn-live")
        assert await strip_number(page, "created") == str(everything["created"] + 2)
