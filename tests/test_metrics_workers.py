"""`/metrics` with several workers: every scrape, whichever worker answers, shows the totals (#10)."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families
from support.server import serving
from support.tickets import write_ticket

STREAMS = 12


async def scrape(url: str) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=5) as client:  # a new connection: any worker answers
        text = (await client.get(f"{url}/metrics")).text
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.labels
    }


async def test_two_workers_metrics_add_up_whichever_answers(folders, tmp_path):
    write_ticket(folders[0], 1)
    with serving(*folders, env={"TICKET_DASH_WORKERS": "2"}, log_dir=tmp_path / "logs") as server:
        async with httpx.AsyncClient(timeout=30) as client:
            streams = []
            for _ in range(STREAMS):
                stream = client.stream("GET", f"{server.url}/events")
                response = await stream.__aenter__()
                lines = response.aiter_lines()
                async with asyncio.timeout(10):
                    async for line in lines:
                        if line == "event: snapshot":
                            break
                streams.append((stream, lines))
            write_ticket(folders[0], 2)
            for _, lines in streams:
                async with asyncio.timeout(10):
                    async for line in lines:
                        if line == "event: patch":
                            break
            for _, lines in streams:  # and the summary that change moved (within ~2 s)
                async with asyncio.timeout(10):
                    async for line in lines:
                        if line == "event: summary":
                            break
            await asyncio.sleep(1.5)  # each worker copies its counts into metrics once a second
            answers = [await scrape(server.url) for _ in range(8)]  # both workers answer some
            for stream, _ in streams:
                await stream.__aexit__(None, None, None)
    for got in answers:
        assert got["ticket_dash_sse_clients"] == STREAMS
        # a snapshot, a patch and a summary each
        assert got["ticket_dash_sse_events_sent_total"] == 3 * STREAMS
