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

import itertools
import json
import os
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


_temp_numbers = itertools.count()
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW


def _create_temp(folder: Path, name: str) -> tuple[int, str]:
    """A new temporary file beside `name`: `.<name>.<pid>.<n>.tmp`, created exclusively.

    A counter, not `tempfile.mkstemp`'s random names and retries: it is half the CPU per file,
    which is most of a 10,000-ticket mirror's cold start.
    """
    while True:
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.{next(_temp_numbers)}{TEMP_SUFFIX}")
        try:
            return os.open(tmp, _CREATE, 0o600), tmp
        except FileExistsError:  # left by a crashed writer that had this pid: take the next
            continue


def write_atomic(path: Path, content: bytes, *, mode: int = 0o644, durable: bool = True) -> bool:
    """Write `content` to `path` atomically. Returns False (and writes nothing) if unchanged."""
    if holds(path, content):
        return False
    folder = path.parent
    if not folder.is_dir():  # one stat; mkdir(exist_ok) costs a failing mkdir and a stat
        folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = _create_temp(folder, path.name)
    try:
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)  # the mode asked for, whatever the umask
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
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
