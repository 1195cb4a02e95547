"""The district server's database: SQLAlchemy Core on SQLite (default) or PostgreSQL.

Exactly-once ingest is decided by the database itself: records have a unique
key (kiosk_id, record_id); a batch is inserted with ``ON CONFLICT DO NOTHING
RETURNING record_id`` and the ids that were not inserted are compared by
content hash (duplicate vs conflict). Two concurrent uploads of the same record
can therefore never both be "created".

Timestamps are stored as ISO 8601 text in UTC (``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``)
so they sort and compare the same way on both databases.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from sync.protocol import RecordIn, RecordResult, canonical_json, check_record, content_hash

metadata: Final = sa.MetaData()

kiosks: Final = sa.Table(
    "kiosks",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40), nullable=True),
)

records: Final = sa.Table(
    "records",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kiosk_id", sa.String(100), sa.ForeignKey("kiosks.id"), nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("received_at", sa.String(40), nullable=False),
    sa.Column("sent_at", sa.String(40), nullable=False),
    sa.Column("clock_offset_seconds", sa.Float, nullable=False),
    sa.Column("status", sa.String(50), nullable=False, server_default="received"),
    sa.UniqueConstraint("kiosk_id", "record_id", name="records_kiosk_record"),
)
sa.Index("records_received", records.c.received_at)

status_changes: Final = sa.Table(
    "status_changes",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kiosk_id", sa.String(100), nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(50), nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("at", sa.String(40), nullable=False),
)
sa.Index("status_changes_kiosk", status_changes.c.kiosk_id, status_changes.c.seq)

activities: Final = sa.Table(
    "activities",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("starts_at", sa.String(40), nullable=False),
    sa.Column("ends_at", sa.String(40), nullable=True),
    sa.Column("place", sa.Text, nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("seats", sa.Integer, nullable=True),
    sa.Column("seats_left", sa.Integer, nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="open"),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

meta: Final = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

CATALOGUE_KEY: Final = "catalogue_version"
UPDATES_PAGE: Final = 500


class ServerDbError(Exception):
    """A district-side problem with a message for the operator (CLI)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the installed psycopg 3 driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def open_engine(url: str) -> Engine:
    """Create the engine (and the tables if missing)."""
    engine = sa.create_engine(normalise_url(url))
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    elif engine.dialect.name != "postgresql":
        raise ServerDbError(f"unsupported database {engine.dialect.name!r} (sqlite, postgresql)")
    metadata.create_all(engine)
    return engine


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- kiosks and tokens ---------------------------------------------------------------


def add_kiosk(engine: Engine, kiosk_id: str) -> str:
    """Register a kiosk (or give it a new token); return the token, which is never stored."""
    token = secrets.token_urlsafe(32)
    now = iso_utc(utc_now())
    with engine.begin() as conn:
        exists = conn.execute(sa.select(kiosks.c.id).where(kiosks.c.id == kiosk_id)).first()
        if exists:
            conn.execute(
                kiosks.update()
                .where(kiosks.c.id == kiosk_id)
                .values(token_hash=hash_token(token), revoked_at=None)
            )
        else:
            conn.execute(
                kiosks.insert().values(id=kiosk_id, token_hash=hash_token(token), created_at=now)
            )
    return token


def revoke_kiosk(engine: Engine, kiosk_id: str) -> None:
    with engine.begin() as conn:
        done = conn.execute(
            kiosks.update()
            .where(kiosks.c.id == kiosk_id)
            .values(token_hash=None, revoked_at=iso_utc(utc_now()))
        )
    if done.rowcount == 0:
        raise ServerDbError(f"no kiosk {kiosk_id!r}")


def kiosk_for_token(engine: Engine, token: str) -> str | None:
    """The kiosk whose current token this is, or None (unknown or revoked)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(kiosks.c.id).where(
                kiosks.c.token_hash == hash_token(token), kiosks.c.revoked_at.is_(None)
            )
        ).first()
    return None if row is None else str(row[0])


# -- ingest ------------------------------------------------------------------------


def _insert(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(records)
    return sqlite.insert(records)


def ingest(
    engine: Engine, kiosk_id: str, sent_at: datetime, items: Sequence[RecordIn]
) -> list[RecordResult]:
    """Store a batch idempotently; one result per record, in input order."""
    now = utc_now()
    received = iso_utc(now)
    offset = (sent_at - now).total_seconds()
    rows: list[dict[str, Any]] = []
    results: dict[str, RecordResult] = {}
    hashes: dict[str, str] = {}
    for item in items:
        rid = str(item.id)
        problem = check_record(item.kind, item.created_at, item.payload)
        if problem is not None:
            results[rid] = RecordResult(id=item.id, status="rejected", error=problem)
            continue
        digest = content_hash(item.kind, item.created_at, item.payload)
        hashes[rid] = digest
        rows.append(
            {
                "kiosk_id": kiosk_id,
                "record_id": rid,
                "kind": item.kind,
                "created_at": item.created_at,
                "payload": canonical_json(item.payload),
                "content_hash": digest,
                "received_at": received,
                "sent_at": iso_utc(sent_at),
                "clock_offset_seconds": offset,
            }
        )
    if rows:
        with engine.begin() as conn:
            # executemany with RETURNING: SQLAlchemy batches it into multi-row
            # INSERTs ("insertmanyvalues") from one cached compiled statement.
            stmt = (
                _insert(conn)
                .on_conflict_do_nothing(index_elements=["kiosk_id", "record_id"])
                .returning(records.c.record_id)
            )
            created = {str(r[0]) for r in conn.execute(stmt, rows)}
            others = [r["record_id"] for r in rows if r["record_id"] not in created]
            existing: dict[str, str] = {}
            if others:
                found = conn.execute(
                    sa.select(records.c.record_id, records.c.content_hash).where(
                        records.c.kiosk_id == kiosk_id, records.c.record_id.in_(others)
                    )
                )
                existing = {str(r[0]): str(r[1]) for r in found}
        for row in rows:
            rid = row["record_id"]
            if rid in created:
                status = "created"
            elif existing.get(rid) == hashes[rid]:
                status = "duplicate"
            elif rid in existing:
                status = "conflict"
            else:  # pragma: no cover - the unique constraint makes this impossible
                raise ServerDbError(f"record {rid} neither inserted nor found")
            error = (
                "same id, different content; nothing overwritten" if status == "conflict" else None
            )
            results[rid] = RecordResult.model_validate(
                {"id": rid, "status": status, "error": error}
            )
    return [results[str(item.id)] for item in items]


def record_info(engine: Engine, kiosk_id: str, record_id: str) -> dict[str, Any] | None:
    """One of this kiosk's records (None for another kiosk's or an unknown id)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                records.c.record_id,
                records.c.kind,
                records.c.created_at,
                records.c.received_at,
                records.c.status,
            ).where(records.c.kiosk_id == kiosk_id, records.c.record_id == record_id)
        ).first()
    if row is None:
        return None
    return {
        "id": row.record_id,
        "kind": row.kind,
        "created_at": row.created_at,
        "received_at": row.received_at,
        "status": row.status,
    }


def known_ids(engine: Engine, kiosk_id: str, ids: Sequence[str]) -> list[str]:
    """Which of ``ids`` this kiosk's records hold (another kiosk's records never count)."""
    if not ids:
        return []
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(records.c.record_id).where(
                records.c.kiosk_id == kiosk_id, records.c.record_id.in_(list(ids))
            )
        )
        held = {str(r[0]) for r in found}
    return [i for i in ids if i in held]


# -- status updates ------------------------------------------------------------------


def set_status(
    engine: Engine, record_id: str, status: str, note: str = "", kiosk_id: str | None = None
) -> str:
    """Record a status change of a record; returns the kiosk it belongs to."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Serialise writers so that seq order is commit order: a reader's cursor
            # must never skip a change that commits after a higher seq.
            conn.execute(sa.text("LOCK TABLE status_changes IN EXCLUSIVE MODE"))
        query = sa.select(records.c.kiosk_id).where(records.c.record_id == record_id)
        if kiosk_id is not None:
            query = query.where(records.c.kiosk_id == kiosk_id)
        owners = [str(r[0]) for r in conn.execute(query)]
        if not owners:
            raise ServerDbError(f"no record {record_id!r}")
        if len(owners) > 1:
            raise ServerDbError(f"record {record_id} exists for kiosks {owners}; give --kiosk")
        owner = owners[0]
        conn.execute(
            records.update()
            .where(records.c.kiosk_id == owner, records.c.record_id == record_id)
            .values(status=status)
        )
        conn.execute(
            status_changes.insert().values(
                kiosk_id=owner, record_id=record_id, status=status, note=note, at=iso_utc(utc_now())
            )
        )
    return owner


def updates_since(
    engine: Engine, kiosk_id: str, since: int, limit: int = UPDATES_PAGE
) -> tuple[list[dict[str, Any]], int, bool]:
    """This kiosk's status changes after cursor ``since``: (updates, new cursor, more)."""
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                sa.select(status_changes)
                .where(status_changes.c.kiosk_id == kiosk_id, status_changes.c.seq > since)
                .order_by(status_changes.c.seq)
                .limit(limit)
            )
        )
    updates = [
        {"record_id": r.record_id, "status": r.status, "note": r.note, "at": r.at} for r in rows
    ]
    cursor = int(rows[-1].seq) if rows else since
    return updates, cursor, len(rows) == limit


# -- activities ----------------------------------------------------------------------


def _bump_catalogue(conn: Connection) -> None:
    row = conn.execute(sa.select(meta.c.value).where(meta.c.key == CATALOGUE_KEY)).first()
    if row is None:
        conn.execute(meta.insert().values(key=CATALOGUE_KEY, value="1"))
    else:
        conn.execute(
            meta.update().where(meta.c.key == CATALOGUE_KEY).values(value=str(int(row[0]) + 1))
        )


def catalogue_version(conn: Connection) -> int:
    row = conn.execute(sa.select(meta.c.value).where(meta.c.key == CATALOGUE_KEY)).first()
    return 0 if row is None else int(row[0])


def put_activity(engine: Engine, activity: dict[str, Any]) -> None:
    """Add or replace one activity (by id) and bump the catalogue version."""
    values = dict(activity)
    values["updated_at"] = iso_utc(utc_now())
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("LOCK TABLE activities IN EXCLUSIVE MODE"))
        conn.execute(activities.delete().where(activities.c.id == values["id"]))
        conn.execute(activities.insert().values(**values))
        _bump_catalogue(conn)


KEEP_ENDED: Final = timedelta(days=1)


def catalogue(engine: Engine) -> tuple[list[dict[str, Any]], int]:
    """The current catalogue (activities not ended more than a day ago) and its version."""
    with engine.connect() as conn:
        version = catalogue_version(conn)
        rows = [dict(r._mapping) for r in conn.execute(sa.select(activities))]
    cutoff = utc_now() - KEEP_ENDED
    current = [r for r in rows if datetime.fromisoformat(r["ends_at"] or r["starts_at"]) >= cutoff]
    current.sort(key=lambda r: (datetime.fromisoformat(r["starts_at"]), r["id"]))
    return current, version


# -- export --------------------------------------------------------------------------


def export_rows(engine: Engine, since: datetime) -> Iterator[dict[str, Any]]:
    """Records received at or after ``since``, oldest first, for district staff."""
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(
            sa.select(records)
            .where(records.c.received_at >= iso_utc(since))
            .order_by(records.c.received_at, records.c.seq)
        )
        for r in result:
            yield {
                "kiosk_id": r.kiosk_id,
                "record_id": r.record_id,
                "kind": r.kind,
                "created_at": r.created_at,
                "received_at": r.received_at,
                "clock_offset_seconds": r.clock_offset_seconds,
                "status": r.status,
                "payload": json.loads(r.payload),
            }
