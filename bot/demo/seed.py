"""``ecm-bot seed-demo``: a realistic, deterministic data set relative to now.

Writes the roster (Agents tab) and the warehouse (orders and their events). Stuck orders
cover all 25 reasons and are stuck from minutes to days; past episodes (cleared orders) give
pattern-intelligence a 7-day baseline, and one corridor/partner spike is planted in the last
24 h. Re-running replaces the demo warehouse and upserts the roster: idempotent.
"""

from __future__ import annotations

import math
import random
import sqlite3
import string
from bisect import bisect
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from bot.bulk import collector_paused
from bot.clock import now as utcnow
from bot.paths import CONFIG_DIR
from bot.stores.sqlite_warehouse import WAREHOUSE_SCHEMA
from bot.stores.workbook import RowUpdate, Workbook
from bot.yaml_safe import parse_yaml

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


_DIGITS, _LETTERS = string.digits, string.ascii_uppercase
_SYSTEM = {
    "card": "Checkout.com",
    "ach": "Column",
    "open_banking": "Open banking",
    "sepa": "SEPA",
    "vda": "VDA exchange",
}
ORDER_COLUMNS = tuple(WAREHOUSE_SCHEMA["orders"])
EVENT_COLUMNS = tuple(WAREHOUSE_SCHEMA["order_events"])
CHUNK = 5000  # orders written per executemany (with their events)


def _order_id(rng: random.Random, corridor: str) -> str:
    """Two letters, three digits, three letters, two digits: the same draws, in the same
    order, as ``rng.choices`` of each group (one ``random()`` per character)."""
    r = rng.random
    d, u = _DIGITS, _LETTERS
    return (
        corridor
        + d[int(r() * 10.0)]
        + d[int(r() * 10.0)]
        + d[int(r() * 10.0)]
        + u[int(r() * 26.0)]
        + u[int(r() * 26.0)]
        + u[int(r() * 26.0)]
        + d[int(r() * 10.0)]
        + d[int(r() * 10.0)]
    )


class Draws:
    """``randint``, ``choice`` and weighted ``choices(...)[0]`` of one ``random.Random``,
    drawing exactly what those methods draw (``start + _randbelow(width)``,
    ``seq[_randbelow(len(seq))]``, a bisect of the cumulative weights; tests pin it) without
    their argument checks, which are most of their cost here."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.below = rng._randbelow  # type: ignore[attr-defined]  # CPython's, stable since 3.2

    def randint(self, a: int, b: int) -> int:
        return a + self.below(b - a + 1)

    def choice(self, seq: list):
        return seq[self.below(len(seq))]

    def weighted(self, population: list, weights: list[float]):
        cum = list(accumulate(weights))
        total, hi, rand = cum[-1] + 0.0, len(cum) - 1, self.rng.random
        return lambda: population[bisect(cum, rand() * total, 0, hi)]


def _amount(rng: random.Random, usd_typical: float, currency: str) -> float:
    usd = min(25000.0, max(15.0, rng.lognormvariate(math.log(usd_typical), 1.0)))
    return round(usd / RATES[currency], 2)


def _text(moment: datetime) -> str:
    """A naive UTC datetime as stored text (``bot.clock.ts``, without its time-zone step)."""
    return moment.isoformat(" ", "seconds")


def _event_rows(order: dict) -> list[tuple]:
    """The order's events as ``order_events`` rows: created, paid in, screened, submitted
    (minutes after creation), stuck, and cleared if it was."""
    created = datetime.fromisoformat(order["created_at"])
    oid, method = order["order_id"], order["payment_method"]
    rows = [
        (oid, _text(created), "App", "ORDER_CREATED"),
        (oid, _text(created + _MINUTES[2]), _SYSTEM.get(method, "Checkout.com"), "PAYIN_CAPTURED"),
        (oid, _text(created + _MINUTES[4]), "Falcon", "SCREENING_DONE"),
        (oid, _text(created + _MINUTES[6]), order["payout_partner"], "PAYOUT_SUBMITTED"),
    ]
    details = (
        f"{order['corridor']}→IN, {order['send_currency']}",
        f"{method} pay-in captured",
        "fraud & sanctions screening completed",
        "payout instruction sent",
    )
    out = [(*row, detail) for row, detail in zip(rows, details, strict=True)]
    out.append((oid, order["stuck_since"], "ECM", "STUCK", order["stuck_reason"]))
    if order["cleared_at"]:
        out.append((oid, order["cleared_at"], "ECM", order["status"], "cleared"))
    return out


_MINUTES = {m: timedelta(minutes=m) for m in (2, 4, 6)}


def _events(order: dict) -> list[dict]:
    return [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in _event_rows(order)]


def order_rows(n: int, seed: int, now: datetime) -> Iterator[tuple]:
    """``n`` stuck orders, then 5n cleared past episodes, one at a time as ``orders`` rows
    (``ORDER_COLUMNS``): deterministic for a seed and a moment, and nothing is held but the
    order IDs already used."""
    rng = random.Random(seed)
    draw = Draws(rng)
    reasons = list(parse_yaml((CONFIG_DIR / "stuck-reasons.yaml").read_text("utf-8"))["reasons"])
    corridors, weights = list(CORRIDORS), [c[1] for c in CORRIDORS.values()]
    moment = now.astimezone(UTC).replace(tzinfo=None)  # naive UTC: formatting is then cheap
    seen: set[str] = set()
    statuses = ["COMPLETED"] * 4 + ["REFUNDED"]
    pick_corridor = draw.weighted(corridors, weights)

    def make(reason: str, stuck_since: datetime, cleared: datetime | None, corridor=None) -> tuple:
        corridor = corridor or REASON_CORRIDOR.get(reason) or pick_corridor()
        oid = _order_id(rng, corridor)
        while oid in seen:
            oid = _order_id(rng, corridor)
        seen.add(oid)
        currency, _, typical = CORRIDORS[corridor]
        amount = _amount(rng, typical, currency)
        method = "vda" if reason.startswith("VDA") else METHOD.get(corridor, "card")
        created = stuck_since - timedelta(minutes=draw.randint(8, 90))
        return (  # ORDER_COLUMNS; the draws in this order
            oid,
            corridor,
            amount,
            currency,
            round(amount * RATES[currency] / 0.012, 2),
            "INR",
            REASON_PARTNER.get(reason) or draw.choice(PARTNERS),
            method,
            "STUCK" if cleared is None else draw.choice(statuses),
            reason,
            _text(stuck_since),
            _text(cleared) if cleared else None,
            _text(created),
            f"CUST-{draw.randint(100000, 999999)}",
        )

    spike = max(3, n // 12)  # planted anomaly: LULU confirmations failing on AE in the last 24 h
    for i in range(n):
        if i < len(reasons):
            reason = reasons[i]
        elif i < len(reasons) + spike:
            reason = "LULU_NOT_CONFIRMED"
        else:
            reason = draw.choice(reasons)
        corridor = "AE" if reason == "LULU_NOT_CONFIRMED" and i >= len(reasons) else None
        if len(reasons) <= i < len(reasons) + spike:
            hours = rng.uniform(0.2, 20)
        else:
            hours = min(rng.expovariate(1 / 16), 130) + rng.uniform(0.1, 0.9)
        yield make(reason, moment - timedelta(hours=hours), None, corridor)
    for _ in range(5 * n):  # cleared episodes: the steady inflow of the 7 days before today
        reason = draw.choice(reasons)
        stuck = moment - timedelta(hours=rng.uniform(24, 8 * 24))
        cleared = min(moment - timedelta(minutes=5), stuck + timedelta(hours=rng.uniform(0.3, 30)))
        yield make(reason, stuck, cleared)


def iter_orders(n: int, seed: int, now: datetime) -> Iterator[dict]:
    """The orders of ``order_rows`` as dicts keyed by column."""
    for row in order_rows(n, seed, now):
        yield dict(zip(ORDER_COLUMNS, row, strict=True))


def generate_orders(n: int, seed: int, now: datetime) -> tuple[list[dict], list[dict]]:
    """``n`` stuck orders plus 5n cleared past episodes, and their events, as lists (for
    small sets; ``seed_demo`` streams them)."""
    orders = list(iter_orders(n, seed, now))
    return orders, [e for o in orders for e in _events(o)]


DEMO_ZONES = {"sarah.ops@example.com": "Asia/Dubai", "ravi.india@example.com": "Asia/Kolkata"}
"""Time zones for a few demo agents. No demo agent has working hours (always on shift), so the
demo assigns and warns at any time of day."""


def write_roster(workbook: Workbook) -> None:
    """Upsert the demo roster into the Agents tab (existing rows are updated, not doubled)."""
    rows = [
        {
            **dict(
                zip(
                    ("email", "name", "Slack user ID", "role", "specializations", "capacity"),
                    (e, n, s, r, sp, c),
                    strict=True,
                )
            ),
            "active": "TRUE" if a else "FALSE",
            "Timezone": DEMO_ZONES.get(e, ""),
            "Working Hours": "",
        }
        for e, n, s, r, sp, c, a in ROSTER
    ]
    existing = {r["email"] for r in workbook.read("Agents")}
    workbook.update(
        "Agents", [RowUpdate(str(r["email"]), r) for r in rows if r["email"] in existing]
    )
    workbook.append("Agents", [r for r in rows if r["email"] not in existing])


_SQL_TYPES = {str: "TEXT", float: "REAL"}
_INDEXES = (("order_events", "order_id"), ("orders", "status"), ("orders", "stuck_since"))
_SYSTEMS_SQL = " ".join(f"WHEN '{m}' THEN '{name}'" for m, name in _SYSTEM.items())
EVENTS_SQL = f"""
WITH steps(n) AS (VALUES (0), (1), (2), (3), (4), (5))
INSERT INTO order_events (order_id, event_at, system, event_type, detail)
SELECT o.order_id,
  CASE s.n WHEN 0 THEN o.created_at
    WHEN 1 THEN datetime(o.created_at, '+2 minutes')
    WHEN 2 THEN datetime(o.created_at, '+4 minutes')
    WHEN 3 THEN datetime(o.created_at, '+6 minutes')
    WHEN 4 THEN o.stuck_since ELSE o.cleared_at END,
  CASE s.n WHEN 0 THEN 'App'
    WHEN 1 THEN CASE o.payment_method {_SYSTEMS_SQL} ELSE 'Checkout.com' END
    WHEN 2 THEN 'Falcon' WHEN 3 THEN o.payout_partner ELSE 'ECM' END,
  CASE s.n WHEN 0 THEN 'ORDER_CREATED' WHEN 1 THEN 'PAYIN_CAPTURED' WHEN 2 THEN 'SCREENING_DONE'
    WHEN 3 THEN 'PAYOUT_SUBMITTED' WHEN 4 THEN 'STUCK' ELSE o.status END,
  CASE s.n WHEN 0 THEN o.corridor || '→IN, ' || o.send_currency
    WHEN 1 THEN o.payment_method || ' pay-in captured'
    WHEN 2 THEN 'fraud & sanctions screening completed' WHEN 3 THEN 'payout instruction sent'
    WHEN 4 THEN o.stuck_reason ELSE 'cleared' END
FROM orders o CROSS JOIN steps s
WHERE s.n < 5 OR o.cleared_at IS NOT NULL
ORDER BY o.rowid, s.n
"""
"""Every order's events (``_event_rows``, row for row and in the same order), made by SQLite
from the orders table: seeding then hands each order to SQLite once."""


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _write_rows(path: Path, orders: Iterable[tuple], events: Iterable[tuple] | None) -> dict:
    """Replace the warehouse tables in one transaction, streaming ``orders`` (and ``events``;
    None: made from the orders by ``EVENTS_SQL``) into SQLite. Returns counts."""
    conn = sqlite3.connect(Path(path), isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")  # demo data, rewritten whole if it fails
        conn.execute("BEGIN IMMEDIATE")
        for table, columns in WAREHOUSE_SCHEMA.items():
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            key = " PRIMARY KEY"
            cols = ", ".join(
                f"{c} {_SQL_TYPES[kind]}" + (key if (table, c) == ("orders", "order_id") else "")
                for c, kind in columns.items()
            )
            conn.execute(f"CREATE TABLE {table} ({cols})")
        conn.executemany(_insert("orders", ORDER_COLUMNS), orders)
        if events is None:
            conn.execute(EVENTS_SQL)
        else:
            conn.executemany(_insert("order_events", EVENT_COLUMNS), events)
        for table, column in _INDEXES:
            conn.execute(f"CREATE INDEX idx_{table}_{column} ON {table} ({column})")
        counts = conn.execute(
            "SELECT SUM(status = 'STUCK'), SUM(status <> 'STUCK'), COUNT(DISTINCT stuck_reason), "
            "(SELECT COUNT(*) FROM order_events) FROM orders"
        ).fetchone()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    stuck, cleared, reasons, events_n = (int(v or 0) for v in counts)
    return {"stuck": stuck, "cleared": cleared, "reasons": reasons, "events": events_n}


def write_warehouse(path: Path, orders: Iterable[dict], events: Iterable[dict]) -> dict:
    """Replace the demo warehouse tables with these rows; return counts."""
    return _write_rows(
        path,
        (tuple(o[c] for c in ORDER_COLUMNS) for o in orders),
        (tuple(e[c] for c in EVENT_COLUMNS) for e in events),
    )


def seed_demo(
    data: Path, workbook: Workbook, orders: int = 200, seed: int = 7, now: datetime | None = None
) -> dict:
    """Write the demo data set (streamed: memory stays flat however many orders); return
    counts."""
    moment = now or utcnow()
    with collector_paused():
        written = _write_rows(Path(data) / "warehouse.db", order_rows(orders, seed, moment), None)
    write_roster(workbook)
    return {
        "stuck_orders": written["stuck"],
        "cleared_orders": written["cleared"],
        "events": written["events"],
        "agents": len(ROSTER),
        "reasons": written["reasons"],
    }
