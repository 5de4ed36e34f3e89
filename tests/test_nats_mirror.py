"""Many boards, one watcher (issue 12): what a source writes is published to a real NATS
JetStream bucket, and a mirror's tickets/ and mappings/ become the same files, archive included,
whatever happens between them: creates, updates, resolves, deletes, mapping changes, a mirror
restart, a NATS restart, a bucket lost with the server's storage."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fake_freshservice import FakeFreshservice, make_source
from support.nats_server import NatsServer, running_nats
from support.nats_sites import (
    Noticing,
    board_files,
    in_sync,
    mirroring,
    publishing,
    site_settings,
    source_status,
)
from support.ports import free_port
from support.tickets import ticket_json

import watcher.nats.mirror as mirror_module
from app.contract.archive import archive_ticket, remove_ticket
from app.contract.atomic import dump_json, write_json_atomic
from app.contract.changes import observed_by
from app.contract.mappings import write_mapping
from app.contract.status import WatcherStatus, read_status, write_status
from app.settings import Settings
from watcher.demo import DemoSource
from watcher.nats.connection import Link
from watcher.nats.keys import subject_prefix, ticket_key
from watcher.nats.publish import Publisher

pytestmark = pytest.mark.timeout(60)
DAY = date(2026, 11, 20)


def write(settings: Settings, ident: int, **fields: object) -> None:
    write_json_atomic(Path(settings.tickets_dir) / f"{ident}.json", ticket_json(ident, **fields))


def status(settings: Settings, note: str) -> None:
    write_status(
        Path(settings.tickets_dir),
        WatcherStatus(source="test", last_success="2026-11-28T12:00:00Z", extra={"note": note}),
    )


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    yield from running_nats(tmp_path)


@pytest.fixture
def sites(tmp_path: Path, nats_server: NatsServer) -> tuple[Settings, Settings]:
    return (
        site_settings(tmp_path / "source", nats_server.url),
        site_settings(tmp_path / "mirror", nats_server.url),
    )


def live(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if not k.startswith("tickets/archive/")}


async def test_a_mirror_holds_the_same_files_after_creates_updates_resolves_deletes_and_mapping_changes(
    sites,
):
    source, copy = sites
    async with publishing(source) as pub, mirroring(copy) as mirror:
        with observed_by(pub.publisher.observe):
            for ident in range(1, 8):
                write(source, ident)
            write_mapping(Path(source.mappings_dir) / "agents.txt", {1: "Ada", 2: "Grace"})
            status(source, "seed")
        await in_sync(pub, mirror)
        assert board_files(copy) == board_files(source)

        with observed_by(pub.publisher.observe):
            write(source, 2, subject="Printer on fire", priority=4)  # an update
            archive_ticket(Path(source.tickets_dir), 3, ticket_json(3, status=4), day=DAY)
            archive_ticket(Path(source.tickets_dir), 4, day=DAY)  # archived as it was
            remove_ticket(Path(source.tickets_dir), 5)  # gone without a trace
            write(source, 9)
            write_mapping(Path(source.mappings_dir) / "agents.txt", {1: "Ada", 3: "Linus"})
            write_mapping(Path(source.mappings_dir) / "groups.txt", {7: "Network"})
            status(source, "changed")
        await in_sync(pub, mirror)

    files = board_files(copy)
    assert files == board_files(source)
    assert (
        f"tickets/archive/{DAY}/3.json" in files
        and b'"status": 4' in files[f"tickets/archive/{DAY}/3.json"]
    )
    assert "tickets/5.json" not in files and "tickets/9.json" in files
    assert source_status(copy) == source_status(source)


async def test_the_simulated_helpdesk_publishes_everything_it_writes(sites):
    source, copy = sites
    demo = DemoSource(source, seed=7)
    async with publishing(source) as pub, mirroring(copy) as mirror:
        with observed_by(pub.publisher.observe):
            await asyncio.to_thread(demo.start)
            for _ in range(60):  # resolves archive, some of them
                await asyncio.to_thread(demo.step)
        await in_sync(pub, mirror)
        assert board_files(copy) == board_files(source)
        with observed_by(pub.publisher.observe):  # a restart clears its leftovers: deletions
            await asyncio.to_thread(DemoSource(source, seed=8).start)
        await in_sync(pub, mirror)
    assert live(board_files(copy)) == live(board_files(source))  # (it empties its own archive)
    assert source_status(copy) == source_status(source)


async def test_the_freshservice_source_publishes_everything_it_writes(tmp_path, sites):
    source, copy = sites
    async with FakeFreshservice() as fake:
        for i in range(6):
            fake.add_ticket(status=2, requester_id=7, age_days=i)
        fake.add_requester(7, "Dana", "Scully")
        fresh = make_source(fake, tmp_path / "source", nats_url=source.nats_url)
        async with publishing(source) as pub, mirroring(copy) as mirror:
            with observed_by(pub.publisher.observe):
                assert await fresh.run(asyncio.Event(), once=True) == 0
            await in_sync(pub, mirror)
            fake.update_ticket(2, status=4)  # resolved: archived at the next poll
            with observed_by(pub.publisher.observe):
                assert await fresh.run(asyncio.Event(), once=True) == 0
            await in_sync(pub, mirror)
    assert board_files(copy) == board_files(source)
    assert "tickets/2.json" not in board_files(copy)
    assert source_status(copy) == source_status(source)


async def test_a_restarted_mirror_resumes_after_its_last_revision_and_misses_nothing(sites):
    source, copy = sites
    async with publishing(source) as pub:
        with observed_by(pub.publisher.observe):
            for ident in range(1, 6):
                write(source, ident)
            status(source, "one")
        async with mirroring(copy) as mirror:
            await in_sync(pub, mirror)
            assert mirror.mirror.mode == "snapshot"
        with observed_by(pub.publisher.observe):  # while the mirror is stopped
            write(source, 1, subject="changed while away")
            archive_ticket(Path(source.tickets_dir), 2, day=DAY)
            remove_ticket(Path(source.tickets_dir), 3)
            write(source, 6)
            status(source, "two")
        async with mirroring(copy) as mirror:
            await in_sync(pub, mirror)
            assert mirror.mirror.mode == "resume"
    assert board_files(copy) == board_files(source)
    assert source_status(copy) == source_status(source)


async def test_a_ticket_whose_delete_marker_expired_while_the_mirror_was_away_is_archived_not_left_as_a_ghost(
    sites,
):
    source, copy = sites
    async with publishing(source) as pub:
        with observed_by(pub.publisher.observe):
            for ident in range(1, 4):
                write(source, ident)
            status(source, "one")
        async with mirroring(copy) as mirror:
            await in_sync(pub, mirror)
        with observed_by(pub.publisher.observe):
            archive_ticket(Path(source.tickets_dir), 2, day=DAY)
            status(source, "two")
        await pub.settled()
        # The marker's TTL is a week; expire it now, as the server would.
        await pub.link.js.purge_stream(
            pub.link.stream, subject=subject_prefix(source.nats_bucket) + ticket_key(2)
        )
        async with mirroring(copy) as mirror:
            await in_sync(pub, mirror)
            assert mirror.mirror.mode == "resume"
    files = board_files(copy)
    assert "tickets/2.json" not in files
    today = datetime.now(UTC).date()
    assert f"tickets/archive/{today}/2.json" in files  # archived today: its day was lost
    assert live(files) == live(board_files(source))


async def test_while_nats_is_down_the_mirror_says_so_and_afterwards_both_sides_catch_up(
    sites, nats_server
):
    source, copy = sites
    async with publishing(source) as pub, mirroring(copy) as mirror:
        with observed_by(pub.publisher.observe):
            write(source, 1)
            status(source, "before")
        await in_sync(pub, mirror)
        before = read_status(Path(copy.tickets_dir))
        assert before is not None and before.last_error is None

        lost = asyncio.Event()
        mirror.link.on_change(lambda up: None if up else lost.set())
        await asyncio.to_thread(nats_server.stop)
        await asyncio.wait_for(lost.wait(), 10)
        during = read_status(Path(copy.tickets_dir))
        assert during is not None and "not connected to NATS" in (during.last_error or "")
        assert during.last_success == before.last_success  # so the board turns STALE in time

        with observed_by(pub.publisher.observe):  # the source goes on meanwhile
            write(source, 1, subject="changed during the outage")
            write(source, 2)
            archive_ticket(Path(source.tickets_dir), 1, day=DAY)
            status(source, "during")
        await asyncio.to_thread(nats_server.start)
        await in_sync(pub, mirror)
    assert board_files(copy) == board_files(source)
    after = read_status(Path(copy.tickets_dir))
    assert after is not None and after.last_error is None
    assert source_status(copy) == source_status(source)


async def test_a_server_that_lost_its_storage_is_refilled_and_the_mirror_resyncs_exactly(
    sites, nats_server
):
    source, copy = sites
    async with publishing(source) as pub, mirroring(copy) as mirror:
        with observed_by(pub.publisher.observe):
            for ident in range(1, 5):
                write(source, ident)
            status(source, "before")
        await in_sync(pub, mirror)
        await asyncio.to_thread(nats_server.stop)
        shutil.rmtree(nats_server.store)
        with observed_by(pub.publisher.observe):
            archive_ticket(Path(source.tickets_dir), 4, day=DAY)  # its marker is lost with it
            write(source, 5)
        await asyncio.to_thread(nats_server.start)
        await in_sync(pub, mirror)
        assert mirror.mirror.mode == "snapshot"  # another bucket: resuming would be wrong
    files = board_files(copy)
    assert "tickets/4.json" not in files
    assert live(files) == live(board_files(source))


async def test_a_bucket_no_source_wrote_yet_leaves_the_mirror_folder_alone(sites):
    source, copy = sites
    write(copy, 42)  # a host that ran alone before
    async with mirroring(copy) as mirror:
        async with publishing(source):  # creates the bucket, publishes an empty folder
            await asyncio.wait_for(mirror.mirror.waiting_for_source.wait(), 10)
    assert (Path(copy.tickets_dir) / "42.json").exists()
    waiting = read_status(Path(copy.tickets_dir))
    assert waiting is not None and "No watcher has published" in (waiting.last_error or "")


async def test_a_folder_published_into_a_fresh_bucket_is_sent_as_the_disk_holds_it_when_sent(
    sites,
):
    source, copy = sites
    await asyncio.to_thread(write, source, 1)
    await asyncio.to_thread(status, source, "alone until now")
    legacy = Path(source.tickets_dir) / "7.txt"  # the original project's name, read as ticket 7
    await asyncio.to_thread(legacy.write_bytes, dump_json(ticket_json(7)))
    link = await Link.open(source, asyncio.Event(), role="test-source")
    assert link is not None
    try:
        await link.ensure_bucket()
        publisher = Publisher(link, source)
        await publisher.queue_folder()  # queued, not yet sent...
        await asyncio.to_thread(write, source, 1, subject="written while queued")  # unobserved
        await publisher.start()
        await asyncio.wait_for(publisher.flushed(), 10)
        await publisher.stop()
    finally:
        await link.close()
    async with mirroring(copy) as mirror:
        await asyncio.wait_for(mirror.mirror.caught_up.wait(), 10)
    files = board_files(copy)
    assert b"written while queued" in files["tickets/1.json"]
    assert files["tickets/7.json"] == dump_json(ticket_json(7))


@pytest.fixture
def hub_and_leaf(tmp_path: Path) -> Iterator[tuple[NatsServer, NatsServer]]:
    """A hub with JetStream (domain `hub`) and a site's leaf node without JetStream of its own."""
    leaf_port = free_port()
    (tmp_path / "hub").mkdir()
    (tmp_path / "leaf").mkdir()
    hub = NatsServer(
        tmp_path / "hub",
        f'jetstream {{ store_dir: "{tmp_path / "hub" / "js"}", domain: hub }}\n'
        f'leafnodes {{ listen: "127.0.0.1:{leaf_port}" }}',
        jetstream=False,
    )
    leaf = NatsServer(
        tmp_path / "leaf",
        f'leafnodes {{ remotes = [ {{ url: "nats-leaf://127.0.0.1:{leaf_port}" }} ] }}',
        jetstream=False,
    )
    hub.start()
    try:
        leaf.start()
        try:
            yield hub, leaf
        finally:
            leaf.stop()
    finally:
        hub.stop()


async def test_a_mirror_behind_a_leaf_node_copies_the_hub_and_says_so_when_the_hub_is_gone(
    tmp_path, hub_and_leaf, monkeypatch
):
    hub, leaf = hub_and_leaf
    monkeypatch.setattr(mirror_module, "PROBE_SECONDS", 0.2)
    source = site_settings(tmp_path / "source", hub.url, nats_domain="hub")
    copy = site_settings(tmp_path / "mirror", leaf.url, nats_domain="hub")
    async with publishing(source) as pub, mirroring(copy) as mirror:
        with observed_by(pub.publisher.observe):
            write(source, 1)
            status(source, "through the leaf")
        await in_sync(pub, mirror)
        assert board_files(copy) == board_files(source)

        await asyncio.to_thread(hub.stop)  # the site's uplink: its leaf node stays up
        stuck = asyncio.Event()
        handler = Noticing("trying again until it answers", stuck)
        logging.getLogger("watcher.nats.mirror").addHandler(handler)
        try:
            await asyncio.wait_for(stuck.wait(), 20)
        finally:
            logging.getLogger("watcher.nats.mirror").removeHandler(handler)
        assert mirror.link.up.is_set()  # connected to the leaf all along
    said = read_status(Path(copy.tickets_dir))
    assert said is not None and "cannot reach the NATS bucket" in (said.last_error or "")
    assert board_files(copy) == board_files(source)  # the last state stays
