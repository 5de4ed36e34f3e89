"""Server-sent events on the wire: one function that encodes an event, nothing more."""

from __future__ import annotations

import json
from typing import Any

RETRY_MS = 2000


def encode_event(
    event: str, data: Any, event_id: int | None = None, comment: str = "", retry: int | None = None
) -> bytes:
    """One SSE message. `data` is JSON-encoded on one line, so no payload can break framing."""
    lines = []
    if comment:
        lines.append(f": {comment}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(lines) + "\n\n").encode("utf-8")
