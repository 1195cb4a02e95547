"""Upgrades: a database written by every earlier schema version opens with today's Store,
migrates to SCHEMA_VERSION and loses nothing.

For each version n (1 .. SCHEMA_VERSION) the test applies MIGRATIONS[:n] to a fresh file,
fills it with realistic data of that version (SEEDERS[k] for every k <= n), closes it, opens it
with ``Store(data_dir)`` and compares every row of every old table with what is there now.

A new migration is covered automatically. If it adds a table, add a seeder for its version
to SEEDERS: ``test_every_table_is_seeded`` fails until every table of every version holds data.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from kiosk.store import DB_NAME, MIGRATIONS, SCHEMA_VERSION, Store, StoreError

Rows = dict[str, list[dict[str, Any]]]

TZ = "+08:00"


def _record(
    rid: str, kind: str, payload: dict[str, Any], state: str = "pending", **extra: Any
) -> dict[str, Any]:
    row = {
        "id": rid,
        "kind": kind,
        "created_at": f"2025-03-0{1 + len(rid) % 8}T09:1{len(rid) % 10}:00.000{TZ}",
        "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
        "urgent": int(kind == "call" or payload.get("alert") is True),
        "state": state,
    }
    row.update(extra)
    return row


def seed_v1(conn: sqlite3.Connection) -> None:
    """Schema 1: the records table (the outbox), records in every state."""
    rows = [
        _record(
            "00000000-0000-4000-8000-000000000001",
            "call",
            {"source": "button"},
            "acked",
            attempts=1,
            acked_at=f"2025-03-01T09:12:00.000{TZ}",
        ),
        _record(
            "00000000-0000-4000-8000-000000000002",
            "health",
            {
                "systolic": 162,
                "diastolic": 101,
                "pulse": 88,
                "level": "high",
                "alert": True,
                "phone": "13812345678",
            },
        ),
        _record(
            "00000000-0000-4000-8000-000000000003",
            "health",
            {"systolic": 118, "diastolic": 76, "level": "normal"},
            "inflight",
            attempts=2,
            lease_until="2025-03-01T01:20:00.000000+00:00",
        ),
        _record(
            "00000000-0000-4000-8000-000000000004",
            "signup",
            {"activity_id": "act-7", "phone": "13900001111", "name": "王秀兰"},
            "failed",
            attempts=1,
            last_error="rejected: activity cancelled",
        ),
        _record(
            "00000000-0000-4000-8000-000000000005",
            "proxy",
            {"service": "社保认证", "note": "下周二上门", "staff": "s-02"},
            "conflict",
            attempts=1,
            last_error="conflict: same id, different content",
        ),
        _record("00000000-0000-4000-8000-000000000006", "visit", {"purpose": "咨询"}),
        _record(
            "00000000-0000-4000-8000-000000000007",
            "feedback",
            {"about": "00000000-0000-4000-8000-000000000001", "rating": 3},
        ),
    ]
    for row in rows:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT INTO records ({cols}) VALUES ({marks})", list(row.values()))  # noqa: S608


def seed_v2(conn: sqlite3.Connection) -> None:
    """Schema 2: activity catalogue, record status history, sync cursors."""
    acts = [
        (
            "act-7",
            "银龄课堂 智能手机课",
            f"2025-03-05T14:00:00{TZ}",
            f"2025-03-05T16:00:00{TZ}",
            "二楼活动室",
            "每周三下午",
            20,
            0,
            "full",
        ),
        ("act-8", "太极拳", f"2025-03-06T08:00:00{TZ}", None, "广场", "", None, None, "open"),
        ("act-9", "义诊", f"2025-03-07T09:00:00{TZ}", None, "", "量血压", 50, 12, "cancelled"),
    ]
    conn.executemany(
        "INSERT INTO activities (id, title, starts_at, ends_at, place, description, seats,"
        " seats_left, status, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [(*a, f"2025-03-01T02:30:00{TZ}") for a in acts],
    )
    statuses = [
        ("00000000-0000-4000-8000-000000000001", "acknowledged", "", "district"),
        ("00000000-0000-4000-8000-000000000001", "dispatched", "李师傅 10 分钟到", "district"),
        ("00000000-0000-4000-8000-000000000001", "done", "", "district"),
        ("00000000-0000-4000-8000-000000000004", "wait-listed", "", "district"),
        ("00000000-0000-4000-8000-000000000005", "handled", "已电话联系", "local"),
    ]
    conn.executemany(
        "INSERT INTO record_status (record_id, status, note, at, source) VALUES (?,?,?,?,?)",
        [(*s[:3], f"2025-03-01T10:0{i}:00{TZ}", s[3]) for i, s in enumerate(statuses)],
    )
    conn.executemany(
        "INSERT INTO sync_state (key, value) VALUES (?, ?)",
        [("activities_cursor", "c-41"), ("updates_cursor", "u-1093"), ("last_pass", "{}")],
    )


def seed_v3(conn: sqlite3.Connection) -> None:
    """Schema 3: staff accounts (salted scrypt hashes, one locked out) and the staff log."""
    conn.executemany(
        "INSERT INTO staff (name, pin_hash, salt, kdf, created_at, failed, lockouts,"
        " locked_until, last_login_at) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (
                "李娟",
                bytes(range(32)),
                bytes(range(16)),
                "scrypt:n=65536,r=8,p=1",
                f"2025-03-01T08:00:00{TZ}",
                0,
                0,
                0.0,
                f"2025-03-01T09:00:00{TZ}",
            ),
            (
                "王强",
                bytes(range(32, 64)),
                bytes(range(16, 32)),
                "scrypt:n=65536,r=8,p=1",
                f"2025-03-01T08:05:00{TZ}",
                2,
                1,
                1740820000.5,
                None,
            ),
        ],
    )
    conn.executemany(
        "INSERT INTO staff_log (at, staff, action, detail) VALUES (?,?,?,?)",
        [
            (f"2025-03-01T09:00:00{TZ}", "李娟", "login", ""),
            (f"2025-03-01T09:03:00{TZ}", "李娟", "queue_done", "call"),
            (f"2025-03-01T09:05:00{TZ}", "李娟", "logout", "idle"),
        ],
    )


# Version -> what a kiosk of that version would have written. Append for new tables.
SEEDERS: dict[int, Callable[[sqlite3.Connection], None]] = {1: seed_v1, 2: seed_v2, 3: seed_v3}

VERSIONS = list(range(1, SCHEMA_VERSION + 1))


def build_old_database(data_dir: Path, version: int) -> Rows:
    """A kiosk.db of schema ``version`` with data; returns every row of every table."""
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    db = sqlite_utils.Database(conn)
    for number, migration in enumerate(MIGRATIONS[:version], start=1):
        conn.execute("BEGIN")
        migration(db)
        conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    conn.execute("BEGIN")
    for seeded_version, seeder in sorted(SEEDERS.items()):
        if seeded_version <= version:
            seeder(conn)
    conn.execute("COMMIT")
    rows = dump(conn)
    conn.close()
    return rows


def dump(conn: sqlite3.Connection) -> Rows:
    conn.row_factory = sqlite3.Row
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        t: [dict(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY rowid")]  # noqa: S608
        for t in tables
    }


def expected_after_open(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """What Store's start-up legitimately changes: leases go back to pending."""
    if table == "records" and row["state"] == "inflight":
        return {**row, "state": "pending", "lease_until": None}
    return row


@pytest.mark.parametrize("version", VERSIONS)
def test_old_database_opens_migrated_with_nothing_lost(tmp_path: Path, version: int):
    data_dir = tmp_path / f"v{version}"
    before = build_old_database(data_dir, version)
    assert before["records"], "the seed data is missing"

    store = Store(data_dir)
    try:
        assert int(store.db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
        assert store.integrity() == "ok"
        assert store.problems == []
        after = dump(store.db.conn)
        for table, rows in before.items():
            assert table in after, f"table {table} of schema {version} is gone"
            now = after[table]
            assert len(now) == len(rows), f"{table}: {len(rows)} rows before, {len(now)} after"
            for old, new in zip(rows, now, strict=True):
                want = expected_after_open(table, old)
                # New columns may appear; every old column keeps its value.
                assert {k: new[k] for k in want} == want
        # ... and the records read back through the public API, payloads unchanged.
        assert store.count() == len(before["records"])
        for row in before["records"]:
            rec = store.get(row["id"])
            assert rec is not None
            assert rec.payload == json.loads(row["payload"])
            assert rec.kind == row["kind"]
        assert store.count("inflight") == 0
        # The upgraded store still takes new records.
        new_id = store.add("call", {"source": "button"})
        assert store.get(new_id) is not None
    finally:
        store.close()

    # A second start changes nothing more (migrations ran once).
    again = Store(data_dir)
    try:
        assert again.count() == len(before["records"]) + 1
    finally:
        again.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_every_table_is_seeded(tmp_path: Path, version: int):
    """A migration that adds a table needs seed data of its version in SEEDERS."""
    rows = build_old_database(tmp_path / "d", version)
    empty = sorted(t for t, r in rows.items() if not r)
    assert empty == [], f"schema {version}: add a seeder to SEEDERS for tables {empty}"


def test_a_newer_database_is_refused_not_damaged(tmp_path: Path):
    """A kiosk rolled back to an older version must not touch a newer database."""
    data_dir = tmp_path / "d"
    build_old_database(data_dir, SCHEMA_VERSION)
    conn = sqlite3.connect(data_dir / DB_NAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    with pytest.raises(StoreError, match="newer than this kiosk"):
        Store(data_dir)
    conn = sqlite3.connect(data_dir / DB_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 7
    conn.close()
