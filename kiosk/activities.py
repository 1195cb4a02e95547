"""Community activities: the shipped catalogue, upcoming occurrences, dates in words, sign-ups.

Pure rules, no Qt. Until the district sends a catalogue (the sync client writes
it to ``Store.replace_activities``), the kiosk shows the default one shipped in
voices/zh_CN/activities_default.json: weekly series such as 银龄课堂 智能手机课
(Wednesdays 14:00-16:00), expanded by :func:`expand_catalogue` into concrete
:class:`Activity` occurrences for the next days. Titles, places and
descriptions are UI text, so they live under voices/.

Catalogue file (JSON)::

    {"series": [{
        "id": "smartphone-class",          # stable; occurrence ids are "<id>-<YYYY-MM-DD>"
        "title": "...", "place": "...", "description": "...",
        "weekdays": [3],                   # ISO: 1 = Monday ... 7 = Sunday
        "start": "14:00", "end": "16:00",  # local wall-clock time of ``now``'s zone
        "seats": 20,                       # null: no limit (seats_left is then null too)
        "seats_taken": 12,                 # optional, default 0; seats_taken >= seats: full
        "cancelled": false,                # optional: the whole series is off
        "cancelled_dates": ["2025-12-03"]  # optional: single occurrences off
    }]}

Payload of a ``signup`` record (built by :func:`signup_payload`)::

    {"activity_id": "smartphone-class-2025-12-03",
     "title": "银龄课堂 智能手机课",
     "starts_at": "2025-12-03T14:00:00+08:00",
     "phone": "13812345678"}            # full, normalised

:class:`Activity` rows round-trip with ``Store.replace_activities`` /
``Store.activities`` through :meth:`Activity.to_row` / :meth:`Activity.from_row`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from kiosk.paths import voices_dir
from kiosk.phone import normalize_phone, phone_problem
from kiosk.problems import Problem
from kiosk.texts import DEFAULT_LANG, t

__all__ = [
    "DEFAULT_CATALOGUE_NAME",
    "DEFAULT_DAYS",
    "TEXT_KEYS",
    "Activity",
    "ActivityStatus",
    "Series",
    "already_signed_up",
    "date_in_words",
    "default_catalogue",
    "expand_catalogue",
    "load_catalogue",
    "parse_catalogue",
    "signup_payload",
    "signup_problem",
    "time_in_words",
    "upcoming_activities",
]

DEFAULT_CATALOGUE_NAME: Final = "activities_default.json"
DEFAULT_DAYS: Final = 14

TextGetter = Callable[..., str]


class ActivityStatus(StrEnum):
    """Whether an occurrence takes sign-ups; show its words (``label_key``), not a colour alone."""

    OPEN = "open"
    FULL = "full"
    CANCELLED = "cancelled"

    @property
    def label_key(self) -> str:
        return f"activities.status_{self.value}"


@dataclass(frozen=True)
class Activity:
    """One concrete occurrence the resident can see on a card and sign up for.

    ``starts_at``/``ends_at`` are aware datetimes. ``seats``/``seats_left`` are
    None when there is no limit. ``series`` is the catalogue series it came
    from (None for an activity the district sent as a one-off).
    """

    id: str
    title: str
    starts_at: datetime
    ends_at: datetime | None
    place: str
    description: str
    seats: int | None
    seats_left: int | None
    status: ActivityStatus
    series: str | None = None

    def to_row(self) -> dict[str, Any]:
        """The dict ``Store.replace_activities`` takes (ISO timestamps)."""
        return {
            "id": self.id,
            "title": self.title,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": None if self.ends_at is None else self.ends_at.isoformat(),
            "place": self.place,
            "description": self.description,
            "seats": self.seats,
            "seats_left": self.seats_left,
            "status": self.status.value,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Activity:
        """An activity from a ``Store.activities()`` row (or a district catalogue item)."""
        ends = row.get("ends_at")
        seats = row.get("seats")
        seats_left = row.get("seats_left")
        return cls(
            id=str(row["id"]),
            title=str(row["title"]),
            starts_at=_aware(datetime.fromisoformat(str(row["starts_at"]))),
            ends_at=None if not ends else _aware(datetime.fromisoformat(str(ends))),
            place=str(row.get("place") or ""),
            description=str(row.get("description") or ""),
            seats=None if seats is None else int(seats),
            seats_left=None if seats_left is None else int(seats_left),
            status=ActivityStatus(row.get("status") or "open"),
            series=row.get("series"),
        )


@dataclass(frozen=True)
class Series:
    """A repeating activity of the catalogue (see the module docstring for the file)."""

    id: str
    title: str
    place: str
    description: str
    weekdays: frozenset[int]
    start: time
    end: time
    seats: int | None = None
    seats_taken: int = 0
    cancelled: bool = False
    cancelled_dates: frozenset[date] = frozenset()

    def occurrence(self, day: date, tz: Any) -> Activity:
        """This series' activity on ``day`` (whether or not it runs that weekday)."""
        seats_left = None if self.seats is None else max(self.seats - self.seats_taken, 0)
        if self.cancelled or day in self.cancelled_dates:
            status = ActivityStatus.CANCELLED
        elif seats_left == 0:
            status = ActivityStatus.FULL
        else:
            status = ActivityStatus.OPEN
        return Activity(
            id=f"{self.id}-{day.isoformat()}",
            title=self.title,
            starts_at=datetime.combine(day, self.start, tzinfo=tz),
            ends_at=datetime.combine(day, self.end, tzinfo=tz),
            place=self.place,
            description=self.description,
            seats=self.seats,
            seats_left=seats_left,
            status=status,
            series=self.id,
        )


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.astimezone()


def _require_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {dt!r}")


# -- the catalogue ----------------------------------------------------------------


def _series(item: Mapping[str, Any]) -> Series:
    sid = item.get("id", "?")
    try:
        raw_days = item["weekdays"]
        if not isinstance(raw_days, list) or not all(type(d) is int for d in raw_days):
            raise ValueError(f"weekdays must be a list of ISO day numbers, got {raw_days!r}")
        weekdays = frozenset(raw_days)
        if not weekdays or not weekdays <= set(range(1, 8)):
            raise ValueError(f"weekdays must be ISO 1-7, got {item['weekdays']!r}")
        start = time.fromisoformat(str(item["start"]))
        end = time.fromisoformat(str(item["end"]))
        if end <= start:
            raise ValueError(f"end {end} is not after start {start}")
        seats = item.get("seats")
        seats_taken = int(item.get("seats_taken", 0))
        if (seats is not None and int(seats) < 0) or seats_taken < 0:
            raise ValueError("seats cannot be negative")
        texts = {k: item.get(k, "") for k in ("id", "title", "place", "description")}
        texts["id"], texts["title"] = item["id"], item["title"]
        for name, value in texts.items():
            if not isinstance(value, str) or (name in {"id", "title"} and not value):
                raise ValueError(f"{name} must be text, got {value!r}")
        return Series(
            id=texts["id"],
            title=texts["title"],
            place=texts["place"],
            description=texts["description"],
            weekdays=weekdays,
            start=start,
            end=end,
            seats=None if seats is None else int(seats),
            seats_taken=seats_taken,
            cancelled=bool(item.get("cancelled", False)),
            cancelled_dates=frozenset(
                date.fromisoformat(str(d)) for d in item.get("cancelled_dates", [])
            ),
        )
    except KeyError as exc:
        raise ValueError(f"activity series {sid!r} has no {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"activity series {sid!r}: {exc}") from exc


def parse_catalogue(data: Mapping[str, Any]) -> tuple[Series, ...]:
    """The series of a decoded catalogue; ValueError names the first bad entry."""
    items = data.get("series")
    if not isinstance(items, list):
        raise ValueError("an activity catalogue needs a list 'series'")
    series = tuple(_series(item) for item in items)
    ids = [s.id for s in series]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate series ids in the catalogue: {ids}")
    return series


def load_catalogue(path: Path) -> tuple[Series, ...]:
    """Read a catalogue file (see the module docstring); ValueError if it is malformed."""
    with path.open(encoding="utf-8") as fh:
        return parse_catalogue(json.load(fh))


def default_catalogue(lang: str = DEFAULT_LANG) -> tuple[Series, ...]:
    """The shipped catalogue, voices/<lang>/activities_default.json."""
    return load_catalogue(voices_dir() / lang / DEFAULT_CATALOGUE_NAME)


def expand_catalogue(
    series: Iterable[Series], now: datetime, days: int = DEFAULT_DAYS
) -> list[Activity]:
    """Every occurrence starting at or after ``now`` on the ``days`` dates from today on.

    ``now`` must be aware; occurrences are in its time zone. Cancelled and full
    ones are included (their cards say so). Sorted by start, then id.
    """
    _require_aware(now, "now")
    today = now.date()
    found: list[Activity] = []
    for s in series:
        for offset in range(days):
            day = today + timedelta(days=offset)
            if day.isoweekday() not in s.weekdays:
                continue
            occurrence = s.occurrence(day, now.tzinfo)
            if occurrence.starts_at >= now:
                found.append(occurrence)
    found.sort(key=lambda a: (a.starts_at, a.id))
    return found


def upcoming_activities(now: datetime, days: int = DEFAULT_DAYS) -> list[Activity]:
    """The shipped catalogue's occurrences for the next ``days`` days (see expand_catalogue)."""
    return expand_catalogue(default_catalogue(), now, days)


# -- dates in words -----------------------------------------------------------------


def _number(n: int, get: TextGetter) -> str:
    """0-99 in characters: 二, 十, 十五, 二十, 三十一."""
    if not 0 <= n <= 99:
        raise ValueError(f"out of range for words: {n}")

    def digit(d: int) -> str:
        return get(f"activities.when.digit.{d}")

    if n < 10:
        return digit(n)
    tens, ones = divmod(n, 10)
    head = get("activities.when.ten") if tens == 1 else digit(tens) + get("activities.when.ten")
    return head + (digit(ones) if ones else "")


def _period(hour: int) -> str:
    if hour < 5:
        return "dawn"
    if hour < 9:
        return "early"
    if hour < 12:
        return "morning"
    if hour == 12:
        return "noon"
    if hour < 18:
        return "afternoon"
    return "evening"


def time_in_words(at: datetime | time, get: TextGetter = t) -> str:
    """The clock time as said aloud: 上午九点, 下午两点, 早上七点半, 下午三点十五, 晚上七点零五.

    Periods: 凌晨 0-4, 早上 5-8, 上午 9-11, 中午 12, 下午 13-17, 晚上 18-23
    (早上 and 凌晨 are added to 上午/中午/下午/晚上 because 「上午七点」 is not
    how anyone says the time of morning tai chi). 2 o'clock is 两点.
    """
    hour, minute = at.hour, at.minute
    period = get(f"activities.when.period.{_period(hour)}")
    twelve = hour % 12 or (12 if hour else 0)
    hour_word = get("activities.when.hour_two") if twelve == 2 else _number(twelve, get)
    if minute == 0:
        return get("activities.when.o_clock", period=period, hour=hour_word)
    if minute == 30:
        return get("activities.when.half_past", period=period, hour=hour_word)
    # 两点零五 for :05, 两点十五 for :15
    minute_word = _number(minute, get) if minute >= 10 else _number(0, get) + _number(minute, get)
    return get("activities.when.minutes", period=period, hour=hour_word, minute=minute_word)


def date_in_words(starts_at: datetime, now: datetime, get: TextGetter = t) -> str:
    """When an activity starts, as a resident would say it, relative to ``now``.

    今天下午两点 · 明天上午九点 · 本周三下午两点 (later this ISO week, Monday-Sunday) ·
    下周一上午九点 (next ISO week) · otherwise 十二月二日 星期三 下午两点 (also for past
    dates; the year is never said). Both datetimes must be aware; ``starts_at``
    is seen in ``now``'s time zone. 明天 wins over 下周 (Sunday -> Monday).
    """
    _require_aware(starts_at, "starts_at")
    _require_aware(now, "now")
    local = starts_at.astimezone(now.tzinfo)
    day, today = local.date(), now.date()
    when = time_in_words(local, get)
    weekday = get(f"activities.when.weekday.{day.isoweekday()}")
    this_monday = today - timedelta(days=today.weekday())
    day_monday = day - timedelta(days=day.weekday())
    if day == today:
        return get("activities.when.today", time=when)
    if day == today + timedelta(days=1):
        return get("activities.when.tomorrow", time=when)
    if day > today and day_monday == this_monday:
        return get("activities.when.this_week", weekday=weekday, time=when)
    if day_monday == this_monday + timedelta(days=7):
        return get("activities.when.next_week", weekday=weekday, time=when)
    return get(
        "activities.when.date",
        month=_number(day.month, get),
        day=_number(day.day, get),
        weekday=weekday,
        time=when,
    )


# -- sign-ups -------------------------------------------------------------------------


def signup_payload(activity: Activity, phone: str) -> dict[str, Any]:
    """The payload of a ``signup`` record (shape in the module docstring).

    ``phone`` is saved normalised and in full; an invalid one is a ValueError
    (validate with :func:`kiosk.phone.phone_problem` first).
    """
    problem = phone_problem(phone)
    if problem is not None:
        raise ValueError(f"invalid phone number for a sign-up ({problem.key})")
    return {
        "activity_id": activity.id,
        "title": activity.title,
        "starts_at": activity.starts_at.isoformat(),
        "phone": normalize_phone(phone),
    }


def already_signed_up(
    existing_signups: Iterable[Mapping[str, Any]], activity_id: str, phone: str
) -> bool:
    """True if a sign-up payload for this activity and number is already among ``existing_signups``.

    Pass the payloads of the saved ``signup`` records (e.g.
    ``[r.payload for r in store.records(kind="signup", limit=...)]``); numbers
    are compared normalised, so "138 1234 5678" matches "13812345678".
    """
    wanted = normalize_phone(phone)
    return any(
        p.get("activity_id") == activity_id and normalize_phone(str(p.get("phone", ""))) == wanted
        for p in existing_signups
    )


def signup_problem(
    activity: Activity,
    phone: str,
    now: datetime,
    existing_signups: Sequence[Mapping[str, Any]] = (),
) -> Problem | None:
    """Why this sign-up cannot be saved, or None if it can (the phone must be valid).

    In order: ``activities.err_cancelled``, ``activities.err_full``,
    ``activities.err_started`` (starts_at <= now), ``activities.err_already_signed_up``
    (say it kindly: the earlier sign-up stands). All on the field ``activity``.
    """
    if activity.status is ActivityStatus.CANCELLED:
        return Problem("activity", "activities.err_cancelled")
    if activity.status is ActivityStatus.FULL or activity.seats_left == 0:
        return Problem("activity", "activities.err_full")
    if activity.starts_at <= now:
        return Problem("activity", "activities.err_started")
    if already_signed_up(existing_signups, activity.id, phone):
        return Problem("activity", "activities.err_already_signed_up")
    return None


TEXT_KEYS: Final[frozenset[str]] = frozenset(
    {s.label_key for s in ActivityStatus}
    | {
        "activities.title",
        "activities.empty",
        "activities.signup",
        "activities.signed_up",
        "activities.seats_left",
        "activities.seats_unlimited",
        "activities.err_already_signed_up",
        "activities.err_full",
        "activities.err_cancelled",
        "activities.err_started",
        "activities.update_confirmed",
        "activities.update_waitlisted",
        "activities.update_rejected",
        "activities.when.today",
        "activities.when.tomorrow",
        "activities.when.this_week",
        "activities.when.next_week",
        "activities.when.date",
        "activities.when.o_clock",
        "activities.when.half_past",
        "activities.when.minutes",
        "activities.when.hour_two",
        "activities.when.ten",
    }
    | {f"activities.when.period.{_period(h)}" for h in range(24)}
    | {f"activities.when.digit.{d}" for d in range(10)}
    | {f"activities.when.weekday.{d}" for d in range(1, 8)}
)
"""Every text key this module can hand to a screen or use itself."""
