"""Every setting of Ticket Dash, in one typed definition.

Each field of `Settings` is one setting: its name is the TOML key, `TICKET_DASH_<NAME>` is the
environment variable, and `metadata["help"]` is the line the README's settings table carries (a
test checks the table against this file). Precedence: explicit value > environment > TOML file
> default. The TOML file is `--config PATH` or `$TICKET_DASH_CONFIG`; with neither, `ticket-dash.toml`
in the working directory is read if it exists.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "TICKET_DASH_"
DEFAULT_CONFIG_FILE = "ticket-dash.toml"


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the setting and where it came from."""


def _setting(default: Any, help: str) -> Any:
    if isinstance(default, dict | list):
        return field(
            default_factory=lambda: json.loads(json.dumps(default)), metadata={"help": help}
        )
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    # --- where things are -------------------------------------------------------------------
    tickets_dir: Path = _setting(
        Path("tickets"), "Folder of ticket files (`<id>.json`) the board shows."
    )
    mappings_dir: Path = _setting(
        Path("mappings"),
        "Folder of `id:Name` files: agents.txt, requesters.txt, groups.txt, statuses.txt.",
    )
    bind: str = _setting("127.0.0.1:5001", "Address the board listens on (`python -m app`).")
    certfile: str = _setting(
        "cert.pem", "TLS certificate; HTTPS is used when this and `keyfile` both exist."
    )
    keyfile: str = _setting("key.pem", "TLS private key, see `certfile`.")

    # --- links ------------------------------------------------------------------------------
    freshservice_domain: str = _setting("", "Freshservice domain, e.g. `acme.freshservice.com`.")
    link_base: str = _setting(
        "",
        "Ticket link prefix; the id is appended. Empty: `https://<freshservice_domain>/a/tickets/`.",
    )

    # --- sections and statuses ----------------------------------------------------------------
    status_sections: dict[str, str] = _setting(
        {"2": "open", "3": "other", "4": "hidden", "5": "hidden"},
        "Status id → section (`open`, `waiting`, `other`, `hidden`). Unlisted statuses go by name, else to `other`.",
    )
    waiting_status_names: list[str] = _setting(
        ["waiting on agent", "customer replied", "awaiting agent"],
        "Status names (from mappings/statuses.txt, any case) whose tickets are Waiting on Agent.",
    )
    hidden_status_names: list[str] = _setting(
        ["resolved", "closed"], "Status names whose tickets are not shown."
    )
    customer_reply_means_waiting: bool = _setting(
        True,
        "An Open ticket whose requester replied after the agent's last reply is Waiting on Agent.",
    )

    # --- SLA ----------------------------------------------------------------------------------
    fr_warning_hours: float = _setting(
        12.0,
        "Next deadline (first response or resolution) due in less than this: Warning. The name predates resolution deadlines.",
    )
    fr_critical_hours: float = _setting(
        4.0,
        "Next deadline (first response or resolution) due in less than this: Critical. The name predates resolution deadlines.",
    )
    update_sla_minutes: dict[str, int] = _setting(
        {"urgent": 30, "high": 2880, "medium": 4320, "low": 5760},
        "Minutes without an update, by priority, before a ticket is 'update overdue' (moves to Waiting on Agent).",
    )

    # --- the live page ------------------------------------------------------------------------
    stale_after_seconds: int = _setting(
        300, "The page shows STALE when the watcher's last successful sync is older."
    )
    description_chars: int = _setting(
        400, "Characters of the plain-text description shown in the tooltip."
    )
    heartbeat_seconds: float = _setting(15.0, "Seconds between SSE heartbeats.")
    client_queue_size: int = _setting(
        256, "Events buffered per SSE client before it is resynced with a snapshot."
    )
    max_streams_per_login: int = _setting(
        16,
        "Open event streams one kiosk key or admin may hold at once (a TV needs one); 0: no limit. A leaked key then cannot use up the board's connections.",
    )
    client_queue_bytes: int = _setting(
        1_000_000,
        "Bytes of events buffered per SSE client (a TV that stopped reading) before it is resynced with a snapshot.",
    )
    max_queued_bytes: int = _setting(
        64_000_000,
        "Bytes of events buffered for all SSE clients together; past it the longest backlogs are resynced first.",
    )

    # --- the file pipeline ------------------------------------------------------------------
    watch_debounce_ms: int = _setting(
        20, "watchfiles debounce: the longest a batch of changes is gathered before it is read."
    )
    watch_step_ms: int = _setting(5, "watchfiles step: how often a pending batch is checked.")
    watch_force_polling: bool = _setting(
        False, "Poll the folder instead of inotify (network filesystems)."
    )
    rescan_seconds: float = _setting(
        60.0, "Seconds between the safety rescan of tickets/ (mtime and size)."
    )
    max_file_bytes: int = _setting(
        2_000_000, "Ticket files larger than this are counted as malformed."
    )
    read_stall_seconds: float = _setting(
        5.0,
        "A read of tickets/ or mappings/ taking longer than this is reported (`/healthz` 503, the page) as a stalled folder.",
    )

    # --- the simulated helpdesk -------------------------------------------------------------
    demo_dir: Path = _setting(
        Path("demo-data"), "Folder the simulated helpdesk writes (tickets/ and mappings/ inside)."
    )
    demo_speed: float = _setting(1.0, "Simulated helpdesk speed: events per second, roughly.")
    demo_tickets: int = _setting(40, "Active tickets the simulated helpdesk keeps around.")
    demo_archive_keep: int = _setting(
        10_000,
        "The simulated helpdesk's own archived resolves kept (at least 5x demo_tickets); older ones are removed, so a demo left running does not fill the disk.",
    )

    # --- the Freshservice watcher (owned by watcher/freshservice) ----------------------------
    freshservice_url: str = _setting(
        "",
        "Freshservice API base URL; empty: `https://<freshservice_domain>` (tests point it at a fake).",
    )
    token_file: Path = _setting(
        Path("token.txt"),
        "File holding the Freshservice API key (chmod 600); used when neither the systemd credential `freshservice-token` nor `TICKET_DASH_FRESHSERVICE_TOKEN` is set.",
    )
    poll_seconds: float = _setting(
        15.0, "Seconds between incremental polls (`updated_since`) of Freshservice."
    )
    poll_overlap_seconds: float = _setting(
        60.0,
        "Each poll asks for changes since the last poll minus this (one-second timestamps, clock skew).",
    )
    reconcile_minutes: float = _setting(
        10.0, "Minutes between full reconciliations against every active ticket."
    )
    rate_limit_per_minute: int = _setting(
        80,
        "API credits a minute the watcher may spend (Starter allows 100 for the whole account).",
    )
    list_rate_limit_per_minute: int = _setting(
        32, "List calls a minute (tickets, filter, agents, groups); Starter allows 40."
    )
    view_rate_limit_per_minute: int = _setting(
        40, "Single-ticket calls a minute (stats backfill, confirmations); Starter allows 50."
    )
    max_concurrency: int = _setting(4, "Freshservice requests in flight at once, at most.")
    request_timeout_seconds: float = _setting(
        30.0, "Seconds before one Freshservice request is given up (then retried)."
    )
    request_retries: int = _setting(
        3, "Retries (exponential backoff with jitter) after a 5xx, timeout or network error."
    )
    workspace_id: str = _setting(
        "", "Freshservice workspace id to mirror; empty: the account's primary workspace."
    )
    active_statuses: list[int] = _setting(
        [], "Status ids that belong on the board; empty: every status not in `excluded_statuses`."
    )
    excluded_statuses: list[int] = _setting(
        [4, 5], "Status ids that leave the board (archived): Resolved and Closed by default."
    )
    timezone: str = _setting(
        "",
        "IANA time zone (e.g. `Europe/Berlin`) whose midnight starts the board's \"today\"; empty: the machine's zone.",
    )
    state_dir: str = _setting(
        "",
        "Folder for the board's own state (the last hours' trend, `trend.sqlite3`); systemd's `StateDirectory=` sets it. Empty: no trend is kept across restarts.",
    )
    trend_sample_minutes: int = _setting(
        15, "How often the board samples its sections for the trend (one point per sample)."
    )
    trend_retention_days: int = _setting(
        8, "Days of trend samples kept in `state_dir`; older ones are deleted."
    )
    archive_retention_days: int = _setting(
        90,
        "Days archived ticket files (tickets/archive/YYYY-MM-DD/) are kept; 0 keeps them forever.",
    )

    # --- running as a service: access control, TLS, metrics (issue 4) -------------------------
    access_control: str = _setting(
        "auto",
        "`auto`, `on` or `off`. `auto`: off only when `bind` is a loopback address; on otherwise. The board refuses to start on any other bind without kiosk keys or admin users.",
    )
    access_keys: dict[str, str] = _setting(
        {},
        "Kiosk keys: name → `sha256:<hex>` of the key (`python -m app.credentials new-key NAME` prints the line and the TV link). Delete a line to revoke that key and its cookies.",
    )
    admin_users: dict[str, str] = _setting(
        {},
        "HTTP Basic users: name → scrypt password hash (`python -m app.credentials hash-password NAME` prints the line).",
    )
    allowed_networks: list[str] = _setting(
        [],
        'Client networks allowed at all, e.g. `["10.20.0.0/16"]`; empty: any. `/healthz` is always answered.',
    )
    failed_logins_per_minute: int = _setting(
        5,
        "Failed admin logins one client address (an IPv6 /64) may make in a minute; past that it gets 429 with Retry-After until a minute has passed.",
    )
    cookie_secret_file: str = _setting(
        "",
        "File holding the board's secret for kiosk cookies (`python -m app.credentials cookie-secret`); the systemd credential `cookie-secret` wins. Without one, anyone who can read this settings file can make a TV's cookie.",
    )
    legacy_kiosk_cookies: bool = _setting(
        False,
        "Also take the cookies of development builds before the cookie secret (and those made before a secret was added) and replace them on the TV's next visit. Only for such an upgrade, and only until every TV has shown the board once: while on, anyone who can read this settings file can make a TV's cookie.",
    )
    kiosk_cookie_days: int = _setting(
        400, "Days the kiosk cookie lasts after the TV opened its link (browsers cap it at 400)."
    )
    http_redirect_bind: str = _setting(
        "",
        "Plain-HTTP address that only redirects to HTTPS, e.g. `0.0.0.0:80` or `fd://4`; empty: none. Needs TLS.",
    )
    metrics_bind: str = _setting(
        "",
        "Separate plain-HTTP address for `/metrics` without access control, e.g. `127.0.0.1:9108`; empty: `/metrics` is on the board, behind access control.",
    )
    hsts_seconds: int = _setting(
        31_536_000, "Strict-Transport-Security max-age sent over HTTPS; 0 sends none."
    )
    workers: int = _setting(
        1, "Board processes sharing the listening sockets (`-w`); each watches tickets/ itself."
    )
    event_loop: str = _setting(
        "uvloop",
        "`uvloop` (faster: a change reaches 5,000 TVs in half the CPU) or `asyncio` (Python's own).",
    )
    tracemalloc_frames: int = _setting(
        0,
        "Diagnostics: `kill -USR1` always logs where the board's memory is (docs/deploy.md, Logs); when above 0, the board also records allocations with this many frames and each USR1 after the first logs where memory grew since (slows the board).",
    )
    full_collection_seconds: float = _setting(
        300.0,
        "Seconds between full garbage collections, which keep a quiet board's memory flat (0: Python's own schedule).",
    )
    access_log: bool = _setting(
        True, "Log one line per request to stderr (the journal); the query string is never logged."
    )

    # --- several sites: tickets/ mirrored over NATS JetStream (issue 12, docs/deploy.md) ------
    nats_url: str = _setting(
        "",
        "NATS server(s) for several sites, e.g. `nats://10.0.0.9:4222` or `tls://nats.example:4222` (comma-separated for a cluster). Empty: one host, no NATS.",
    )
    nats_bucket: str = _setting(
        "ticket-dash", "JetStream key-value bucket holding one account's tickets (one per account)."
    )
    nats_domain: str = _setting(
        "",
        "JetStream domain of the server holding the bucket, when this host reaches it through a leaf node (the hub's `jetstream { domain: ... }`); empty: none.",
    )
    nats_credentials_file: str = _setting(
        "",
        "File with the NATS login: a `.creds` file, `user:password`, or a token. The systemd credential `nats-credentials` wins. Empty: none. Never put it in `nats_url`.",
    )
    nats_ca_file: str = _setting(
        "",
        "CA certificate (PEM) that signed the NATS server's TLS certificate, for `tls://` URLs; empty: the system's CAs.",
    )
    nats_lease_seconds: float = _setting(
        15.0,
        "Of several watchers for one account only the lease holder polls; a standby takes over this long after the holder's last renewal.",
    )

    @property
    def ticket_link_base(self) -> str:
        if self.link_base:
            return self.link_base
        if self.freshservice_domain:
            return f"https://{self.freshservice_domain}/a/tickets/"
        return ""


SETTING_FIELDS: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(Settings)
SETTING_NAMES = frozenset(f.name for f in SETTING_FIELDS)


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _field_type(f: dataclasses.Field[Any]) -> Any:
    return typing.get_type_hints(Settings)[f.name]


def _coerce(name: str, value: Any, target: Any, origin: str) -> Any:
    """Turn a TOML value or an environment string into the field's type."""
    base = typing.get_origin(target) or target
    try:
        if isinstance(value, str) and base in (dict, list):
            value = json.loads(value)
        if base is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off", ""):
                    return False
                raise ValueError(f"not a boolean: {value!r}")
            if isinstance(value, bool):
                return value
            raise ValueError(f"not a boolean: {value!r}")
        if base is int:
            if isinstance(value, bool):
                raise ValueError("not a whole number")
            return int(value)
        if base is float:
            if isinstance(value, bool):
                raise ValueError("not a number")
            return float(value)
        if base is Path:
            return Path(str(value))
        if base is str:
            if not isinstance(value, str):
                raise ValueError("not text")
            return value
        if base is dict:
            if not isinstance(value, dict):
                raise ValueError("not a table")
            _key_type, value_type = typing.get_args(target)
            return {str(k): _coerce(name, v, value_type, origin) for k, v in value.items()}
        if base is list:
            if not isinstance(value, list):
                raise ValueError("not a list")
            (item_type,) = typing.get_args(target)
            return [_coerce(name, v, item_type, origin) for v in value]
        if isinstance(base, types.UnionType):  # pragma: no cover - no such fields yet
            return value
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise SettingsError(f"setting {name!r} from {origin}: {exc}") from None
    raise SettingsError(f"setting {name!r}: unsupported type {target!r}")  # pragma: no cover


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays and tables
        raise SettingsError(f"config file {path} nests arrays or tables too deeply") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"config file {path} is not UTF-8 (byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:  # unreadable (permissions), a folder, an I/O error
        raise SettingsError(f"config file {path} cannot be read: {exc.strerror or exc}") from None
    unknown = sorted(set(data) - SETTING_NAMES)
    if unknown:
        raise SettingsError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return data


def load_settings(
    explicit: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_path: Path | str | None = None,
) -> Settings:
    """Build Settings: explicit > environment > TOML file > default."""
    environ = os.environ if environ is None else environ
    explicit = {k: v for k, v in (explicit or {}).items() if v is not None}
    unknown = sorted(set(explicit) - SETTING_NAMES)
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}")

    file_values: dict[str, Any] = {}
    file_origin = ""
    if config_path is None:
        config_path = environ.get(ENV_PREFIX + "CONFIG") or None
    if config_path is not None:
        file_values = read_config_file(Path(config_path))
        file_origin = f"config file {config_path}"
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        file_values = read_config_file(Path(DEFAULT_CONFIG_FILE))
        file_origin = f"config file {DEFAULT_CONFIG_FILE}"

    values: dict[str, Any] = {}
    for f in SETTING_FIELDS:
        target = _field_type(f)
        if f.name in explicit:
            values[f.name] = _coerce(f.name, explicit[f.name], target, "the command line")
        elif env_name(f.name) in environ:
            values[f.name] = _coerce(f.name, environ[env_name(f.name)], target, env_name(f.name))
        elif f.name in file_values:
            values[f.name] = _coerce(f.name, file_values[f.name], target, file_origin)
    settings = Settings(**values)
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    sections = {"open", "waiting", "other", "hidden"}
    for status, section in s.status_sections.items():
        if section not in sections:
            raise SettingsError(
                f"setting 'status_sections': status {status} maps to {section!r}; "
                f"use one of {', '.join(sorted(sections))}"
            )
    if s.fr_critical_hours > s.fr_warning_hours:
        raise SettingsError(
            "setting 'fr_critical_hours' must not be larger than 'fr_warning_hours'"
        )
    if s.timezone:
        try:
            zoneinfo.ZoneInfo(s.timezone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise SettingsError(
                f"setting 'timezone': {s.timezone[:60]!r} is not an IANA time zone name "
                "(e.g. Europe/Berlin, America/New_York, UTC)"
            ) from None
    if not 1 <= s.trend_sample_minutes <= 1440:
        raise SettingsError("setting 'trend_sample_minutes' must be between 1 and 1440")
    if s.trend_retention_days < 2:
        raise SettingsError(
            "setting 'trend_retention_days' must be at least 2 (yesterday is compared)"
        )
    if s.event_loop not in ("uvloop", "asyncio"):
        raise SettingsError("setting 'event_loop' must be uvloop or asyncio")
    if not 0 < s.heartbeat_seconds <= 300:
        raise SettingsError("setting 'heartbeat_seconds' must be more than 0 and at most 300")
    if s.stale_after_seconds <= 0:
        raise SettingsError("setting 'stale_after_seconds' must be more than 0")
    if s.full_collection_seconds < 0:
        raise SettingsError("setting 'full_collection_seconds' must be 0 (off) or more")
    missing = {"low", "medium", "high", "urgent"} - set(s.update_sla_minutes)
    if missing:
        raise SettingsError(f"setting 'update_sla_minutes' lacks {', '.join(sorted(missing))}")


@dataclass(frozen=True)
class SettingsSource:
    """How the running settings were made (command line values and the config file), so that a
    reload (`systemctl reload`, SIGHUP) reads them again the same way."""

    explicit: Mapping[str, Any] = field(default_factory=dict)
    config_path: Path | None = None

    def load(self) -> Settings:
        return load_settings(self.explicit, config_path=self.config_path)


def changed_settings(old: Settings, new: Settings) -> list[str]:
    """The names of the settings whose values differ."""
    return [f.name for f in SETTING_FIELDS if getattr(old, f.name) != getattr(new, f.name)]
