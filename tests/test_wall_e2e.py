"""The wall, as a person across the room sees it: the real server, real files, Debian's Chromium.

More rows than fit are shown in turns, and every ticket is on screen within one turn without
input, also while patches arrive; the counters equal the rows; text grows with the screen; a
filter value the board does not know is announced, and the announcement goes by itself.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.browser import chromium_page, require_chromium
from support.server import serving
from support.tickets import HOUR, MINUTE, write_ticket

from app.contract.mappings import write_mapping
from app.contract.status import WatcherStatus, write_status
from app.contract.times import utc_now_iso

pytestmark = pytest.mark.timeout(150)

GROUPS = {3: "Network", 4: "Service Desk", 5: "Facilities"}
HOSTILE = "<img src=x onerror=alert(1)>"
TURN_WAIT_MS = 60_000  # a whole turn at ?dwell=2 takes ~10 s; the bound allows a busy machine

# Every row on the screen: laid out, and inside the board's visible area (not clipped, not paged
# away), sampled every 50 ms and after each page change into window.__onScreen[turn] (body[data-turns] counts finished turns).
WATCH = """
() => {
  window.__onScreen = {};
  const main = document.getElementById('board');
  const look = () => {
    const box = main.getBoundingClientRect();
    const turn = document.body.dataset.turns;
    const seen = (window.__onScreen[turn] = window.__onScreen[turn] || new Set());
    for (const tr of document.querySelectorAll('tr.row')) {
      const r = tr.getBoundingClientRect();
      if (r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1) {
        seen.add(Number(tr.id.slice(2)));
      }
    }
  };
  setInterval(look, 50);
  // and right after every page change, however busy the machine (timers can starve under load)
  new MutationObserver(() => requestAnimationFrame(look)).observe(document.body, {
    attributes: true, attributeFilter: ['data-page'] });
  look();
}
"""


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


def fresh_status(tickets: Path) -> None:
    write_status(tickets, WatcherStatus(source="test", last_success=utc_now_iso()))


def seed(tickets: Path, mappings: Path, count: int, rng: random.Random) -> None:
    """`count` tickets over the three sections and every SLA state, in three groups."""
    write_mapping(mappings / "groups.txt", GROUPS)
    now = time.time()
    for ident in range(1, count + 1):
        write_random_ticket(tickets, ident, rng, now)
    fresh_status(tickets)


def write_random_ticket(tickets: Path, ident: int, rng: random.Random, now: float) -> None:
    due = now + rng.choice([-2 * HOUR, 2 * HOUR, 8 * HOUR, 30 * HOUR])
    responded = rng.random() < 0.4
    write_ticket(
        tickets,
        ident,
        subject=f"Ticket {ident}: " + rng.choice(["VPN down", "Printer jam", "Disk full"]),
        status=rng.choice([2, 2, 2, 3]),
        priority=rng.choice([1, 2, 3, 4]),
        group_id=rng.choice([3, 4, 5, None]),
        responder_id=rng.choice([None, 17]),
        created_at=now - 3 * HOUR,
        updated_at=now - rng.uniform(1, 50) * MINUTE,
        fr_due_by=due,
        due_by=due,
        stats={"first_responded_at": now - 2 * HOUR} if responded else {},
    )


async def board_ids(page: Any) -> set[int]:
    return set(
        await page.evaluate(
            "[...document.querySelectorAll('tr.row')].map(tr => Number(tr.id.slice(2)))"
        )
    )


async def turns(page: Any) -> int:
    return int(await page.evaluate("Number(document.body.dataset.turns || 0)"))


async def next_turn(page: Any, after: int) -> None:
    await page.wait_for_function(
        f"() => Number(document.body.dataset.turns || 0) > {after}", timeout=TURN_WAIT_MS
    )


async def one_whole_turn(page: Any) -> tuple[set[int], set[int], set[int]]:
    """Waits for a turn to start, watches it to its end: (ids at start, at end, on screen)."""
    await next_turn(page, await turns(page))
    turn = await turns(page)
    start = await board_ids(page)
    await next_turn(page, turn)
    end = await board_ids(page)
    seen = set(await page.evaluate(f"[...(window.__onScreen['{turn}'] || [])]"))
    return start, end, seen


async def test_more_rows_than_fit_are_all_on_screen_within_one_turn_without_input(
    folders, tmp_path
):
    tickets, mappings = folders
    seed(tickets, mappings, 40, random.Random(3))
    with serving(*folders, log_dir=tmp_path / "logs") as server:
        async with chromium_page(viewport={"width": 1280, "height": 720}) as page:
            await page.goto(server.url + "/?dwell=2")
            await page.wait_for_selector("#conn.conn-live")
            assert await page.is_visible("#pager")
            await page.evaluate(WATCH)
            start, _, seen = await one_whole_turn(page)
            assert len(start) == 40
            assert start - seen == set()  # every ticket was on the screen
            assert int((await page.evaluate("document.body.dataset.page")).split("/")[1]) >= 3
            drawn_off_screen = await page.evaluate(
                """() => { const box = document.getElementById('board').getBoundingClientRect();
                  return [...document.querySelectorAll('tr.row:not([hidden])')]
                    .filter(tr => tr.getBoundingClientRect().bottom > box.bottom + 1).length; }"""
            )
            assert drawn_off_screen == 0  # what is not on the page is hidden, not clipped
            overflow = await page.evaluate("document.scrollingElement.scrollHeight - innerHeight")
            assert overflow <= 0  # one screen: nothing below the fold


async def test_every_ticket_is_on_screen_within_a_turn_while_patches_arrive(folders, tmp_path):
    tickets, mappings = folders
    rng = random.Random(5)
    seed(tickets, mappings, 40, rng)
    with serving(*folders, log_dir=tmp_path / "logs") as server:
        async with chromium_page(viewport={"width": 1280, "height": 720}) as page:
            await page.goto(server.url + "/?dwell=2")
            await page.wait_for_selector("#conn.conn-live")
            await page.evaluate(WATCH)
            stop = asyncio.Event()
            gone: set[int] = set()  # deleted at some point: maybe back, but not all along

            async def churn() -> None:
                next_id = 1000
                while not stop.is_set():
                    roll = rng.random()
                    now = time.time()
                    if roll < 0.6:  # a change that moves the row: section, SLA state, order
                        write_random_ticket(tickets, rng.randint(1, 40), rng, now)
                    elif roll < 0.85:  # a new ticket
                        write_random_ticket(tickets, next_id, rng, now)
                        next_id += 1
                    else:  # one goes (and may come back later as a new arrival)
                        ident = rng.randint(1, 40)
                        (tickets / f"{ident}.json").unlink(missing_ok=True)
                        gone.add(ident)
                    await asyncio.sleep(0.3)

            task = asyncio.create_task(churn())
            try:
                start, end, seen = await one_whole_turn(page)
            finally:
                stop.set()
                await task
            # New ones are shown too, but do not hold a turn open; nor does one that left during
            # the turn and came back (it joins as new).
            lived_through = (start & end) - gone
            assert len(lived_through) > 20
            assert lived_through - seen == set()


async def test_a_new_urgent_ticket_shows_at_once_marked_while_the_board_turns(folders, tmp_path):
    tickets, mappings = folders
    seed(tickets, mappings, 40, random.Random(7))
    with serving(*folders, log_dir=tmp_path / "logs") as server:
        async with chromium_page(viewport={"width": 1280, "height": 720}) as page:
            await page.goto(server.url + "/?dwell=20")
            await page.wait_for_selector("#conn.conn-live")
            now = time.time()
            write_ticket(
                tickets, 500, subject="Core switch down", priority=4, created_at=now - 60,
                fr_due_by=now + 20 * HOUR, updated_at=now - 60,
            )  # fmt: skip
            row = page.locator("#t-500")
            await row.wait_for(state="visible")  # on this page, not the next turn's
            assert await row.get_attribute("data-attn") == "urgent"
            assert "NEW URGENT" in await page.evaluate(
                "getComputedStyle(document.querySelector('#t-500 .subject'), '::before').content"
            )
            phases = await page.evaluate(
                """() => document.getAnimations()
                    .filter(a => a.animationName === 'pulse' || a.animationName === 'pulse-tag')
                    .map(a => Math.round(a.currentTime % 2000))"""
            )
            assert len(phases) >= 2 and max(phases) - min(phases) <= 20  # in step


def count_rows(board: dict[str, Any]) -> dict[str, int]:
    rows = [r for section in board["sections"].values() for r in section]
    counts = {s: len(rows_) for s, rows_ in board["sections"].items()}
    for state in ("overdue", "critical", "warning"):
        counts[state] = sum(r["sla"] == state for r in rows)
    counts["update-overdue"] = sum(bool(r["update_overdue"]) for r in rows)
    counts["unassigned"] = sum(not r["agent"] for r in rows)
    return counts


async def test_counters_equal_the_rows_of_the_filtered_view_as_patches_arrive(folders, tmp_path):
    tickets, mappings = folders
    rng = random.Random(11)
    seed(tickets, mappings, 40, rng)
    query = "group=Network,Facilities&section=open,other"
    with serving(*folders, log_dir=tmp_path / "logs") as server:
        async with chromium_page() as page:
            await page.goto(f"{server.url}/?{query}")
            await page.wait_for_selector("#conn.conn-live")
            assert await page.locator("#n-waiting").count() == 0  # filtered away: not drawn
            for _ in range(8):
                write_random_ticket(tickets, rng.randint(1, 50), rng, time.time())
                await asyncio.sleep(0.1)
            await page.wait_for_timeout(500)
            async with httpx.AsyncClient() as client:
                answer = await client.get(f"{server.url}/api/tickets?{query}", timeout=5)
            board = answer.json()
            expected = count_rows(board)
            on_page = await page.evaluate(
                """() => Object.fromEntries([...document.querySelectorAll('#counters [data-counter]')]
                    .map(li => [li.querySelector('.n').id.slice(2), Number(li.querySelector('.n').textContent)]))"""
            )
            dom = await page.evaluate(
                """() => {
                  const rows = [...document.querySelectorAll('tr.row')];
                  const has = c => rows.filter(tr => tr.classList.contains(c)).length;
                  return {open: document.querySelectorAll('#rows-open tr').length,
                          other: document.querySelectorAll('#rows-other tr').length,
                          overdue: has('sla-overdue'), critical: has('sla-critical'),
                          warning: has('sla-warning'), 'update-overdue': has('update-overdue'),
                          unassigned: rows.filter(tr => tr.querySelector('.c-agent').textContent === '').length};
                }"""
            )
            expected.pop("waiting")
            assert on_page == expected == dom
            assert expected["open"] + expected["other"] > 0


async def text_px(viewport: dict[str, int], url: str) -> dict[str, float]:
    async with chromium_page(viewport=viewport) as page:
        await page.goto(url)
        await page.wait_for_selector("#conn.conn-live")
        return await page.evaluate(
            """() => {
              const px = sel => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize);
              const sla = document.querySelector('tr.row:not([hidden]) td.c-sla');
              const row = sla.closest('tr');
              return {subject: px('tr.row:not([hidden]) .subject'), counter: px('#counters .n'),
                      overflowX: document.scrollingElement.scrollWidth - innerWidth,
                      slaLines: Math.round(sla.getBoundingClientRect().height / row.getBoundingClientRect().height),
                      slaCut: [...document.querySelectorAll('tr.row:not([hidden]) td.c-sla')]
                        .filter(td => td.scrollWidth > td.clientWidth).map(td => td.textContent)};
            }"""
        )


async def test_text_grows_with_the_screen_and_4k_is_at_least_1_8_times_1080p(folders, tmp_path):
    tickets, mappings = folders
    seed(tickets, mappings, 30, random.Random(13))
    with serving(*folders, log_dir=tmp_path / "logs") as server:
        small = await text_px({"width": 1280, "height": 720}, server.url)
        hd = await text_px({"width": 1920, "height": 1080}, server.url)
        uhd = await text_px({"width": 3840, "height": 2160}, server.url)
        large = await text_px({"width": 1920, "height": 1080}, server.url + "/?density=large")
    assert uhd["subject"] >= 1.8 * hd["subject"] and uhd["counter"] >= 1.8 * hd["counter"]
    assert small["subject"] < hd["subject"] < large["subject"]
    for size in (small, hd, uhd):
        assert size["overflowX"] <= 0 and size["slaLines"] == 1  # one line, nothing cut off-screen
        assert size["slaCut"] == []  # "FR overdue by 2 h 5 m", "Due in 1 d 6 h" fit whole


async def test_an_unknown_filter_value_is_announced_and_goes_away_when_mappings_name_it(
    folders, tmp_path
):
    tickets, mappings = folders
    seed(tickets, mappings, 10, random.Random(17))
    with serving(*folders, log_dir=tmp_path / "logs") as server:
        async with chromium_page() as page:
            await page.goto(server.url + "/?group=Netwrok,Network")
            await page.wait_for_selector("#conn.conn-live")
            alert = page.locator("#view-alert[role=alert]")
            assert await alert.is_visible()
            text = await alert.inner_text()
            assert "“Netwrok”" in text and "Did you mean “Network”?" in text
            assert "Facilities" in text  # the known choices
            assert await page.locator("#rows-open tr, #rows-other tr").count() > 0  # the rest works
            write_mapping(mappings / "groups.txt", {**GROUPS, 9: "Netwrok"})
            await alert.wait_for(state="hidden", timeout=20_000)

            await page.goto(server.url + "/?section=bogus")  # a 400 before: now the board
            assert await page.locator("#view-alert").is_visible()
            assert "section “bogus” is not known" in await page.inner_text("#view-alert")
            await page.wait_for_selector("#conn.conn-live")

            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            await page.goto(server.url + "/?agent=" + HOSTILE.replace(" ", "%20"))
            assert f"agent “{HOSTILE}” is not known" in await page.inner_text("#view-alert")
            assert await page.locator("#view-alert img").count() == 0
            assert dialogs == []


LAYOUT = """
() => {
  const cut = el => el.scrollWidth > el.clientWidth + 1;
  const table = document.querySelector('table.board').getBoundingClientRect();
  const sla = [...document.querySelectorAll('tr.row:not([hidden]) td.c-sla')];
  const trends = document.querySelector('#today .trends').getBoundingClientRect();
  const items = [...document.querySelectorAll('#today .trends > li')].map(li => {
    const r = li.getBoundingClientRect();
    const svg = li.querySelector('svg');
    return {text: li.textContent.trim(), onFirstLine: r.top < trends.top + 2,
            inside: r.left >= trends.left - 1 && r.right <= trends.right + 1,
            spark: svg ? svg.getBoundingClientRect().width : null};
  });
  return {
    // (a column collapsed on purpose, the requester at density=large, has no width at all)
    headingsCut: [...document.querySelectorAll('table.board th')]
      .filter(th => th.clientWidth > 0 && cut(th)).map(th => th.textContent),
    slaShare: Math.max(...sla.map(td => td.getBoundingClientRect().width)) / table.width,
    countdownsCut: sla.filter(td => !td.textContent.includes(' · ') && cut(td)).map(td => td.textContent),
    // of "FR due in 12 h · update overdue", the part before " · " is whole inside its cell
    coresCut: sla.filter(td => td.textContent.includes(' · ')).filter(td => {
      const node = td.firstChild, range = document.createRange();
      range.setStart(node, 0);
      range.setEnd(node, node.textContent.indexOf(' · '));
      const inner = td.getBoundingClientRect().right - parseFloat(getComputedStyle(td).paddingRight);
      return range.getBoundingClientRect().right > inner + 1;
    }).map(td => td.textContent),
    longSla: sla.filter(td => td.textContent.includes(' · ')).map(td => td.textContent),
    rem: parseFloat(getComputedStyle(document.documentElement).fontSize),
    trends: items,
  };
}
"""


async def test_a_long_sla_text_and_long_names_cut_no_heading_no_countdown_and_no_half_sparkline(
    folders, tmp_path
):
    """At 1080p, 4K and 1080p with large type: an update-overdue row's long SLA text ("FR due in
    11 h 59 m · update overdue") takes at most a quarter of the width, so the names keep room and
    no heading is cut ("REQUESTE"); every countdown is whole, the long ones at large type too
    ("Update overdue by 4 d 23 h", "FR overdue by 123 d 23 h"); today's sparklines that do not
    fit drop off whole rather than squeeze to dots or show half a label."""
    tickets, mappings = folders
    write_mapping(mappings / "groups.txt", GROUPS)
    fresh_status(tickets)
    write_mapping(
        mappings / "requesters.txt",
        {100 + i: f"Maximiliane Wolkenstein-Trostburg {i}" for i in range(30)},
    )
    now = time.time()
    for ident in range(1, 6):  # every row's requester is long; all on one page
        write_ticket(
            tickets,
            ident,
            subject=f"Ticket {ident}",
            requester_id=100 + ident,
            responder_id=17,
            created_at=now - 3 * HOUR,
            updated_at=now - 10 * MINUTE,
            group_id=3,
            fr_due_by=now + (ident - 3) * 9 * HOUR,
            due_by=now + (ident - 3) * 9 * HOUR + HOUR,
        )
    write_ticket(  # no update for three days, first response due in 12 h
        tickets,
        99,
        subject="Quiet for three days",
        requester_id=101,
        priority=4,
        created_at=now - 80 * HOUR,
        updated_at=now - 72 * HOUR,
        fr_due_by=now + 12 * HOUR,
        due_by=now + 40 * HOUR,
    )
    write_ticket(  # responded, no deadline left, no update for five days
        tickets,
        98,
        subject="Waiting for a part",
        requester_id=102,
        priority=1,
        created_at=now - 130 * HOUR,
        updated_at=now - 120 * HOUR,
        fr_due_by=now - 129 * HOUR,
        due_by=None,
        stats={"first_responded_at": now - 129.5 * HOUR},
    )
    write_ticket(  # first response missed long ago
        tickets,
        97,
        subject="Forgotten",
        requester_id=103,
        priority=1,
        created_at=now - 124 * 24 * HOUR,
        updated_at=now - 124 * 24 * HOUR,
        fr_due_by=now - (123 * 24 + 23.5) * HOUR,
        due_by=now + 48 * HOUR,
    )
    screens = (
        ({"width": 1920, "height": 1080}, "/", 0.25),
        ({"width": 3840, "height": 2160}, "/", 0.25),
        ({"width": 1920, "height": 1080}, "/?density=large", 0.3),
    )
    with serving(*folders, log_dir=tmp_path / "logs") as server:
        for viewport, path, sla_share in screens:
            async with chromium_page(viewport=viewport) as page:
                await page.goto(server.url + path)
                await page.wait_for_selector("#conn.conn-live")
                await page.wait_for_selector("#t-99")
                layout = await page.evaluate(LAYOUT)
                assert layout["longSla"] and "update overdue" in layout["longSla"][0], layout
                assert layout["headingsCut"] == [], (viewport, path)
                assert layout["countdownsCut"] == [] and layout["coresCut"] == [], (path, layout)
                assert layout["slaShare"] <= sla_share, (viewport, path, layout["slaShare"])
                # A busy day's numbers ("1 h 11 m median FR time ▼ 2 h 19 m") are wider than
                # this test's: widen them to leave the trends room for about two sparklines.
                await page.evaluate(
                    "document.querySelector('#today .today-numbers').style.minWidth = '62%'"
                )
                layout = await page.evaluate(LAYOUT)
                shown = [t for t in layout["trends"] if t["onFirstLine"]]
                assert all(t["inside"] for t in shown), (viewport, layout["trends"])
                assert 0 < len([t for t in shown if t["spark"]]) < 4, (viewport, layout["trends"])
                for trend in shown:
                    if trend["spark"] is not None:
                        assert trend["spark"] >= 3 * layout["rem"], (viewport, trend)
