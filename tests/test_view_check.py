"""A TV's URL with a value the board does not know: named on the page, never a silent blank board."""

from __future__ import annotations

import asyncio
import contextlib
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from support.tickets import write_ticket
from werkzeug.datastructures import MultiDict

from app import create_app
from app.contract.mappings import Names, write_mapping
from app.rules.view_check import MAX_CHOICES, MAX_UNKNOWN, unknown_values
from app.settings import load_settings
from app.web.wall import WallOptions
from watcher.demo.catalog import AGENTS, GROUPS

NAMES = Names(
    agents={17: "Dana Scully", 18: "Fox Mulder"},
    groups={3: "Network", 4: "Servers & Storage", 5: "NOC"},
)


def row(agent_id=None, agent="", group_id=None, group=""):
    return {"agent_id": agent_id, "agent": agent, "group_id": group_id, "group": group}


def unknown(query: dict, rows=(), names=NAMES):
    return unknown_values(MultiDict(query).getlist, names, rows)


def test_known_names_ids_and_unassigned_are_fine_in_any_case():
    query = {"group": "network, 4,NOC", "agent": ["DANA SCULLY", "18", "none"], "section": "Open"}
    assert unknown(query) == []


def test_a_typo_is_named_with_the_closest_choice_and_the_known_ones():
    (problem,) = unknown({"group": "Netwrok"})
    assert (problem.param, problem.value, problem.suggestion) == ("group", "Netwrok", "Network")
    assert problem.choices == ("Network", "NOC", "Servers & Storage")
    assert problem.message == (
        "group “Netwrok” is not known. Did you mean “Network”? "
        "Known: Network, NOC, Servers & Storage."
    )


def test_every_unknown_value_is_named_once_and_the_known_ones_are_not():
    problems = unknown({"agent": "Dana Scully,Walter,walter", "group": "99", "section": "bogus"})
    assert [(p.param, p.value) for p in problems] == [
        ("agent", "Walter"),
        ("group", "99"),
        ("section", "bogus"),
    ]
    assert problems[2].choices == ("open", "other", "waiting")


def test_a_url_with_a_thousand_made_up_names_names_only_the_first_few():
    made_up = ",".join(f"Agent #{n}q" for n in range(1000))
    problems = unknown({"agent": made_up, "section": ",".join(f"s{n}" for n in range(50))})
    assert [p.value for p in problems if p.param == "agent"] == [
        f"Agent #{n}q" for n in range(MAX_UNKNOWN)
    ]
    assert len([p for p in problems if p.param == "section"]) == MAX_UNKNOWN


def test_a_name_or_id_a_ticket_carries_is_known_without_mappings():
    rows = [row(agent_id=21, agent="Agent #21", group_id=7, group="Group #7")]
    assert unknown({"agent": "21", "group": "group #7"}, rows, Names()) == []
    (problem,) = unknown({"group": "Network"}, rows, Names())
    assert problem.choices == ("Group #7",)


def test_a_long_list_of_choices_is_cut_with_how_many_more():
    names = Names(agents={i: f"Agent {i:03d}" for i in range(40)})
    (problem,) = unknown({"agent": "Nobody"}, names=names)
    assert len(problem.choices) == MAX_CHOICES and problem.more == 40 - MAX_CHOICES
    assert problem.message.endswith(f"and {40 - MAX_CHOICES} more.")


def test_no_names_known_yet_says_so():
    (problem,) = unknown({"group": "Network"}, names=Names())
    assert (
        problem.message == "group “Network” is not known. No group names are known yet (mappings/)."
    )


def test_wall_options_from_the_url():
    def options(query):
        return WallOptions.from_args(MultiDict(query).getlist)

    assert options({}) == (WallOptions(), [])
    assert options({"density": "LARGE", "dwell": "12", "sound": "1"}) == (
        WallOptions(density="large", dwell=12.0, sound=True),
        [],
    )
    wall, problems = options({"density": "huge", "dwell": "0.5", "sound": "loud"})
    assert wall == WallOptions()
    assert [(p.param, p.value) for p in problems] == [
        ("density", "huge"),
        ("dwell", "0.5"),
        ("sound", "loud"),
    ]
    assert problems[0].choices == ("compact", "large", "normal")


def test_readme_filter_examples_name_only_what_the_demo_has():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("<!-- filter-examples:start")[1].split("<!-- filter-examples:end")[0]
    examples = re.findall(r"`(/\?[^`]+)`", block)
    assert len(examples) >= 6
    demo = Names(agents=dict(AGENTS), groups=dict(GROUPS))
    for example in examples:
        query = MultiDict(parse_qsl(urlsplit(example).query, keep_blank_values=True))
        assert unknown(query, names=demo) == [], example
        assert set(query) <= {"agent", "group", "section"}, example


# ---- the page and /api/view, in-process -------------------------------------------------------


class Alerts(HTMLParser):
    """The items of the page's view alert, and whether it is hidden."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: bool | None = None
        self.items: list[str] = []
        self._in_item = False
        self._in_alert = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id") == "view-alert":
            self.hidden = "hidden" in attrs
            self._in_alert = True
        self._in_item = self._in_alert and tag == "li"

    def handle_endtag(self, tag):
        if tag == "div":
            self._in_alert = False
        if tag == "li":
            self._in_item = False

    def handle_data(self, data):
        if self._in_item:
            self.items.append(data)


@contextlib.asynccontextmanager
async def client(folders):
    tickets, mappings = folders
    write_mapping(mappings / "groups.txt", {3: "Network", 4: "NOC"})
    write_ticket(tickets, 1, group_id=3)
    settings = load_settings({"tickets_dir": tickets, "mappings_dir": mappings}, environ={})
    app = create_app(settings)
    async with app.test_app() as test_app:
        await asyncio.wait_for(app.live.watching.wait(), 5)
        yield test_app.test_client()


async def test_page_with_an_unknown_section_is_the_board_with_an_alert_not_a_400(folders):
    async with client(folders) as c:
        response = await c.get("/?section=bogus")
        assert response.status_code == 200
        html = await response.get_data(as_text=True)
    page = Alerts()
    page.feed(html)
    assert page.hidden is False
    assert page.items == ["section “bogus” is not known. Known: open, other, waiting."]
    assert 'id="t-1"' in html  # every section shown: nothing known was asked for


async def test_page_names_an_unknown_group_and_shows_no_alert_when_all_is_known(folders):
    async with client(folders) as c:
        typo = Alerts()
        typo.feed(await (await c.get("/?group=Netwrok")).get_data(as_text=True))
        fine = Alerts()
        fine.feed(await (await c.get("/?group=network&density=large")).get_data(as_text=True))
    assert typo.hidden is False and "Did you mean “Network”?" in typo.items[0]
    assert fine.hidden is True and fine.items == []


async def test_api_view_answers_what_the_banner_says_and_follows_mappings(folders):
    async with client(folders) as c:
        answer = await (await c.get("/api/view?group=Netwrok&agent=none")).get_json()
        assert [(u["param"], u["value"]) for u in answer["unknown"]] == [("group", "Netwrok")]
        write_mapping(folders[1] / "groups.txt", {3: "Network", 4: "NOC", 9: "Netwrok"})
        for _ in range(100):  # watchfiles picks the new mapping up within a few ms
            answer = await (await c.get("/api/view?group=Netwrok")).get_json()
            if not answer["unknown"]:
                break
            await asyncio.sleep(0.05)
        assert answer == {"unknown": []}
