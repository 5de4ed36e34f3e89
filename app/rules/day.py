"""The NOC's day: which zone "today" is in, and where a local day starts and ends.

`timezone` names an IANA zone; empty means the machine's own zone, found the way the C library
finds it (`$TZ`, else the zone `/etc/localtime` points to), else UTC. A day is local midnight to
the next local midnight, so a day with a DST change is 23 or 25 hours long, and a zone far from
UTC (Pacific/Kiritimati, UTC+14) has its day mostly in the previous UTC date.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZONEINFO_ROOTS = ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/", "/usr/share/lib/zoneinfo/")


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"{name[:60]!r} is not an IANA time zone name") from None


def machine_zone_name() -> str:
    """The machine's zone as an IANA name (what `timezone = ""` means)."""
    candidates = []
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        candidates.append(tz)
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:  # pragma: no cover - realpath does not raise for a missing file
        target = ""
    for root in ZONEINFO_ROOTS:
        if target.startswith(root):
            candidates.append(target[len(root) :].removeprefix("posix/").removeprefix("right/"))
    try:
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        pass
    for name in candidates:
        try:
            zone_named(name)
        except ValueError:
            continue
        return name
    return "UTC"


def board_zone(setting: str) -> tuple[str, tzinfo]:
    """(name, zone) for the `timezone` setting."""
    name = setting or machine_zone_name()
    return name, zone_named(name)


@dataclass(frozen=True, slots=True)
class Day:
    """One local day: its date and its bounds in unix seconds, [start, end)."""

    date: dt.date
    start: float
    end: float

    @classmethod
    def of(cls, moment: float, zone: tzinfo) -> Day:
        return cls.on(datetime.fromtimestamp(moment, zone).date(), zone)

    @classmethod
    def on(cls, day: dt.date, zone: tzinfo) -> Day:
        return cls(day, local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone))

    def before(self, zone: tzinfo) -> Day:
        return Day.on(self.date - timedelta(days=1), zone)

    def same_time(self, moment: float, other: Day, zone: tzinfo) -> float:
        """The moment on `other` with the same local clock time as `moment` on this day. A clock
        time that does not exist there (skipped by a DST change) reads as after the jump
        (02:30 on a day that jumps from 02:00 to 03:00 is 03:30)."""
        local = datetime.fromtimestamp(moment, zone)
        there = datetime.combine(other.date, local.time().replace(tzinfo=None), zone)
        return min(max(there.timestamp(), other.start), other.end)


def local_midnight(day: dt.date, zone: tzinfo) -> float:
    """Unix seconds of the start of `day` in `zone`. Where a DST change skips midnight (e.g.
    America/Havana), zoneinfo reads the missing 00:00 with the offset before the jump, which is
    the moment of the jump: the first moment of the day that exists."""
    return datetime.combine(day, time(0), zone).timestamp()
