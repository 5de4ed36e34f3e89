"""Reading the folders' files safely: regular files only, bounded in size, never blocking.

The files come from sources we do not control and from disks that fill up. A file is opened with
`O_NONBLOCK | O_NOFOLLOW`, so a FIFO or a symlink planted in tickets/ cannot stall or redirect
the reader, and checked with `fstat` *before* a byte is read: not a regular file, or larger than
the limit, and it is refused with a reason a person can act on (`UnreadableFile`). A file that
does not exist raises FileNotFoundError, which callers treat as "gone", not as malformed.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import orjson

from app.contract.layout import TICKET_NAME, ticket_id_of_name, ticket_paths
from app.contract.ticket import MalformedTicket, Ticket, ticket_from_bytes

OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
DEFAULT_MAX_BYTES = 2_000_000


# The system, not the file: too many open files, no memory, an I/O error, a stale NFS handle.
TRANSIENT_ERRNOS = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS, errno.EAGAIN, errno.EINTR,
     errno.EIO, errno.ESTALE}
)  # fmt: skip


class UnreadableFile(ValueError):
    """The file exists but cannot be used; the message says why."""


class TemporarilyUnreadable(OSError):
    """The file could not be read *now* for a reason that is the system's, not the file's (too
    many open files, an I/O error): nothing is known about it, so nothing about it may change
    (a ticket must not leave the board because the board ran out of file descriptors)."""


class UnreadableFolder(OSError):
    """tickets/ itself cannot be listed (permission denied, or a transient failure)."""


def _transient(exc: OSError) -> bool:
    return exc.errno in TRANSIENT_ERRNOS


def read_regular_file(path: Path | str, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """The whole content of a regular file of at most `max_bytes`, and its stat."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise UnreadableFile("is a folder") from None
    except PermissionError:
        raise UnreadableFile("cannot be read (permission denied)") from None
    except OSError as exc:
        if _transient(exc):
            raise TemporarilyUnreadable(exc.errno, exc.strerror) from None
        if exc.errno == errno.ELOOP:
            raise UnreadableFile("is a symbolic link") from None
        raise UnreadableFile(f"cannot be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFile(_not_regular(st.st_mode))
        if st.st_size > max_bytes:
            raise UnreadableFile(f"larger than {max_bytes} bytes")
        # os.read: a third of the cost of Path.read_bytes() per file (10,000 files at start).
        raw = os.read(fd, st.st_size + 1)
        while len(raw) < st.st_size:  # a short read: rare, but os.read promises no more
            more = os.read(fd, max_bytes + 1 - len(raw))
            if not more:
                break
            raw += more
    except OSError as exc:
        if _transient(exc):
            raise TemporarilyUnreadable(exc.errno, exc.strerror) from None
        raise UnreadableFile(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise UnreadableFile(f"larger than {max_bytes} bytes")
    return raw, st


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a file"
    return "is not a regular file"


def read_ticket_file(
    path: Path | str, ticket_id: int, max_bytes: int
) -> tuple[Ticket, os.stat_result]:
    """The checked ticket in `path`, which must hold ticket `ticket_id`.

    FileNotFoundError when absent; MalformedTicket (with the reason) for anything else wrong.
    """
    try:
        raw, st = read_regular_file(path, max_bytes)
    except UnreadableFile as exc:
        raise MalformedTicket(str(exc)) from None
    ticket = ticket_from_bytes(raw)
    if ticket.id != ticket_id:
        raise MalformedTicket(f"holds ticket {ticket.id}, not {ticket_id}")
    return ticket, st


def read_ticket_json(
    tickets_dir: Path, ticket_id: int, max_bytes: int = DEFAULT_MAX_BYTES
) -> dict[str, Any] | None:
    """A ticket's file as the plain JSON object a source wrote, from its preferred name, or None
    when it has no readable file (for sources, which compare and merge what they write)."""
    for path in ticket_paths(tickets_dir, ticket_id):
        try:
            raw, _ = read_regular_file(path, max_bytes)
            data = orjson.loads(raw)
        except FileNotFoundError:
            continue
        except (UnreadableFile, orjson.JSONDecodeError, RecursionError):
            continue
        if isinstance(data, dict) and data.get("id") == ticket_id:
            return data
    return None


def scan_ticket_files(tickets_dir: Path) -> dict[str, tuple[int, int]]:
    """Every ticket file name in the folder with its (mtime_ns, size), as `lstat` sees it.

    A name is what makes a ticket file; whether it can be read is the reader's question. So a
    folder, a symlink or a FIFO named `<id>.json` is listed here too, and the board counts it as
    malformed (visible on the page) rather than silently skipping it.
    """
    found: dict[str, tuple[int, int]] = {}
    try:
        entries = os.scandir(tickets_dir)
    except (FileNotFoundError, NotADirectoryError):
        return found  # no folder, no tickets (the board's watch reports the missing folder)
    except OSError as exc:  # permission denied, too many open files: nothing is known
        raise UnreadableFolder(
            exc.errno, f"{tickets_dir} cannot be listed ({exc.strerror})"
        ) from None
    with entries:
        for entry in entries:
            if not TICKET_NAME.match(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found[entry.name] = (st.st_mtime_ns, st.st_size)
    return found


def ticket_ids(tickets_dir: Path) -> set[int]:
    """The ids of every ticket file in the folder, whatever its suffix."""
    return {i for name in scan_ticket_files(tickets_dir) if (i := ticket_id_of_name(name))}
