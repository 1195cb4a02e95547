"""Wire protocol v1 between a kiosk and the district server: one definition for both ends.

Every request carries ``Authorization: Bearer <token>``; every reply of the
district server carries the header ``X-District-Api: 1`` (a reply without it,
e.g. a captive portal's 200 page, is "not the server").

Endpoints::

    GET  /api/v1/ping                 -> Ping
    POST /api/v1/records   Upload     -> UploadReply (exactly one result per id)
    GET  /api/v1/records/{id}         -> RecordInfo (only this kiosk's records)
    POST /api/v1/records/known KnownQuery -> KnownReply (which of these ids this kiosk's
                                         records already hold; for recovery of a damaged store)
    GET  /api/v1/activities?since=C   -> ActivitiesReply (whole catalogue or "unchanged")
    GET  /api/v1/updates?since=C      -> UpdatesReply (status changes of this kiosk's records)

Error replies: 401 bad/revoked token, 403 ``kiosk_id`` is not the token's kiosk,
413 body or batch too large, 422 malformed envelope (``detail`` names every bad
record as ``{index, id, error}``), 429/503 with ``Retry-After`` (seconds or an
HTTP date, to be compared with the reply's ``Date``).

Upload results: ``created`` (new), ``duplicate`` (same id, same content: harmless),
``conflict`` (same id, different content: nothing overwritten), ``rejected``
(the record's kind/created_at/payload is invalid; ``error`` says why). The
content hash covers kind, created_at and payload (see ``content_hash``).

Record kinds and their payloads (JSON objects; extra keys are kept, so a newer
kiosk can add fields; every payload may carry ``corrects: <record id>`` when it
corrects an earlier record, since a queued payload never changes):

- ``call``: a resident's call for help. ``reason`` (str, default "help"),
  optional ``phone``, ``resident_name``, ``source`` ("button"|"voice"|"health"|...),
  ``cancelled`` (bool: the resident pressed 取消呼叫 in time), ``cancels`` (id of
  the call this record cancels).
- ``health``: one health reading, as built by ``kiosk.health.health_payload``:
  ``type`` ("blood_pressure"|"glucose"|"weight"), ``values`` ({"systolic":
  {"value": 135, "unit": "mmHg"}, ...}), ``context`` (glucose), ``level``,
  ``severity``, ``alert`` (bool: a dangerous reading, sent at once like a call),
  optional ``phone``. Flat numbers (``"systolic": 135``) are accepted too. At
  least one reading; known readings must be plausible (``READING_RANGES``).
- ``signup``: a sign-up for an activity (``kiosk.activities.signup_payload``).
  ``activity_id`` (str) and ``phone`` required; optional ``title``,
  ``starts_at``, ``name``, ``people`` (1-10, default 1).
- ``proxy``: a proxy-service request entered by staff. ``service`` required
  (社保认证, 医保报销, 缴费, 证件办理, 上门服务, ...); optional ``resident_name``,
  ``phone``, ``note``, ``staff``, ``address``.
- ``visit``: a visit at the counter (or a home visit) logged by staff. Optional
  ``purpose``, ``resident_name``, ``phone``, ``note``, ``staff``, ``handled`` (id of
  the record it handled).
- ``feedback``: satisfaction after a service. ``rating`` required: 1-3 or
  "bad"|"ok"|"good"; optional ``about`` (id of the record it rates), ``comment``.

Phones are 3-20 characters of digits, spaces, ``+`` and ``-``.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

API_VERSION: Final = 1
API_HEADER: Final = "X-District-Api"
PREFIX: Final = "/api/v1"
KINDS: Final = ("call", "health", "signup", "proxy", "visit", "feedback")
RESULT_STATUSES: Final = ("created", "duplicate", "conflict", "rejected")

Kind = Literal["call", "health", "signup", "proxy", "visit", "feedback"]
ResultStatus = Literal["created", "duplicate", "conflict", "rejected"]

_PHONE = re.compile(r"^[0-9+\- ]{3,20}$")
Phone = Annotated[str, Field(pattern=_PHONE.pattern)]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=4000)]


class _Payload(BaseModel):
    """Common to every payload: extras allowed, an optional pointer to a corrected record."""

    model_config = ConfigDict(extra="allow")

    corrects: uuid.UUID | None = None


class CallPayload(_Payload):
    reason: ShortText = "help"
    phone: Phone | None = None
    resident_name: ShortText | None = None
    source: ShortText | None = None
    cancelled: bool = False
    cancels: uuid.UUID | None = None


class Reading(BaseModel):
    """One measured value inside a health payload's ``values``."""

    model_config = ConfigDict(extra="allow")

    value: float
    unit: ShortText | None = None


# Plausible physical ranges (wider than the kiosk's entry limits): anything outside is a bug.
READING_RANGES: Final[dict[str, tuple[float, float]]] = {
    "systolic": (40, 300),
    "diastolic": (20, 200),
    "pulse": (20, 250),
    "glucose": (0.5, 40),
    "temperature": (30, 45),
    "weight": (10, 300),
    "height": (50, 250),
    "bmi": (5, 100),
}


class HealthPayload(_Payload):
    type: ShortText | None = None
    values: dict[str, Reading] = Field(default_factory=dict)
    systolic: float | None = None
    diastolic: float | None = None
    pulse: float | None = None
    glucose: float | None = None
    temperature: float | None = None
    weight: float | None = None
    context: ShortText | None = None
    phone: Phone | None = None
    level: ShortText | None = None
    severity: ShortText | None = None
    alert: bool = False

    @model_validator(mode="after")
    def _readings(self) -> HealthPayload:
        readings = {k: r.value for k, r in self.values.items()}
        for key in ("systolic", "diastolic", "pulse", "glucose", "temperature", "weight"):
            flat = getattr(self, key)
            if flat is not None:
                readings.setdefault(key, flat)
        if not readings:
            raise ValueError("a health record needs at least one reading")
        for key, value in readings.items():
            low, high = READING_RANGES.get(key, (float("-inf"), float("inf")))
            if not low <= value <= high:
                raise ValueError(f"{key} {value} is outside {low:g}-{high:g}")
        return self


class SignupPayload(_Payload):
    activity_id: Annotated[str, Field(min_length=1, max_length=200)]
    phone: Phone
    name: ShortText | None = None
    people: Annotated[int, Field(ge=1, le=10)] = 1


class ProxyPayload(_Payload):
    service: Annotated[str, Field(min_length=1, max_length=200)]
    resident_name: ShortText | None = None
    phone: Phone | None = None
    note: LongText | None = None
    staff: ShortText | None = None
    address: ShortText | None = None


class VisitPayload(_Payload):
    purpose: ShortText | None = None
    resident_name: ShortText | None = None
    phone: Phone | None = None
    note: LongText | None = None
    staff: ShortText | None = None
    handled: uuid.UUID | None = None


class FeedbackPayload(_Payload):
    rating: Literal[1, 2, 3, "bad", "ok", "good"]
    about: uuid.UUID | None = None
    comment: LongText | None = None


PAYLOAD_MODELS: Final[dict[str, type[_Payload]]] = {
    "call": CallPayload,
    "health": HealthPayload,
    "signup": SignupPayload,
    "proxy": ProxyPayload,
    "visit": VisitPayload,
    "feedback": FeedbackPayload,
}


class Ping(BaseModel):
    api: int
    server_time: AwareDatetime
    max_batch: Annotated[int, Field(ge=1)]


class RecordIn(BaseModel):
    """One record as uploaded. ``payload`` is checked per kind by ``check_record``."""

    id: uuid.UUID
    kind: str
    created_at: str
    payload: dict[str, Any]


class EnvelopeHead(BaseModel):
    """The upload envelope without its records (those are checked one by one)."""

    kiosk_id: Annotated[str, Field(min_length=1, max_length=100)]
    sent_at: AwareDatetime
    records: list[Any]


class Upload(BaseModel):
    kiosk_id: str
    sent_at: AwareDatetime
    records: list[RecordIn]


class RecordResult(BaseModel):
    id: uuid.UUID
    status: ResultStatus
    error: str | None = None


class UploadReply(BaseModel):
    results: list[RecordResult]


class BadRecord(BaseModel):
    index: int | None
    id: str | None
    error: str


MAX_KNOWN_QUERY: Final = 1000


class KnownQuery(BaseModel):
    """Which of these record ids does the district already hold (for this kiosk)?"""

    ids: Annotated[list[uuid.UUID], Field(max_length=MAX_KNOWN_QUERY)]


class KnownReply(BaseModel):
    """The asked ids that the district holds for this kiosk (another kiosk's never count)."""

    known: list[uuid.UUID]


class RecordInfo(BaseModel):
    id: uuid.UUID
    kind: str
    created_at: str
    received_at: str
    status: str


class Activity(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(min_length=1)]
    title: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    place: str = ""
    description: str = ""
    seats: int | None = None
    seats_left: int | None = None
    status: Literal["open", "full", "cancelled"] = "open"
    updated_at: AwareDatetime | None = None


class ActivitiesReply(BaseModel):
    """``full`` true: ``activities`` is the whole catalogue; false: unchanged since the cursor."""

    activities: list[Activity]
    cursor: str
    full: bool = True


class Update(BaseModel):
    record_id: uuid.UUID
    status: Annotated[str, Field(min_length=1, max_length=50)]
    note: str = ""
    at: AwareDatetime


class UpdatesReply(BaseModel):
    updates: list[Update]
    cursor: str
    more: bool = False


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value used for hashing (sorted keys, no spaces)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(kind: str, created_at: str, payload: Any) -> str:
    """sha256 of the record's content (everything but its id), hex."""
    text = canonical_json({"kind": kind, "created_at": created_at, "payload": payload})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _first_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else str(err["msg"]))
    return "; ".join(parts)


def check_record(kind: str, created_at: str, payload: dict[str, Any]) -> str | None:
    """Why this record's content is invalid, or None when it is valid."""
    model = PAYLOAD_MODELS.get(kind)
    if model is None:
        return f"unknown kind {kind!r}"
    try:
        stamp = datetime.fromisoformat(created_at)
    except ValueError:
        return f"created_at is not an ISO 8601 time: {created_at!r}"
    if stamp.tzinfo is None:
        return "created_at has no time zone"
    try:
        model.model_validate(payload)
    except ValidationError as exc:
        return f"payload: {_first_error(exc)}"
    return None


def check_envelope(body: Any) -> tuple[EnvelopeHead | None, list[RecordIn], list[BadRecord]]:
    """Split an upload body into its head, well-formed records and named bad ones.

    A record is "bad" (422) when it is not an object with a UUID ``id``, a string
    ``kind`` and ``created_at`` and an object ``payload``, or when its id repeats
    within the batch. Invalid *content* (unknown kind, bad payload) is not bad
    here: the server answers it with a per-record ``rejected`` result.
    """
    try:
        head = EnvelopeHead.model_validate(body)
    except ValidationError as exc:
        return None, [], [BadRecord(index=None, id=None, error=_first_error(exc))]
    good: list[RecordIn] = []
    bad: list[BadRecord] = []
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(head.records):
        raw_id = item.get("id") if isinstance(item, dict) else None
        try:
            record = RecordIn.model_validate(item)
        except ValidationError as exc:
            bad.append(
                BadRecord(
                    index=index,
                    id=raw_id if isinstance(raw_id, str) else None,
                    error=_first_error(exc),
                )
            )
            continue
        if record.id in seen:
            bad.append(BadRecord(index=index, id=str(record.id), error="id repeated in batch"))
            continue
        seen.add(record.id)
        good.append(record)
    return head, good, bad
