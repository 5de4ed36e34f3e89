"""The wall's calm side, on the real server in Chromium: marks for new urgent tickets and
breaches, pulses in step or not at all, the cursor, the sound indicator."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from support.browser import WAIT_MS, chromium, require_chromium
from support.server import serving
from support.tickets import HOUR, MINUTE, write_fresh_status, write_ticket

pytestmark = pytest.mark.timeout(60)

PULSES = """() => document.getAnimations()
    .filter(a => ['pulse', 'pulse-tag'].includes(a.animationName) && a.playState === 'running')
    .map(a => Math.round(a.currentTime % 2000))"""


def seed(tickets: Path) -> None:
    """Ticket 1 breached hours ago, ticket 2 a minute ago, ticket 3 is Critical (due in 1 h);
    ticket 4 was answered and breached its resolution deadline a minute ago."""
    now = time.time()
    for ident, fr_due in ((1, now - 3 * HOUR), (2, now - MINUTE), (3, now + HOUR)):
        write_ticket(
            tickets,
            ident,
            priority=2,
            created_at=now - 5 * HOUR,
            updated_at=now - 10 * MINUTE,
            fr_due_by=fr_due,
        )
    write_ticket(
        tickets,
        4,
        priority=2,
        created_at=now - 5 * HOUR,
        updated_at=now - 10 * MINUTE,
        fr_due_by=now - 3 * HOUR,
        due_by=now - MINUTE,
        stats={"first_responded_at": now - 4 * HOUR},
    )
    write_fresh_status(tickets)


@asynccontextmanager
async def wall(
    folders: tuple[Path, Path],
    log_dir: Path,
    path: str = "/",
    reduced_motion: str = "no-preference",
) -> AsyncIterator[Any]:
    require_chromium()
    seed(folders[0])
    with serving(*folders, log_dir=log_dir) as server:
        async with chromium() as browser:
            context = await browser.new_context(
                viewport={"width": 1920, "height": 1080}, reduced_motion=reduced_motion
            )
            context.set_default_timeout(WAIT_MS)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.on(
                "console",
                lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
            )
            await page.goto(server.url + path)
            await page.wait_for_selector("#conn.conn-live")
            yield page
            assert errors == []
            await context.close()


async def test_a_fresh_breach_and_a_ticket_raised_to_urgent_are_marked_and_pulse_in_step(
    folders, tmp_path
):
    async with wall(folders, tmp_path / "logs") as page:
        # Read from the row: ticket 2 breached a minute ago, ticket 1 hours ago.
        await page.wait_for_selector("#t-2[data-attn=breach]")
        assert await page.get_attribute("#t-1", "data-attn") is None
        await page.wait_for_selector("#t-4[data-attn=breach]")  # resolution, not first response
        assert (await page.text_content("#t-4 .c-sla") or "").startswith("Overdue by ")
        # Seen happening: ticket 3 raised to Urgent (its row has no time for that).
        now = time.time()
        write_ticket(
            folders[0],
            3,
            priority=4,
            created_at=now - 5 * HOUR,
            updated_at=now,
            fr_due_by=now + HOUR,
        )
        await page.wait_for_selector("#t-3[data-attn=urgent]")
        await page.wait_for_timeout(100)  # the next frame puts every pulse in one phase
        phases = await page.evaluate(PULSES)
        assert len(phases) >= 4  # two overdue cells, two tags
        assert max(phases) - min(phases) <= 20


async def test_reduced_motion_leaves_nothing_pulsing_and_keeps_the_marks(folders, tmp_path):
    async with wall(folders, tmp_path / "logs", reduced_motion="reduce") as page:
        await page.wait_for_selector("#t-2[data-attn=breach]")
        assert await page.evaluate(PULSES) == []
        tag = await page.evaluate(
            "getComputedStyle(document.querySelector('#t-2 .subject'), '::before').content"
        )
        assert "NEW BREACH" in tag


async def test_the_cursor_goes_after_a_few_seconds_and_comes_back_on_movement(folders, tmp_path):
    async with wall(folders, tmp_path / "logs") as page:
        idle = "document.documentElement.classList.contains('cursor-idle')"
        await page.mouse.move(200, 300)
        assert await page.evaluate(idle) is False
        await page.wait_for_function(f"() => {idle}", timeout=6000)
        await page.mouse.move(220, 310)
        assert await page.evaluate(idle) is False


async def test_sound_says_it_is_blocked_until_a_click_then_plays_for_a_new_urgent_ticket(
    folders, tmp_path
):
    async with wall(folders, tmp_path / "logs", "/?sound=1") as page:
        state = page.locator("#sound-state")
        assert "sound blocked" in await state.inner_text()  # headless: no autoplay, no gesture
        await page.mouse.click(5, 5)
        await page.wait_for_function("() => document.body.dataset.soundState === 'on'")
        assert "sound on" in await state.inner_text()
        now = time.time()
        write_ticket(folders[0], 9, priority=4, created_at=now - 30, updated_at=now - 30)
        await page.wait_for_function("() => document.body.dataset.soundsPlayed === '1'")


async def test_without_sound_in_the_url_there_is_no_sound_indicator(folders, tmp_path):
    async with wall(folders, tmp_path / "logs") as page:
        assert await page.is_hidden("#sound-state")
