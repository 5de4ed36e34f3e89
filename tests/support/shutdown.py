"""SIGTERM with many TVs connected, timed: hundreds of lean SSE streams over TLS, a few silent
connections, then seconds until the board's process exited (hypercorn issue #308, Python 3.12+).

Shared by tests/test_tls_shutdown.py and bench/bench_shutdown.py. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import time
from pathlib import Path

from support.server import BoardProcess
from support.sse_client import SseClient
from support.tls_board import kiosk_cookie, running_tls_board


async def open_streams(
    board: BoardProcess, cookie: str, count: int, batch: int = 50
) -> list[SseClient]:
    """`count` HTTP/1.1 event streams (kiosk cookie), each returned once its snapshot arrived."""

    streams: list[SseClient] = []

    async def one() -> None:
        client = SseClient(board.port, headers={"Cookie": cookie}, ssl_context=board.ssl_context)
        streams.append(client)  # closed by close_all if anything below fails
        await client.connect()
        await client.next_of("snapshot")

    try:
        for start in range(0, count, batch):
            await asyncio.gather(*(one() for _ in range(min(batch, count - start))))
    except BaseException:
        await close_all(streams)
        raise
    return streams


async def close_all(streams: list[SseClient]) -> None:
    await asyncio.gather(*(s.aclose() for s in streams))


def silent_connections(board: BoardProcess, count: int) -> list[socket.socket]:
    """TCP connections to the board's port that never say anything (no TLS handshake)."""
    return [socket.create_connection(("127.0.0.1", board.port), timeout=5) for _ in range(count)]


async def sigterm_and_time(
    board: BoardProcess, streams: list[SseClient], limit: float = 15.0
) -> float:
    """Send SIGTERM; seconds until the process exited. Every stream must have ended by then."""
    try:
        started = time.monotonic()
        board.process.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.run_in_executor(None, board.process.wait, limit), limit + 1)
        elapsed = time.monotonic() - started
        await asyncio.wait_for(asyncio.gather(*(s.until_ended() for s in streams)), 10)
        return elapsed
    finally:
        await close_all(streams)


def measure_shutdown(
    python: Path, root: Path, streams: int, silent: int = 0, cli: bool = False, limit: float = 15.0
) -> float:
    """Start a board on `python`, open `streams` SSE clients, SIGTERM it: seconds to exit
    (`limit` + 1 when it had not exited by then and was killed)."""

    async def scenario(board: BoardProcess) -> float:
        cookie = kiosk_cookie(board)
        opened = await open_streams(board, cookie, streams)
        quiet = silent_connections(board, silent)
        try:
            return await sigterm_and_time(board, opened, limit)
        except (TimeoutError, subprocess.TimeoutExpired):
            return limit + 1
        finally:
            for sock in quiet:
                sock.close()

    with running_tls_board(python, root, cli=cli) as board:
        return asyncio.run(scenario(board))
