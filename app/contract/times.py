"""The one time format of ticket files and the status file: UTC `YYYY-MM-DDTHH:MM:SSZ`.

Written with whole seconds, as Freshservice does. Read leniently: any ISO 8601 time is accepted,
and one without a zone is taken as UTC (the format's zone).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso(ts: float) -> str:
    """Unix seconds → `YYYY-MM-DDTHH:MM:SSZ`."""
    return datetime.fromtimestamp(ts, UTC).strftime(TIME_FORMAT)


def iso_of(moment: datetime) -> str:
    """An aware datetime → `YYYY-MM-DDTHH:MM:SSZ`."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def utc_now_iso() -> str:
    return iso(time.time())


def parse_iso(text: str) -> float:
    """An ISO 8601 time → Unix seconds; ValueError if it is not one."""
    moment = datetime.fromisoformat(text)  # Python 3.11 reads the trailing "Z" itself
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_iso_datetime(text: str) -> datetime:
    """An ISO 8601 time → an aware UTC datetime; ValueError if it is not one."""
    return datetime.fromtimestamp(parse_iso(text), UTC)


def parse_iso_or_none(value: object) -> float | None:
    """Unix seconds, or None when the value is absent, not text, or not a time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None
