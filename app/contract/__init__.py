"""The ticket-file contract: what a source writes and the board reads (docs/ticket-format.md).

Both sides import this package and nothing else of each other; it imports nothing else of the
project, so a process that only fetches tickets never loads the web board. One module per rule:

- `layout`:   which names in tickets/ and mappings/ are what (ticket files, status, archive).
- `times`:    the one time format, written and read.
- `reading`:  reading a file safely (regular files only, bounded, never blocking on a FIFO).
- `ticket`:   a ticket file's fields, checked once (`Ticket`, `MalformedTicket`).
- `atomic`:   the one way files are written (temp file + `os.replace`).
- `mappings`: the `id:Name` files: one reader, one writer, one `Names`.
- `status`:   the watcher status file, `tickets/.watcher.json`.
- `archive`:  where finished tickets go, `tickets/archive/YYYY-MM-DD/`, and its retention.
- `changes`:  the optional observer every writer above reports its changes to (NATS publishing).
"""
