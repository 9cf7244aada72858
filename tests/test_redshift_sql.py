"""The named queries in shared/queries are parsed as Redshift SQL (sqlglot's redshift dialect),
and none uses a Redshift reserved word as a bare identifier: the warehouse is Redshift, while
the embedded SQLite and the PostgreSQL stand-in accept words Redshift refuses."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from bot.paths import QUERIES_DIR
from bot.resources import query_header

# Amazon Redshift's reserved words, as listed on "Reserved words" in the Amazon Redshift
# Database Developer Guide (https://docs.aws.amazon.com/redshift/latest/dg/r_pg_keywords.html,
# read 2026-12-01). They may be used only as delimited identifiers ("double-quoted").
_RESERVED_TEXT = """
    AES128 AES256 ALL ALLOWOVERWRITE ANALYSE ANALYZE AND ANY ARRAY AS ASC AUTHORIZATION AZ64
    BACKUP BETWEEN BINARY BLANKSASNULL BOTH BYTEDICT BZIP2 CASE CAST CHECK COLLATE COLUMN
    CONSTRAINT CREATE CREDENTIALS CROSS CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER
    CURRENT_USER_ID DEFAULT DEFERRABLE DEFLATE DEFRAG DELTA DELTA32K DESC DISABLE DISTINCT DO
    ELSE EMPTYASNULL ENABLE ENCODE ENCRYPT ENCRYPTION END EXCEPT EXPLICIT FALSE FOR FOREIGN
    FREEZE FROM FULL GLOBALDICT256 GLOBALDICT64K GRANT GROUP GZIP HAVING IDENTITY IGNORE ILIKE
    IN INITIALLY INNER INTERSECT INTERVAL INTO IS ISNULL JOIN LEADING LEFT LIKE LIMIT LOCALTIME
    LOCALTIMESTAMP LUN LUNS LZO LZOP MINUS MOSTLY16 MOSTLY32 MOSTLY8 NATURAL NEW NOT NOTNULL
    NULL NULLS OFF OFFLINE OFFSET OID OLD ON ONLY OPEN OR ORDER OUTER OVERLAPS PARALLEL
    PARTITION PERCENT PERMISSIONS PIVOT PLACING PRIMARY RAW READRATIO RECOVER REFERENCES
    REJECTLOG RESORT RESPECT RESTORE RIGHT SELECT SESSION_USER SIMILAR SNAPSHOT SOME SYSDATE
    SYSTEM TABLE TAG TDES TEXT255 TEXT32K THEN TIMESTAMP TO TOP TRAILING TRUE TRUNCATECOLUMNS
    UNION UNIQUE UNNEST UNPIVOT USER USING VERBOSE WALLET WHEN WHERE WITH WITHOUT
"""
REDSHIFT_RESERVED = frozenset(_RESERVED_TEXT.split())

QUERIES = sorted(QUERIES_DIR.glob("*.sql"))


def bare_reserved_words(sql: str) -> list[str]:
    """Unquoted identifiers (columns, tables, aliases) that Redshift reserves, in order. The
    ``-- key: value`` header is a comment and ``:name`` / ``?`` parameters are placeholders,
    so the file is parsed as it is read."""
    tree = sqlglot.parse_one(sql, read="redshift")
    return [
        node.name
        for node in tree.find_all(exp.Identifier)
        if not node.quoted and node.name.upper() in REDSHIFT_RESERVED
    ]


def test_there_are_queries_to_check():
    assert len(QUERIES) >= 7


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_a_named_query_is_redshift_sql_with_no_bare_reserved_word(path):
    sql = path.read_text(encoding="utf-8")
    assert query_header(sql)["name"] == path.stem  # the header is read as the bot reads it
    found = bare_reserved_words(sql)
    assert not found, f"{path.name}: Redshift reserves {found}; quote them as identifiers"


def test_the_old_timeline_query_with_a_bare_system_column_is_caught():
    old = (
        "-- name: ecm-order-timeline\n-- params: :order_id\n"
        "SELECT event_at, system, event_type, detail FROM order_events\n"
        "WHERE order_id = :order_id ORDER BY event_at, event_type\n"
    )
    assert bare_reserved_words(old) == ["system"]
    assert bare_reserved_words(old.replace("system,", '"system",')) == []


def test_aliases_and_question_mark_parameters_are_checked_too():
    assert bare_reserved_words("SELECT a AS user FROM t WHERE b = ?") == ["user"]
    assert bare_reserved_words('SELECT a AS "user" FROM t WHERE b = ?') == []


def test_the_quoted_column_still_comes_back_as_system(demo):
    warehouse = demo.stores.warehouse
    pending = warehouse.run((QUERIES_DIR / "ecm-pending-list.sql").read_text(), {})
    timeline = (QUERIES_DIR / "ecm-order-timeline.sql").read_text()
    rows = warehouse.run(timeline, {"order_id": pending[0]["order_id"]})
    assert rows and all(row["system"] for row in rows)
