"""What a client's request says of it, read the one way the board needs everywhere: its address
(to allow a network, to count a guesser's failures) and its path as it was sent (to send the
client on to it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import quote


def client_ip(addr: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client's address, or None when it is not one. An IPv4 client of a dual-stack
    socket (systemd's `BindIPv6Only=both`, hypercorn's `[::]`) arrives as `::ffff:a.b.c.d`: it is
    the IPv4 address, so that `allowed_networks = ["10.0.0.0/8"]` lets it in."""
    try:
        ip = ipaddress.ip_address((addr or "").split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_block(addr: str) -> str:
    """What a client's failed logins are counted against: its address, or for IPv6 its /64 (one
    machine can pick any address in it); `addr` itself when it is not an address."""
    ip = client_ip(addr)
    if ip is None:
        return addr
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def path_as_sent(scope: Mapping[str, object]) -> str:
    """The request's path as the client sent it: percent-encoded ASCII, fit for a Location
    header. The server's `path` is decoded: a `%0d%0a` in it would break the header, and "/€"
    cannot go into one as it is."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.decode("ascii", "backslashreplace")
    return quote(str(scope["path"]))
