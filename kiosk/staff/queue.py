"""What staff see and do: the queue (calls, health alerts, sign-ups) and proxy requests (代办).

Reads the store; every staff action is a new record plus a local status, never
an edit: 我来处理 / 已完成 save a ``visit`` record ``{"handled": <id>, "status":
"taken"|"done", "staff": ...}`` and add the status to ``record_status``
(source "local"). A proxy request is a ``proxy`` record (``visit`` for
上门服务); 已办结 closes it the same way. No widgets.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from kiosk.store import Store

Save = Callable[[str, dict[str, Any]], str]

CALL_CLOSED: Final = frozenset({"done", "cancelled", "rejected"})
ALERT_CLOSED: Final = frozenset({"done"})
SIGNUP_DECIDED: Final = frozenset({"confirmed", "wait-listed", "rejected", "done", "cancelled"})
PROXY_CLOSED: Final = frozenset({"done", "closed", "rejected", "cancelled"})
QUEUE_STATUSES: Final = ("taken", "done")

# Services of the proxy form, in the form's order (the text is in voices/zh_CN/staff.toml).
SERVICES: Final = (
    "pension_auth",
    "medical_claim",
    "payment",
    "documents",
    "utilities",
    "home_visit",
    "other",
)
HOME_VISIT: Final = "home_visit"

CALL_HOURS: Final = 12  # as kiosk.calls.RECOVER_HOURS
ALERT_DAYS: Final = 2
SIGNUP_DAYS: Final = 30
PROXY_DAYS: Final = 90
LIMIT: Final = 50


@dataclass(frozen=True)
class Item:
    """One record as staff see it, with its newest status (local or from the district)."""

    id: str
    kind: str
    created_at: str
    payload: dict[str, Any]
    status: str | None
    status_note: str
    status_source: str

    @property
    def phone(self) -> str:
        return str(self.payload.get("phone") or "")

    @property
    def resident_name(self) -> str:
        return str(self.payload.get("resident_name") or self.payload.get("name") or "")


def _since(delta: timedelta) -> str:
    return (datetime.now().astimezone() - delta).isoformat(timespec="milliseconds")


_SELECT: Final = """
SELECT r.id, r.kind, r.created_at, r.payload,
       s.status AS status, s.note AS note, s.source AS source
FROM records r
LEFT JOIN record_status s ON s.seq = (
    SELECT max(seq) FROM record_status WHERE record_id = r.id
)
"""


def _items(store: Store, where: str, args: list[Any], limit: int = LIMIT) -> list[Item]:
    sql = f"{_SELECT} WHERE {where} ORDER BY r.seq DESC LIMIT ?"
    return [
        Item(
            id=r["id"],
            kind=r["kind"],
            created_at=r["created_at"],
            payload=json.loads(r["payload"]),
            status=r["status"],
            status_note=r["note"] or "",
            status_source=r["source"] or "",
        )
        for r in store.db.query(sql, [*args, limit])
    ]


def open_calls(store: Store) -> list[Item]:
    """Calls not cancelled, done or rejected (newest first)."""
    calls = _items(
        store,
        "r.kind = 'call' AND r.created_at >= ? AND json_extract(r.payload, '$.cancels') IS NULL",
        [_since(timedelta(hours=CALL_HOURS))],
    )
    cancelled = {
        str(r["c"])
        for r in store.db.query(
            "SELECT json_extract(payload, '$.cancels') AS c FROM records"
            " WHERE kind = 'call' AND json_extract(payload, '$.cancels') IS NOT NULL"
            " AND created_at >= ?",
            [_since(timedelta(hours=CALL_HOURS))],
        )
    }
    return [c for c in calls if c.status not in CALL_CLOSED and c.id not in cancelled]


def health_alerts(store: Store) -> list[Item]:
    """Dangerous readings (``alert: true``) not yet marked done."""
    items = _items(
        store,
        "r.kind = 'health' AND json_extract(r.payload, '$.alert') = 1 AND r.created_at >= ?",
        [_since(timedelta(days=ALERT_DAYS))],
    )
    return [i for i in items if i.status not in ALERT_CLOSED]


def pending_signups(store: Store) -> list[Item]:
    """Sign-ups the district (or staff) has not confirmed, wait-listed or rejected yet."""
    items = _items(
        store, "r.kind = 'signup' AND r.created_at >= ?", [_since(timedelta(days=SIGNUP_DAYS))]
    )
    return [i for i in items if i.status not in SIGNUP_DECIDED]


def queue(store: Store) -> list[Item]:
    """Everything waiting for staff: calls first, then health alerts, then sign-ups."""
    return [*open_calls(store), *health_alerts(store), *pending_signups(store)]


def mark(
    store: Store,
    save: Save,
    item: Item,
    status: str,
    *,
    staff: str,
    note: str = "",
    add_status: bool = True,
) -> str:
    """我来处理 (taken) / 已完成 (done): a new ``visit`` record and a local status.

    ``add_status=False`` when the caller sets the status another way (the call
    desk's ``mark`` for the open call). Returns the new record's id.
    """
    if status not in QUEUE_STATUSES:
        raise ValueError(f"unknown queue status {status!r}")
    payload: dict[str, Any] = {
        "purpose": f"{item.kind}_{status}",
        "handled": item.id,
        "handled_kind": item.kind,
        "status": status,
        "staff": staff,
    }
    if note.strip():
        payload["note"] = note.strip()
    record_id = save("visit", payload)
    if add_status:
        store.add_status(item.id, status, note.strip(), source="local")
    return record_id


# -- proxy requests (代办) ----------------------------------------------------------------


def proxy_payload(
    service: str,
    *,
    service_text: str,
    resident_name: str,
    phone: str,
    address: str,
    note: str,
    staff: str,
) -> tuple[str, dict[str, Any]]:
    """(kind, payload) of a proxy request: ``proxy``, or ``visit`` for 上门服务."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    payload: dict[str, Any] = {"service": service_text, "service_code": service, "staff": staff}
    for key, value in (
        ("resident_name", resident_name),
        ("phone", phone),
        ("note", note),
        ("address", address if service == HOME_VISIT else ""),
    ):
        if value.strip():
            payload[key] = value.strip()
    if service == HOME_VISIT:
        payload["purpose"] = service_text
        return "visit", payload
    return "proxy", payload


_PROXY_WHERE: Final = (
    "(r.kind = 'proxy' OR (r.kind = 'visit' AND json_extract(r.payload, '$.service') IS NOT NULL))"
)


def open_proxy_items(store: Store) -> list[Item]:
    """Proxy requests (and home visits) not closed yet, newest first."""
    items = _items(
        store, f"{_PROXY_WHERE} AND r.created_at >= ?", [_since(timedelta(days=PROXY_DAYS))]
    )
    return [i for i in items if i.status not in PROXY_CLOSED]


def items_for_phone(store: Store, phone: str) -> list[Item]:
    """This resident's earlier items on this kiosk (proxy, visits, sign-ups, calls, readings)."""
    phone = phone.strip()
    if not phone:
        return []
    return _items(
        store,
        "json_extract(r.payload, '$.phone') = ? AND json_extract(r.payload, '$.handled') IS NULL",
        [phone],
        limit=20,
    )


def close_proxy(store: Store, save: Save, item: Item, *, staff: str, note: str = "") -> str:
    """已办结: a new ``visit`` record pointing at the request and the local status "done"."""
    payload: dict[str, Any] = {
        "purpose": "proxy_done",
        "handled": item.id,
        "handled_kind": item.kind,
        "status": "done",
        "staff": staff,
    }
    if note.strip():
        payload["note"] = note.strip()
    record_id = save("visit", payload)
    store.add_status(item.id, "done", note.strip(), source="local")
    return record_id
