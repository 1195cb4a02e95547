"""Faults 3-6 and 9: a server failing mid-batch, lost replies, bad replies, back-pressure,
a token revoked mid-backlog and a kiosk clock years off.

Real parts: the district server as a child process on 127.0.0.1 (SQLite), a real
HTTP proxy in front of it that commits k of n records and then fails, a real
broken "district server" for bad replies. The client's sleep is a fake clock.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kiosk.store import Store, now_local
from sync.client import (
    Backoff,
    OfflineError,
    ProtocolError,
    SyncClient,
    read_token,
    write_token,
)
from sync.protocol import content_hash
from sync.server import db
from sync.testing import FaultProxy, ServerProcess, broken_server, captive_portal
from sync.urgent import MAX_URGENT_WAIT, MIN_RETRY_WAIT, next_nightly_run

HEALTH = {"values": {"pulse": {"value": 72, "unit": "bpm"}}, "phone": "13812345678"}


def fill(store: Store, n: int, kind: str = "health", payload: dict[str, Any] | None = None) -> None:
    """``n`` pending records in one transaction (set-up only)."""
    body = json.dumps(payload or HEALTH, sort_keys=True)
    with store.transaction() as d:
        d.conn.executemany(
            "INSERT INTO records (id, kind, created_at, payload, urgent) VALUES (?,?,?,?,0)",
            ((str(uuid.uuid4()), kind, now_local(), body) for _ in range(n)),
        )


def server_ids(engine: Engine, kiosk_id: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(db.records.c.record_id).where(db.records.c.kiosk_id == kiosk_id)
        )
        return [str(r[0]) for r in rows]


class Sleeps:
    """A fake sleep that records what the client asked for."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def new_kiosk(engine: Engine, data_dir: Path) -> tuple[str, str, Store]:
    kiosk_id = f"k-{uuid.uuid4().hex[:8]}"
    return kiosk_id, db.add_kiosk(engine, kiosk_id), Store(data_dir)


def client_for(store: Store, url: str, kiosk_id: str, token: str, **kw: Any) -> SyncClient:
    kw.setdefault("sleep", Sleeps())
    kw.setdefault("backoff", Backoff(base=0.01, cap=0.05))
    return SyncClient(store, base_url=url, kiosk_id=kiosk_id, token=token, **kw)


# -- fault 3: the server fails mid-batch; the lost reply -------------------------------


@pytest.mark.parametrize("mode", ["partial_500", "partial_drop", "lost", "mixed"])
def test_server_fails_mid_batch_all_present_once(
    mode: str, server: ServerProcess, engine: Engine, tmp_path: Path
) -> None:
    kiosk_id, token, store = new_kiosk(engine, tmp_path / "kiosk")
    n = 1000
    fill(store, n)
    proxy = FaultProxy(server.url, seed=sum(map(ord, mode)))
    modes = ["partial_500", "partial_drop", "lost"] if mode == "mixed" else [mode]
    faults = 12
    proxy.queue(*[modes[i % len(modes)] for i in range(faults)])
    try:
        client = client_for(store, proxy.url, kiosk_id, token, max_batch=100, max_retries=50)
        result = client.run_pass()
    finally:
        proxy.close()
    ids = server_ids(engine, kiosk_id)
    assert result.problem is None, result.problem
    assert len(ids) == n and len(set(ids)) == n  # all present, exactly once
    assert store.outbox_counts()["acked"] == n
    committed_partly = [k for k, _n in proxy.partial if k > 0]
    if mode != "lost":
        assert committed_partly, "some faults must have committed part of a batch"
    print(
        f"\nFIGURE mid-batch {mode}: records={n} faults={faults} "
        f"partial_commits(k of n)={proxy.partial[:6]} server={len(ids)} unique={len(set(ids))}"
        f" acked={store.outbox_counts()['acked']} requests={result.upload.requests}"
    )
    store.close()


# -- fault 4: bad replies --------------------------------------------------------------


def _results(envelope: dict[str, Any], pick: Callable[[list[str]], list[dict[str, Any]]]) -> bytes:
    ids = [r["id"] for r in envelope["records"]]
    return json.dumps({"results": pick(ids)}).encode()


def _ok(status: int, body: bytes, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"X-District-Api": "1", "Content-Type": "application/json", **headers}, body


def _created(ids: list[str]) -> list[dict[str, Any]]:
    return [{"id": i, "status": "created"} for i in ids]


BAD_REPLIES: dict[
    str, tuple[Callable[[dict[str, Any]], tuple[int, dict[str, str], bytes]], int]
] = {
    # name: (reply, how many of the 5 records have an explicit, unambiguous result)
    "portal_html_with_header": (
        lambda e: _ok(200, b"<html><body>login</body></html>", **{"Content-Type": "text/html"}),
        0,
    ),
    "truncated_json": (lambda e: _ok(200, _results(e, _created)[:40]), 0),
    "cut_mid_body": (
        lambda e: (
            200,
            {"X-District-Api": "1", "Content-Length": "4000"},
            _results(e, _created)[:60],
        ),
        0,
    ),
    "cut_and_closed": (  # IncompleteRead -> requests' ChunkedEncodingError (not a ConnectionError)
        lambda e: (
            200,
            {"X-District-Api": "1", "Content-Length": "4000", "Connection": "close"},
            _results(e, _created)[:60],
        ),
        0,
    ),
    "not_json": (lambda e: _ok(200, b"\x00\xff garbage \xfe"), 0),
    "json_list": (lambda e: _ok(200, b"[]"), 0),
    "json_null": (lambda e: _ok(200, b"null"), 0),
    "results_not_list": (lambda e: _ok(200, b'{"results": "all ok"}'), 0),
    "bad_status_word": (
        lambda e: _ok(200, _results(e, lambda ids: [{"id": i, "status": "ok"} for i in ids])),
        0,
    ),
    "id_not_uuid": (
        lambda e: _ok(
            200, _results(e, lambda ids: [*_created(ids), {"id": "x", "status": "created"}])
        ),
        0,
    ),
    "empty_results": (lambda e: _ok(200, b'{"results": []}'), 0),
    "no_content_204": (lambda e: (204, {"X-District-Api": "1"}, b""), 0),
    "duplicate_acks": (
        lambda e: _ok(200, _results(e, lambda ids: _created(ids) + _created(ids[:2]))),
        3,
    ),
    "contradicting_results": (
        lambda e: _ok(
            200,
            _results(
                e, lambda ids: [*_created(ids), {"id": ids[0], "status": "rejected", "error": "x"}]
            ),
        ),
        4,
    ),
    "acks_for_unknown_ids": (
        lambda e: _ok(
            200,
            _results(e, lambda ids: _created([str(uuid.uuid4()) for _ in range(5)] + ids[:1])),
        ),
        1,
    ),
    "missing_some_ids": (lambda e: _ok(200, _results(e, lambda ids: _created(ids[:2]))), 2),
    "html_500": (lambda e: (500, {"X-District-Api": "1"}, b"<h1>Internal Server Error</h1>"), 0),
    "teapot_418": (lambda e: _ok(418, b"{}"), 0),
    "redirect_302": (
        lambda e: (302, {"X-District-Api": "1", "Location": "http://127.0.0.1:1/login"}, b""),
        0,
    ),
}


def _explicit(envelope: dict[str, Any], status: int, body: bytes) -> set[str]:
    """Ids of this request that the reply gives exactly one valid result (what may be acked)."""
    if not 200 <= status < 300:
        return set()
    try:
        items = json.loads(body)["results"]
        seen = [str(uuid.UUID(i["id"])) for i in items]
        if any(i["status"] not in ("created", "duplicate", "conflict", "rejected") for i in items):
            return set()
    except (ValueError, KeyError, TypeError, AttributeError):
        return set()
    asked = {r["id"] for r in envelope["records"]}
    return {i for i in seen if seen.count(i) == 1 and i in asked}


@pytest.mark.parametrize("name", sorted(BAD_REPLIES))
def test_bad_reply_never_crashes_never_acks_without_result(name: str, tmp_path: Path) -> None:
    make_reply, first_explicit = BAD_REPLIES[name]
    store = Store(tmp_path / "kiosk")
    ids = [store.add("health", HEALTH) for _ in range(5)]
    explicit: set[str] = set()
    requests_seen: list[int] = []

    def reply(envelope: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = make_reply(envelope)
        got = _explicit(envelope, status, body) if "Content-Length" not in headers else set()
        requests_seen.append(len(got))
        explicit.update(got)
        return status, headers, body

    with broken_server(reply) as url:
        client = client_for(store, url, "k1", "t", max_retries=2, timeout=2)
        result = client.run_pass()  # must not raise
        client.close()
    counts = store.outbox_counts()
    acked = {r.id for r in store.records(state="acked")}
    assert acked <= explicit, name  # never an ack without an explicit result for that record
    assert acked <= set(ids)
    assert counts["acked"] + counts["pending"] == 5 and counts["inflight"] == 0
    assert requests_seen and requests_seen[0] == first_explicit
    if first_explicit == 0:
        assert counts["acked"] == 0 and result.left == 5 and result.problem
    store.close()


@pytest.mark.parametrize("portal", [True, False])
def test_captive_portal_html_is_offline(portal: bool, tmp_path: Path) -> None:
    store = Store(tmp_path / "kiosk")
    store.add("call", {"reason": "help"})
    with captive_portal() as url:
        client = client_for(store, url, "k1", "t", max_retries=1)
        result = client.run_pass()
    assert result.offline and store.outbox_counts()["pending"] == 1
    store.close()


def test_slow_drip_times_out_and_keeps_records(tmp_path: Path) -> None:
    store = Store(tmp_path / "kiosk")
    for _ in range(3):
        store.add("health", HEALTH)

    def reply(e: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return _ok(200, _results(e, _created))

    with broken_server(reply, drip=0.05) as url:  # ~300 bytes at 20 bytes/s = 15 s
        client = client_for(store, url, "k1", "t", timeout=1.0, reply_deadline=1.5)
        started = time.monotonic()
        page = store.lease_page(10)
        with pytest.raises(OfflineError, match="too slow"):
            client._post_page(page)
        took = time.monotonic() - started
        store.reset_lease([r.id for r in page])
    assert took < 5, took  # the per-read timeout alone would have waited the whole drip
    assert store.outbox_counts()["pending"] == 3
    print(f"\nFIGURE slow-drip: gave up after {took:.2f} s (deadline 1.5 s), acked=0")
    store.close()


def test_protocol_error_is_retryable_and_leaves_pending(tmp_path: Path) -> None:
    store = Store(tmp_path / "kiosk")
    store.add("call", {"reason": "help"})
    with broken_server(lambda e: _ok(200, b"{")) as url:
        client = client_for(store, url, "k1", "t")
        with pytest.raises(ProtocolError):
            client.upload(retry=False)
    assert store.outbox_counts()["pending"] == 1
    store.close()


# -- fault 5: back-pressure ------------------------------------------------------------


def test_429_and_503_retry_after_honoured(tmp_path: Path) -> None:
    store = Store(tmp_path / "kiosk")
    for _ in range(4):
        store.add("health", HEALTH)
    server_date = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    answers = [
        _ok(429, b'{"detail":"slow down"}', **{"Retry-After": "7"}),
        _ok(503, b'{"detail":"busy"}', **{"Retry-After": "120"}),
        _ok(
            503,
            b"{}",
            **{
                "Retry-After": format_datetime(server_date + timedelta(seconds=45), usegmt=True),
                "Date": format_datetime(server_date, usegmt=True),
            },
        ),
    ]

    def reply(e: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return answers.pop(0) if answers else _ok(200, _results(e, _created))

    sleeps = Sleeps()
    with broken_server(reply) as url:
        # The kiosk clock is 3 years off: the HTTP date is compared with the server's Date.
        client = client_for(
            store,
            url,
            "k1",
            "t",
            sleep=sleeps,
            backoff=Backoff(base=1, cap=300, rng=lambda: 0.5),
            now=lambda: datetime.now(UTC) + timedelta(days=3 * 365),
        )
        client.ping()
        summary = client.upload()
    assert summary.acked == 4 and store.unsent() == 0
    assert sleeps.calls == [7.0, 120.0, 45.0]
    print(
        "\nFIGURE back-pressure: asked 7 s (429), 120 s (503), 45 s (HTTP date); "
        f"slept {sleeps.calls}"
    )


def _outage_arrivals(
    kiosks: int, outage: float, backoff: Backoff, cap_wait: float, seed: int
) -> list[float]:
    """When each kiosk's first try after the server is back happens (seconds)."""
    arrivals = []
    for k in range(kiosks):
        rng = random.Random(seed + k)
        b = Backoff(base=backoff.base, cap=backoff.cap, rng=rng.random)
        t, failures = 0.0, 0  # every kiosk fails at the same moment the outage starts
        while t < outage:
            failures += 1
            t += min(max(b.delay(failures), MIN_RETRY_WAIT), cap_wait)
        arrivals.append(t)
    return arrivals


@pytest.mark.parametrize(
    ("who", "backoff"),
    [("urgent sender", Backoff(base=2.0, cap=60.0)), ("sync pass", Backoff(base=1.0, cap=300.0))],
)
def test_thousand_kiosks_spread_after_outage(who: str, backoff: Backoff) -> None:
    kiosks, outage = 1000, 600.0
    arrivals = _outage_arrivals(kiosks, outage, backoff, MAX_URGENT_WAIT, seed=99)
    per_second: dict[int, int] = {}
    for t in arrivals:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    first, last = min(arrivals), max(arrivals)
    mean = kiosks / max(1.0, last - first)
    peak = max(per_second.values())
    # Without jitter all 1,000 would come back in one second.
    assert peak <= 0.05 * kiosks, peak
    assert peak <= 6 * mean, (peak, mean)
    print(
        f"\nFIGURE outage {who}: kiosks={kiosks} outage={outage:.0f}s "
        f"returns spread over {last - first:.0f}s, mean={mean:.1f}/s, max in one second={peak}"
    )


def test_nightly_jitter_spreads_kiosks() -> None:
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    runs = [next_nightly_run(now, "02:30", 30, rng=random.Random(i).random) for i in range(1000)]
    per_second: dict[datetime, int] = {}
    for r in runs:
        key = r.replace(microsecond=0)
        per_second[key] = per_second.get(key, 0) + 1
    peak = max(per_second.values())
    assert peak <= 10, peak
    print(f"\nFIGURE nightly: 1000 kiosks over 30 min, max in one second={peak}, mean=0.56/s")


# -- fault 6: token revoked mid-backlog ------------------------------------------------


def test_token_revoked_mid_backlog_loses_nothing(
    server: ServerProcess, engine: Engine, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kiosk"
    kiosk_id, token, store = new_kiosk(engine, data_dir)
    n = 2000
    fill(store, n)
    token_file = data_dir / "token"
    write_token(token_file, token)
    assert token_file.stat().st_mode & 0o777 == 0o600

    def revoke_midway(done: int, total: int) -> None:
        if 0 < done <= total // 3:
            server.admin("revoke-kiosk", kiosk_id)

    client = client_for(store, server.url, kiosk_id, read_token(token_file), max_batch=100)
    first = client.run_pass(progress=revoke_midway)
    counts = store.outbox_counts()
    assert first.token_problem and first.exit_code == 2
    assert counts["failed"] == 0 and counts["conflict"] == 0 and counts["inflight"] == 0
    assert counts["acked"] + counts["pending"] == n
    assert 0 < counts["acked"] < n
    sent_before = counts["acked"]
    assert len(server_ids(engine, kiosk_id)) == sent_before

    done = server.admin("add-kiosk", kiosk_id)
    assert done.returncode == 0
    write_token(token_file, done.stdout.strip())
    client = client_for(store, server.url, kiosk_id, read_token(token_file), max_batch=100)
    second = client.run_pass()
    ids = server_ids(engine, kiosk_id)
    assert second.all_sent and store.outbox_counts()["acked"] == n
    assert len(ids) == n and len(set(ids)) == n
    print(
        f"\nFIGURE token-revoked: backlog={n} sent before revocation={sent_before} "
        f"failed=0 lost=0; after new token: server={len(ids)} unique={len(set(ids))}"
    )
    store.close()


# -- fault 9: clock skew ---------------------------------------------------------------


@pytest.mark.parametrize("years", [3, -3])
def test_clock_skew_records_accepted_offset_kept(
    years: int,
    server: ServerProcess,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    skew = timedelta(days=365 * years)
    kiosk_id, token, store = new_kiosk(engine, tmp_path / "kiosk")
    monkeypatch.setattr(
        "kiosk.store.now_local",
        lambda: (datetime.now().astimezone() + skew).isoformat(timespec="milliseconds"),
    )
    ids = [store.add("call", {"reason": "help"}), store.add("health", HEALTH)]
    client = client_for(store, server.url, kiosk_id, token, now=lambda: datetime.now(UTC) + skew)
    result = client.run_pass()
    assert result.all_sent and store.outbox_counts()["acked"] == 2
    with engine.connect() as conn:
        rows = list(conn.execute(sa.select(db.records).where(db.records.c.kiosk_id == kiosk_id)))
    assert {r.record_id for r in rows} == set(ids)
    for r in rows:
        local = store.get(r.record_id)
        assert local is not None and r.created_at == local.created_at  # kept as the kiosk said
        assert r.content_hash == content_hash(local.kind, local.created_at, local.payload)
        assert abs(r.clock_offset_seconds - skew.total_seconds()) < 120
        received = datetime.fromisoformat(r.received_at)
        assert abs((received - datetime.now(UTC)).total_seconds()) < 120  # server's own clock
    print(
        f"\nFIGURE clock-skew {years:+d}y: accepted={len(rows)} "
        f"clock_offset_seconds={rows[0].clock_offset_seconds:.0f} "
        f"(expected {skew.total_seconds():.0f})"
    )
    store.close()


def test_known_endpoint_only_counts_own_records(
    server: ServerProcess, engine: Engine, tmp_path: Path
) -> None:
    a_id, a_token, a_store = new_kiosk(engine, tmp_path / "a")
    b_id, b_token, b_store = new_kiosk(engine, tmp_path / "b")
    a_ids = [a_store.add("call", {"reason": "help"}) for _ in range(3)]
    assert client_for(a_store, server.url, a_id, a_token).run_pass().all_sent
    a = client_for(a_store, server.url, a_id, a_token)
    b = client_for(b_store, server.url, b_id, b_token)
    unknown = str(uuid.uuid4())
    assert a.known_ids([*a_ids, unknown]) == set(a_ids)
    assert b.known_ids(a_ids) == set()  # another kiosk's records are never revealed
    many = [str(uuid.uuid4()) for _ in range(2500)] + a_ids  # asked in chunks of 1000
    assert a.known_ids(many) == set(a_ids)
    a_store.close()
    b_store.close()
