"""The simulated helpdesk (`python -m watcher --source demo`): a source with no helpdesk behind it.

Modules: `source` (the loop and the files), `helpdesk` (who does what, when), `history` (the
days before the start, for the archive), `tickets` (one ticket and each action on it), `seed`
(deadlines placed against the board's SLA thresholds), `catalog` (the cast: agents, requesters,
groups, statuses, problems).
"""

from watcher.demo.source import DemoSource

__all__ = ["DemoSource"]
