"""Pure parts of sync: backoff, Retry-After, the nightly schedule, protocol checks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sync.client import Backoff, PassResult, retry_after_seconds
from sync.protocol import check_envelope, check_record, content_hash
from sync.testing import wait_until
from sync.urgent import NightlyScheduler, next_nightly_run

CST = timezone(timedelta(hours=8))


def test_full_jitter_backoff_bounds() -> None:
    assert Backoff(base=1, cap=300, rng=lambda: 0.999).delay(3) == pytest.approx(7.992)
    assert Backoff(base=1, cap=300, rng=lambda: 1.0).delay(20) == 300
    assert Backoff(base=1, cap=300, rng=lambda: 0.0).delay(5) == 0


def test_retry_after_forms() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    server_date = "Wed, 03 Dec 2025 06:00:00 GMT"
    later = "Wed, 03 Dec 2025 06:01:30 GMT"
    kiosk_clock_wrong = datetime(2020, 1, 1, tzinfo=UTC)
    assert retry_after_seconds(later, server_date, kiosk_clock_wrong) == 90
    # Without a Date header the local clock is the reference; the past means "now".
    assert retry_after_seconds(later, None, datetime(2025, 12, 3, 6, 1, tzinfo=UTC)) == 30
    assert retry_after_seconds(server_date, later) == 0


def test_exit_codes() -> None:
    assert PassResult().exit_code == 0
    assert PassResult(left=3).exit_code == 1
    assert PassResult(problem="offline", offline=True).exit_code == 1
    assert PassResult(problem="token", token_problem=True, left=2).exit_code == 2


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 12, 3, 1, 0, tzinfo=CST), datetime(2025, 12, 3, 2, 45, tzinfo=CST)),
        (datetime(2025, 12, 3, 2, 30, tzinfo=CST), datetime(2025, 12, 4, 2, 45, tzinfo=CST)),
        (datetime(2025, 12, 3, 2, 40, tzinfo=CST), datetime(2025, 12, 4, 2, 45, tzinfo=CST)),
        (datetime(2025, 12, 31, 23, 0, tzinfo=CST), datetime(2026, 1, 1, 2, 45, tzinfo=CST)),
    ],
)
def test_next_nightly_run(now: datetime, expected: datetime) -> None:
    assert next_nightly_run(now, "02:30", 30, rng=lambda: 0.5) == expected


def test_next_nightly_run_jitter_range_and_errors() -> None:
    now = datetime(2025, 12, 3, 12, 0, tzinfo=CST)
    base = datetime(2025, 12, 4, 2, 30, tzinfo=CST)
    assert next_nightly_run(now, "02:30", 30, rng=lambda: 0.0) == base
    assert next_nightly_run(now, "02:30", 0, rng=lambda: 0.9) == base
    late = next_nightly_run(now, "02:30", 30, rng=lambda: 0.999999)
    assert base < late < base + timedelta(minutes=30)
    with pytest.raises(ValueError):
        next_nightly_run(datetime(2025, 12, 3, 12, 0), "02:30", 30)
    with pytest.raises(ValueError):
        next_nightly_run(now, "25:00", 30)


def test_nightly_scheduler_runs_at_the_time_on_a_fake_clock() -> None:
    clock = {"now": datetime(2025, 12, 3, 2, 0, tzinfo=CST)}
    lock = threading.Lock()
    ran: list[datetime] = []

    def now() -> datetime:
        with lock:
            return clock["now"]

    def job() -> None:
        ran.append(now())
        raise RuntimeError("a failing pass must not stop the scheduler")

    sched = NightlyScheduler(job, "02:30", 10, now=now, rng=lambda: 0.5, step=0.01)
    sched.start()
    try:
        assert sched.next_run == datetime(2025, 12, 3, 2, 35, tzinfo=CST)
        with lock:
            clock["now"] = datetime(2025, 12, 3, 2, 34, tzinfo=CST)
        with lock:
            clock["now"] = datetime(2025, 12, 3, 2, 36, tzinfo=CST)
        wait_until(lambda: sched.runs == 1, 5, "the nightly job")
        assert sched.next_run == datetime(2025, 12, 4, 2, 35, tzinfo=CST)
        with lock:
            clock["now"] = datetime(2025, 12, 4, 3, 0, tzinfo=CST)
        wait_until(lambda: sched.runs == 2, 5, "the second night's job")
    finally:
        sched.stop()
    assert ran[0] == datetime(2025, 12, 3, 2, 36, tzinfo=CST)


def test_check_record_per_kind() -> None:
    at = "2025-12-03T10:00:00+08:00"
    assert check_record("call", at, {}) is None
    assert check_record("call", at, {"phone": "abc"}) is not None
    assert check_record("signup", at, {"activity_id": "a"}) is not None  # no phone
    assert check_record("signup", at, {"activity_id": "a", "phone": "13812345678"}) is None
    assert check_record("proxy", at, {"service": "缴费", "extra": [1, 2]}) is None
    assert check_record("proxy", at, {}) is not None
    assert check_record("visit", at, {"anything": True}) is None
    assert check_record("feedback", at, {"rating": 4}) is not None
    assert check_record("feedback", at, {"rating": "ok"}) is None
    assert check_record("health", at, {"systolic": 120}) is None
    assert check_record("health", at, {"values": {"pulse": {"value": 500}}}) is not None
    assert check_record("nope", at, {}) is not None
    assert check_record("call", "2025-12-03T10:00:00", {}) is not None  # no zone
    assert check_record("call", "yesterday", {}) is not None


def test_content_hash_ignores_key_order_not_content() -> None:
    a = content_hash("call", "t", {"a": 1, "b": "x"})
    assert a == content_hash("call", "t", {"b": "x", "a": 1})
    assert a != content_hash("call", "t", {"a": 2, "b": "x"})


def test_check_envelope_head_errors() -> None:
    head, good, bad = check_envelope({"kiosk_id": "k", "records": []})
    assert head is None and not good and bad and "sent_at" in bad[0].error
    head, good, bad = check_envelope(
        {"kiosk_id": "k", "sent_at": "2025-12-03T10:00:00", "records": []}
    )
    assert head is None  # sent_at must carry a zone
