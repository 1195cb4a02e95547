"""The base of every screen and the context screens are built with.

A screen is a page in the main window's stack. It shows one step of one
journey, says what it shows (``spoken_text``), and forgets the resident when
``reset`` is called (idle timeout, or home after a finished journey).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from kiosk.config import Config
from kiosk.qt import QtCore, QtGui, QtWidgets, Signal
from kiosk.screens.widgets import BigButton, TextLabel, fill_background
from kiosk.texts import t
from kiosk.theme import Metrics, Palette

if TYPE_CHECKING:
    from kiosk.store import Store


@dataclass
class ScreenContext:
    """What screens are built with: settings, sizes, the store and the core services.

    ``services`` holds the optional core services (speaker, call desk, ...) by
    name; a screen checks for a service before offering what depends on it.
    """

    config: Config
    metrics: Metrics
    services: dict[str, Any] = field(default_factory=dict)
    _store: Store | None = None

    @property
    def store(self) -> Store:
        """The local store (opened by the app right after the home screen is shown)."""
        if self._store is None:
            raise RuntimeError("the store is not open yet (KioskApp.complete_start)")
        return self._store

    @store.setter
    def store(self, store: Store) -> None:
        self._store = store


class Screen(QtWidgets.QWidget):
    """One page of the kiosk.

    Signals:
        navigate(str): go to the screen with this name.
        go_back(): leave this screen (same as the common 返回 button).
        go_home(): the journey is finished; return home and forget the resident.
        speak(str): say this dynamic text now (readings, status, counts).
    """

    name: ClassVar[str] = ""
    title_key: ClassVar[str] = ""
    show_back: ClassVar[bool] = True
    elder: ClassVar[bool] = True  # elder floors of the audit apply (staff screens: False)

    navigate = Signal(str)
    go_back = Signal()
    go_home = Signal()
    speak = Signal(str)

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(f"screen_{self.name}")
        self.setAccessibleName(self.title())
        fill_background(self, Palette.BACKGROUND, Palette.TEXT)

    @property
    def metrics(self) -> Metrics:
        return self.ctx.metrics

    def title(self) -> str:
        return t(self.title_key)

    def on_enter(self) -> None:
        """Called each time the screen is shown."""

    def reset(self) -> None:
        """Forget everything the resident entered or was shown on this screen."""

    def demo(self) -> None:
        """Fill in made-up, representative content (for screenshots and the audit)."""

    def spoken_text(self) -> str:
        """What is said on entry: the title and the choices on screen."""
        choices = [b.text().replace("\n", "") for b in self.visible_buttons()]
        return "，".join([self.title(), *choices]) + "。"

    def visible_buttons(self) -> list[BigButton]:
        return [b for b in self.findChildren(BigButton) if b.isVisibleTo(self)]

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        """Screen-specific keys (e.g. digits); return True when handled."""
        return False

    def apply_metrics(self, metrics: Metrics) -> None:
        """Re-size all text and targets after a change of px_per_mm or font scale."""
        for w in self.findChildren(BigButton):
            w.apply_metrics(metrics)
        for lab in self.findChildren(TextLabel):
            lab.apply_metrics(metrics)

    # helpers for subclasses

    def button(
        self,
        text_key: str,
        *,
        hint_key: str = "",
        role: str = "primary",
        min_mm: tuple[float, float] = (40.0, 20.0),
        name: str = "",
        **kw: Any,
    ) -> BigButton:
        return BigButton(
            t(text_key),
            self.metrics,
            hint=t(hint_key) if hint_key else "",
            role=role,
            min_mm=min_mm,
            name=name or text_key.replace(".", "_"),
            parent=self,
            **kw,
        )

    def label(self, text: str, **kw: Any) -> TextLabel:
        return TextLabel(text, self.metrics, parent=self, **kw)


def margins(metrics: Metrics, mm: float) -> QtCore.QMargins:
    m = metrics.mm(mm)
    return QtCore.QMargins(m, m, m, m)
