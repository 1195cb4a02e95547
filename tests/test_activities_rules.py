"""Activities: the shipped catalogue, occurrence expansion, dates in words, sign-up rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest

from kiosk.activities import (
    Activity,
    ActivityStatus,
    Series,
    already_signed_up,
    date_in_words,
    default_catalogue,
    expand_catalogue,
    parse_catalogue,
    signup_payload,
    signup_problem,
    time_in_words,
    upcoming_activities,
)
from kiosk.store import Store
from sync.protocol import check_record

CST = timezone(timedelta(hours=8))
# Monday 1 December 2025, 10:00 in Beijing time.
NOW = datetime(2025, 12, 1, 10, 0, tzinfo=CST)


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CST)


@pytest.mark.parametrize(
    ("starts_at", "words"),
    [
        (at(1, 14), "今天下午两点"),
        (at(1, 9), "今天上午九点"),  # already past today still reads as today
        (at(1, 12, 30), "今天中午十二点半"),
        (at(1, 19, 5), "今天晚上七点零五"),
        (at(2, 9), "明天上午九点"),
        (at(2, 7, 30), "明天早上七点半"),
        (at(3, 14), "本周三下午两点"),
        (at(3, 14, 15), "本周三下午两点十五"),
        (at(5, 9, 30), "本周五上午九点半"),
        (at(7, 15, 45), "本周日下午三点四十五"),
        (at(8, 9), "下周一上午九点"),
        (at(10, 14), "下周三下午两点"),
        (at(14, 20), "下周日晚上八点"),
        (at(15, 9), "十二月十五日 星期一 上午九点"),
        (at(31, 13, 10), "十二月三十一日 星期三 下午一点十"),
        (at(2, 14, month=1, year=2026), "一月二日 星期五 下午两点"),
        (at(30, 14, month=11), "十一月三十日 星期日 下午两点"),  # yesterday: a full date
        (at(1, 11, 59), "今天上午十一点五十九"),
        (at(1, 0, 0), "今天凌晨零点"),
    ],
)
def test_date_in_words(starts_at, words):
    assert date_in_words(starts_at, NOW) == words


def test_date_in_words_uses_nows_time_zone():
    utc = datetime(2025, 12, 3, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
    assert date_in_words(utc, NOW) == "本周三下午两点"


def test_tomorrow_wins_over_next_week():
    sunday = datetime(2025, 12, 7, 10, 0, tzinfo=CST)
    assert date_in_words(at(8, 9), sunday) == "明天上午九点"
    assert date_in_words(at(10, 14), sunday) == "下周三下午两点"
    assert date_in_words(at(15, 14), sunday) == "十二月十五日 星期一 下午两点"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        date_in_words(datetime(2025, 12, 3, 14, 0), NOW)
    with pytest.raises(ValueError):
        expand_catalogue([], datetime(2025, 12, 1, 10, 0))


@pytest.mark.parametrize(
    ("hour", "minute", "words"),
    [
        (2, 0, "凌晨两点"),
        (5, 0, "早上五点"),
        (8, 59, "早上八点五十九"),
        (10, 20, "上午十点二十"),
        (12, 0, "中午十二点"),
        (13, 0, "下午一点"),
        (14, 0, "下午两点"),
        (17, 30, "下午五点半"),
        (18, 0, "晚上六点"),
        (22, 10, "晚上十点十"),
        (23, 11, "晚上十一点十一"),
    ],
)
def test_time_in_words(hour, minute, words):
    assert time_in_words(time(hour, minute)) == words


# -- the catalogue ------------------------------------------------------------------------


def test_default_catalogue_has_the_smartphone_class_on_wednesday_afternoons():
    series = {s.id: s for s in default_catalogue()}
    phone_class = series["smartphone-class"]
    assert phone_class.title == "银龄课堂 智能手机课"
    assert phone_class.weekdays == {3}
    assert (phone_class.start, phone_class.end) == (time(14), time(16))
    for topic in ("微信视频", "健康码", "挂号"):
        assert topic in phone_class.description
    assert series["taichi"].weekdays == set(range(1, 8))


def test_upcoming_default_activities():
    items = upcoming_activities(NOW, days=7)
    assert [a.starts_at for a in items] == sorted(a.starts_at for a in items)
    assert all(a.starts_at >= NOW for a in items)
    assert all(a.starts_at.date() < date(2025, 12, 8) for a in items)
    by_id = {a.id: a for a in items}
    wed = by_id["smartphone-class-2025-12-03"]
    assert wed.starts_at == at(3, 14)
    assert wed.ends_at == at(3, 16)
    assert wed.status is ActivityStatus.OPEN
    assert wed.seats == 20
    assert wed.seats_left == 8
    assert wed.series == "smartphone-class"
    # tai chi at 07:30 today has already started: tomorrow's is the first
    assert "taichi-2025-12-01" not in by_id
    assert "taichi-2025-12-02" in by_id
    assert by_id["taichi-2025-12-02"].seats_left is None
    statuses = {a.status for a in items}
    assert statuses == {ActivityStatus.OPEN, ActivityStatus.FULL, ActivityStatus.CANCELLED}
    full = [a for a in items if a.status is ActivityStatus.FULL]
    assert all(a.seats_left == 0 for a in full)


def _series(**overrides: Any) -> tuple[Series, ...]:
    base = {
        "id": "s",
        "title": "T",
        "weekdays": [3],
        "start": "14:00",
        "end": "16:00",
        "seats": 10,
        "seats_taken": 4,
    }
    return parse_catalogue({"series": [{**base, **overrides}]})


def test_expansion_statuses():
    [open_one] = expand_catalogue(_series(), NOW, days=7)
    assert (open_one.id, open_one.status, open_one.seats_left) == ("s-2025-12-03", "open", 6)
    [full] = expand_catalogue(_series(seats_taken=12), NOW, days=7)
    assert (full.status, full.seats_left) == (ActivityStatus.FULL, 0)
    [cancelled] = expand_catalogue(_series(cancelled=True), NOW, days=7)
    assert cancelled.status is ActivityStatus.CANCELLED
    two = expand_catalogue(_series(cancelled_dates=["2025-12-03"]), NOW, days=14)
    assert [(a.id, a.status) for a in two] == [
        ("s-2025-12-03", ActivityStatus.CANCELLED),
        ("s-2025-12-10", ActivityStatus.OPEN),
    ]
    [unlimited] = expand_catalogue(_series(seats=None), NOW, days=7)
    assert (unlimited.seats, unlimited.seats_left, unlimited.status) == (None, None, "open")


def test_expansion_window():
    series = _series(weekdays=[1, 2, 3, 4, 5, 6, 7], start="10:00", end="11:00")
    items = expand_catalogue(series, NOW, days=3)
    # 10:00 today starts exactly at now: included; three dates in all
    assert [a.id for a in items] == ["s-2025-12-01", "s-2025-12-02", "s-2025-12-03"]
    assert expand_catalogue(series, NOW, days=0) == []
    assert expand_catalogue([], NOW) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"weekdays": [0]},
        {"weekdays": []},
        {"start": "25:00"},
        {"end": "13:00"},
        {"seats": -1},
        {"title": None, "id": "x"} | {"weekdays": "3"},
    ],
)
def test_malformed_catalogue_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="activity series"):
        _series(**bad)


def test_catalogue_needs_series_and_unique_ids():
    with pytest.raises(ValueError):
        parse_catalogue({})
    one = {"id": "a", "title": "T", "weekdays": [1], "start": "09:00", "end": "10:00"}
    with pytest.raises(ValueError, match="duplicate"):
        parse_catalogue({"series": [one, one]})
    missing = {"id": "a", "weekdays": [1], "start": "09:00", "end": "10:00"}
    with pytest.raises(ValueError, match="'title'"):
        parse_catalogue({"series": [missing]})


def test_activities_round_trip_through_the_store(data_dir):
    items = upcoming_activities(NOW, days=7)
    store = Store(data_dir)
    try:
        store.replace_activities([a.to_row() for a in items])
        back = [Activity.from_row(r) for r in store.activities()]
    finally:
        store.close()
    assert [(a.id, a.starts_at, a.status, a.seats_left) for a in back] == [
        (a.id, a.starts_at, a.status, a.seats_left) for a in items
    ]


# -- sign-ups -----------------------------------------------------------------------------


def _activity(**overrides: Any) -> Activity:
    series = Series(
        id="smartphone-class",
        title="银龄课堂 智能手机课",
        place="二楼",
        description="",
        weekdays=frozenset({3}),
        start=time(14),
        end=time(16),
        seats=20,
        seats_taken=12,
    )
    base = series.occurrence(date(2025, 12, 3), CST)
    return Activity(**{**base.__dict__, **overrides})


def test_signup_payload():
    assert signup_payload(_activity(), "138 1234 5678") == {
        "activity_id": "smartphone-class-2025-12-03",
        "title": "银龄课堂 智能手机课",
        "starts_at": "2025-12-03T14:00:00+08:00",
        "phone": "13812345678",
    }
    with pytest.raises(ValueError):
        signup_payload(_activity(), "12345")


def test_double_signup_is_caught():
    activity = _activity()
    existing = [signup_payload(activity, "13812345678")]
    assert already_signed_up(existing, activity.id, "138-1234-5678")
    assert not already_signed_up(existing, activity.id, "13912345678")
    assert not already_signed_up(existing, "smartphone-class-2025-12-10", "13812345678")
    assert not already_signed_up([], activity.id, "13812345678")
    problem = signup_problem(activity, "13812345678", NOW, existing)
    assert problem is not None
    assert problem.key == "activities.err_already_signed_up"
    assert signup_problem(activity, "13912345678", NOW, existing) is None


def test_double_signup_through_the_store(data_dir):
    activity = _activity()
    store = Store(data_dir)
    try:
        store.add("signup", signup_payload(activity, "13812345678"))
        existing = [r.payload for r in store.records(kind="signup")]
    finally:
        store.close()
    assert already_signed_up(existing, activity.id, "13812345678")


@pytest.mark.parametrize(
    ("overrides", "now", "key"),
    [
        ({"status": ActivityStatus.CANCELLED}, NOW, "activities.err_cancelled"),
        ({"status": ActivityStatus.FULL, "seats_left": 0}, NOW, "activities.err_full"),
        ({"seats_left": 0}, NOW, "activities.err_full"),
        ({}, at(3, 14), "activities.err_started"),
        ({}, at(3, 15), "activities.err_started"),
    ],
)
def test_signup_refused(overrides, now, key):
    problem = signup_problem(_activity(**overrides), "13812345678", now)
    assert problem is not None
    assert problem.key == key


def test_signup_allowed_for_an_open_activity():
    assert signup_problem(_activity(), "13812345678", NOW) is None
    assert signup_problem(_activity(seats=None, seats_left=None), "13812345678", NOW) is None


def test_signup_payload_passes_the_wire_protocol():
    payload = signup_payload(_activity(), "13812345678")
    assert check_record("signup", "2025-12-01T10:00:00+08:00", payload) is None
