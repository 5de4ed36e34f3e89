"""How the board listens: a reconnect storm after a restart is held by the kernel, not dropped."""

from __future__ import annotations

import resource
import selectors
import socket
import time

from support.ports import free_port

from app.settings import load_settings
from app.web.listen import bind_sockets, hypercorn_config

STORM = 600  # more than hypercorn's default backlog of 100, within the default 1,024 files


def test_hundreds_of_tvs_connecting_at_once_are_all_held_until_the_board_accepts_them():
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft > STORM + 50, "the test needs more open files"
    settings = load_settings({"bind": f"127.0.0.1:{free_port()}"}, environ={})
    sockets = bind_sockets(hypercorn_config(settings), "the board")
    (listener,) = sockets.insecure_sockets
    port = listener.getsockname()[1]
    clients: list[socket.socket] = []
    try:
        with selectors.DefaultSelector() as waiting:
            for _ in range(STORM):  # all at once, and nobody accepts yet (a board starting up)
                client = socket.socket()
                client.setblocking(False)
                client.connect_ex(("127.0.0.1", port))
                clients.append(client)
                waiting.register(client, selectors.EVENT_WRITE)
            connected = 0
            deadline = time.monotonic() + 0.8  # a dropped SYN is tried again only after 1 s
            while connected < STORM and time.monotonic() < deadline:
                for key, _ in waiting.select(timeout=0.05):
                    waiting.unregister(key.fileobj)
                    if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        connected += 1
        assert connected == STORM
    finally:
        for client in clients:
            client.close()
        listener.close()
