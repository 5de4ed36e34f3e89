"""Text that came from strangers, made fit to show: what a ticket's subject or a requester's
name may carry that no screen should.

Taken out: control characters (a NUL, a bell, an escape; tab and line ends stay) and the
bidirectional embedding, override and isolate marks, with which a subject or a name could reverse
how the rest of its row reads on the wall. Text in a right-to-left language needs none of them:
the browser orders it by itself, and the page marks such cells `dir="auto"`, so each stays
within its own cell. Escaping for HTML is the page's job (Jinja, `textContent`), not this one's.
"""

from __future__ import annotations

# What one row can show of a subject, and of a name (requester, agent, group, status, type).
# Freshservice caps a subject at 255 characters; these are for what other sources may send.
MAX_SUBJECT_CHARS = 1000
MAX_NAME_CHARS = 200

_UNSHOWN = dict.fromkeys(
    [
        *range(0x00, 0x09),
        0x0B,
        0x0C,
        *range(0x0E, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)


def shown_text(value: str) -> str:
    """`value` without control characters and direction marks (tab, CR and LF kept)."""
    return value if value.isprintable() else value.translate(_UNSHOWN)


def clipped(value: str, limit: int) -> str:
    """`value`, cut to `limit` characters with "…" when longer. For what a row shows on one line
    (a subject, a name): a megabyte of subject would otherwise ride in every event about it and
    make each one larger than a TV's queue, resyncing every TV at each change."""
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
