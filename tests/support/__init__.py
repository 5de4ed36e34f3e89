"""Support code shared by the tests and the benchmarks (bench/common.py puts tests/ on sys.path).

One concept per module, each written once:

- `ports`: free TCP ports on 127.0.0.1 (below the kernel's ephemeral range).
- `tickets`: ticket files in the Freshservice shape, with defaults or realistically spread.
- `server`: a real `python -m app` in a subprocess: launch, wait until ready, stop, its log.
- `sse`: the one hand-written SSE frame parser, and a reader for Quart's in-process test client.
- `sse_client`: a lean raw-socket SSE client (HTTP/1.1, optional TLS), for many clients at once.
- `pythons`: another Python's interpreter with the board's dependencies (per-Python tests).
- `tls_board`: the board as systemd runs it (HTTPS, access control) on any Python.
- `shutdown`: SIGTERM with many streams open, timed.
- `browser`: Debian's Chromium driven by Playwright.
- `inprocess`: the app started in-process (Quart's test app), with or without access control.

The wire tests use httpx-sse, a real SSE client; `sse` is for where that does not fit.
"""
