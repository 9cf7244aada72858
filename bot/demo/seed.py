"""``ecm-bot seed-demo``: a realistic, deterministic data set relative to now.

Writes the roster (Agents tab) and the warehouse (orders and their events). Stuck orders
cover all 25 reasons and are stuck from minutes to days; past episodes (cleared orders) give
pattern-intelligence a 7-day baseline, and one corridor/partner spike is planted in the last
24 h. Re-running replaces the demo warehouse and upserts the roster: idempotent.
"""

from __future__ import annotations

import math
import random
import string
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlite_utils import Database

from bot.clock import now as utcnow
from bot.clock import ts
from bot.paths import CONFIG_DIR
from bot.stores.sqlite_warehouse import WAREHOUSE_SCHEMA
from bot.stores.workbook import RowUpdate, Workbook

ROSTER = [
    # email, name, slack id, role, specializations, capacity, active
    ("maya.manager@example.com", "Maya Haddad", "U0MAYA0001", "manager", "", 0, True),
    (
        "omar.lead@example.com",
        "Omar Siddiqui",
        "U0OMAR0002",
        "manager,field",
        "ops,treasury",
        8,
        True,
    ),
    ("sarah.ops@example.com", "Sarah Thomas", "U0SARAH003", "field", "ops,payments", 18, True),
    ("dinesh.kyc@example.com", "Dinesh Rao", "U0DINESH04", "field", "kyc,compliance", 16, True),
    ("alex.vda@example.com", "Alex Mercer", "U0ALEX0005", "field", "vda,payments", 12, True),
    ("priya.payments@example.com", "Priya Nair", "U0PRIYA006", "field", "payments", 18, True),
    ("james.ops@example.com", "James Okafor", "U0JAMES007", "field", "ops", 16, True),
    (
        "fatima.compliance@example.com",
        "Fatima Al Amiri",
        "U0FATIMA08",
        "field",
        "compliance,kyc",
        14,
        True,
    ),
    ("li.treasury@example.com", "Li Wei", "U0LIWEI009", "field", "treasury,payments", 10, True),
    ("noah.ops@example.com", "Noah Fernandes", "U0NOAH0010", "field", "ops", 15, True),
    ("aisha.kyc@example.com", "Aisha Karim", "U0AISHA011", "field", "kyc", 12, True),
    ("ravi.india@example.com", "Ravi Menon", "U0RAVI0012", "field", "ops,payments", 16, True),
    (
        "elena.payments@example.com",
        "Elena Petrova",
        "U0ELENA013",
        "field",
        "payments,ops",
        14,
        True,
    ),
    ("tom.away@example.com", "Tom Becker", "U0TOM00014", "field", "ops,payments", 15, False),
]

CORRIDORS = {  # corridor: (send currency, weight, typical USD amount)
    "AE": ("AED", 0.34, 450),
    "GB": ("GBP", 0.2, 600),
    "US": ("USD", 0.2, 700),
    "EU": ("EUR", 0.14, 550),
    "CA": ("CAD", 0.06, 500),
    "SG": ("SGD", 0.06, 650),
    "IN": ("INR", 0.0, 300),  # only VDA sales: sold on an Indian exchange, paid out in INR
}
RATES = {
    "AED": 0.2723,
    "GBP": 1.27,
    "USD": 1.0,
    "EUR": 1.08,
    "CAD": 0.73,
    "SGD": 0.74,
    "INR": 0.012,
}
PARTNERS = ["LULU", "ICICI", "YESBANK", "TERRAPAY", "AXIS", "HDFC"]
# reasons that only happen on one corridor, payment method or partner
REASON_CORRIDOR = {
    "COLUMN_API_ERROR": "US",
    "COLUMN_ACH_RETURNED": "US",
    "SEPA_INSTANT_REJECTED": "EU",
    "OPEN_BANKING_PAYMENT_PENDING": "GB",
    "VDA_TRANSFER_PENDING": "IN",
    "VDA_TDS_MISMATCH": "IN",
}
REASON_PARTNER = {"LULU_NOT_CONFIRMED": "LULU"}
METHOD = {"US": "ach", "GB": "open_banking", "EU": "sepa"}


def _order_id(rng: random.Random, corridor: str) -> str:
    digits, letters = string.digits, string.ascii_uppercase
    return (
        corridor
        + "".join(rng.choices(digits, k=3))
        + "".join(rng.choices(letters, k=3))
        + "".join(rng.choices(digits, k=2))
    )


def _amount(rng: random.Random, usd_typical: float, currency: str) -> float:
    usd = min(25000.0, max(15.0, rng.lognormvariate(math.log(usd_typical), 1.0)))
    return round(usd / RATES[currency], 2)


def _events(order: dict, rng: random.Random) -> list[dict]:
    created = datetime.fromisoformat(order["created_at"])
    method = order["payment_method"]
    steps = [
        (0, "App", "ORDER_CREATED", f"{order['corridor']}→IN, {order['send_currency']}"),
        (
            2,
            {
                "card": "Checkout.com",
                "ach": "Column",
                "open_banking": "Open banking",
                "sepa": "SEPA",
                "vda": "VDA exchange",
            }.get(method, "Checkout.com"),
            "PAYIN_CAPTURED",
            f"{method} pay-in captured",
        ),
        (4, "Falcon", "SCREENING_DONE", "fraud & sanctions screening completed"),
        (6, order["payout_partner"], "PAYOUT_SUBMITTED", "payout instruction sent"),
    ]
    events = [
        {
            "order_id": order["order_id"],
            "event_at": ts(created + timedelta(minutes=m)),
            "system": system,
            "event_type": kind,
            "detail": detail,
        }
        for m, system, kind, detail in steps
    ]
    events.append(
        {
            "order_id": order["order_id"],
            "event_at": order["stuck_since"],
            "system": "ECM",
            "event_type": "STUCK",
            "detail": order["stuck_reason"],
        }
    )
    if order["cleared_at"]:
        events.append(
            {
                "order_id": order["order_id"],
                "event_at": order["cleared_at"],
                "system": "ECM",
                "event_type": order["status"],
                "detail": "cleared",
            }
        )
    return events


def generate_orders(n: int, seed: int, now: datetime) -> tuple[list[dict], list[dict]]:
    """``n`` stuck orders plus 5n cleared past episodes, and their events."""
    rng = random.Random(seed)
    reasons = list(yaml.safe_load((CONFIG_DIR / "stuck-reasons.yaml").read_text())["reasons"])
    corridors, weights = list(CORRIDORS), [c[1] for c in CORRIDORS.values()]
    seen: set[str] = set()
    orders: list[dict] = []

    def make(reason: str, stuck_since: datetime, cleared: datetime | None, corridor=None) -> None:
        corridor = corridor or REASON_CORRIDOR.get(reason) or rng.choices(corridors, weights)[0]
        oid = _order_id(rng, corridor)
        while oid in seen:
            oid = _order_id(rng, corridor)
        seen.add(oid)
        currency, _, typical = CORRIDORS[corridor]
        amount = _amount(rng, typical, currency)
        method = "vda" if reason.startswith("VDA") else METHOD.get(corridor, "card")
        created = stuck_since - timedelta(minutes=rng.randint(8, 90))
        orders.append(
            {
                "order_id": oid,
                "corridor": corridor,
                "send_amount": amount,
                "send_currency": currency,
                "receive_amount": round(amount * RATES[currency] / 0.012, 2),
                "receive_currency": "INR",
                "payout_partner": REASON_PARTNER.get(reason) or rng.choice(PARTNERS),
                "payment_method": method,
                "status": "STUCK"
                if cleared is None
                else rng.choice(["COMPLETED"] * 4 + ["REFUNDED"]),
                "stuck_reason": reason,
                "stuck_since": ts(stuck_since),
                "cleared_at": ts(cleared) if cleared else None,
                "created_at": ts(created),
                "customer_ref": f"CUST-{rng.randint(100000, 999999)}",
            }
        )

    spike = max(3, n // 12)  # planted anomaly: LULU confirmations failing on AE in the last 24 h
    for i in range(n):
        if i < len(reasons):
            reason = reasons[i]
        elif i < len(reasons) + spike:
            reason = "LULU_NOT_CONFIRMED"
        else:
            reason = rng.choice(reasons)
        corridor = "AE" if reason == "LULU_NOT_CONFIRMED" and i >= len(reasons) else None
        if len(reasons) <= i < len(reasons) + spike:
            hours = rng.uniform(0.2, 20)
        else:
            hours = min(rng.expovariate(1 / 16), 130) + rng.uniform(0.1, 0.9)
        make(reason, now - timedelta(hours=hours), None, corridor)
    for _ in range(5 * n):  # cleared episodes: the steady inflow of the 7 days before today
        reason = rng.choice(reasons)
        stuck = now - timedelta(hours=rng.uniform(24, 8 * 24))
        cleared = min(now - timedelta(minutes=5), stuck + timedelta(hours=rng.uniform(0.3, 30)))
        make(reason, stuck, cleared)
    events = [e for o in orders for e in _events(o, rng)]
    return orders, events


def write_roster(workbook: Workbook) -> None:
    """Upsert the demo roster into the Agents tab (existing rows are updated, not doubled)."""
    rows = [
        dict(
            zip(
                ("email", "name", "Slack user ID", "role", "specializations", "capacity", "active"),
                (e, n, s, r, sp, c, "TRUE" if a else "FALSE"),
                strict=True,
            )
        )
        for e, n, s, r, sp, c, a in ROSTER
    ]
    existing = {r["email"] for r in workbook.read("Agents")}
    workbook.update(
        "Agents", [RowUpdate(str(r["email"]), r) for r in rows if r["email"] in existing]
    )
    workbook.append("Agents", [r for r in rows if r["email"] not in existing])


def write_warehouse(path: Path, orders: list[dict], events: list[dict]) -> None:
    """Replace the demo warehouse tables with these rows."""
    db = Database(Path(path))
    with db.conn:
        for table, columns in WAREHOUSE_SCHEMA.items():
            db[table].drop(ignore=True)
            db.table(table).create(columns, pk="order_id" if table == "orders" else None)
        db.table("orders").insert_all(orders, batch_size=2000)
        db.table("order_events").insert_all(events, batch_size=5000)
        db.table("order_events").create_index(["order_id"])
        db.table("orders").create_index(["status"])
        db.table("orders").create_index(["stuck_since"])
    db.conn.close()


def seed_demo(
    data: Path, workbook: Workbook, orders: int = 200, seed: int = 7, now: datetime | None = None
) -> dict:
    """Write the demo data set; return counts."""
    moment = now or utcnow()
    rows, events = generate_orders(orders, seed, moment)
    write_warehouse(Path(data) / "warehouse.db", rows, events)
    write_roster(workbook)
    stuck = sum(1 for r in rows if r["status"] == "STUCK")
    return {
        "stuck_orders": stuck,
        "cleared_orders": len(rows) - stuck,
        "events": len(events),
        "agents": len(ROSTER),
        "reasons": len({r["stuck_reason"] for r in rows}),
    }
