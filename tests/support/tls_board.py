"""The board as systemd runs it: HTTPS with a throwaway certificate (trustme), the plain-HTTP
redirect, access control with a kiosk key and an admin login, five tickets, a fresh sync.

Started by the one launcher (`server.launch_board`) on any Python (`pythons.board_python`).
Shared by tests/test_tls_shutdown.py and bench/bench_shutdown.py.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import trustme

from app.credentials import hash_key, hash_password
from support.ports import free_ports
from support.server import ROOT, BoardProcess, launch_board
from support.tickets import write_fresh_status, write_ticket

KIOSK_KEY = "probe-kiosk-key-0123456789abcdef"
ADMIN_PASSWORD = "probe admin password"
TICKETS = 5  # "VPN down for office 1" … 5


def _certificate(root: Path) -> tuple[Path, Path, ssl.SSLContext]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    cert.private_key_pem.write_to_path(str(root / "key.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    return root / "cert.pem", root / "key.pem", ssl.create_default_context(cafile=root / "ca.pem")


def _folders(root: Path) -> tuple[Path, Path]:
    tickets, mappings = root / "tickets", root / "mappings"
    tickets.mkdir(parents=True)
    mappings.mkdir(parents=True)
    for ident in range(1, TICKETS + 1):
        write_ticket(tickets, ident, subject=f"VPN down for office {ident}", priority=3)
    write_fresh_status(tickets, source="probe")
    return tickets, mappings


def launch_tls_board(
    python: Path,
    root: Path,
    *,
    workers: int = 1,
    cli: bool = False,
    access_log: bool = False,
) -> BoardProcess:
    """`python -m app` over HTTPS in `root`; with `cli`, the `hypercorn 'app:create_app()'`
    command instead. Returns at once (see `wait_ready`)."""
    certfile, keyfile, context = _certificate(root)
    tickets, mappings = _folders(root)
    port, http_port = free_ports(2)
    env = {
        "TICKET_DASH_CERTFILE": str(certfile),
        "TICKET_DASH_KEYFILE": str(keyfile),
        "TICKET_DASH_ACCESS_CONTROL": "on",
        "TICKET_DASH_ACCESS_KEYS": json.dumps({"probe-tv": hash_key(KIOSK_KEY)}),
        "TICKET_DASH_ADMIN_USERS": json.dumps({"admin": hash_password(ADMIN_PASSWORD)}),
        "TICKET_DASH_ACCESS_LOG": str(access_log).lower(),
        "TICKET_DASH_WORKERS": str(workers),
        # The shutdown measurements open hundreds of streams with one kiosk key: no cap here.
        "TICKET_DASH_MAX_STREAMS_PER_LOGIN": "0",
    }
    args = ["-m", "app"]
    if cli:
        args = ["-m", "hypercorn", "--config", str(ROOT / "deploy/hypercorn.toml")]
        args += ["--bind", f"127.0.0.1:{port}", "--certfile", str(certfile)]
        args += ["--keyfile", str(keyfile), "--graceful-timeout", "2"]
        args += ["--access-logfile", "-", "app:create_app()"]
    return launch_board(
        tickets,
        mappings,
        log_dir=root,
        port=port,
        env=env,
        python=python,
        args=args,
        ssl_context=context,
        redirect_port=http_port,
    )


@contextlib.contextmanager
def running_tls_board(python: Path, root: Path, **kwargs: object) -> Iterator[BoardProcess]:
    """A ready HTTPS board; killed on exit (a test that stops it itself has already done so)."""
    board = launch_tls_board(python, root, **kwargs)  # type: ignore[arg-type]
    try:
        board.wait_ready(30)
        yield board
    except BaseException:
        print(f"--- board output ({board.log_path}) ---\n{board.output()}", file=sys.stderr)
        raise
    finally:
        board.kill()


def kiosk_cookie(board: BoardProcess) -> str:
    """The `name=value` of the kiosk cookie the board sets for its kiosk link."""
    response = httpx.get(
        f"{board.url}/?key={KIOSK_KEY}", verify=board.ssl_context or False, timeout=10
    )
    assert response.status_code == 303, response.text
    return response.headers["set-cookie"].split(";")[0]
