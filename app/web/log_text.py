"""What a client sent, fit for one log line.

A log line is another screen: `logged_text` keeps everything but writes what cannot be shown as
Python escapes, so a URL with `%0d%0a` in its path cannot start a forged line in the journal
(hypercorn and Quart log the path percent-decoded).
"""

from __future__ import annotations

import logging


def logged_text(value: str) -> str:
    """`value` for one log line: every character that is not printable (line ends, escapes,
    direction marks, line separators) written as its Python escape, e.g. `\\r\\n`."""
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)


class OneLineMessages(logging.Filter):
    """Keeps each record's message on one line (its traceback, if any, is apart). On the app's
    logger: Quart logs a failed request as `Exception on request GET <path>`, the path decoded."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.isprintable():
            record.msg, record.args = logged_text(message), ()
        return True


ONE_LINE_MESSAGES = OneLineMessages()  # one instance: adding it again to a logger does nothing
