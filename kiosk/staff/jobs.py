"""Run one slow function off the UI thread and get its result back on the UI thread.

``BackgroundJob(fn).start()`` runs ``fn`` on a daemon thread; ``done(object)``
then carries its return value, or the exception it raised, to the UI thread
(the job object lives there, so the signal is queued). Used for the PIN hash
check and the ``--check`` rows of the sync panel. QtCore only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kiosk.qt import QtCore, Signal

log = logging.getLogger(__name__)


class BackgroundJob(QtCore.QObject):
    """One call of ``fn`` on a worker thread. Signals: done(object) result or exception."""

    done = Signal(object)

    def __init__(self, fn: Callable[[], Any], *, name: str, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.fn = fn
        self.worker = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> BackgroundJob:
        self.worker.start()
        return self

    def running(self) -> bool:
        return self.worker.is_alive()

    def join(self, timeout: float) -> None:
        self.worker.join(timeout)

    def _run(self) -> None:
        try:
            result: Any = self.fn()
        except Exception as exc:  # delivered to the owner, which shows and logs it
            log.warning("background job %s failed: %s", self.worker.name, type(exc).__name__)
            result = exc
        try:
            self.done.emit(result)
        except RuntimeError as exc:  # the owner (a screen) was deleted while we ran
            log.info("background job %s finished after its owner: %s", self.worker.name, exc)
