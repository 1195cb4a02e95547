"""The call desk: one-tap calls for help, saved first, never doubled, never edited.

``request`` saves a ``call`` record before anything says it was sent; while a
call is open a second request returns the open one. ``cancel`` saves a new
``call`` record that points at the call (``cancels``); the old one is never
changed. Status changes (taken by staff here, dispatched / done by the district)
arrive in the store's ``record_status`` table; ``refresh`` picks them up and
emits ``status_changed``. QtCore only, no widgets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from kiosk.qt import QtCore, Signal
from kiosk.store import Store

CLOSED_STATUSES = frozenset({"done", "cancelled", "rejected"})
TAKEN_STATUSES = frozenset({"taken", "acknowledged", "dispatched", "done"})
RECOVER_HOURS = 12  # an open call older than this is not brought back after a restart


class CallDesk(QtCore.QObject):
    """Owns the open call, if any.

    Signals:
        call_opened(str): a new call was saved (its record id).
        call_closed(str): the open call was cancelled or done.
        status_changed(str, str): record id, new status (taken/dispatched/done/...).
        alert_changed(bool): whether staff must be alerted (an open call nobody took).
    """

    call_opened = Signal(str)
    call_closed = Signal(str)
    status_changed = Signal(str, str)
    alert_changed = Signal(bool)

    def __init__(
        self,
        store: Store,
        *,
        save: Callable[[str, dict[str, Any]], str] | None = None,
        cancel_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.save = save or store.add
        self.cancel_seconds = cancel_seconds
        self.clock = clock
        self.open_id: str | None = None
        self.opened_at = 0.0
        self.status: str | None = None
        self._recover()

    # -- queries --------------------------------------------------------------------

    def waited_seconds(self) -> int:
        return int(self.clock() - self.opened_at) if self.open_id else 0

    def can_cancel(self) -> bool:
        return self.open_id is not None and self.clock() - self.opened_at <= self.cancel_seconds

    def needs_staff(self) -> bool:
        return self.open_id is not None and self.status not in TAKEN_STATUSES

    # -- actions --------------------------------------------------------------------

    def request(self, source: str) -> tuple[str, bool]:
        """Save a call (or return the open one). Returns (record id, newly saved).

        Raises kiosk.store.StoreError if it could not be saved: the caller must
        then say so and show the hotline; nothing may claim the call was sent.
        """
        if self.open_id is not None:
            return self.open_id, False
        record_id = self.save("call", {"reason": "help", "source": source})
        self.open_id = record_id
        self.opened_at = self.clock()
        self.status = None
        self.call_opened.emit(record_id)
        self.alert_changed.emit(True)
        return record_id, True

    def cancel(self) -> str | None:
        """Cancel the open call within the cancel window; returns the new record's id."""
        if self.open_id is None or not self.can_cancel():
            return None
        call_id = self.open_id
        cancel_id = self.save(
            "call", {"reason": "help", "cancelled": True, "cancels": call_id, "source": "button"}
        )
        self.store.add_status(call_id, "cancelled", source="local")
        self._close(call_id)
        return cancel_id

    def mark(self, status: str, note: str = "") -> None:
        """A local status change by staff on this kiosk (taken / done)."""
        if self.open_id is None:
            return
        self.store.add_status(self.open_id, status, note, source="local")
        self.refresh()

    def refresh(self) -> None:
        """Read the open call's latest status from the store (after staff or sync changed it)."""
        if self.open_id is None:
            return
        latest = self.store.latest_status(self.open_id)
        status = latest["status"] if latest else None
        if status == self.status:
            return
        call_id = self.open_id
        was_alert = self.needs_staff()
        self.status = status
        if status is not None:
            self.status_changed.emit(call_id, status)
        if status in CLOSED_STATUSES:
            self._close(call_id)
        elif was_alert != self.needs_staff():
            self.alert_changed.emit(self.needs_staff())

    # -- internals ------------------------------------------------------------------

    def _close(self, call_id: str) -> None:
        self.open_id = None
        self.status = None
        self.call_closed.emit(call_id)
        self.alert_changed.emit(False)

    def _recover(self) -> None:
        """After a restart, an open call (not cancelled, not done) is open again."""
        since = (datetime.now().astimezone() - timedelta(hours=RECOVER_HOURS)).isoformat()
        rows = list(
            self.store.db.query(
                "SELECT id, payload FROM records WHERE kind='call' AND created_at >= ? "
                "ORDER BY seq DESC LIMIT 20",
                [since],
            )
        )
        cancelled = {
            r.payload.get("cancels")
            for r in self.store.records(kind="call", limit=1000)
            if r.payload.get("cancels")
        }
        for row in rows:
            rec = self.store.get(row["id"])
            if rec is None or rec.payload.get("cancels") or rec.id in cancelled:
                continue
            latest = self.store.latest_status(rec.id)
            status = latest["status"] if latest else None
            if status in CLOSED_STATUSES:
                break
            self.open_id = rec.id
            self.opened_at = self.clock() - max(
                0.0,
                (
                    datetime.now().astimezone() - datetime.fromisoformat(rec.created_at)
                ).total_seconds(),
            )
            self.status = status
            break
