"""Snapshots streamed from shared parts: each row's JSON is encoded once per change of the row
(`Board.row_json`) and shared by every snapshot of every filter; a filter's list of rows is made
once per board version (`SnapshotCache`); only a small head is made per client.

So a reconnect storm after a restart (every TV at once) costs a join of bytes per TV, not an
encoding of every row; and a TV that stops reading while its snapshot is sent pins a list of
references and the slice being written, never a private copy of the board: the chunks are
joined as the client takes them (`snapshot_chunks`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from app.rules.filters import RowFilter
from app.stream.encoding import RETRY_MS

SectionRows = tuple[tuple[str, tuple[bytes, ...]], ...]  # (section, each row's JSON) in order
CHUNK_BYTES = 64 * 1024


class SnapshotCache:
    """Each filter's rows for the current board version; older versions are dropped."""

    def __init__(self, max_views: int = 256) -> None:
        self.max_views = max_views
        self._seq = -1
        self._rows: dict[RowFilter, SectionRows] = {}
        self.built = 0  # how many times a filter's rows were gathered (for tests and benches)

    def rows(
        self, view: RowFilter, seq: int, gather: Callable[[RowFilter], SectionRows]
    ) -> SectionRows:
        if seq != self._seq:  # the board changed: every cached list is out of date
            self._rows.clear()
            self._seq = seq
        cached = self._rows.get(view)
        if cached is None:
            if len(self._rows) >= self.max_views:
                self._rows.clear()  # filters come from URLs: keep the cache bounded
            cached = self._rows[view] = gather(view)
            self.built += 1
        return cached

    def clear(self) -> None:
        self._rows.clear()
        self._seq = -1


def snapshot_chunks(head: dict[str, Any], sections: SectionRows, seq: int) -> Iterator[bytes]:
    """The SSE `snapshot` event, `head` with `sections` added, in chunks of about 64 KB."""
    head_json = orjson.dumps(head)
    pending = [
        f"retry: {RETRY_MS}\nid: {seq}\nevent: snapshot\ndata: ".encode(),
        head_json[:-1],
        b',"sections":{',
    ]
    size = sum(map(len, pending))
    for n, (section, rows) in enumerate(sections):
        pending.append(b'%s"%s":[' % (b"," if n else b"", section.encode()))
        size += len(pending[-1])
        for i, row in enumerate(rows):
            if size >= CHUNK_BYTES:
                yield b"".join(pending)
                pending, size = [], 0
            if i:
                pending.append(b",")
            pending.append(row)
            size += len(row) + 1
        pending.append(b"]")
    pending.append(b"}}\n\n")
    yield b"".join(pending)
