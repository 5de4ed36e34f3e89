"""Fan-out: patches encoded once per filter; a stuck client never blocks the rest, and what the
board holds for stuck clients is bounded in bytes, per client and in all."""

from __future__ import annotations

import asyncio
import json

from app.rules.filters import RowFilter
from app.rules.rows import Change
from app.stream.hub import CLOSE, RESYNC, Hub


def row(ident, section="open", agent_id=None, group_id=None, subject=""):
    return {
        "id": ident,
        "section": section,
        "agent_id": agent_id,
        "agent": "",
        "group_id": group_id,
        "group": "",
        "subject": subject,
    }


def payload(item: bytes) -> dict:
    data_line = next(line for line in item.decode().split("\n") if line.startswith("data: "))
    return json.loads(data_line[6:])


async def next_now(hub, sub):
    return await asyncio.wait_for(hub.next(sub), 1)


async def test_a_full_queue_resyncs_that_client_only():
    hub = Hub(queue_size=3)
    stuck = hub.subscribe(RowFilter())
    fast = hub.subscribe(RowFilter())
    for seq in range(1, 6):
        hub.publish_changes([Change(None, row(seq))], seq, 0.0)
        assert payload(await next_now(hub, fast))["seq"] == seq  # the fast client keeps up
    assert stuck.resyncs == 1 and fast.resyncs == 0
    assert hub.stats.resyncs == 1
    assert await next_now(hub, stuck) is RESYNC  # then a snapshot, not the stale backlog
    hub.publish_changes([Change(None, row(6))], 6, 0.0)
    assert payload(await next_now(hub, stuck))["seq"] == 6


async def test_a_client_that_stops_reading_holds_at_most_its_byte_cap():
    hub = Hub(queue_size=1000, client_queue_bytes=50_000)
    stuck = hub.subscribe(RowFilter())
    for seq in range(1, 40):
        hub.publish_changes([Change(None, row(seq, subject="x" * 10_000))], seq, 0.0)
        assert stuck.queued_bytes <= 50_000
        assert hub.queued_bytes == stuck.queued_bytes
    assert stuck.resyncs == 1  # flagged once; nothing more is queued until it reads
    assert stuck.items == type(stuck.items)() and hub.queued_bytes == 0


async def test_all_clients_together_hold_at_most_the_global_cap_longest_backlog_first():
    hub = Hub(queue_size=1000, client_queue_bytes=1_000_000, max_queued_bytes=100_000)
    views = [RowFilter(groups=frozenset({n})) for n in range(10)]
    subs = [hub.subscribe(view) for view in views]
    for seq in range(1, 30):
        changes = [
            Change(None, row(seq * 100 + n, group_id=n, subject="y" * 5_000)) for n in range(10)
        ]
        hub.publish_changes(changes, seq, 0.0)
        assert hub.queued_bytes <= 100_000
        assert hub.queued_bytes == sum(s.queued_bytes for s in subs)
    assert all(s.resyncs >= 1 for s in subs)


async def test_views_get_their_own_patch():
    hub = Hub()
    everything = hub.subscribe(RowFilter())
    team = hub.subscribe(RowFilter(groups=frozenset({3})))
    hub.publish_changes([Change(row(1, group_id=3), row(1, group_id=4))], 1, 0.0)
    assert payload(await next_now(hub, everything))["upsert"][0]["id"] == 1
    assert payload(await next_now(hub, team))["remove"] == [1]


async def test_a_change_outside_a_view_sends_that_view_nothing():
    hub = Hub()
    team = hub.subscribe(RowFilter(agents=frozenset({None})))
    hub.publish_changes([Change(None, row(1, agent_id=9))], 1, 0.0)
    assert len(team.items) == 0 and hub.queued_bytes == 0


async def test_close_ends_every_subscriber_and_every_later_one():
    hub = Hub()
    sub = hub.subscribe(RowFilter())
    hub.publish_changes([Change(None, row(1))], 1, 0.0)
    hub.close()
    assert await next_now(hub, sub) is CLOSE
    late = hub.subscribe(RowFilter())
    assert await next_now(hub, late) is CLOSE
    assert hub.queued_bytes == 0


async def test_ending_one_clients_stream_leaves_the_others():
    hub = Hub()
    lobby = hub.subscribe(RowFilter(), tag="lobby-tv")
    office = hub.subscribe(RowFilter(), tag="office-tv")
    hub.end(lobby)
    hub.publish_changes([Change(None, row(1))], 1, 0.0)
    assert await next_now(hub, lobby) is CLOSE
    assert payload(await next_now(hub, office))["seq"] == 1


async def test_a_stream_is_counted_against_the_caps_from_admission_to_its_end_however_it_ends():
    from app.stream.client import client_stream

    hub = Hub()

    def snapshot(view):
        return iter([b"event: snapshot\ndata: {}\n\n"])

    # It ends normally (the board closes it).
    ended = client_stream(hub, RowFilter(), snapshot, admission=hub.admit("kiosk:tv"))
    assert hub.streams_by_tag["kiosk:tv"] == 1
    assert (await ended.__anext__()).startswith(b"event: snapshot")
    hub.close()
    assert [chunk async for chunk in ended] == []
    # It never starts: the client left before the server began to send it.
    never = client_stream(hub, RowFilter(), snapshot, admission=hub.admit("kiosk:tv"))
    assert hub.streams_by_tag["kiosk:tv"] == 1
    del never
    # The client leaves in the middle (the server closes the generator).
    left = client_stream(Hub(), RowFilter(), snapshot, admission=hub.admit("kiosk:tv"))
    await left.__anext__()
    await left.aclose()
    assert hub.streams_by_tag == {}


async def test_a_client_that_left_mid_snapshot_stops_its_snapshot_within_half_a_megabyte():
    """Once a client has gone the server takes what is sent without waiting, so only the stream's
    own turns let the disconnect (a cancellation) in before the whole snapshot is made."""
    from app.stream.client import client_stream

    made = 0

    def snapshot(view):
        nonlocal made
        for _ in range(200):  # a 12.8 MB snapshot, made a chunk at a time
            made += 1
            yield b"x" * 65536

    async def send_to_a_closed_connection():
        async for _chunk in client_stream(Hub(), RowFilter(), snapshot):
            pass  # nothing waits: the connection is gone

    sending = asyncio.create_task(send_to_a_closed_connection())
    await asyncio.sleep(0)  # the stream runs until it gives the loop a turn
    sending.cancel()  # the disconnect
    await asyncio.gather(sending, return_exceptions=True)
    assert made * 65536 <= 512 * 1024  # 8 chunks, not the 200 of the whole snapshot
