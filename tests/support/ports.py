"""Free TCP ports on 127.0.0.1, for the servers tests and benchmarks start.

A port is taken from *below* the kernel's ephemeral range (ip_local_port_range, 32768-60999 by
default). A port the kernel hands out for `bind(0)` is in that range, and so is the local end of
every outgoing connection on the machine: on a busy machine (other test runs, a benchmark with a
thousand clients) one of those can take the port between our check and the server's bind, and
the server fails with "Address already in use". Below the range only an explicit bind can.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 20000  # above the well-known and registered ports local services tend to use
_pick = random.SystemRandom()  # not the `random` a test may have seeded


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(*, avoid: frozenset[int] = frozenset()) -> int:
    """A port nothing is bound to right now, outside the ephemeral range when there is room."""
    low, _ = _ephemeral_range()
    if low - LOWEST >= 1000:
        for _ in range(200):
            port = _pick.randrange(LOWEST, low)
            if port not in avoid and _is_free(port):
                return port
    while True:  # no room below the range: the kernel's pick
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in avoid:
            return port


def free_ports(count: int) -> list[int]:
    """`count` different free ports."""
    ports: list[int] = []
    for _ in range(count):
        ports.append(free_port(avoid=frozenset(ports)))
    return ports


def send_queues(port: int) -> dict[int, int]:
    """What the kernel holds to send from 127.0.0.1:`port`'s end of each of its connections,
    in bytes, by the other end's port (/proc/net/tcp's tx_queue)."""
    held: dict[int, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            held[int(fields[2].split(":")[1], 16)] = int(fields[4].split(":")[0], 16)
    return held
