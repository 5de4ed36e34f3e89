"""The board's rules, as pure functions of a ticket, the settings and the time (no I/O, no state):
which SLA state (`sla`), which section (`categorise`), what row the page shows (`rows`), and which
rows a TV's URL asks for (`filters`). Table-tested; everything else builds on them."""
