"""Staff accounts: names, PINs kept only as salted slow hashes, lockout, and the staff log.

PINs are 4-8 digits, hashed with ``hashlib.scrypt`` (n=2**16, r=8, p=1, 32-byte key,
16-byte random salt per account): 64 MiB of memory and about 180 ms per check on
the development machine (2 cores, measured in tests/test_staff_accounts.py), so
guessing the 10**4 - 10**8 possible PINs offline from a stolen database costs
hours to years of CPU per account, while a login at the counter stays instant.
The parameters are stored with each hash, so they can be raised later without
breaking existing accounts.

Online guessing is stopped by the lockout: after :data:`MAX_FAILURES` wrong PINs
in a row an account is locked for :data:`LOCKOUT_SECONDS`, doubled for each
further lockout (5, 10, 20 ... minutes, at most :data:`LOCKOUT_CAP_SECONDS`). A
correct PIN resets both counters. The state lives in the ``staff`` table, so a
restart does not lift a lockout; ``locked_until`` is wall-clock time (a
monotonic clock restarts with the process).

The staff log (``staff_log``) records logins, failures, lockouts, logouts and
actions with the staff member's name; never a PIN and never resident data
(the ``detail`` is a record kind, a reason or a setting's name).

No widgets; the slow part (:meth:`PinCheck.matches`) can run on a worker thread.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import sqlite_utils

from kiosk.store import Store, now_local

log = logging.getLogger(__name__)

SCRYPT_N: Final = 2**16
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
KEY_BYTES: Final = 32
SALT_BYTES: Final = 16
MAX_FAILURES: Final = 5
LOCKOUT_SECONDS: Final = 300.0
LOCKOUT_CAP_SECONDS: Final = 24 * 3600.0
NAME_MAX: Final = 40

_PIN = re.compile(r"^[0-9]{4,8}$")
_KDF = re.compile(r"^scrypt:n=(\d+),r=(\d+),p=(\d+)$")


class StaffError(Exception):
    """A staff account operation was refused; the message is safe to show to staff."""


def check_pin_format(pin: str) -> None:
    """StaffError unless ``pin`` is 4-8 ASCII digits."""
    if not _PIN.match(pin):
        raise StaffError("PIN must be 4-8 digits")


def check_name(name: str) -> str:
    """The trimmed name; StaffError if empty, too long or with control characters."""
    name = name.strip()
    if not name or len(name) > NAME_MAX or any(not c.isprintable() for c in name):
        raise StaffError(f"name must be 1-{NAME_MAX} printable characters")
    return name


def kdf_label(n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    return f"scrypt:n={n},r={r},p={p}"


def derive(pin: str, salt: bytes, kdf: str) -> bytes:
    """The scrypt key of ``pin`` with the stored parameters (slow on purpose)."""
    m = _KDF.match(kdf)
    if m is None:
        raise StaffError(f"unknown PIN hash scheme {kdf!r}")
    n, r, p = (int(g) for g in m.groups())
    return hashlib.scrypt(
        pin.encode("ascii"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=2 * 128 * r * n + 1024 * 1024,
        dklen=KEY_BYTES,
    )


@dataclass(frozen=True)
class StaffAccount:
    name: str
    created_at: str
    last_login_at: str | None
    failed: int
    lockouts: int
    locked_until: float


@dataclass(frozen=True)
class PinCheck:
    """What a PIN is checked against; :meth:`matches` is the slow part (thread-safe)."""

    name: str
    salt: bytes
    pin_hash: bytes
    kdf: str

    def matches(self, pin: str) -> bool:
        if not _PIN.match(pin):
            return False
        return hmac.compare_digest(derive(pin, self.salt, self.kdf), self.pin_hash)


@dataclass(frozen=True)
class LoginResult:
    """The outcome of one login attempt.

    ``ok``: the PIN was right. ``locked_seconds``: the account is locked for this
    long (0 when not locked). ``tries_left``: wrong PINs left before a lockout.
    """

    ok: bool
    locked_seconds: float = 0.0
    tries_left: int = MAX_FAILURES
    unknown: bool = False


def lockout_seconds(lockouts: int) -> float:
    """How long the ``lockouts``-th lockout (1-based) lasts: 5 min, doubling, capped."""
    return float(min(LOCKOUT_CAP_SECONDS, LOCKOUT_SECONDS * 2.0 ** max(0, lockouts - 1)))


class StaffAccounts:
    """The staff accounts and the staff log in the kiosk's store.

    ``now`` is wall-clock time (seconds since the epoch), injectable for tests.
    """

    def __init__(self, store: Store, *, now: Callable[[], float] = time.time) -> None:
        self.store = store
        self.now = now

    # -- accounts -------------------------------------------------------------------

    def add(self, name: str, pin: str) -> StaffAccount:
        """Create an account; StaffError if the name exists or the PIN is malformed."""
        name = check_name(name)
        check_pin_format(pin)
        salt = os.urandom(SALT_BYTES)
        kdf = kdf_label()
        key = derive(pin, salt, kdf)
        if self.get(name) is not None:
            raise StaffError(f"staff member {name!r} already exists")
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO staff (name, pin_hash, salt, kdf, created_at) VALUES (?,?,?,?,?)",
                [name, key, salt, kdf, now_local()],
            )
            _log(db, name, "account_added")
        account = self.get(name)
        assert account is not None
        return account

    def remove(self, name: str) -> bool:
        """Delete an account (its log lines stay); False if there was none."""
        with self.store.transaction() as db:
            cur = db.execute("DELETE FROM staff WHERE name = ?", [name])
            if cur.rowcount:
                _log(db, name, "account_removed")
        return bool(cur.rowcount)

    def unlock(self, name: str) -> bool:
        """Lift a lockout and forget the failures (an administrator's command)."""
        with self.store.transaction() as db:
            cur = db.execute(
                "UPDATE staff SET failed=0, lockouts=0, locked_until=0 WHERE name = ?", [name]
            )
            if cur.rowcount:
                _log(db, name, "unlocked")
        return bool(cur.rowcount)

    def get(self, name: str) -> StaffAccount | None:
        rows = list(self.store.db.query("SELECT * FROM staff WHERE name = ?", [name]))
        return _account(rows[0]) if rows else None

    def all(self) -> list[StaffAccount]:
        return [_account(r) for r in self.store.db.query("SELECT * FROM staff ORDER BY name")]

    def names(self) -> list[str]:
        return [a.name for a in self.all()]

    # -- logging in -------------------------------------------------------------------

    def locked_for(self, name: str) -> float:
        """Seconds the account stays locked (0 when it is not)."""
        account = self.get(name)
        if account is None:
            return 0.0
        return max(0.0, account.locked_until - self.now())

    def prepare(self, name: str) -> PinCheck | LoginResult:
        """What to check a PIN against, or the refusal (locked / unknown) without any check."""
        rows = list(self.store.db.query("SELECT * FROM staff WHERE name = ?", [name]))
        if not rows:
            return LoginResult(ok=False, unknown=True)
        row = rows[0]
        left = float(row["locked_until"]) - self.now()
        if left > 0:
            return LoginResult(ok=False, locked_seconds=left, tries_left=0)
        return PinCheck(name, bytes(row["salt"]), bytes(row["pin_hash"]), str(row["kdf"]))

    def record(self, name: str, ok: bool) -> LoginResult:
        """Apply the outcome of a check: reset on success, count (and maybe lock) on failure."""
        with self.store.transaction() as db:
            rows = list(db.query("SELECT * FROM staff WHERE name = ?", [name]))
            if not rows:
                return LoginResult(ok=False, unknown=True)
            row = rows[0]
            if ok:
                db.execute(
                    "UPDATE staff SET failed=0, lockouts=0, locked_until=0, last_login_at=?"
                    " WHERE name=?",
                    [now_local(), name],
                )
                _log(db, name, "login")
                return LoginResult(ok=True)
            failed = int(row["failed"]) + 1
            if failed < MAX_FAILURES:
                db.execute("UPDATE staff SET failed=? WHERE name=?", [failed, name])
                _log(db, name, "login_failed")
                return LoginResult(ok=False, tries_left=MAX_FAILURES - failed)
            lockouts = int(row["lockouts"]) + 1
            seconds = lockout_seconds(lockouts)
            db.execute(
                "UPDATE staff SET failed=0, lockouts=?, locked_until=? WHERE name=?",
                [lockouts, self.now() + seconds, name],
            )
            _log(db, name, "locked", f"{int(seconds)} s")
        log.warning("staff account locked for %d s after %d wrong PINs", seconds, MAX_FAILURES)
        return LoginResult(ok=False, locked_seconds=seconds, tries_left=0)

    def verify(self, name: str, pin: str) -> LoginResult:
        """One login attempt, all on this thread (CLI and tests; the screen splits it)."""
        check = self.prepare(name)
        if isinstance(check, LoginResult):
            return check
        return self.record(name, check.matches(pin))

    # -- the staff log ------------------------------------------------------------------

    def log(self, name: str, action: str, detail: str = "") -> None:
        """Append one line to the staff log (never a PIN, never resident data)."""
        with self.store.transaction() as db:
            _log(db, name, action, detail)

    def log_lines(self, limit: int = 100) -> list[dict[str, str]]:
        """The newest lines of the staff log, newest first."""
        return [
            {k: str(v) for k, v in r.items()}
            for r in self.store.db.query(
                "SELECT at, staff, action, detail FROM staff_log ORDER BY seq DESC LIMIT ?",
                [limit],
            )
        ]


def _log(db: sqlite_utils.Database, name: str, action: str, detail: str = "") -> None:
    db.execute(
        "INSERT INTO staff_log (at, staff, action, detail) VALUES (?,?,?,?)",
        [now_local(), name, action, detail],
    )


def _account(row: dict[str, Any]) -> StaffAccount:
    return StaffAccount(
        name=str(row["name"]),
        created_at=str(row["created_at"]),
        last_login_at=None if row["last_login_at"] is None else str(row["last_login_at"]),
        failed=int(row["failed"]),
        lockouts=int(row["lockouts"]),
        locked_until=float(row["locked_until"]),
    )
