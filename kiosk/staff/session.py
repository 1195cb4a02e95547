"""Who is logged in to staff mode, and the 2-minute idle logout.

``StaffSession`` holds the logged-in staff member's name. Any input while logged
in (``poke``) restarts the idle time; after :data:`IDLE_LOGOUT_SECONDS` without
input ``check`` logs out with the reason ``"idle"``. The clock is injectable (the
app's clock, fake in tests). QtCore only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from kiosk.qt import QtCore, Signal

IDLE_LOGOUT_SECONDS: Final = 120.0
TICK_MS: Final = 1000


class StaffSession(QtCore.QObject):
    """The staff mode session.

    Signals: logged_in(str name), logged_out(str name, str reason) with reason
    "idle", "button", "home" (an elder screen was shown) or "exit".
    """

    logged_in = Signal(str)
    logged_out = Signal(str, str)

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        idle_seconds: float = IDLE_LOGOUT_SECONDS,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.name: str | None = None
        self._last_input = clock()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.check)

    @property
    def active(self) -> bool:
        return self.name is not None

    def login(self, name: str) -> None:
        if self.name is not None and self.name != name:
            self.logout("switch")
        self.name = name
        self._last_input = self.clock()
        self._timer.start()
        self.logged_in.emit(name)

    def logout(self, reason: str) -> None:
        """End staff mode (no-op when nobody is logged in)."""
        name, self.name = self.name, None
        self._timer.stop()
        if name is not None:
            self.logged_out.emit(name, reason)

    def poke(self) -> None:
        """Any touch or key while logged in."""
        self._last_input = self.clock()

    def idle_for(self) -> float:
        return self.clock() - self._last_input

    def check(self) -> None:
        if self.name is not None and self.idle_for() >= self.idle_seconds:
            self.logout("idle")
