"""What the board template needs besides the rows: texts for times, classes, the stale check.

`register(app)` installs them as Jinja filters and globals. `static/board-format.js` produces the
same texts in the browser (tests/test_page_render.py checks both sides against one table), so the
server-rendered first paint and the ticking page never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from quart import Quart

from app.contract.times import parse_iso_or_none
from app.rules.categorise import SECTION_TITLES, SECTIONS
from app.rules.sla import PRIORITY_NAMES, SLA_STATES

FUTURE_SKEW_SECONDS = 60  # a sync this far ahead of the server's clock is not believed
MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# (key, heading) in display order; the keys are docs/stream.md's section names.
BOARD_SECTIONS: tuple[tuple[str, str], ...] = tuple((s, SECTION_TITLES[s]) for s in SECTIONS)
PRIORITY_CLASSES = {p: name.lower() for p, name in PRIORITY_NAMES.items()}
KNOWN_SLA_STATES = frozenset(SLA_STATES)
COUNTED_SLA_STATES = ("overdue", "critical", "warning")
# The wall's counters: (key, label, short label for a strip too narrow for the labels), the
# sections' first (as the view draws them), then these, in this order.
SECTION_COUNTERS = {
    "open": ("Open", "Open"),
    "waiting": (SECTION_TITLES["waiting"], "Waiting"),
    "other": (SECTION_TITLES["other"], "Other"),
}
STATE_COUNTERS = (
    ("overdue", "Overdue", "Overdue"),
    ("critical", "Critical", "Critical"),
    ("warning", "Warning", "Warning"),
    ("update_overdue", "Update overdue", "Upd. overdue"),
    ("unassigned", "Unassigned", "Unassigned"),
)


# Today's strip (static/wall-today.js patches it): (key in the summary's "today", label).
TODAY_ITEMS = (
    ("created", "new"),
    ("resolved", "resolved"),
    ("fr_breached", "FR breached"),
    ("resolution_breached", "due breached"),
    ("median_first_response_seconds", "median FR time"),
)
# The trend's sparklines: (key in each trend point, label).
# Overdue first: where the strip runs out of room, the least telling sparkline gives way.
TREND_ITEMS = (("overdue", "Overdue"), ("open", "Open"), ("waiting", "Waiting"), ("other", "Other"))


def today_value(today: Mapping[str, Any] | None, key: str) -> str:
    """One of today's numbers as the strip shows it (the median as a duration, "–" if none)."""
    value = (today or {}).get(key)
    if value is None:
        return "–"
    if key == "median_first_response_seconds":
        return duration(float(value))
    return str(value)


def duration(seconds: float) -> str:
    """A span for a person across the room: "< 1 m", "14 m", "3 h 12 m", "2 d 5 h"."""
    s = max(0.0, seconds)
    if s < MINUTE:
        return "< 1 m"
    if s < HOUR:
        return f"{math.floor(s / MINUTE)} m"
    if s < DAY:
        hours, minutes = divmod(math.floor(s / MINUTE), 60)
        return f"{hours} h {minutes} m" if minutes else f"{hours} h"
    days, hours = divmod(math.floor(s / HOUR), 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def countdown(row: Mapping[str, Any], now: float) -> str:
    """The SLA cell: the next unmet deadline ("FR due in …", "FR overdue by …", "Due in …",
    "Overdue by …"), else update overdue, else No SLA."""
    due = row.get("sla_due")
    if due is not None:
        fr = row.get("sla_kind") == "fr"
        left = due - now
        if left < 0:  # says more than "update overdue" would
            return f"{'FR overdue' if fr else 'Overdue'} by {duration(-left)}"
        text = f"{'FR due' if fr else 'Due'} in {duration(left)}"
        return text + " · update overdue" if row.get("update_overdue") else text
    if row.get("update_overdue"):
        update = row.get("update_due")
        return "Update overdue" if update is None else f"Update overdue by {duration(now - update)}"
    return "No SLA"


def ago(t: float | None, now: float) -> str:
    """How long ago: "just now", "12 m ago", "3 h ago", "3 d ago"."""
    if t is None:
        return ""
    d = now - t
    if d < MINUTE:
        return "just now"
    if d < HOUR:
        return f"{math.floor(d / MINUTE)} m ago"
    if d < DAY:
        return f"{math.floor(d / HOUR)} h ago"
    return f"{math.floor(d / DAY)} d ago"


def last_success(watcher: Mapping[str, Any] | None) -> float | None:
    return parse_iso_or_none(watcher.get("last_success")) if watcher else None


def synced_text(watcher: Mapping[str, Any] | None, now: float) -> str:
    """The status line's "last synced 12 s ago" (seconds for the first minute)."""
    if not watcher:
        return "no watcher status"
    t = last_success(watcher)
    if t is None:
        return "never synced"
    if t - now > FUTURE_SKEW_SECONDS:
        return "last sync in the future (clock?)"
    d = max(0.0, now - t)
    return f"last synced {math.floor(d)} s ago" if d < MINUTE else f"last synced {ago(t, now)}"


def malformed_text(malformed: Mapping[str, Any] | None) -> str:
    """ "3 malformed files", or "" when there are none (the counter is then hidden)."""
    count = int((malformed or {}).get("count") or 0)
    if count <= 0:
        return ""
    return f"{count} malformed file" + ("" if count == 1 else "s")


def is_stale(watcher: Mapping[str, Any] | None, now: float, stale_after_seconds: float) -> bool:
    """True when the last successful sync is missing, older than the limit, or in the future:
    a time ahead of the server's clock cannot be trusted (it would hide a dead watcher)."""
    t = last_success(watcher)
    return t is None or now - t > stale_after_seconds or t - now > FUTURE_SKEW_SECONDS


def priority_class(row: Mapping[str, Any]) -> str:
    priority = row.get("priority")
    return "prio-" + (PRIORITY_CLASSES.get(priority, "low") if isinstance(priority, int) else "low")


def sla_class(row: Mapping[str, Any]) -> str:
    sla = row.get("sla")
    return "sla-" + (sla if sla in KNOWN_SLA_STATES else "none")


def row_classes(row: Mapping[str, Any]) -> str:
    classes = ["row", sla_class(row), priority_class(row)]
    if row.get("update_overdue"):
        classes.append("update-overdue")
    if not row.get("agent"):
        classes.append("unassigned")
    return " ".join(classes)


def counters(sections: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, int]:
    """The wall's counters for these rows (static/wall-counters.js counts the same classes)."""
    rows = [row for key in SECTIONS for row in sections.get(key, ())]
    counts = {key: len(sections.get(key, ())) for key in SECTIONS}
    for state in COUNTED_SLA_STATES:
        counts[state] = sum(1 for row in rows if row.get("sla") == state)
    counts["update_overdue"] = sum(1 for row in rows if row.get("update_overdue"))
    counts["unassigned"] = sum(1 for row in rows if not row.get("agent"))
    return counts


def shown_sections(filters: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(key, heading) of the sections this view draws: a section filtered away is not drawn."""
    wanted = (filters or {}).get("section") or []
    return [(key, heading) for key, heading in BOARD_SECTIONS if not wanted or key in wanted]


def safe_url(url: Any) -> str:
    """Only http(s) links are followed; anything else (javascript:, data:) renders as no link."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    return ""


def attr_number(value: Any) -> str:
    """A time for a data- attribute: the number, or "" for null."""
    return "" if value is None else repr(value)


def register(app: Quart) -> None:
    """Install the board template's filters and globals on `app`."""
    app.jinja_env.filters.update(
        countdown=countdown,
        ago=ago,
        synced_text=synced_text,
        malformed_text=malformed_text,
        row_classes=row_classes,
        priority_class=priority_class,
        safe_url=safe_url,
        attr_number=attr_number,
        counters=counters,
        shown_sections=shown_sections,
        today_value=today_value,
    )
    app.jinja_env.globals.update(
        board_sections=BOARD_SECTIONS,
        section_counters=SECTION_COUNTERS,
        state_counters=STATE_COUNTERS,
        today_items=TODAY_ITEMS,
        trend_items=TREND_ITEMS,
        is_stale=is_stale,
    )
