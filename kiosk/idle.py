"""The idle timer: a resident who walks away is warned, then forgotten.

After ``idle_seconds`` without input away from home, ``warning(seconds_left)``
is emitted; any input (``poke``) cancels it (``resumed``); when the warning has
run ``warning_seconds`` without input, ``timed_out`` is emitted and the app
goes home and resets every screen. The clock is injectable so tests can move
time without waiting. QtCore only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kiosk.qt import QtCore, Signal


class IdleMonitor(QtCore.QObject):
    """Watches for inactivity while ``armed`` (i.e. away from home).

    Signals: warning(int) with the seconds left (emitted once when the warning
    starts and then every tick), resumed(), timed_out().
    """

    warning = Signal(int)
    resumed = Signal()
    timed_out = Signal()

    def __init__(
        self,
        idle_seconds: float,
        warning_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        tick_ms: int = 250,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if warning_seconds < 20:
            raise ValueError("the idle warning must give at least 20 s to continue")
        self.idle_seconds = idle_seconds
        self.warning_seconds = warning_seconds
        self.clock = clock
        self.armed = False
        self.warning_shown = False
        self._last_input = clock()
        self._last_left: int | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def set_armed(self, armed: bool) -> None:
        """Arm away from home, disarm at home (no time limit there)."""
        self.armed = armed
        self.poke()

    def poke(self) -> None:
        """Any touch, key or voice input."""
        self._last_input = self.clock()
        if self.warning_shown:
            self.warning_shown = False
            self._last_left = None
            self.resumed.emit()

    def check(self) -> None:
        if not self.armed:
            return
        idle = self.clock() - self._last_input
        if idle < self.idle_seconds:
            return
        left = max(0, int(self.idle_seconds + self.warning_seconds - idle + 0.999))
        if left <= 0:
            self.warning_shown = False
            self._last_left = None
            self.armed = False
            self.timed_out.emit()
            return
        if not self.warning_shown:
            self.warning_shown = True
        if left != self._last_left:
            self._last_left = left
            self.warning.emit(left)
