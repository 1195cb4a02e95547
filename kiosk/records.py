"""The one place screens save records: the store write, then the news that it happened.

``Recorder.save`` writes through ``Store.add`` (one transaction per user
action) and, only once the record is on disk, emits ``saved`` so that the
urgent sender can take a call or a health alert to the district at once.
QtCore only.
"""

from __future__ import annotations

from typing import Any

from kiosk.qt import QtCore, Signal
from kiosk.store import Store


def is_urgent(kind: str, payload: dict[str, Any]) -> bool:
    """Calls and dangerous health readings go to the district at once."""
    return kind == "call" or (kind == "health" and bool(payload.get("alert")))


class Recorder(QtCore.QObject):
    """Saves records for the screens.

    Signals: saved(str id, str kind, bool urgent) after the record is on disk.
    """

    saved = Signal(str, str, bool)

    def __init__(self, store: Store, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store

    def save(self, kind: str, payload: dict[str, Any]) -> str:
        """Save one record; raises kiosk.store.StoreError (e.g. disk full) if it was not saved."""
        record_id = self.store.add(kind, payload)
        self.saved.emit(record_id, kind, is_urgent(kind, payload))
        return record_id
