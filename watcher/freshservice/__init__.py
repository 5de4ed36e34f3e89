"""The Freshservice source: keeps tickets/ a mirror of the account's active tickets.

See docs/freshservice.md. Modules: `client` (HTTP, auth, errors), `ratelimit` (the budget),
`pagination` (Link headers, the filter endpoint), `sync` (reconcile, poll, backfill), `names`
(mappings/), `store` (tickets/ files), `token` (the API key), `clock`, `source` (the loop).
"""

from watcher.freshservice.source import FreshserviceSource

__all__ = ["FreshserviceSource"]
