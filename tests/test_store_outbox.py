"""Store additions for sync: migration 2 (activities, record status, sync state) and the outbox."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.store import SCHEMA_VERSION, Store


def test_migration_2_creates_tables(data_dir: Path) -> None:
    store = Store(data_dir)
    version = store.db.execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION >= 2
    tables = set(store.db.table_names())
    assert {"records", "activities", "record_status", "sync_state"} <= tables


def test_activities_sorted_and_upcoming_filter(data_dir: Path) -> None:
    store = Store(data_dir)
    store.replace_activities(
        [
            {"id": "late", "title": "智能手机课", "starts_at": "2030-01-02T14:00:00+08:00"},
            {
                "id": "past",
                "title": "银龄课堂",
                "starts_at": "2020-01-01T14:00:00+08:00",
                "ends_at": "2020-01-01T16:00:00+08:00",
                "seats": 20,
                "seats_left": 0,
                "status": "full",
            },
        ]
    )
    assert [a["id"] for a in store.activities()] == ["past", "late"]
    upcoming = store.activities(upcoming_from=datetime(2025, 1, 1, tzinfo=UTC))
    assert [a["id"] for a in upcoming] == ["late"]
    assert upcoming[0]["status"] == "open" and upcoming[0]["seats"] is None


def test_replace_activities_bad_entry_keeps_old_catalogue(data_dir: Path) -> None:
    store = Store(data_dir)
    store.replace_activities([{"id": "a", "title": "A", "starts_at": "2030-01-01T10:00:00+08:00"}])
    with pytest.raises(ValueError, match="status"):
        store.replace_activities(
            [
                {"id": "b", "title": "B", "starts_at": "2030-01-01T10:00:00+08:00"},
                {"id": "c", "title": "C", "starts_at": "2030-01-01T10:00:00+08:00", "status": "x"},
            ]
        )
    assert [a["id"] for a in store.activities()] == ["a"]


def test_replace_activities_reader_never_sees_a_mix(data_dir: Path) -> None:
    store = Store(data_dir)
    old = [
        {"id": f"o{i}", "title": "old", "starts_at": "2030-01-01T10:00:00+08:00"} for i in range(50)
    ]
    new = [
        {"id": f"n{i}", "title": "new", "starts_at": "2030-01-01T10:00:00+08:00"} for i in range(70)
    ]
    store.replace_activities(old)
    reader = Store(data_dir, check=False)
    seen: set[tuple[int, frozenset[str]]] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            items = reader.activities()
            seen.add((len(items), frozenset(a["title"] for a in items)))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for i in range(30):
            store.replace_activities(new if i % 2 == 0 else old)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert seen <= {(50, frozenset({"old"})), (70, frozenset({"new"}))}


def test_record_status_history(data_dir: Path) -> None:
    store = Store(data_dir)
    assert store.latest_status("r1") is None
    store.add_status("r1", "acknowledged", source="district", at="2030-01-01T10:00:00+08:00")
    store.add_status("r1", "done", note="已上门")
    latest = store.latest_status("r1")
    assert latest is not None
    assert (latest["status"], latest["note"], latest["source"]) == ("done", "已上门", "local")
    assert [s["status"] for s in store.statuses("r1")] == ["acknowledged", "done"]
    with pytest.raises(ValueError):
        store.add_status("r1", "x", source="elsewhere")


def test_migrates_a_version_1_file(data_dir: Path) -> None:
    conn = sqlite3.connect(data_dir / "kiosk.db")
    conn.execute(
        "CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
        " kind TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL,"
        " urgent INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending',"
        " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, lease_until TEXT, acked_at TEXT)"
    )
    conn.execute(
        "INSERT INTO records (id, kind, created_at, payload)"
        " VALUES ('x', 'call', '2030-01-01T00:00:00+00:00', '{}')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = Store(data_dir)
    assert store.count("pending") == 1
    assert store.activities() == []


def test_lease_page_urgent_first_then_oldest(data_dir: Path) -> None:
    store = Store(data_dir)
    visits = [store.add("visit", {"n": i}) for i in range(3)]
    call = store.add("call", {})
    alert = store.add("health", {"systolic": 190, "alert": True})
    plain = store.add("health", {"systolic": 120, "alert": False})
    page = store.lease_page(3)
    assert [r.id for r in page] == [call, alert, visits[0]]
    assert all(store.get(r.id).state == "inflight" for r in page)  # type: ignore[union-attr]
    assert [r.id for r in store.lease_page(10)] == [visits[1], visits[2], plain]
    assert store.lease_page(10) == []
    assert store.urgent_unsent_ids() == [call, alert]


def test_mark_results_and_release(data_dir: Path) -> None:
    store = Store(data_dir)
    ids = [store.add("visit", {}) for _ in range(5)]
    page = store.lease_page(5)
    counts = store.mark_results(
        {
            ids[0]: ("created", None),
            ids[1]: ("duplicate", None),
            ids[2]: ("conflict", "same id, different content"),
            ids[3]: ("rejected", "payload: bad"),
        },
        release=[r.id for r in page],
    )
    assert counts == {"acked": 2, "conflict": 1, "failed": 1, "pending": 1}
    states = [store.get(i).state for i in ids]  # type: ignore[union-attr]
    assert states == ["acked", "acked", "conflict", "failed", "pending"]
    assert [r.id for r in store.failed_with_reasons()] == [ids[2], ids[3]]
    assert store.get(ids[3]).last_error == "payload: bad"  # type: ignore[union-attr]
    # An acked record never goes back, whatever a later reply says.
    store.mark_results({ids[0]: ("rejected", "late reply")})
    assert store.get(ids[0]).state == "acked"  # type: ignore[union-attr]
    assert store.count() == 5  # nothing is ever deleted
    assert store.outbox_counts()["acked"] == 2 and store.unsent() == 1


def test_expired_lease_and_reset(data_dir: Path) -> None:
    store = Store(data_dir)
    record_id = store.add("call", {})
    assert [r.id for r in store.lease_page(5, lease_seconds=-1)] == [record_id]
    # The lease has expired: the record is leasable again (e.g. a sender crashed).
    again = store.lease_page(5)
    assert [r.id for r in again] == [record_id] and again[0].attempts == 1
    store.reset_lease([record_id], "offline")
    rec = store.get(record_id)
    assert rec is not None and rec.state == "pending" and rec.last_error == "offline"
    assert rec.attempts == 2
    store.lease_page(5)
    store.close()
    reopened = Store(data_dir)  # a restart puts inflight records back to pending
    assert reopened.get(record_id).state == "pending"  # type: ignore[union-attr]


def test_lease_by_ids_and_cursors(data_dir: Path) -> None:
    store = Store(data_dir)
    a, b = store.add("call", {}), store.add("call", {})
    assert [r.id for r in store.lease_page(10, ids=[b])] == [b]
    assert store.lease_page(10, ids=[b]) == []
    assert store.sync_state("updates_cursor") is None
    n = store.apply_updates(
        [{"record_id": a, "status": "done", "note": "", "at": "2025-12-03T10:00:00+08:00"}], "7"
    )
    assert n == 1 and store.sync_state("updates_cursor") == "7"
    assert store.latest_status(a)["source"] == "district"  # type: ignore[index]
    store.replace_activities([], cursor="v3")
    assert store.sync_state("activities_cursor") == "v3"
