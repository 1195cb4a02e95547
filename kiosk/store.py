"""The local store: every request a resident or staff member makes, saved durably first.

One SQLite file (``kiosk.db`` in the data dir) in WAL mode with
``synchronous=FULL``, so a record whose ``add`` returned survives a kill -9 or
a power cut. Each record is also an outbox entry that the sync client moves
through the states below; a queued payload never changes (a correction is a
new record pointing at the old one).

    pending --lease--> inflight --server result--> acked | failed | conflict
       ^                  |
       +--- lease reset at start / lease expiry / retryable error

Disk full: ``add`` raises ``StoreFullError`` (nothing saved, earlier records
intact, the connection stays usable) and the screen says 「存储空间已满…请找工作人员」.
So that a call for help can still be saved then, the main store (``check=True``)
keeps a **space reserve**: ``space-reserve`` in the data dir, ``RESERVE_BYTES``
(1 MiB, room for thousands of records) of real, allocated zeros. When an
urgent record (a call, a health alert) hits a full disk, the reserve file is
deleted and the insert retried once; from then on only urgent records are
saved until the reserve can be re-created (tried at each later add and at the
next start). Using the reserve, or failing to create it, is a staff problem
(``problems`` and ``store-problems.json``).

At start the file is checked with ``PRAGMA integrity_check`` (quick_check misses
index/table mismatches that later break writes; ~0.1 s per 50,000 records). A damaged file is
moved aside with a timestamp and a fresh one created, so the kiosk never ends
up in a crash loop; the problem is remembered in ``store-problems.json`` for
``kiosk --check`` and the staff screen.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import sqlite_utils

from kiosk.paths import ensure_private_dir

DB_NAME: Final = "kiosk.db"
PROBLEMS_NAME: Final = "store-problems.json"
RESERVE_NAME: Final = "space-reserve"
RESERVE_BYTES: Final = 1 << 20

KINDS: Final = frozenset({"call", "health", "signup", "proxy", "visit", "feedback"})
STATES: Final = ("pending", "inflight", "acked", "failed", "conflict")
URGENT_KINDS: Final = frozenset({"call"})
# Seconds a leased (inflight) record stays reserved before it counts as pending again.
LEASE_SECONDS: Final = 300.0
# Server result -> outbox state. Anything else leaves the record pending.
RESULT_STATES: Final = {
    "created": "acked",
    "duplicate": "acked",
    "conflict": "conflict",
    "rejected": "failed",
}


class StoreError(Exception):
    """A record could not be saved; the message is safe to show to staff."""


class StoreFullError(StoreError):
    """The disk (or the database's page limit) is full; nothing was saved."""


@dataclass(frozen=True)
class Record:
    id: str
    kind: str
    created_at: str
    payload: dict[str, Any]
    state: str
    urgent: bool
    attempts: int
    last_error: str | None


def is_urgent(kind: str, payload: Mapping[str, Any]) -> bool:
    """Calls, and health readings flagged ``"alert": true``, are sent at once."""
    return kind in URGENT_KINDS or (kind == "health" and payload.get("alert") is True)


def _utc_iso(value: datetime) -> str:
    # One fixed format so that lease times compare correctly as text.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def now_local() -> str:
    """The current time, timezone-aware in the local zone, ISO 8601."""
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def _m1_records(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE records (
            seq         INTEGER PRIMARY KEY AUTOINCREMENT,
            id          TEXT NOT NULL UNIQUE,
            kind        TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            payload     TEXT NOT NULL,
            urgent      INTEGER NOT NULL DEFAULT 0,
            state       TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending','inflight','acked','failed','conflict')),
            attempts    INTEGER NOT NULL DEFAULT 0,
            last_error  TEXT,
            lease_until TEXT,
            acked_at    TEXT
        )
        """
    )
    db.execute("CREATE INDEX records_outbox ON records (state, urgent DESC, seq)")
    db.execute("CREATE INDEX records_kind ON records (kind, seq)")


def _m2_activities_status_sync(db: sqlite_utils.Database) -> None:
    # The district's activity catalogue, replaced as a whole by each pull.
    db.execute(
        """
        CREATE TABLE activities (
            id          TEXT PRIMARY KEY,
            title       TEXT NOT NULL,
            starts_at   TEXT NOT NULL,
            ends_at     TEXT,
            place       TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            seats       INTEGER,
            seats_left  INTEGER,
            status      TEXT NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open','full','cancelled')),
            updated_at  TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX activities_starts ON activities (starts_at)")
    # Status history of records (district updates and local staff notes), newest = max seq.
    db.execute(
        """
        CREATE TABLE record_status (
            seq       INTEGER PRIMARY KEY AUTOINCREMENT,
            record_id TEXT NOT NULL,
            status    TEXT NOT NULL,
            note      TEXT NOT NULL DEFAULT '',
            at        TEXT NOT NULL,
            source    TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('district','local'))
        )
        """
    )
    db.execute("CREATE INDEX record_status_record ON record_status (record_id, seq)")
    # Small key/value state of the sync client (pull cursors, last pass summary).
    db.execute("CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _m3_staff(db: sqlite_utils.Database) -> None:
    # Staff accounts (kiosk.staff.accounts): a salted slow hash of the PIN, never the PIN,
    # and the lockout state, so a lockout survives a restart.
    db.execute(
        """
        CREATE TABLE staff (
            name          TEXT PRIMARY KEY,
            pin_hash      BLOB NOT NULL,
            salt          BLOB NOT NULL,
            kdf           TEXT NOT NULL,
            created_at    TEXT NOT NULL,
            failed        INTEGER NOT NULL DEFAULT 0,
            lockouts      INTEGER NOT NULL DEFAULT 0,
            locked_until  REAL NOT NULL DEFAULT 0,
            last_login_at TEXT
        )
        """
    )
    # What staff did on this kiosk (logins, logouts, actions); never resident data.
    db.execute(
        """
        CREATE TABLE staff_log (
            seq    INTEGER PRIMARY KEY AUTOINCREMENT,
            at     TEXT NOT NULL,
            staff  TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )
        """
    )


# Numbered migrations: index + 1 is the schema version they produce. Append, never edit.
MIGRATIONS: Final[list[Callable[[sqlite_utils.Database], None]]] = [
    _m1_records,
    _m2_activities_status_sync,
    _m3_staff,
]
SCHEMA_VERSION: Final = len(MIGRATIONS)


def _is_full(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc)


class Store:
    """The kiosk's durable local store of records (also the sync outbox).

    ``Store(data_dir)`` opens (creating, checking and migrating) ``kiosk.db``.
    One instance per thread: the sync worker opens its own with ``check=False``.
    """

    def __init__(self, data_dir: Path | str, *, check: bool = True) -> None:
        self.data_dir = ensure_private_dir(Path(data_dir))
        self.path = self.data_dir / DB_NAME
        self.problems: list[str] = []
        if check:
            self._check_or_move_aside()
        try:
            self.db = self._open()
            self._migrate()
        except sqlite3.Error as exc:
            # e.g. a brand-new file on a full disk: a clear StoreFullError, not a crash.
            raise self._translate(exc) from exc
        # Only the main store (check=True) manages the reserve; workers never add records.
        self._reserve: Path | None = self.data_dir / RESERVE_NAME if check else None
        self._reserve_spent = False
        if check:
            self._reset_leases()
            if not self.restore_reserve():
                self._note_problem("存储空间不足，无法预留呼叫备用空间，请清理磁盘")

    # -- opening ---------------------------------------------------------------

    def _open(self) -> sqlite_utils.Database:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        # Damaged text (bit rot) must read as U+FFFD, not raise in the middle of a screen.
        conn.text_factory = lambda b: b.decode("utf-8", "replace")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return sqlite_utils.Database(conn)

    def _wal_lost(self) -> bool:
        """True when ``-wal`` is gone but ``-shm`` says it held committed frames.

        A kill or power cut leaves both files; SQLite replays the WAL at the next
        open. If the WAL was deleted (by hand, a backup tool, fsck), the main file
        is consistent but older: quick_check cannot see that, the WAL index can
        (``mxFrame``, a native-endian u32 at offset 16 of the -shm header).
        """
        shm = Path(f"{self.path}-shm")
        if Path(f"{self.path}-wal").exists() or not shm.exists():
            return False
        try:
            header = shm.read_bytes()[:20]
        except OSError:
            return False
        return len(header) == 20 and int.from_bytes(header[16:20], sys.byteorder) > 0

    def _check_or_move_aside(self) -> None:
        if not self.path.exists():
            return
        if self._wal_lost():
            Path(f"{self.path}-shm").unlink(missing_ok=True)
            self._note_problem("数据库日志文件(-wal)丢失：最近保存的记录可能不全，请联系技术人员")
        problem: str | None = None
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            if [r[0] for r in rows] != ["ok"]:
                problem = "; ".join(str(r[0]) for r in rows[:3])
        except sqlite3.DatabaseError as exc:
            problem = str(exc)
        finally:
            if conn is not None:
                conn.close()
        if problem is None:
            return
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        moved = self.path.with_name(f"{DB_NAME}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                src.replace(Path(str(moved) + suffix))
        message = f"数据库文件损坏，已移到 {moved.name} 并新建 ({problem})"
        self.problems.append(message)
        self._remember_problem(message, moved)

    def _remember_problem(self, message: str, moved: Path | None) -> None:
        path = self.data_dir / PROBLEMS_NAME
        items = self.stored_problems(self.data_dir)
        item = {"at": now_local(), "message": message}
        if moved is not None:
            item["moved_to"] = str(moved)
        items.append(item)
        path.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")

    def _note_problem(self, message: str) -> None:
        """Tell staff (``problems`` now, ``store-problems.json`` later); never raises."""
        self.problems.append(message)
        with contextlib.suppress(OSError):
            self._remember_problem(message, None)

    # -- the space reserve (see the module docstring) ---------------------------

    def restore_reserve(self) -> bool:
        """Make sure the reserve file exists at full size; False when the disk is too full."""
        if self._reserve is None:
            return True
        with contextlib.suppress(OSError):
            if self._reserve.stat().st_size >= RESERVE_BYTES:
                self._reserve_spent = False
                return True
        tmp = self._reserve.with_name(f".{RESERVE_NAME}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                block = bytes(64 * 1024)
                for _ in range(RESERVE_BYTES // len(block)):
                    os.write(fd, block)  # real blocks, not a sparse file
                os.fsync(fd)
            finally:
                os.close(fd)
            tmp.replace(self._reserve)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            return False
        self._reserve_spent = False
        return True

    def _release_reserve(self) -> bool:
        """Free the reserve so an urgent record fits; False when there is none to free."""
        if self._reserve is None:
            return False
        try:
            self._reserve.unlink()
        except FileNotFoundError:
            return False
        self._reserve_spent = True
        self._note_problem("存储空间已满：已动用备用空间保存呼叫，请立即清理磁盘")
        return True

    @property
    def reserve_ready(self) -> bool:
        """True when the full reserve is in place (for ``kiosk --check`` and staff)."""
        return (
            self._reserve is not None
            and not self._reserve_spent
            and (self._reserve.exists() and self._reserve.stat().st_size >= RESERVE_BYTES)
        )

    @staticmethod
    def stored_problems(data_dir: Path) -> list[dict[str, str]]:
        """Problems found at earlier starts (e.g. a corrupt file moved aside)."""
        path = Path(data_dir) / PROBLEMS_NAME
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return []
        return [i for i in items if isinstance(i, dict)]

    def _migrate(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database schema {version} is newer than this kiosk ({SCHEMA_VERSION}); "
                "install the newer kiosk version"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                MIGRATIONS[number - 1](self.db)
                self.db.execute(f"PRAGMA user_version = {number}")

    def _reset_leases(self) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE records SET state='pending', lease_until=NULL WHERE state='inflight'"
            )

    # -- transactions ----------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT); errors become StoreError."""
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        try:
            yield self.db
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._translate(exc) from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise self._translate(exc) from exc

    @staticmethod
    def _translate(exc: sqlite3.Error) -> StoreError:
        if _is_full(exc):
            return StoreFullError("存储空间已满，记录没有保存")
        return StoreError(f"记录没有保存: {exc}")

    # -- the public API ----------------------------------------------------------

    def add(self, kind: str, payload: dict[str, Any]) -> str:
        """Save one record durably and return its new UUID.

        When this returns, the record is on disk. Raises StoreFullError when the
        disk is full and StoreError for other failures; earlier records stay intact.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown record kind {kind!r}")
        try:
            body = json.dumps(payload, ensure_ascii=False, allow_nan=False, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"payload is not plain JSON: {exc}") from exc
        record_id = str(uuid.uuid4())
        urgent = is_urgent(kind, payload)
        if self._reserve_spent and not urgent and not self.restore_reserve():
            # What is left of the freed reserve is kept for calls.
            raise StoreFullError("存储空间已满，记录没有保存")
        row = [record_id, kind, now_local(), body, int(urgent)]
        try:
            self._insert(row)
        except StoreFullError:
            # The WAL may hold megabytes of already-checkpointable pages: fold them
            # into the main file and truncate it, then try once more.
            self._truncate_wal()
            try:
                self._insert(row)
            except StoreFullError:
                if not (urgent and self._release_reserve()):
                    raise
                self._insert(row)
        return record_id

    def _truncate_wal(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _insert(self, row: list[Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO records (id, kind, created_at, payload, urgent) VALUES (?,?,?,?,?)",
                row,
            )

    def count(self, state: str | None = None, *, kind: str | None = None) -> int:
        """How many records there are, optionally in one outbox state and/or of one kind."""
        if state is not None and state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        where, args = [], []
        if state is not None:
            where.append("state = ?")
            args.append(state)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        clause = " WHERE " + " AND ".join(where) if where else ""
        sql = f"SELECT count(*) FROM records{clause}"  # noqa: S608 (fixed column names only)
        return int(self.db.execute(sql, args).fetchone()[0])

    def get(self, record_id: str) -> Record | None:
        rows = list(self.db.query("SELECT * FROM records WHERE id = ?", [record_id]))
        return _to_record(rows[0]) if rows else None

    def records(
        self, *, state: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[Record]:
        """Records, oldest first, filtered by state and/or kind."""
        where, args = ["1=1"], []
        if state is not None:
            where.append("state = ?")
            args.append(state)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        sql = f"SELECT * FROM records WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"  # noqa: S608
        return [_to_record(r) for r in self.db.query(sql, [*args, limit])]

    # -- activities (the district's catalogue) -------------------------------

    def activities(self, upcoming_from: datetime | None = None) -> list[dict[str, Any]]:
        """The activity catalogue, soonest first.

        With ``upcoming_from`` (an aware datetime), only activities that have not
        ended by then (``ends_at``, or ``starts_at`` when there is no end).
        """
        rows = [dict(r) for r in self.db.query("SELECT * FROM activities")]
        if upcoming_from is not None:
            rows = [r for r in rows if _activity_end(r) >= upcoming_from]
        rows.sort(key=lambda r: (_parse_aware(r["starts_at"]), r["id"]))
        return rows

    def replace_activities(self, items: list[dict[str, Any]], *, cursor: str | None = None) -> None:
        """Swap the whole catalogue in one transaction: readers see old or new, never a mix.

        ``cursor`` (the sync client's) is saved in the same transaction, so it can
        never run ahead of the data it describes. ValueError for a bad entry
        (nothing changed then).
        """
        rows = [_activity_row(i) for i in items]
        with self.transaction() as db:
            _replace_activities(db, rows)
            if cursor is not None:
                _set_state(db, ACTIVITIES_CURSOR, cursor)

    # -- record status (district updates and local notes) -----------------------

    def add_status(
        self,
        record_id: str,
        status: str,
        note: str = "",
        source: str = "local",
        at: str | None = None,
    ) -> None:
        """Append one status change of a record (``source`` is 'district' or 'local')."""
        if source not in STATUS_SOURCES:
            raise ValueError(f"unknown status source {source!r}")
        with self.transaction() as db:
            _insert_status(db, record_id, status, note=note, source=source, at=at or now_local())

    def latest_status(self, record_id: str) -> dict[str, Any] | None:
        """The newest status of a record, or None if it has none."""
        rows = list(
            self.db.query(
                "SELECT * FROM record_status WHERE record_id = ? ORDER BY seq DESC LIMIT 1",
                [record_id],
            )
        )
        return dict(rows[0]) if rows else None

    def statuses(self, record_id: str) -> list[dict[str, Any]]:
        """Every status of a record, oldest first."""
        return [
            dict(r)
            for r in self.db.query(
                "SELECT * FROM record_status WHERE record_id = ? ORDER BY seq", [record_id]
            )
        ]

    # -- the sync outbox ------------------------------------------------------------

    def lease_page(
        self,
        limit: int,
        *,
        ids: Sequence[str] | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> list[Record]:
        """Reserve up to ``limit`` pending records for sending: urgent first, then oldest.

        Leased records are ``inflight`` until ``mark_results``/``reset_lease`` or the
        lease expires (then they count as pending again, e.g. after a crash).
        ``ids`` restricts the page to those records (the urgent sender). Only one
        page is ever read into memory.
        """
        now = datetime.now(UTC)
        until = _utc_iso(now + timedelta(seconds=lease_seconds))
        with self.transaction() as db:
            db.execute(
                "UPDATE records SET state='pending', lease_until=NULL"
                " WHERE state='inflight' AND lease_until < ?",
                [_utc_iso(now)],
            )
            if ids is not None:
                wanted = list(ids)[:limit]
                marks = ",".join("?" * len(wanted))
                sql = (
                    f"SELECT * FROM records WHERE state='pending' AND id IN ({marks})"  # noqa: S608
                    " ORDER BY urgent DESC, seq LIMIT ?"
                )
                rows = list(db.query(sql, [*wanted, limit])) if wanted else []
            else:
                rows = list(
                    db.query(
                        "SELECT * FROM records WHERE state='pending'"
                        " ORDER BY urgent DESC, seq LIMIT ?",
                        [limit],
                    )
                )
            # A row damaged in place (bit rot that quick_check cannot see) is parked
            # for staff instead of being sent or blocking the outbox.
            damaged = [r for r in rows if _is_damaged(r)]
            rows = [r for r in rows if not _is_damaged(r)]
            db.conn.executemany(
                "UPDATE records SET state='failed', last_error=? WHERE seq=?",
                [(DAMAGED_ERROR, r["seq"]) for r in damaged],
            )
            db.conn.executemany(
                "UPDATE records SET state='inflight', lease_until=?, attempts=attempts+1"
                " WHERE seq=?",
                [(until, r["seq"]) for r in rows],
            )
        return [_to_record(r) for r in rows]

    def mark_results(
        self,
        results: Mapping[str, tuple[str, str | None]],
        *,
        release: Iterable[str] = (),
    ) -> dict[str, int]:
        """Apply the server's per-record results in one transaction.

        ``results`` maps record id -> (created|duplicate|conflict|rejected, error):
        created/duplicate -> acked, conflict -> conflict, rejected -> failed (kept,
        with the reason, for staff). Ids in ``release`` (sent but without a result)
        go back to pending. Records already acked are never changed. Returns how
        many records reached each state.
        """
        acked_at = now_local()
        counts = {"acked": 0, "conflict": 0, "failed": 0, "pending": 0}
        by_state: dict[str, list[tuple[str, str | None, str]]] = {}
        for record_id, (status, error) in results.items():
            state = RESULT_STATES.get(status)
            if state is not None:
                by_state.setdefault(state, []).append((state, error, record_id))
        released = [(i,) for i in release if i not in results]
        with self.transaction() as db:
            for state, rows in by_state.items():
                cur = db.conn.executemany(
                    "UPDATE records SET state=?, last_error=?, lease_until=NULL,"
                    " acked_at=CASE WHEN ?='acked' THEN ? ELSE acked_at END"
                    " WHERE id=? AND state IN ('pending','inflight')",
                    [(st, err, st, acked_at, rid) for st, err, rid in rows],
                )
                counts[state] += cur.rowcount
            cur = db.conn.executemany(
                "UPDATE records SET state='pending', lease_until=NULL"
                " WHERE id=? AND state='inflight'",
                released,
            )
            counts["pending"] += max(0, cur.rowcount)
        return counts

    def reset_lease(self, ids: Iterable[str], error: str | None = None) -> None:
        """Put leased records back to pending (a retryable failure), noting ``error``."""
        with self.transaction() as db:
            db.conn.executemany(
                "UPDATE records SET state='pending', lease_until=NULL,"
                " last_error=coalesce(?, last_error) WHERE id=? AND state='inflight'",
                [(error, i) for i in ids],
            )

    def failed_with_reasons(self, limit: int = 100) -> list[Record]:
        """Records the server refused (failed) or that conflict, oldest first, for staff."""
        return [
            _to_record(r)
            for r in self.db.query(
                "SELECT * FROM records WHERE state IN ('failed','conflict') ORDER BY seq LIMIT ?",
                [limit],
            )
        ]

    def requeue(self, record_id: str) -> bool:
        """Staff: send a failed record again (e.g. after a server fix). False if not failed."""
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE records SET state='pending', last_error=NULL WHERE id=? AND state='failed'",
                [record_id],
            )
        return cur.rowcount == 1

    def outbox_counts(self) -> dict[str, int]:
        """Records per outbox state (every state present, 0 when none)."""
        counts = dict.fromkeys(STATES, 0)
        for state, n in self.db.execute("SELECT state, count(*) FROM records GROUP BY state"):
            counts[state] = int(n)
        return counts

    def unsent(self) -> int:
        """Records not yet at the district and not parked (pending + inflight)."""
        return int(
            self.db.execute(
                "SELECT count(*) FROM records WHERE state IN ('pending','inflight')"
            ).fetchone()[0]
        )

    def urgent_unsent_ids(self) -> list[str]:
        """Urgent records still to send (e.g. saved before a restart)."""
        return [
            str(r[0])
            for r in self.db.execute(
                "SELECT id FROM records WHERE urgent=1 AND state IN ('pending','inflight')"
                " ORDER BY seq"
            )
        ]

    # -- sync state (cursors) -----------------------------------------------------

    def sync_state(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM sync_state WHERE key=?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_sync_state(self, key: str, value: str) -> None:
        with self.transaction() as db:
            _set_state(db, key, value)

    def apply_updates(self, updates: Iterable[Mapping[str, Any]], cursor: str) -> int:
        """Store district status updates and the cursor after them in one transaction."""
        n = 0
        with self.transaction() as db:
            for u in updates:
                _insert_status(
                    db,
                    str(u["record_id"]),
                    str(u["status"]),
                    note=str(u.get("note") or ""),
                    source="district",
                    at=str(u["at"]),
                )
                n += 1
            _set_state(db, UPDATES_CURSOR, cursor)
        return n

    def integrity(self) -> str:
        """``PRAGMA integrity_check`` of the open file: 'ok' or the first problem."""
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        self.db.conn.close()


STATUS_SOURCES: Final = frozenset({"district", "local"})
ACTIVITIES_CURSOR: Final = "activities_cursor"
UPDATES_CURSOR: Final = "updates_cursor"


def _set_state(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO sync_state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value=excluded.value",
        [key, value],
    )


ACTIVITY_STATUSES: Final = frozenset({"open", "full", "cancelled"})


def _parse_aware(value: str) -> datetime:
    """Parse an ISO timestamp; a naive one is taken as local time."""
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo is not None else dt.astimezone()


def _activity_end(row: dict[str, Any]) -> datetime:
    return _parse_aware(row["ends_at"] or row["starts_at"])


def _activity_row(item: dict[str, Any]) -> dict[str, Any]:
    """Validate one catalogue entry (ValueError names the problem) and normalise it."""
    try:
        act_id = str(item["id"])
        title = str(item["title"])
        starts_at = str(item["starts_at"])
    except KeyError as exc:
        raise ValueError(f"activity without {exc.args[0]!r}: {item!r}") from exc
    _parse_aware(starts_at)
    ends_at = item.get("ends_at") or None
    if ends_at is not None:
        _parse_aware(str(ends_at))
    status = str(item.get("status") or "open")
    if status not in ACTIVITY_STATUSES:
        raise ValueError(f"activity {act_id}: unknown status {status!r}")
    seats = item.get("seats")
    seats_left = item.get("seats_left")
    return {
        "id": act_id,
        "title": title,
        "starts_at": starts_at,
        "ends_at": None if ends_at is None else str(ends_at),
        "place": str(item.get("place") or ""),
        "description": str(item.get("description") or ""),
        "seats": None if seats is None else int(seats),
        "seats_left": None if seats_left is None else int(seats_left),
        "status": status,
        "updated_at": str(item.get("updated_at") or now_local()),
    }


def _replace_activities(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> None:
    db.execute("DELETE FROM activities")
    db.conn.executemany(
        "INSERT INTO activities (id, title, starts_at, ends_at, place, description, seats,"
        " seats_left, status, updated_at) VALUES (:id, :title, :starts_at, :ends_at, :place,"
        " :description, :seats, :seats_left, :status, :updated_at)",
        rows,
    )


def _insert_status(
    db: sqlite_utils.Database, record_id: str, status: str, *, note: str, source: str, at: str
) -> None:
    db.execute(
        "INSERT INTO record_status (record_id, status, note, at, source) VALUES (?,?,?,?,?)",
        [record_id, status, note, at, source],
    )


DAMAGED_ERROR: Final = "本机记录已损坏，无法发送 (damaged on this kiosk)"


def _payload(text: str) -> dict[str, Any]:
    """The payload of a row; a damaged one comes back as ``{"_unreadable": text}``."""
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return {"_unreadable": text}
    return value if isinstance(value, dict) else {"_unreadable": text}


def _is_damaged(row: dict[str, Any]) -> bool:
    return row["kind"] not in KINDS or "_unreadable" in _payload(row["payload"])


def _to_record(row: dict[str, Any]) -> Record:
    return Record(
        id=row["id"],
        kind=row["kind"],
        created_at=row["created_at"],
        payload=_payload(row["payload"]),
        state=row["state"],
        urgent=bool(row["urgent"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
    )
