"""Which section of the board a ticket belongs in: pure, table-tested.

Sections, as the original Ticket Dash: **Open** (needs a first response or further action),
**Waiting on Agent**, **Other Active** (on hold, waiting on customer, pending). `hidden` tickets
(Resolved, Closed) are not shown. The status → section mapping is configuration: by status id
first (`status_sections`), then by the status's name from mappings/statuses.txt (so a custom
"Customer Replied" status lands in Waiting on Agent), else Other Active.

Two rules move a ticket into Waiting on Agent whatever its status says:
- an Open ticket the requester replied to after the agent's last reply (`customer_reply`);
- a ticket past its update SLA (`update_overdue`).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.contract.ticket import Ticket
from app.rules.sla import SlaPolicy, needs_first_response, update_overdue
from app.settings import Settings

SECTIONS = ("open", "waiting", "other")
SECTION_TITLES = {"open": "Open", "waiting": "Waiting on Agent", "other": "Other Active"}


@dataclass(frozen=True, slots=True)
class SectionRules:
    by_status: dict[int, str]
    waiting_names: frozenset[str]
    hidden_names: frozenset[str]
    customer_reply_means_waiting: bool

    @classmethod
    def from_settings(cls, s: Settings) -> SectionRules:
        return cls(
            by_status={int(k): v for k, v in s.status_sections.items()},
            waiting_names=frozenset(n.lower() for n in s.waiting_status_names),
            hidden_names=frozenset(n.lower() for n in s.hidden_status_names),
            customer_reply_means_waiting=s.customer_reply_means_waiting,
        )


def status_section(status: int, name: str, rules: SectionRules) -> str:
    if status in rules.by_status:
        return rules.by_status[status]
    lowered = name.strip().lower()
    if lowered in rules.hidden_names:
        return "hidden"
    if lowered in rules.waiting_names:
        return "waiting"
    return "other"


def customer_replied_last(ticket: Ticket) -> bool:
    if needs_first_response(ticket) or ticket.requester_responded_at is None:
        return False
    last_agent = ticket.agent_responded_at or ticket.first_responded_at or 0.0
    return ticket.requester_responded_at > last_agent


def categorise(
    ticket: Ticket, name: str, now: float, rules: SectionRules, policy: SlaPolicy
) -> tuple[str, str | None]:
    """(section, waiting_reason) of a ticket at time `now`."""
    section = status_section(ticket.status, name, rules)
    if section == "hidden":
        return "hidden", None
    if section == "waiting":
        return "waiting", "status"
    if section == "open" and rules.customer_reply_means_waiting and customer_replied_last(ticket):
        return "waiting", "customer_reply"
    if update_overdue(ticket, now, policy):
        return "waiting", "update_overdue"
    return section, None
