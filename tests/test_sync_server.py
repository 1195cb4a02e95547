"""Sync end to end: a real district server process on 127.0.0.1 (SQLite and PostgreSQL),
real kiosk stores in tmp dirs, real HTTP with requests. No fixed sleeps: polling with timeouts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.engine import Engine

from kiosk.store import ACTIVITIES_CURSOR, UPDATES_CURSOR, Store, StoreError
from sync.client import Backoff, OfflineError, SyncClient
from sync.protocol import API_HEADER, PREFIX
from sync.server import db
from sync.testing import (
    LostReplyProxy,
    PgCluster,
    ServerProcess,
    captive_portal,
    pg_bin_dir,
    wait_until,
)
from sync.urgent import UrgentSender

PAYLOADS: dict[str, dict[str, Any]] = {
    "call": {"reason": "help", "source": "button"},
    "health": {
        "type": "blood_pressure",
        "values": {
            "systolic": {"value": 135, "unit": "mmHg"},
            "diastolic": {"value": 88, "unit": "mmHg"},
        },
        "level": "bp_stage1",
        "severity": "attention",
        "alert": False,
        "phone": "13812345678",
    },
    "signup": {
        "activity_id": "smartphone-class",
        "title": "银龄课堂 智能手机课",
        "starts_at": "2030-01-01T14:00:00+08:00",
        "phone": "13812345678",
    },
    "proxy": {"service": "社保认证", "resident_name": "张三", "phone": "13812345678"},
    "visit": {"purpose": "咨询", "staff": "李"},
    "feedback": {"rating": "good", "about": "6f1c3a52-5f0b-4a53-8d6f-000000000001"},
}


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        message = "PostgreSQL server binaries not installed (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the PostgreSQL suite")
        pytest.skip(message)
    cluster = PgCluster(bin_dir)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    work = tmp_path_factory.mktemp("district")
    if request.param == "sqlite":
        url = f"sqlite:///{work / 'district.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").new_database()
    srv = ServerProcess(url, work)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def engine(server: ServerProcess) -> Iterator[Engine]:
    eng = db.open_engine(server.db_url)
    yield eng
    eng.dispose()


@dataclass
class Kiosk:
    id: str
    token: str
    store: Store
    data_dir: Path
    url: str

    def client(self, **kwargs: Any) -> SyncClient:
        kwargs.setdefault("sleep", lambda _s: None)
        kwargs.setdefault("backoff", Backoff(base=0.01, cap=0.05))
        kwargs.setdefault("base_url", self.url)
        kwargs.setdefault("token", self.token)
        kwargs.setdefault("kiosk_id", self.id)
        return SyncClient(self.store, **kwargs)


def _new_kiosk(server: ServerProcess, engine: Engine, data_dir: Path) -> Kiosk:
    kiosk_id = f"k-{uuid.uuid4().hex[:8]}"
    token = db.add_kiosk(engine, kiosk_id)
    return Kiosk(kiosk_id, token, Store(data_dir), data_dir, server.url)


@pytest.fixture
def kiosk(server: ServerProcess, engine: Engine, data_dir: Path) -> Iterator[Kiosk]:
    k = _new_kiosk(server, engine, data_dir)
    yield k
    k.store.close()


@pytest.fixture
def busy(server: ServerProcess) -> Iterator[Path]:
    """The server's busy switch (503 + Retry-After while the file exists), always removed."""
    yield server.busy_file
    server.busy_file.unlink(missing_ok=True)


def _server_row(engine: Engine, kiosk_id: str, record_id: str) -> dict[str, Any] | None:
    for row in db.export_rows(engine, datetime(2000, 1, 1, tzinfo=UTC)):
        if row["kiosk_id"] == kiosk_id and row["record_id"] == record_id:
            return row
    return None


def _server_count(engine: Engine, kiosk_id: str) -> int:
    rows = db.export_rows(engine, datetime(2000, 1, 1, tzinfo=UTC))
    return sum(1 for r in rows if r["kiosk_id"] == kiosk_id)


def _post(kiosk: Kiosk, records: list[Any], kiosk_id: str | None = None) -> Any:
    body: dict[str, Any] = {
        "kiosk_id": kiosk_id or kiosk.id,
        "sent_at": datetime.now(UTC).isoformat(),
        "records": records,
    }
    return requests.post(
        f"{kiosk.url}{PREFIX}/records",
        json=body,
        headers={"Authorization": f"Bearer {kiosk.token}"},
        timeout=10,
    )


# -- upload ----------------------------------------------------------------------------


def test_round_trip_of_every_kind(kiosk: Kiosk, engine: Engine) -> None:
    ids = {kind: kiosk.store.add(kind, payload) for kind, payload in PAYLOADS.items()}
    result = kiosk.client().run_pass()
    assert result.all_sent and result.exit_code == 0, result.problem
    assert result.upload.acked == len(PAYLOADS)
    for kind, record_id in ids.items():
        local = kiosk.store.get(record_id)
        assert local is not None and local.state == "acked"
        row = _server_row(engine, kiosk.id, record_id)
        assert row is not None
        assert (row["kind"], row["payload"], row["created_at"]) == (
            kind,
            PAYLOADS[kind],
            local.created_at,
        )
        assert row["received_at"].endswith("+00:00")
        assert abs(row["clock_offset_seconds"]) < 60
    # The kiosk can read back its own record.
    r = requests.get(
        f"{kiosk.url}{PREFIX}/records/{ids['call']}",
        headers={"Authorization": f"Bearer {kiosk.token}"},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["kind"] == "call"


def test_pages_urgent_first_and_ack_per_page(kiosk: Kiosk, engine: Engine) -> None:
    for i in range(25):
        kiosk.store.add("visit", {"note": f"v{i}"})
    call = kiosk.store.add("call", {})
    seen: list[tuple[int, int]] = []
    client = kiosk.client(max_batch=10)
    summary = client.upload(progress=lambda d, t: seen.append((d, t)))
    assert summary.acked == 26 and summary.requests == 3
    assert seen[0] == (0, 26) and seen[-1] == (26, 26)
    rows = list(db.export_rows(engine, datetime(2000, 1, 1, tzinfo=UTC)))
    mine = [r for r in rows if r["kiosk_id"] == kiosk.id]
    assert mine[0]["record_id"] == call  # urgent first
    assert kiosk.store.count("acked") == 26


def test_duplicate_is_acked_once(kiosk: Kiosk, engine: Engine) -> None:
    record_id = kiosk.store.add("proxy", PAYLOADS["proxy"])
    assert kiosk.client().run_pass().all_sent
    # As if the ack had been lost: the record is pending again and resent.
    with kiosk.store.transaction() as d:
        d.execute("UPDATE records SET state='pending' WHERE id=?", [record_id])
    result = kiosk.client().run_pass()
    assert result.all_sent and result.upload.acked == 1
    assert _server_count(engine, kiosk.id) == 1
    reply = _post(kiosk, [_wire(kiosk.store, record_id)])
    assert reply.json()["results"] == [{"id": record_id, "status": "duplicate", "error": None}]


def _wire(store: Store, record_id: str) -> dict[str, Any]:
    rec = store.get(record_id)
    assert rec is not None
    return {"id": rec.id, "kind": rec.kind, "created_at": rec.created_at, "payload": rec.payload}


def test_conflict_is_parked_and_nothing_overwritten(kiosk: Kiosk, engine: Engine) -> None:
    record_id = kiosk.store.add("call", {"reason": "help"})
    other = {**_wire(kiosk.store, record_id), "payload": {"reason": "something else"}}
    assert _post(kiosk, [other]).json()["results"][0]["status"] == "created"
    result = kiosk.client().run_pass()
    assert result.upload.conflicts == 1 and result.left == 0 and result.parked == 1
    local = kiosk.store.get(record_id)
    assert local is not None and local.state == "conflict" and local.last_error
    row = _server_row(engine, kiosk.id, record_id)
    assert row is not None and row["payload"] == {"reason": "something else"}
    assert [r.id for r in kiosk.store.failed_with_reasons()] == [record_id]


def test_invalid_record_parked_as_failed_with_reason(kiosk: Kiosk) -> None:
    bad = kiosk.store.add("health", {"type": "blood_pressure", "values": {}})
    good = kiosk.store.add("call", {})
    result = kiosk.client().run_pass()
    assert result.exit_code == 0 and result.upload.rejected == 1
    rec = kiosk.store.get(bad)
    assert rec is not None and rec.state == "failed"
    assert rec.last_error is not None and "reading" in rec.last_error
    assert kiosk.store.get(good).state == "acked"  # type: ignore[union-attr]
    assert kiosk.store.requeue(bad) and kiosk.store.get(bad).state == "pending"  # type: ignore[union-attr]


def test_malformed_envelope_names_every_bad_record(kiosk: Kiosk) -> None:
    good = {"id": str(uuid.uuid4()), "kind": "call", "created_at": "2030-01-01T00:00:00+08:00"}
    records = [
        {**good, "payload": {}},
        {"id": "not-a-uuid", "kind": "call", "created_at": "x", "payload": {}},
        7,
        {**good, "payload": {}},
    ]
    reply = _post(kiosk, records)
    assert reply.status_code == 422 and reply.headers[API_HEADER] == "1"
    named = [(d["index"], d["id"]) for d in reply.json()["detail"]]
    assert named == [(1, "not-a-uuid"), (2, None), (3, good["id"])]


def test_oversized_record_is_parked_others_sent(kiosk: Kiosk) -> None:
    huge = kiosk.store.add("proxy", {"service": "缴费", "note": "x" * (5 * 1024 * 1024)})
    small = [kiosk.store.add("visit", {}) for _ in range(3)]
    result = kiosk.client().run_pass()
    assert result.left == 0, result.problem
    assert kiosk.store.get(huge).state == "failed"  # type: ignore[union-attr]
    assert all(kiosk.store.get(s).state == "acked" for s in small)  # type: ignore[union-attr]


def test_concurrent_uploads_of_one_record_create_it_once(kiosk: Kiosk, engine: Engine) -> None:
    records = [
        {
            "id": str(uuid.uuid4()),
            "kind": "visit",
            "created_at": "2030-01-01T00:00:00+08:00",
            "payload": {"n": i},
        }
        for i in range(40)
    ]
    replies: list[Any] = []

    def send() -> None:
        replies.append(_post(kiosk, records).json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    created = sum(1 for r in replies for x in r["results"] if x["status"] == "created")
    assert len(replies) == 4 and created == 40
    assert _server_count(engine, kiosk.id) == 40


# -- tokens and kiosks -------------------------------------------------------------------


def test_wrong_token_stops_and_keeps_everything(kiosk: Kiosk, engine: Engine) -> None:
    ids = [kiosk.store.add("call", {}), kiosk.store.add("visit", {})]
    result = kiosk.client(token="not-the-token").run_pass()  # noqa: S106
    assert result.token_problem and result.exit_code == 2
    assert "token" in (result.problem or "")
    assert "not-the-token" not in (result.problem or "")
    assert result.upload.rejected == 0 and result.left == 2
    assert all(kiosk.store.get(i).state == "pending" for i in ids)  # type: ignore[union-attr]
    # A revoked token is refused the same way; a new token works.
    db.revoke_kiosk(engine, kiosk.id)
    assert kiosk.client().run_pass().token_problem
    kiosk.token = db.add_kiosk(engine, kiosk.id)
    assert kiosk.client().run_pass().all_sent


def test_another_kiosks_id(
    kiosk: Kiosk, server: ServerProcess, engine: Engine, tmp_path: Path
) -> None:
    other = _new_kiosk(server, engine, tmp_path / "other")
    try:
        record_id = kiosk.store.add("call", {})
        # Kiosk A's token cannot write as kiosk B.
        result = kiosk.client(kiosk_id=other.id).run_pass()
        assert result.token_problem and kiosk.store.count("pending") == 1
        assert _server_count(engine, other.id) == 0
        assert kiosk.client().run_pass().all_sent
        # B can neither read A's record nor see its status updates.
        headers = {"Authorization": f"Bearer {other.token}"}
        r = requests.get(f"{server.url}{PREFIX}/records/{record_id}", headers=headers, timeout=10)
        assert r.status_code == 404
        db.set_status(engine, record_id, "dispatched", "on the way")
        assert other.client().pull_updates() == 0
        assert kiosk.client().pull_updates() == 1
        # The same record id from B is B's own record, not a conflict with A's.
        reply = _post(other, [_wire(kiosk.store, record_id)])
        assert reply.json()["results"][0]["status"] == "created"
    finally:
        other.store.close()


# -- the network's tricks ------------------------------------------------------------------


def test_captive_portal_page_marks_nothing_sent(kiosk: Kiosk) -> None:
    ids = [kiosk.store.add("call", {}), kiosk.store.add("signup", PAYLOADS["signup"])]
    with captive_portal() as portal:
        result = kiosk.client(base_url=portal).run_pass()
        assert result.offline and result.exit_code == 1 and result.left == 2
        # Even without the ping, a 200 HTML answer to the upload acks nothing.
        with pytest.raises(OfflineError):
            kiosk.client(base_url=portal).upload(retry=False)
    assert all(kiosk.store.get(i).state == "pending" for i in ids)  # type: ignore[union-attr]


def test_retry_after_seconds_is_honoured(kiosk: Kiosk, busy: Path) -> None:
    kiosk.store.add("call", {})
    busy.write_text("3")
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        busy.unlink()  # the server recovers while we wait

    result = kiosk.client(sleep=sleep).run_pass()
    assert sleeps == [3.0]
    assert result.all_sent, result.problem


def test_retry_after_http_date_uses_server_date(kiosk: Kiosk, busy: Path) -> None:
    kiosk.store.add("call", {})
    busy.write_text(format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True))
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        busy.unlink()

    # The kiosk's own clock is a day wrong: only the server's Date header counts.
    wrong_clock = lambda: datetime.now(UTC) - timedelta(days=1)  # noqa: E731
    result = kiosk.client(sleep=sleep, now=wrong_clock).run_pass()
    assert result.all_sent
    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 21


def test_long_retry_after_leaves_records_for_later(kiosk: Kiosk, busy: Path) -> None:
    record_id = kiosk.store.add("visit", {})
    busy.write_text("3600")
    result = kiosk.client(max_wait=300).run_pass()
    assert result.exit_code == 1 and "3600" in (result.problem or "")
    assert kiosk.store.get(record_id).state == "pending"  # type: ignore[union-attr]


def test_lost_reply_resends_and_is_acked_once(
    kiosk: Kiosk, server: ServerProcess, engine: Engine
) -> None:
    ids = [kiosk.store.add("call", {}), kiosk.store.add("feedback", {"rating": 3})]
    proxy = LostReplyProxy(server.port)
    try:
        proxy.arm()
        result = kiosk.client(base_url=proxy.url).run_pass()
    finally:
        proxy.close()
    assert proxy.cut.is_set()
    assert result.all_sent, result.problem
    assert result.upload.acked == 2 and result.upload.requests == 2
    assert _server_count(engine, kiosk.id) == 2
    assert all(kiosk.store.get(i).state == "acked" for i in ids)  # type: ignore[union-attr]


# -- pulls ---------------------------------------------------------------------------------


def _activity(title: str, days: int = 3, **extra: Any) -> dict[str, Any]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return {
        "id": f"a-{uuid.uuid4().hex[:8]}",
        "title": title,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "place": "活动室",
        "description": "",
        "seats": 20,
        "seats_left": 20,
        "status": "open",
        **extra,
    }


def test_activities_cursor_and_swap(kiosk: Kiosk, engine: Engine) -> None:
    first = _activity("智能手机课")
    db.put_activity(engine, first)
    client = kiosk.client()
    assert client.pull_activities() is True
    cursor = kiosk.store.sync_state(ACTIVITIES_CURSOR)
    assert cursor and first["id"] in {a["id"] for a in kiosk.store.activities()}
    assert client.pull_activities() is False  # unchanged: nothing fetched or replaced
    assert kiosk.store.sync_state(ACTIVITIES_CURSOR) == cursor
    second = _activity("太极拳", status="full", seats_left=0)
    db.put_activity(engine, second)
    db.put_activity(engine, {**first, "status": "cancelled"})
    assert client.pull_activities() is True
    local = {a["id"]: a for a in kiosk.store.activities()}
    assert local[first["id"]]["status"] == "cancelled"
    assert local[second["id"]]["seats_left"] == 0
    assert kiosk.store.sync_state(ACTIVITIES_CURSOR) != cursor


def test_activities_cursor_not_saved_when_store_write_fails(
    kiosk: Kiosk, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.put_activity(engine, _activity("书法"))
    client = kiosk.client()

    def disk_full(*_a: Any, **_k: Any) -> None:
        raise StoreError("存储空间已满")

    monkeypatch.setattr(kiosk.store, "replace_activities", disk_full)
    with pytest.raises(StoreError):
        client.pull_activities()
    assert kiosk.store.sync_state(ACTIVITIES_CURSOR) is None
    monkeypatch.undo()
    assert client.pull_activities() is True
    assert kiosk.store.activities()


def test_updates_cursor(kiosk: Kiosk, engine: Engine) -> None:
    call = kiosk.store.add("call", {})
    signup = kiosk.store.add("signup", PAYLOADS["signup"])
    client = kiosk.client()
    assert client.run_pass().all_sent
    db.set_status(engine, call, "acknowledged")
    db.set_status(engine, call, "dispatched", "工作人员已出发")
    db.set_status(engine, signup, "confirmed")
    assert client.pull_updates() == 3
    cursor = kiosk.store.sync_state(UPDATES_CURSOR)
    assert client.pull_updates() == 0
    assert kiosk.store.sync_state(UPDATES_CURSOR) == cursor
    latest = kiosk.store.latest_status(call)
    assert latest is not None
    assert (latest["status"], latest["note"], latest["source"]) == (
        "dispatched",
        "工作人员已出发",
        "district",
    )
    db.set_status(engine, call, "done")
    assert client.pull_updates() == 1
    assert [s["status"] for s in kiosk.store.statuses(call)] == [
        "acknowledged",
        "dispatched",
        "done",
    ]


# -- urgent path -----------------------------------------------------------------------------


def test_urgent_sender_sends_at_once_and_retries(kiosk: Kiosk, busy: Path) -> None:
    def factory(store: Store) -> SyncClient:
        return SyncClient(
            store, base_url=kiosk.url, kiosk_id=kiosk.id, token=kiosk.token, max_retries=0
        )

    changes: list[str] = []
    sender = UrgentSender(
        kiosk.data_dir,
        factory,
        backoff=Backoff(base=0.05, cap=0.2),
        on_change=lambda d: changes.append(d.phase),
    )
    sender.start()
    try:
        call = kiosk.store.add("call", {"reason": "help"})
        sender.notify_new(call)
        wait_until(lambda: _phase(sender, call) == "sent", 10, "urgent call sent")
        busy.write_text("1")
        alert = kiosk.store.add("health", {**PAYLOADS["health"], "alert": True})
        sender.notify_new(alert)
        wait_until(lambda: _phase(sender, alert) == "retrying", 10, "alert retrying")
        state = sender.state(alert)
        assert state is not None and state.error and state.next_try_at is not None
        busy.unlink()
        wait_until(lambda: _phase(sender, alert) == "sent", 10, "alert sent after retry")
    finally:
        sender.stop()
    assert kiosk.store.get(alert).state == "acked"  # type: ignore[union-attr]
    assert {"queued", "sending", "retrying", "sent"} <= set(changes)


def _phase(sender: UrgentSender, record_id: str) -> str | None:
    state = sender.state(record_id)
    return None if state is None else state.phase


def test_urgent_sender_picks_up_leftovers(kiosk: Kiosk) -> None:
    leftover = kiosk.store.add("call", {})  # saved before a restart, never sent

    def factory(store: Store) -> SyncClient:
        return SyncClient(store, base_url=kiosk.url, kiosk_id=kiosk.id, token=kiosk.token)

    sender = UrgentSender(kiosk.data_dir, factory)
    sender.start()
    try:
        wait_until(lambda: _phase(sender, leftover) == "sent", 10, "leftover call sent")
    finally:
        sender.stop()


# -- command lines ----------------------------------------------------------------------------


def _kiosk_sync(kiosk: Kiosk, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "KIOSK_SERVER_URL": kiosk.url,
        "KIOSK_KIOSK_ID": kiosk.id,
        **env,
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sync.client_cli",
            "--data-dir",
            str(kiosk.data_dir),
            "--retries",
            "0",
            *args,
        ],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
        timeout=60,
    )


def test_kiosk_sync_exit_codes(kiosk: Kiosk, server: ServerProcess) -> None:
    saved = subprocess.run(
        [
            sys.executable,
            "-m",
            "sync.client_cli",
            "--data-dir",
            str(kiosk.data_dir),
            "--save-token",
        ],
        input=kiosk.token + "\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert saved.returncode == 0, saved.stderr
    assert (kiosk.data_dir / "token").stat().st_mode & 0o777 == 0o600
    for _ in range(3):
        kiosk.store.add("visit", {})
    done = _kiosk_sync(kiosk)
    assert done.returncode == 0, done.stderr
    assert "3/3" in done.stderr and kiosk.token not in done.stderr + done.stdout
    assert _kiosk_sync(kiosk, KIOSK_SERVER_URL="").returncode == 2
    kiosk.store.add("visit", {})
    with captive_portal() as portal:
        assert _kiosk_sync(kiosk, KIOSK_SERVER_URL=portal).returncode == 1
    (kiosk.data_dir / "token").write_text("wrong-token\n")
    refused = _kiosk_sync(kiosk)
    assert refused.returncode == 2 and "token" in refused.stderr
    assert kiosk.store.count("pending") == 1


def test_kiosk_sync_lock(kiosk: Kiosk) -> None:
    from sync.client import pass_lock

    (kiosk.data_dir / "token").write_text(kiosk.token)
    with pass_lock(kiosk.data_dir):
        held = _kiosk_sync(kiosk)
    assert held.returncode == 1 and "another sync pass" in held.stderr


def test_district_server_commands(server: ServerProcess, kiosk: Kiosk, tmp_path: Path) -> None:
    added = server.admin("add-kiosk", "cli-kiosk")
    assert added.returncode == 0
    token = added.stdout.strip()
    assert len(token) >= 40 and token not in added.stderr
    act = server.admin(
        "add-activity",
        "--title",
        "银龄课堂",
        "--starts-at",
        (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "--seats",
        "30",
    )
    assert act.returncode == 0, act.stderr
    record_id = kiosk.store.add("call", {})
    assert kiosk.client().run_pass().all_sent
    status = server.admin("set-status", record_id, "dispatched", "--note", "已派人")
    assert status.returncode == 0, status.stderr
    assert server.admin("set-status", str(uuid.uuid4()), "done").returncode == 1
    out_csv = tmp_path / "export.csv"
    exported = server.admin("export", "--since", "2000-01-01", "--out", str(out_csv))
    assert exported.returncode == 0, exported.stderr
    assert record_id in out_csv.read_text(encoding="utf-8")
    as_json = server.admin("export", "--since", "2000-01-01", "--format", "json")
    rows = json.loads(as_json.stdout)
    mine = [r for r in rows if r["record_id"] == record_id]
    assert mine and mine[0]["status"] == "dispatched"
    assert server.admin("revoke-kiosk", "cli-kiosk").returncode == 0
    r = requests.get(
        f"{server.url}{PREFIX}/updates", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert r.status_code == 401
    docs = requests.get(f"{server.url}/docs", timeout=10)
    schema = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    assert docs.status_code == 200 and f"{PREFIX}/records" in schema["paths"]
