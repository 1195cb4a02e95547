"""The main window: the common frame around a stack of screens.

The top bar holds the common controls in the same place on every screen:
返回 on the left, the screen's title, then 再说一遍 and 呼叫帮助 on the right.
A common control that has no behaviour yet is not shown (it keeps its place so
nothing moves). Residents cannot close the window; only staff mode can
(``allow_close``).
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.qt import QtCore, QtGui, QtWidgets, Signal
from kiosk.screens.base import Screen
from kiosk.screens.idle import IdleOverlay
from kiosk.screens.widgets import BigButton, TextLabel, fill_background
from kiosk.texts import t
from kiosk.theme import TEXT_LABEL_MM, TEXT_TITLE_MM, Metrics, Palette

BAR_HEIGHT_MM = 30.0
COMMON_BUTTON_MM = (45.0, 22.0)
COMMON_KEYS = ("back", "repeat", "call")


class MainWindow(QtWidgets.QWidget):
    """The kiosk's only window.

    Signals:
        screen_changed(str): a screen was shown (its name).
        went_home(): the window went home and every screen was reset.
    """

    screen_changed = Signal(str)
    went_home = Signal()

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self.metrics = metrics
        self.allow_close = False
        self.screens: dict[str, Screen] = {}
        self.history: list[str] = []
        self.setObjectName("main_window")
        self.setWindowTitle(t("home.title"))
        self.setAccessibleName(t("home.title"))
        fill_background(self, Palette.BACKGROUND, Palette.TEXT)

        root = QtWidgets.QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        self.bar = QtWidgets.QFrame(self)
        self.bar.setObjectName("common_bar")
        fill_background(self.bar, Palette.BAR, Palette.BAR_TEXT)
        bar = QtWidgets.QHBoxLayout(self.bar)
        m = metrics.mm(4)
        bar.setContentsMargins(m, m, m, m)
        bar.setSpacing(metrics.mm(8))
        self.common: dict[str, BigButton] = {}
        self._handlers: dict[str, Callable[[], None]] = {}
        for key, text_key, role in (
            ("back", "common.back", "bar"),
            ("repeat", "common.repeat", "bar"),
            ("call", "common.call_help", "bar_call"),
        ):
            b = BigButton(
                t(text_key),
                metrics,
                role=role,
                min_mm=COMMON_BUTTON_MM,
                label_mm=TEXT_LABEL_MM,
                name=f"common_{key}",
                parent=self.bar,
            )
            keep = QtWidgets.QSizePolicy(
                QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed
            )
            keep.setRetainSizeWhenHidden(True)
            b.setSizePolicy(keep)
            b.hide()
            b.clicked.connect(lambda _=False, k=key: self._common_clicked(k))
            self.common[key] = b
        self.title = TextLabel(
            "",
            metrics,
            size_mm=TEXT_TITLE_MM,
            bold=True,
            wrap=False,
            name="screen_title",
            parent=self.bar,
        )
        bar.addWidget(self.common["back"])
        bar.addWidget(self.title, 1)
        bar.addWidget(self.common["repeat"])
        bar.addWidget(self.common["call"])
        root.addWidget(self.bar)
        # A slot under the bar for banners that stay on every screen (e.g. an open call).
        self.banner_area = QtWidgets.QVBoxLayout()
        self.banner_area.setContentsMargins(0, 0, 0, 0)
        self.banner_area.setSpacing(0)
        root.addLayout(self.banner_area)
        self.notice = TextLabel(
            "", metrics, size_mm=TEXT_LABEL_MM, bold=True, name="notice", parent=self
        )
        fill_background(self.notice, Palette.WARNING_BG, Palette.WARNING_TEXT)
        self.notice.hide()
        self.banner_area.addWidget(self.notice)
        self.stack = QtWidgets.QStackedWidget(self)
        root.addWidget(self.stack, 1)
        self.idle_overlay = IdleOverlay(metrics, self)
        self._set_common_enabled("back", self.back)
        self._fix_common_sizes()

    def _fix_common_sizes(self) -> None:
        """The common controls share one size so they sit identically on every screen."""
        size = QtCore.QSize()
        for b in self.common.values():
            size = size.expandedTo(b.sizeHint())
        for b in self.common.values():
            b.setFixedSize(size)

    # -- common controls ------------------------------------------------------------

    def _set_common_enabled(self, key: str, handler: Callable[[], None]) -> None:
        self._handlers[key] = handler

    def enable_common(self, key: str, handler: Callable[[], None]) -> None:
        """Give a common control its behaviour; it is shown from now on."""
        if key not in COMMON_KEYS:
            raise ValueError(f"unknown common control {key!r}")
        self._handlers[key] = handler
        self._refresh_common()

    def _common_clicked(self, key: str) -> None:
        handler = self._handlers.get(key)
        if handler is not None:
            handler()

    def _refresh_common(self) -> None:
        screen = self.current_screen()
        for key, b in self.common.items():
            wanted = key in self._handlers
            if key == "back":
                wanted = screen is not None and screen.show_back
            b.setVisible(wanted)

    def add_banner(self, widget: QtWidgets.QWidget) -> None:
        self.banner_area.addWidget(widget)

    def show_notice(self, text: str) -> None:
        """A short message under the bar (e.g. after an error); gone at the next screen."""
        self.notice.setText(text)
        self.notice.show()

    # -- screens ------------------------------------------------------------------

    def register(self, screen: Screen) -> None:
        if screen.name in self.screens:
            raise ValueError(f"screen {screen.name!r} registered twice")
        self.screens[screen.name] = screen
        self.stack.addWidget(screen)
        screen.navigate.connect(self.show_screen)
        screen.go_back.connect(self.back)
        screen.go_home.connect(self.home)

    def current_screen(self) -> Screen | None:
        w = self.stack.currentWidget()
        return w if isinstance(w, Screen) else None

    def show_screen(self, name: str, *, remember: bool = True) -> None:
        screen = self.screens[name]
        current = self.current_screen()
        if remember and current is not None and current is not screen:
            self.history.append(current.name)
        self.stack.setCurrentWidget(screen)
        self.notice.hide()
        self.title.setText(screen.title())
        self._refresh_common()
        screen.on_enter()
        self.screen_changed.emit(name)

    def back(self) -> None:
        if self.history:
            self.show_screen(self.history.pop(), remember=False)
        else:
            self.home()

    def home(self) -> None:
        """Go home and forget the resident: every screen is reset."""
        self.idle_overlay.hide()
        self.history.clear()
        for screen in self.screens.values():
            screen.reset()
        self.show_screen("home", remember=False)
        self.went_home.emit()

    # -- keyboard -----------------------------------------------------------------

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        """Keys that work everywhere (a tactile keypad at the counter)."""
        key = QtCore.Qt.Key(event.key())
        keys = QtCore.Qt.Key
        if key in (keys.Key_Right, keys.Key_Down, keys.Key_Tab):
            return self.focusNextPrevChild(True)
        if key in (keys.Key_Left, keys.Key_Up, keys.Key_Backtab):
            return self.focusNextPrevChild(False)
        if key in (keys.Key_Return, keys.Key_Enter, keys.Key_Space):
            focused = QtWidgets.QApplication.focusWidget()
            if isinstance(focused, QtWidgets.QAbstractButton) and focused.isVisible():
                focused.animateClick()
                return True
            return False
        if key == keys.Key_Escape:
            return True  # residents cannot leave full screen
        screen = self.current_screen()
        return screen is not None and screen.handle_key(event)

    # -- geometry, closing ----------------------------------------------------------

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.idle_overlay.isVisible():
            self.idle_overlay.setGeometry(self.rect())

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if self.allow_close:
            event.accept()
        else:
            event.ignore()

    def apply_metrics(self, metrics: Metrics) -> None:
        self.metrics = metrics
        for b in self.common.values():
            b.setMinimumSize(0, 0)
            b.setMaximumSize(16777215, 16777215)
            b.apply_metrics(metrics)
        self._fix_common_sizes()
        self.title.apply_metrics(metrics)
        self.notice.apply_metrics(metrics)
        for screen in self.screens.values():
            screen.apply_metrics(metrics)
        self.idle_overlay.apply_metrics(metrics)
