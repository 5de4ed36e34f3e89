"""The one way every source writes into tickets/ and mappings/.

A reader (the board's watchfiles task) must never see half a file, so a file is written to a
temporary name in the same folder and moved over the target with `os.replace`, which is atomic
on POSIX. Temporary names start with a dot and end in `.tmp`, which the board ignores. A file
whose content would not change is left alone, so the board does no useless work. Every file that
did change is reported to the observer in force (`changes`), e.g. to be published to NATS.

Each file is fsynced before it replaces the old one, unless the caller passes `durable=False`
because it makes a whole batch durable at once (the NATS mirror: one `syncfs` per batch, then it
records how far it got; 10,000 fsyncs would take ten times longer).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from app.contract.changes import Written, report
from app.contract.layout import TEMP_SUFFIX
from app.contract.reading import UnreadableFile, read_regular_file


def dump_json(data: Any) -> bytes:
    """The canonical bytes of a JSON file we write (stable key order: equal data = equal bytes)."""
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def holds(path: Path, content: bytes) -> bool:
    """True when `path` is a regular file holding exactly `content` (read without blocking)."""
    try:
        current, _ = read_regular_file(path, len(content))
    except (FileNotFoundError, UnreadableFile):
        return False
    return current == content


def write_atomic(path: Path, content: bytes, *, mode: int = 0o644, durable: bool = True) -> bool:
    """Write `content` to `path` atomically. Returns False (and writes nothing) if unchanged."""
    if holds(path, content):
        return False
    if not path.parent.is_dir():  # one stat; mkdir(exist_ok) costs a failing mkdir and a stat
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    report(Written(path, content))
    return True


def write_json_atomic(path: Path, data: Any) -> bool:
    """Write `data` as JSON to `path` atomically; False if the file already held exactly that."""
    return write_atomic(path, dump_json(data))
