"""How one TV shows the board, from its URL: `?density=large&dwell=10&sound=1`.

- `density`: `compact` (more rows, smaller type, for a monitor close by), `normal`, or `large`
  (bigger type for a far wall). Type always scales with the screen; this multiplies it.
- `dwell`: seconds each page stays when the rows do not fit (2 to 600). Default: a whole turn
  through every row takes under a minute (static/wall-pages.js aims at 54 s), each page staying
  6 to 20 seconds, so a board of ~70 tickets is all seen within 60 s.
- `sound`: `1` plays a short tone for a new Urgent ticket or a new breach.

A value the page does not understand is named in the same banner as an unknown filter value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from app.rules.view_check import UnknownValue, unknown_value

DENSITIES = ("compact", "normal", "large")
DWELL_RANGE = (2.0, 600.0)  # what `?dwell=` accepts
YES = frozenset({"1", "on", "yes", "true"})
NO = frozenset({"0", "off", "no", "false"})


@dataclass(frozen=True, slots=True)
class WallOptions:
    density: str = "normal"
    dwell: float | None = None  # None: the default turn
    sound: bool = False

    @classmethod
    def from_args(
        cls, getlist: Callable[[str], list[str]]
    ) -> tuple[WallOptions, list[UnknownValue]]:
        """The options in the query (the last value of each wins) and what was not understood."""
        problems: list[UnknownValue] = []
        density = _last(getlist("density"))
        if density is not None and density.lower() not in DENSITIES:
            problems.append(unknown_value("density", density, DENSITIES))
            density = None
        dwell = _last(getlist("dwell"))
        seconds = _seconds(dwell)
        if dwell is not None and seconds is None:
            low, high = DWELL_RANGE
            problems.append(unknown_value("dwell", dwell, [f"seconds, {low:g} to {high:g}"]))
        sound = _last(getlist("sound"))
        if sound is not None and sound.lower() not in YES | NO:
            problems.append(unknown_value("sound", sound, ["1", "0"]))
        return (
            cls(
                density=density.lower() if density else "normal",
                dwell=seconds,
                sound=sound is not None and sound.lower() in YES,
            ),
            problems,
        )


def _last(values: list[str]) -> str | None:
    stripped = [v.strip() for v in values if v.strip()]
    return stripped[-1] if stripped else None


def _seconds(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    low, high = DWELL_RANGE
    return value if math.isfinite(value) and low <= value <= high else None
