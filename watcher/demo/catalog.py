"""The simulated helpdesk's cast: agents, requesters, groups, statuses and what breaks in a NOC.

Plain data, no behaviour. The ids are the ones written to demo-data/mappings/, so every id a demo
ticket carries has a name on the board. One agent and one requester have non-ASCII names, and
one subject carries `&`, `<`, `>` and quotes, so a demo run shows UTF-8 and escaping work.
"""

from __future__ import annotations

from typing import NamedTuple

OPEN, PENDING, RESOLVED, CLOSED = 2, 3, 4, 5
WAITING_ON_CUSTOMER, ON_HOLD, CUSTOMER_REPLIED = 6, 7, 8

STATUSES: dict[int, str] = {
    OPEN: "Open",
    PENDING: "Pending",
    RESOLVED: "Resolved",
    CLOSED: "Closed",
    WAITING_ON_CUSTOMER: "Waiting on Customer",
    ON_HOLD: "On Hold",
    CUSTOMER_REPLIED: "Customer Replied",
}

AGENTS: dict[int, str] = {
    21000101: "Dana Scully",
    21000102: "Fox Mulder",
    21000103: "Zoë Müller",
    21000104: "Rajesh Iyer",
    21000105: "Aoife O'Brien",
    21000106: "Tomasz Nowak",
    21000107: "Grace Hopper",
    21000108: "Kwame Mensah",
}

GROUPS: dict[int, str] = {
    31000001: "NOC",
    31000002: "Service Desk",
    31000003: "Network",
    31000004: "Servers & Storage",
    31000005: "Facilities",
}

REQUESTERS: dict[int, str] = {
    41000201: "Alice Martin",
    41000202: "Bob Chen",
    41000203: "Chiara Rossi",
    41000204: "Dmitri Volkov",
    41000205: "Emeka Obi",
    41000206: "Fatima Al-Sayed",
    41000207: "Gustav Lindqvist",
    41000208: "Hana Suzuki",
    41000209: "Ines García",
    41000210: "Jonas Becker",
    41000211: "Kai Nakamura",
    41000212: "Leila Haddad",
    41000213: "Mateo Fernández",
    41000214: "Nora Jensen",
    41000215: "Oscar Dubois",
    41000216: "Priya Patel",
    41000217: "Quentin Moreau",
    41000218: "Rosa Kowalczyk",
    41000219: "Sven Olsen",
    41000220: "Tariq Hussain",
}

WORKSPACE_ID = 2
DEPARTMENT_IDS = (51000001, 51000002, 51000003)
SLA_POLICY_ID = 61000001


class Problem(NamedTuple):
    """Something a requester writes in about: subject, first message, category, usual group."""

    subject: str
    body: str
    category: str
    group_id: int
    type: str = "Incident"


ESCAPING_SUBJECT = 'Printer "HP-3" <floor 2> & scanner down'

PROBLEMS: tuple[Problem, ...] = (
    Problem(
        "VPN down in Leeds office",
        "Nobody in Leeds can connect to the VPN since 08:40. The client says "
        "'gateway unreachable'.",
        "Network",
        31000003,
    ),
    Problem(
        "Core switch SW-CORE-02 flapping",
        "Monitoring shows SW-CORE-02 uplink going up and down every few minutes.",
        "Network",
        31000001,
    ),
    Problem(
        "Disk 92% full on db-prod-03",
        "Alert: /var/lib/postgresql on db-prod-03 crossed 90%. Growth about 1% an hour.",
        "Hardware",
        31000004,
    ),
    Problem(
        "Backup job failed: fileserver nightly",
        "The nightly backup of fs-01 ended with error 'snapshot timeout'. Second night in a row.",
        "Software",
        31000004,
    ),
    Problem(
        "Wi-Fi drops in meeting room 4.12",
        "Laptops lose Wi-Fi every 10 minutes in 4.12; other rooms are fine.",
        "Network",
        31000003,
    ),
    Problem(
        "Email delayed by 20 minutes",
        "External mail arrives 15-20 minutes late since this morning.",
        "Software",
        31000001,
    ),
    Problem(
        "UPS on battery in rack B7",
        "The UPS in rack B7 reports 'on battery' although mains power is fine.",
        "Hardware",
        31000005,
    ),
    Problem(
        "Certificate expires in 5 days: portal.example.com",
        "The TLS certificate of portal.example.com expires on Friday.",
        "Software",
        31000001,
    ),
    Problem(
        "High latency to Frankfurt DC",
        "Round trip to the Frankfurt data centre is 180 ms instead of the usual 12 ms.",
        "Network",
        31000003,
    ),
    Problem(
        "Door badge reader broken, 3rd floor",
        "The badge reader at the 3rd floor east door does not react.",
        "Facilities",
        31000005,
    ),
    Problem(
        ESCAPING_SUBJECT,
        "The printer \"HP-3\" near <floor 2> shows 'paper jam' & the scanner is dead too.",
        "Hardware",
        31000002,
    ),
    Problem(
        "New laptop for starter on Monday",
        "Please prepare a standard laptop and accounts for our new colleague starting Monday.",
        "Hardware",
        31000002,
        "Service Request",
    ),
    Problem(
        "Access to finance share",
        "I need read access to \\\\fs-01\\finance for the quarterly report.",
        "Access",
        31000002,
        "Service Request",
    ),
    Problem(
        "Firewall rule for new monitoring host",
        "Please open TCP 5666 from mon-04 to the server VLAN.",
        "Network",
        31000003,
        "Service Request",
    ),
    Problem(
        "Reset MFA token",
        "My phone was replaced; I need my MFA token reset.",
        "Access",
        31000002,
        "Service Request",
    ),
    Problem(
        "Extra monitor for desk 2.31",
        "Could desk 2.31 get a second monitor?",
        "Hardware",
        31000005,
        "Service Request",
    ),
)

TAGS = ("noc", "vip", "monitoring", "after-hours", "follow-up")

# What lands in the helpdesk's inbox and an agent marks as spam (only in the seeded history).
SPAM: tuple[Problem, ...] = (
    Problem(
        "Your mailbox is almost full: verify your account now",
        "Dear user, your mailbox has reached 98% of its quota. Click the link to verify.",
        "Other",
        31000002,
    ),
    Problem(
        "Invoice 88213 overdue - final notice",
        "Please find attached the overdue invoice. Payment is required within 24 hours.",
        "Other",
        31000002,
    ),
    Problem(
        "Congratulations, you have been selected",
        "You have been selected for an exclusive offer. Reply with your details to claim it.",
        "Other",
        31000002,
    ),
)
