"""Recovery of a damaged local store: re-send what is readable, without duplicates.

When ``Store`` finds ``kiosk.db`` damaged at start it moves the file aside
(``kiosk.db.corrupt-<stamp>``, with its ``-wal``) and starts a fresh one; staff
see the problem. What is still readable in the damaged file may hold records
the district never got. :func:`recover_from_damaged`:

1. copies the damaged file (and its ``-wal``) to a temporary directory, so the
   moved-aside original stays untouched for a post-mortem;
2. reads every record row it can: a whole-table scan first, then, if the scan
   breaks on a damaged page, one row at a time by ``seq`` (skipping bad rows);
3. asks the district which of the readable ids it already holds
   (``POST /api/v1/records/known``, only this kiosk's records count);
4. puts the others into the fresh store with their original id, kind,
   ``created_at`` and payload, as ``pending`` (or ``failed`` with its reason if
   the district had refused it before), so the next pass sends them.

Re-sending is safe even without step 3 (the server answers ``duplicate`` for
the same id and content), so when the district cannot be asked, every readable
record that was not acked is queued; step 3 only avoids queuing what is there.

:func:`recover_moved_aside` does this for every moved-aside file of a data dir
that has not been recovered yet and leaves a ``.recovered`` report beside it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from kiosk.store import KINDS, Store, is_urgent
from sync.client import SyncClient, SyncError

RECOVERED_SUFFIX: Final = ".recovered"
# Probing row by row stops after this many missing/broken seqs in a row past the last hit.
MAX_PROBE_GAP: Final = 10_000
_COLUMNS: Final = "seq, id, kind, created_at, payload, state, last_error"


@dataclass(frozen=True)
class Salvaged:
    """One record read back from a damaged file."""

    id: str
    kind: str
    created_at: str
    payload: str
    state: str
    last_error: str | None


@dataclass
class RecoveryReport:
    """What a recovery found and did (shown to staff, saved beside the damaged file)."""

    readable: int = 0
    unreadable: int = 0
    already_local: int = 0
    already_at_district: int = 0
    requeued: int = 0
    asked_district: bool = False
    problem: str | None = None


def _valid(row: tuple[Any, ...]) -> Salvaged | None:
    """The row as a Salvaged record, or None when any field is damaged."""
    try:
        _seq, rid, kind, created_at, payload, state, last_error = row
        rid = str(uuid.UUID(str(rid)))
        if kind not in KINDS or not isinstance(created_at, str) or not isinstance(payload, str):
            return None
        if not isinstance(json.loads(payload), dict):
            return None
    except (ValueError, TypeError):
        return None
    return Salvaged(
        rid,
        kind,
        created_at,
        payload,
        str(state),
        last_error if isinstance(last_error, str) else None,
    )


def _scan(conn: sqlite3.Connection) -> Iterator[tuple[Any, ...]]:
    yield from conn.execute(f"SELECT {_COLUMNS} FROM records ORDER BY seq")  # noqa: S608


def _highest_seq(conn: sqlite3.Connection) -> int | None:
    for sql in (
        "SELECT seq FROM sqlite_sequence WHERE name='records'",
        "SELECT max(seq) FROM records",
    ):
        try:
            row = conn.execute(sql).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row is not None and isinstance(row[0], int):
            return int(row[0])
    return None


def _probe(conn: sqlite3.Connection, known: dict[int, tuple[Any, ...]]) -> int:
    """Read rows one seq at a time into ``known``; returns how many seqs were unreadable."""
    highest = _highest_seq(conn)
    broken = 0
    seq, gap = 1, 0
    while (highest is not None and seq <= highest) or (highest is None and gap < MAX_PROBE_GAP):
        if seq not in known:
            try:
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM records WHERE seq = ?",  # noqa: S608
                    [seq],
                ).fetchone()
            except sqlite3.DatabaseError:
                row = None
                broken += 1
            if row is None:
                gap += 1
            else:
                known[seq] = row
                gap = 0
        seq += 1
    return broken if highest is not None else 0


def read_damaged(path: Path) -> tuple[list[Salvaged], int]:
    """Every readable record of a damaged store file, oldest first, and how many were not."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="kiosk-recover-") as tmp:
        copy = Path(tmp) / "damaged.db"
        shutil.copyfile(path, copy)
        wal = Path(f"{path}-wal")
        if wal.exists():
            shutil.copyfile(wal, Path(f"{copy}-wal"))
        rows: dict[int, tuple[Any, ...]] = {}
        unreadable = 0
        try:
            conn = sqlite3.connect(copy, isolation_level=None)
        except sqlite3.DatabaseError:
            return [], 0
        try:
            try:
                for row in _scan(conn):
                    rows[int(row[0])] = row
            except sqlite3.DatabaseError:
                # A damaged page broke the scan: read around it row by row.
                unreadable += _probe(conn, rows)
        except sqlite3.DatabaseError:
            pass  # not even the schema is readable: nothing to salvage
        finally:
            conn.close()
    salvaged: list[Salvaged] = []
    for seq in sorted(rows):
        record = _valid(rows[seq])
        if record is None:
            unreadable += 1
        else:
            salvaged.append(record)
    return salvaged, unreadable


def recover_from_damaged(
    path: Path, store: Store, client: SyncClient | None = None
) -> RecoveryReport:
    """Queue what is readable in the damaged file ``path`` and not yet at the district.

    ``store`` is the fresh store; ``client`` (optional) asks the district which
    ids it holds. Safe to run twice: records already in ``store`` are skipped.
    """
    report = RecoveryReport()
    salvaged, report.unreadable = read_damaged(path)
    report.readable = len(salvaged)
    fresh = [r for r in salvaged if store.get(r.id) is None]
    report.already_local = len(salvaged) - len(fresh)
    held: set[str] = set()
    if client is not None and fresh:
        try:
            held = client.known_ids([r.id for r in fresh])
            report.asked_district = True
        except SyncError as exc:
            report.problem = str(exc)
    queue: list[Salvaged] = []
    for r in fresh:
        if r.id in held:
            report.already_at_district += 1
        elif report.asked_district or r.state not in ("acked", "conflict"):
            # Not at the district (it said so), or it could not be asked and the
            # damaged file does not show it as delivered: send it (again).
            queue.append(r)
        else:
            report.already_at_district += 1
    with store.transaction() as db:
        cur = db.conn.executemany(
            "INSERT OR IGNORE INTO records (id, kind, created_at, payload, urgent, state,"
            " last_error) VALUES (?,?,?,?,?,?,?)",
            [
                (
                    r.id,
                    r.kind,
                    r.created_at,
                    r.payload,
                    int(is_urgent(r.kind, json.loads(r.payload))),
                    "failed" if r.state == "failed" else "pending",
                    r.last_error if r.state == "failed" else None,
                )
                for r in queue
            ],
        )
        report.requeued = max(0, cur.rowcount)
    return report


def recover_moved_aside(
    data_dir: Path, store: Store, client: SyncClient | None = None
) -> list[tuple[Path, RecoveryReport]]:
    """Recover every moved-aside store file of ``data_dir`` not recovered yet.

    A report is saved as ``<file>.recovered`` (JSON) so each file is done once;
    a file whose district check failed is tried again next time.
    """
    done: list[tuple[Path, RecoveryReport]] = []
    for item in Store.stored_problems(data_dir):
        moved = item.get("moved_to")
        if not moved:
            continue
        path = Path(moved)
        marker = Path(f"{path}{RECOVERED_SUFFIX}")
        if not path.exists() or marker.exists():
            continue
        report = recover_from_damaged(path, store, client)
        if client is None or report.asked_district:
            marker.write_text(json.dumps(asdict(report), ensure_ascii=False), encoding="utf-8")
        done.append((path, report))
    return done
