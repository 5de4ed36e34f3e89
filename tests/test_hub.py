"""Fan-out: patches encoded once per view, and a stuck client never blocks the rest."""

from __future__ import annotations

import json

from app.live.board import Change
from app.rules.filters import RowFilter
from app.stream.hub import RESYNC, Hub


def row(ident, section="open", agent_id=None, group_id=None):
    return {
        "id": ident,
        "section": section,
        "agent_id": agent_id,
        "agent": "",
        "group_id": group_id,
        "group": "",
    }


def payload(item: bytes) -> dict:
    data_line = next(line for line in item.decode().split("\n") if line.startswith("data: "))
    return json.loads(data_line[6:])


async def test_a_full_queue_resyncs_that_client_only():
    hub = Hub(queue_size=3)
    stuck = hub.subscribe(RowFilter())
    fast = hub.subscribe(RowFilter())
    for seq in range(1, 6):
        hub.publish_changes([Change(None, row(seq))], seq, 0.0)
        await fast.queue.get()  # the fast client keeps up
    # 1-3 filled its queue; 4 did not fit, so the queue became "resync"; 5 came after that.
    items = [stuck.queue.get_nowait() for _ in range(stuck.queue.qsize())]
    assert items[0] is RESYNC
    assert [payload(item)["seq"] for item in items[1:]] == [5]
    assert stuck.resyncs == 1 and fast.resyncs == 0
    assert hub.stats.resyncs == 1


async def test_views_get_their_own_patch():
    hub = Hub()
    everything = hub.subscribe(RowFilter())
    team = hub.subscribe(RowFilter(groups=frozenset({3})))
    hub.publish_changes([Change(row(1, group_id=3), row(1, group_id=4))], 1, 0.0)
    assert payload(everything.queue.get_nowait())["upsert"][0]["id"] == 1
    assert payload(team.queue.get_nowait())["remove"] == [1]


async def test_a_change_outside_a_view_sends_that_view_nothing():
    hub = Hub()
    team = hub.subscribe(RowFilter(agents=frozenset({None})))
    hub.publish_changes([Change(None, row(1, agent_id=9))], 1, 0.0)
    assert team.queue.empty()


async def test_close_ends_every_subscriber():
    hub = Hub()
    sub = hub.subscribe(RowFilter())
    hub.close()
    assert repr(sub.queue.get_nowait()) == "CLOSE"
    late = hub.subscribe(RowFilter())
    assert repr(late.queue.get_nowait()) == "CLOSE"
