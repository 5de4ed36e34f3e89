"""A scripted stand-in for the server, for testing the page on its own.

Serves the real templates/board.html (rendered by Quart with app.render registered), static/, and
an `/events` stream that sends what the test scripts: a snapshot on every connect, then whatever
`send()` pushes, with heartbeats while `heartbeats` is on. `answers` makes the next /events
requests fail with a status (a proxy's 502). Run it by hand to look at the page:

    .venv/bin/python -m tests.frontend.harness --port 5099   # a demo board with churn
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from quart import Quart, render_template

from app.web.render import register
from app.web.wall import WallOptions

ROOT = Path(__file__).resolve().parents[2]
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'"

_END = object()


def fresh_watcher(now: float | None = None, **extra: Any) -> dict[str, Any]:
    moment = time.gmtime(now if now is not None else time.time())
    return {
        "source": "demo",
        "last_success": time.strftime("%Y-%m-%dT%H:%M:%SZ", moment),
        "last_error": None,
        "counts": {"tickets": 3},
        **extra,
    }


def make_row(
    ticket_id: int, section: str = "open", now: float | None = None, **fields: Any
) -> dict:
    """A row as docs/stream.md describes it; `fields` override the defaults."""
    now = time.time() if now is None else now
    row: dict[str, Any] = {
        "id": ticket_id,
        "section": section,
        "key": [0, now + 3 * 3600 + 30, -2, now - 600, ticket_id],
        "subject": f"Ticket {ticket_id}",
        "description": f"Description of ticket {ticket_id}",
        "url": f"https://acme.freshservice.com/a/tickets/{ticket_id}",
        "status": 2,
        "status_name": "Open",
        "priority": 2,
        "priority_name": "Medium",
        "type": "Incident",
        "agent": "Dana Scully",
        "requester": "Fox Mulder",
        "group": "Network",
        "created_at": now - 7200,
        "updated_at": now - 600,
        "sla": "critical",
        "fr_due": now + 3 * 3600 + 30,  # "FR due in 3 h" for half a minute
        "update_due": now + 86400,
        "update_overdue": False,
        "waiting_reason": None,
    }
    row.update(fields)
    return row


class Harness:
    def __init__(
        self,
        sections: dict[str, list[dict]] | None = None,
        watcher: dict[str, Any] | Callable[[], Any] | None = fresh_watcher,
        stale_after_seconds: int = 300,
        heartbeat_seconds: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sections: dict[str, list[dict]] = {"open": [], "waiting": [], "other": []}
        self.sections.update(sections or {})
        self.watcher = watcher() if callable(watcher) else watcher
        self.malformed: dict[str, Any] = {"count": 0, "files": []}
        self.stale_after_seconds = stale_after_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.heartbeats = True
        self.clock = clock
        self.answers: list[int] = []  # statuses for the next /events requests, then 200s
        self.event_requests: list[str] = []  # the query string of every /events request
        self._streams: set[asyncio.Queue] = set()
        self._seq = 0
        self._quart = Quart(
            __name__,
            template_folder=str(ROOT / "templates"),
            static_folder=str(ROOT / "static"),
        )
        register(self._quart)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ---- scripting -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        self._seq += 1
        return {
            "seq": self._seq,
            "server_time": self.clock(),
            "sections": self.sections,
            "watcher": self.watcher,
            "malformed": self.malformed,
            "stale_after_seconds": self.stale_after_seconds,
        }

    async def send(self, event: str, data: dict[str, Any]) -> None:
        """Send one event to every open stream (server_time and seq filled in)."""
        data = {"server_time": self.clock(), **data}
        if event in ("snapshot", "patch"):
            self._seq += 1
            data.setdefault("seq", self._seq)
        for queue in list(self._streams):
            queue.put_nowait((event, data))

    async def patch(self, upsert: list[dict] = (), remove: list[int] = ()) -> None:  # type: ignore[assignment]
        await self.send("patch", {"upsert": list(upsert), "remove": list(remove)})

    async def end_streams(self) -> None:
        """The server ends every open stream (as a restart would)."""
        for queue in list(self._streams):
            queue.put_nowait(_END)

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    # ---- serving ---------------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        ctx = {
            "sections": self.sections,
            "now": self.clock(),
            "watcher": self.watcher,
            "malformed": self.malformed,
            "stale_after_seconds": self.stale_after_seconds,
            "heartbeat_seconds": self.heartbeat_seconds,
            "query_string": request.query_string,
            "filters": {k: request.query.getall(k, []) for k in ("agent", "group", "section")},
            "wall": WallOptions.from_args(lambda k: request.query.getall(k, []))[0],
            "title": "Ticket Dash",
        }
        async with self._quart.test_request_context("/"):
            html = await render_template("board.html", **ctx)
        return web.Response(
            text=html, content_type="text/html", headers={"Content-Security-Policy": CSP}
        )

    async def _events(self, request: web.Request) -> web.StreamResponse:
        self.event_requests.append(request.query_string)
        if self.answers:
            return web.Response(status=self.answers.pop(0), text="Bad Gateway")
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        queue: asyncio.Queue = asyncio.Queue()
        self._streams.add(queue)
        beat = asyncio.create_task(self._beat(queue))
        try:
            await response.write(b"retry: 300\n\n")
            await self._write(response, "snapshot", self.snapshot())
            while True:
                item = await queue.get()
                if item is _END:
                    break
                await self._write(response, *item)
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        finally:
            self._streams.discard(queue)
            beat.cancel()
        return response

    async def _beat(self, queue: asyncio.Queue) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds / 4)
            if self.heartbeats:
                queue.put_nowait(("heartbeat", {"server_time": self.clock()}))

    async def _write(self, response: web.StreamResponse, event: str, data: dict) -> None:
        lines = ": heartbeat\n" if event == "heartbeat" else ""
        if "seq" in data:
            lines += f"id: {data['seq']}\n"
        lines += f"event: {event}\ndata: {json.dumps(data)}\n\n"
        await response.write(lines.encode())

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/", self._page)
        app.router.add_get("/events", self._events)
        app.router.add_static("/static", ROOT / "static")
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        await self.end_streams()
        if self._runner is not None:
            await self._runner.cleanup()


# ---- a demo board for looking at the page by hand -------------------------------------------

SUBJECTS = [
    "VPN down in Leeds office",
    "Printer on 3rd floor jams on every job",
    "Cannot log in to payroll portal",
    "<img src=x onerror=alert(1)> looks odd in Outlook",
    "Laptop battery swelling — replace urgently",
    "New starter: accounts for J. Smith",
    "Wi-Fi drops in meeting room Atlas",
    "Shared mailbox permissions for Finance",
    "Teams calls choppy from home",
    "Disk almost full on FS-02",
    "Password reset loop on SSO",
    "Monitor flickers after docking",
]
AGENTS = ["Dana Scully", "Agent #17", "Walter Skinner", "", "Monica Reyes"]
PEOPLE = ["Fox Mulder", "Requester #9", "John Doggett", "Alex Krycek", "Jeffrey Spender"]
GROUPS = ["Network", "Service Desk", "Facilities", "Group #3", ""]
PRIORITIES = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}


def demo_row(ticket_id: int, now: float, rng: random.Random) -> dict:
    priority = rng.choice([1, 2, 2, 3, 3, 4])
    kind = rng.choice(["overdue", "critical", "warning", "normal", "responded", "responded"])
    fr_due = {
        "overdue": now - rng.randint(60, 9000),
        "critical": now + rng.randint(600, 4 * 3600 - 60),
        "warning": now + rng.randint(4 * 3600, 12 * 3600 - 60),
        "normal": now + rng.randint(12 * 3600, 3 * 86400),
        "responded": None,
    }[kind]
    updated = now - rng.randint(30, 5 * 86400)
    update_overdue = kind == "responded" and rng.random() < 0.3
    section = "waiting" if update_overdue else rng.choice(["open", "open", "waiting", "other"])
    return make_row(
        ticket_id,
        section,
        now,
        key=[0 if fr_due else 1, fr_due or 9_999_999_999.0, -priority, updated, ticket_id],
        subject=rng.choice(SUBJECTS),
        description="Hello team,\nsince this morning nothing works. <b>Please</b> help.\n— sent from my phone",
        priority=priority,
        priority_name=PRIORITIES[priority],
        agent=rng.choice(AGENTS),
        requester=rng.choice(PEOPLE),
        group=rng.choice(GROUPS),
        status=3 if section == "other" else 2,
        status_name="Pending" if section == "other" else "Open",
        sla=kind,
        fr_due=fr_due,
        updated_at=updated,
        update_due=updated + 2 * 86400,
        update_overdue=update_overdue,
    )


def demo_sections(count: int, now: float, seed: int = 7) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    sections: dict[str, list[dict]] = {"open": [], "waiting": [], "other": []}
    for i in range(count):
        row = demo_row(4700 + i, now, rng)
        sections[row["section"]].append(row)
    for rows in sections.values():
        rows.sort(key=lambda r: r["key"])
    return sections


async def _demo(port: int, churn: bool) -> None:
    now = time.time()
    harness = Harness(sections=demo_sections(22, now), heartbeat_seconds=15)
    harness.malformed = {"count": 2, "files": ["4711.json", "bad.json"]}
    url = await harness.start(port)
    print(f"harness board at {url}/", flush=True)
    rng = random.Random(1)
    next_id = 4800
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            await asyncio.sleep(3)
            if not churn:
                continue
            row = demo_row(next_id, time.time(), rng)
            next_id += 1
            for rows in harness.sections.values():
                rows[:] = [r for r in rows if r["id"] != row["id"]]
            harness.sections[row["section"]].append(row)
            harness.sections[row["section"]].sort(key=lambda r: r["key"])
            await harness.patch(upsert=[row])
    await harness.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--no-churn", action="store_true", help="no new rows every 3 s")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_demo(args.port, not args.no_churn))


if __name__ == "__main__":
    main()
