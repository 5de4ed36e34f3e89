"""deploy/: the systemd units verify, score ≤ 1.5 on `systemd-analyze security`, and the board's
ExecStart works the way systemd will start it (sockets on fd 3 and 4, TLS from credentials)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trustme
from hypercorn.config import Config
from support.server import launch_board

from app.credentials import hash_key
from app.web.listen import ACCESS_LOG_FORMAT

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted(
    p.name for p in DEPLOY.glob("ticket-dash-*.s*") if p.suffix in (".service", ".socket")
)
SERVICES = [u for u in UNITS if u.endswith(".service")]
VENV_PYTHON = "/opt/ticket-dash/venv/bin/python"
MAX_EXPOSURE = 1.5


def systemd_analyze() -> str:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing (CI must run these checks)")
        pytest.skip("systemd-analyze is not installed here")
    return exe


def directives(unit: str) -> dict[str, list[str]]:
    """Every `Key=value` of a unit, values in order (systemd allows repeats)."""
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / unit).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def installed_copy(tmp_path: Path) -> Path:
    """The units as they will be once installed: the venv's python exists."""
    for unit in UNITS:
        text = (DEPLOY / unit).read_text().replace(VENV_PYTHON, sys.executable)
        (tmp_path / unit).write_text(text)
    return tmp_path


def test_there_are_units_for_the_board_its_sockets_the_watcher_and_the_mirror():
    assert UNITS == [
        "ticket-dash-board.service",
        "ticket-dash-board.socket",
        "ticket-dash-mirror.service",
        "ticket-dash-watcher.service",
    ]


def test_verify_complains_only_about_the_not_yet_installed_python():
    exe = systemd_analyze()
    result = subprocess.run(
        [exe, "verify", *(str(DEPLOY / u) for u in UNITS)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    complaints = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
    assert complaints, "expected the missing /opt/ticket-dash/venv/bin/python to be reported"
    for line in complaints:
        assert f"Command {VENV_PYTHON} is not executable" in line, line


def test_verify_is_clean_once_installed(tmp_path):
    exe = systemd_analyze()
    units = installed_copy(tmp_path)
    result = subprocess.run(
        [exe, "verify", *(str(units / u) for u in UNITS)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize("unit", SERVICES)
def test_security_exposure_is_at_most_1_5(unit):
    exe = systemd_analyze()
    result = subprocess.run(
        [exe, "security", "--offline=true", "--no-pager", str(DEPLOY / unit)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    exposure = float(match.group(1))
    print(f"{unit}: exposure {exposure}")
    assert exposure <= MAX_EXPOSURE


@pytest.mark.parametrize("unit", SERVICES)
def test_services_are_hardened_and_keep_secrets_out_of_argv_and_environment(unit):
    d = directives(unit)
    assert d["User"] == ["ticket-dash"]
    assert d["ProtectSystem"] == ["strict"]
    assert d["CapabilityBoundingSet"] == [""]
    assert d["UMask"] == ["0077"]
    assert d["NoNewPrivileges"] == ["yes"]
    assert d["Restart"] == ["on-failure"]
    assert "@system-service" in d["SystemCallFilter"]
    assert d["LoadCredential"]
    text = " ".join(d.get("Environment", []) + d["ExecStart"]).lower()
    assert "token" not in text and "key.pem" not in text and "password" not in text
    assert "hypercorn" not in " ".join(d["ExecStart"])  # see app/serve.py: issue #308


def test_the_board_writes_nowhere_and_the_watcher_and_mirror_only_to_tickets_and_mappings():
    assert "ReadWritePaths" not in directives("ticket-dash-board.service")
    for unit in ("ticket-dash-watcher.service", "ticket-dash-mirror.service"):
        assert directives(unit)["ReadWritePaths"] == [
            "/var/lib/ticket-dash/tickets /var/lib/ticket-dash/mappings"
        ]


def test_the_mirror_runs_the_nats_source_with_its_login_from_a_credential():
    mirror = directives("ticket-dash-mirror.service")
    assert "-m watcher --source nats" in mirror["ExecStart"][0]
    assert mirror["LoadCredential"] == ["nats-credentials:/etc/ticket-dash/nats-credentials"]
    drop_in = (DEPLOY / "ticket-dash-watcher-nats.conf").read_text()
    assert "LoadCredential=nats-credentials:/etc/ticket-dash/nats-credentials" in drop_in


def test_the_socket_order_matches_the_board_binds():
    listen = directives("ticket-dash-board.socket")["ListenStream"]
    assert listen == ["443", "80"]  # fd 3 and fd 4, in this order
    board = directives("ticket-dash-board.service")
    assert "--bind fd://3" in board["ExecStart"][0]
    assert "TICKET_DASH_HTTP_REDIRECT_BIND=fd://4" in board["Environment"]


def test_hypercorn_toml_parses_and_matches_what_python_m_app_does():
    config = Config.from_toml(DEPLOY / "hypercorn.toml")
    assert config.alpn_protocols == ["h2", "http/1.1"]
    assert config.access_log_format == ACCESS_LOG_FORMAT
    assert "%(q)s" not in config.access_log_format and "%(R)s" not in config.access_log_format


def _listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def test_exec_start_as_systemd_runs_it_sockets_on_fd_3_and_4_and_tls_credentials(tmp_path):
    """Emulate socket activation and LoadCredential= for the board's ExecStart line."""
    board = directives("ticket-dash-board.service")
    argv = shlex.split(board["ExecStart"][0].replace(VENV_PYTHON, sys.executable))
    config = tmp_path / "ticket-dash.toml"
    config.write_text((DEPLOY / "ticket-dash.toml").read_text())
    argv[argv.index("/etc/ticket-dash/ticket-dash.toml")] = str(config)

    creds = tmp_path / "credentials"
    creds.mkdir()
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(creds / "tls-cert"))
    cert.private_key_pem.write_to_path(str(creds / "tls-key"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    (tmp_path / "tickets").mkdir()
    (tmp_path / "mappings").mkdir()

    env = {}
    for line in board["Environment"]:
        env.update(pair.split("=", 1) for pair in shlex.split(line))
    env.update(
        CREDENTIALS_DIRECTORY=str(creds),
        TICKET_DASH_METRICS_BIND="",
        TICKET_DASH_ACCESS_KEYS=json.dumps({"lobby-tv": hash_key("the-lobby-key-123456")}),
    )
    https_sock, http_sock = _listening(), _listening()
    https_port, http_port = https_sock.getsockname()[1], http_sock.getsockname()[1]
    # Put the sockets on fd 3 and 4 in the child, as systemd does, then exec the unit's command.
    launcher = (
        "import os, sys; a, b = (os.dup(int(x)) for x in sys.argv[1:3]);"
        "os.dup2(a, 3); os.dup2(b, 4); os.set_inheritable(3, True); os.set_inheritable(4, True);"
        "os.execv(sys.argv[3], sys.argv[3:])"
    )
    fds = (https_sock.fileno(), http_sock.fileno())
    try:
        server = launch_board(
            tmp_path / "tickets",
            tmp_path / "mappings",
            log_dir=tmp_path,
            port=https_port,
            env=env,
            args=["-c", launcher, *map(str, fds), *argv],
            ssl_context=ssl.create_default_context(cafile=str(tmp_path / "ca.pem")),
            pass_fds=fds,
        )
    finally:
        https_sock.close()
        http_sock.close()
    try:
        server.wait_ready()
        health = httpx.get(f"{server.url}/healthz", verify=server.ssl_context, timeout=5)
        assert health.status_code == 503  # no watcher yet: the NOC sees it
        refused = httpx.get(f"{server.url}/api/tickets", verify=server.ssl_context, timeout=5)
        assert refused.status_code == 401
        redirect = httpx.get(f"http://127.0.0.1:{http_port}/", timeout=5)
        assert redirect.status_code == 308
        assert redirect.headers["location"] == "https://127.0.0.1/"  # port 443 behind fd://
        server.stop()
        assert server.process.returncode == 0
    finally:
        server.kill()
    assert "the-lobby-key" not in server.output()
