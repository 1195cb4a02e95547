"""The local store: durable adds, outbox states, migrations, corruption and a full disk."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from kiosk.store import DB_NAME, SCHEMA_VERSION, STATES, Store, StoreError, StoreFullError


def test_add_returns_a_uuid_and_saves_everything(data_dir: Path):
    store = Store(data_dir)
    rid = store.add("health", {"type": "bp", "systolic": 135, "note": "测量"})
    assert uuid.UUID(rid).version == 4
    rec = store.get(rid)
    assert rec is not None
    assert rec.kind == "health"
    assert rec.payload == {"type": "bp", "systolic": 135, "note": "测量"}
    assert rec.state == "pending"
    created = datetime.fromisoformat(rec.created_at)
    assert created.tzinfo is not None and created.utcoffset() is not None
    assert store.count() == 1 and store.count("pending") == 1 and store.count("acked") == 0


def test_calls_are_urgent(data_dir: Path):
    store = Store(data_dir)
    assert store.get(store.add("call", {})).urgent  # type: ignore[union-attr]
    assert not store.get(store.add("feedback", {"rating": 1})).urgent  # type: ignore[union-attr]


def test_bad_input_is_refused_and_nothing_saved(data_dir: Path):
    store = Store(data_dir)
    with pytest.raises(ValueError, match="unknown record kind"):
        store.add("gossip", {})
    with pytest.raises(ValueError, match="plain JSON"):
        store.add("health", {"x": float("nan")})
    with pytest.raises(ValueError, match="plain JSON"):
        store.add("health", {"x": object()})
    with pytest.raises(ValueError, match="unknown state"):
        store.count("lost")
    assert store.count() == 0


def test_every_state_is_reachable_by_a_query(data_dir: Path):
    store = Store(data_dir)
    ids = [store.add("proxy", {"n": i}) for i in range(len(STATES))]
    with store.transaction() as db:
        for rid, state in zip(ids, STATES, strict=True):
            db.execute("UPDATE records SET state=? WHERE id=?", [state, rid])
    for state in STATES:
        assert store.count(state) == 1
        assert len(store.records(state=state)) == 1


def test_inflight_leases_reset_at_start(data_dir: Path):
    store = Store(data_dir)
    rid = store.add("call", {})
    with store.transaction() as db:
        db.execute("UPDATE records SET state='inflight', lease_until='x' WHERE id=?", [rid])
    store.close()
    again = Store(data_dir)
    assert again.get(rid).state == "pending"  # type: ignore[union-attr]


def test_wal_and_full_sync(data_dir: Path):
    store = Store(data_dir)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert (data_dir.stat().st_mode & 0o777) == 0o700


def test_migrations_run_forward_from_an_older_file(data_dir: Path):
    old = sqlite3.connect(data_dir / DB_NAME)
    import sqlite_utils

    from kiosk.store import MIGRATIONS

    MIGRATIONS[0](sqlite_utils.Database(old))
    old.execute("PRAGMA user_version = 1")
    old.execute(
        "INSERT INTO records (id, kind, created_at, payload) "
        "VALUES ('a', 'call', '2026-01-01T00:00:00+08:00', '{}')"
    )
    old.commit()
    old.close()
    store = Store(data_dir)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.get("a") is not None


def test_newer_schema_is_refused_clearly(data_dir: Path):
    Store(data_dir).close()
    conn = sqlite3.connect(data_dir / DB_NAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(data_dir)


def test_garbage_file_is_moved_aside_and_a_fresh_one_made(data_dir: Path):
    (data_dir / DB_NAME).write_bytes(b"this is not a database" * 200)
    store = Store(data_dir)
    assert store.count() == 0
    assert store.problems and "损坏" in store.problems[0]
    moved = list(data_dir.glob(f"{DB_NAME}.corrupt-*"))
    assert len(moved) == 1
    remembered = Store.stored_problems(data_dir)
    assert remembered and remembered[0]["moved_to"] == str(moved[0])
    store.add("call", {})
    assert Store(data_dir).count() == 1


def test_flipped_bytes_in_a_real_database_are_detected(data_dir: Path):
    store = Store(data_dir)
    for i in range(400):
        store.add("health", {"i": i, "pad": "x" * 200})
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = data_dir / DB_NAME
    raw = bytearray(path.read_bytes())
    page = 4096
    # Damage the b-tree page headers (type, free block, cell count) of pages 2-8: what a
    # torn write or a bad sector does. Flipped bytes inside a text value are not detectable
    # by any SQLite check; the payload's JSON would still be read as written.
    for n in range(1, 8):
        for offset in range(n * page, n * page + 8):
            raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))
    fresh = Store(data_dir)
    assert fresh.problems
    assert fresh.integrity() == "ok"
    assert fresh.count() == 0


def test_full_disk_is_a_clear_error_and_earlier_records_stay(data_dir: Path):
    store = Store(data_dir)
    first = store.add("call", {"n": 0})
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(StoreFullError, match="存储空间已满"):
        for i in range(10_000):
            store.add("health", {"i": i, "pad": "x" * 500})
    assert store.get(first) is not None
    assert store.integrity() == "ok"
    store.close()
    assert Store(data_dir).get(first) is not None


WRITER = r"""
import sys
from kiosk.store import Store
store = Store(sys.argv[1], check=False)
print("ready", flush=True)
for line in sys.stdin:
    rid = store.add("call", {"n": int(line)})
    print(rid, flush=True)
"""


@pytest.mark.slow
def test_record_survives_sigkill_right_after_add(data_dir: Path):
    """50 rounds: a writer reports the id `add` returned and is killed at once."""
    reported: list[str] = []
    root = Path(__file__).resolve().parent.parent
    for n in range(50):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data_dir)],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.stdin.write(f"{n}\n")
        proc.stdin.flush()
        rid = proc.stdout.readline().strip()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        reported.append(rid)
    store = Store(data_dir)
    assert store.integrity() == "ok"
    for rid in reported:
        rec = store.get(rid)
        assert rec is not None, rid
    assert store.count() == 50
    assert sorted(store.get(r).payload["n"] for r in reported) == list(range(50))  # type: ignore[union-attr]
    json.dumps(reported)
