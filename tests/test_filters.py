"""A TV's view: filters by id or by the name the board shows, and unassigned."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.rules.filters import BadFilter, RowFilter


def view(**query) -> RowFilter:
    return RowFilter.from_args(MultiDict(query).getlist)


def row(agent_id=17, agent="Dana Scully", group_id=3, group="Network", section="open"):
    return {
        "agent_id": agent_id,
        "agent": agent,
        "group_id": group_id,
        "group": group,
        "section": section,
    }


def test_no_filter_shows_everything():
    assert view().shows(row()) and view() == RowFilter()


@pytest.mark.parametrize("group", ["3", "Network", "network", " NETWORK ", "4,Network"])
def test_group_by_id_or_name(group):
    assert view(group=group).shows(row())
    assert not view(group=group).shows(row(group_id=5, group="Servers"))


def test_agent_by_name_and_unassigned():
    assert view(agent="dana scully").shows(row())
    assert view(agent="none").shows(row(agent_id=None, agent=""))
    assert not view(agent="none").shows(row())


def test_an_empty_name_never_matches_a_name_filter():
    assert not view(group="network").shows(row(group_id=None, group=""))


def test_sections_are_checked():
    assert view(section="open,waiting").shows(row())
    assert not view(section="other").shows(row())
    with pytest.raises(BadFilter, match="section must be one of"):
        view(section="closed")


def test_views_with_the_same_filters_are_equal_so_patches_are_encoded_once():
    assert view(group="3") == view(group="3")
    assert view(group="3").to_json() == {"agent": [], "group": [3], "section": []}


def test_lenient_parse_leaves_out_an_unknown_section():
    lenient = RowFilter.from_args(MultiDict({"section": "open,bogus"}).getlist, strict=False)
    assert lenient.sections == frozenset({"open"})
    only_bad = RowFilter.from_args(MultiDict({"section": "bogus"}).getlist, strict=False)
    assert only_bad.shows(row(section="other"))  # nothing known left: every section
