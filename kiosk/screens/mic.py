"""The microphone button and the "what I heard" banner of speech input.

The button sits in the common bar just left of 再说一遍, so it is in the same place on every
screen (object name ``common_mic``: the audit checks its geometry is identical everywhere).
It keeps one size for both of its labels (说话 / 正在听…), and while listening it is
painted amber *and* says 正在听… (never colour alone). It is hidden, keeping its place,
when speech input is not available (no model, no microphone).
"""

from __future__ import annotations

from kiosk.qt import QtCore, QtGui, QtWidgets
from kiosk.screens.base import margins
from kiosk.screens.widgets import BigButton, TextLabel, fill_background
from kiosk.screens.window import COMMON_BUTTON_MM, MainWindow
from kiosk.texts import t
from kiosk.theme import TEXT_LABEL_MM, Metrics, Palette


class MicButton(BigButton):
    """说话: tap to talk (tap again to finish early). Emits ``clicked``."""

    def __init__(self, metrics: Metrics, parent: QtWidgets.QWidget | None = None) -> None:
        self.listening = False
        super().__init__(
            t("voice.mic"),
            metrics,
            role="bar",
            min_mm=COMMON_BUTTON_MM,
            label_mm=TEXT_LABEL_MM,
            name="common_mic",
            parent=parent,
        )
        policy = QtWidgets.QSizePolicy(
            QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed
        )
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)

    @property
    def colors(self) -> tuple[QtGui.QColor, QtGui.QColor, QtGui.QColor]:
        if self.listening:
            return (Palette.FOCUS, Palette.TEXT, Palette.BAR_TEXT)
        return super().colors

    def set_listening(self, on: bool) -> None:
        self.listening = on
        text = t("voice.listening") if on else t("voice.mic")
        self.setText(text)
        self.setAccessibleName(text)
        self.update()

    def _update_minimum(self) -> None:
        # One size for both labels, so nothing in the bar moves when it starts listening.
        current = self.text()
        size = QtCore.QSize()
        for text in (t("voice.mic"), t("voice.listening")):
            self.setText(text)
            size = size.expandedTo(self._text_size())
        self.setText(current)
        w, h = self.min_mm
        size = size.expandedTo(QtCore.QSize(self.metrics.mm(w), self.metrics.mm(h)))
        self.setFixedSize(size)


class VoiceBanner(QtWidgets.QFrame):
    """Under the common bar while listening: 正在听… then the words heard so far, large."""

    def __init__(self, metrics: Metrics, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("voice_banner")
        fill_background(self, Palette.WARNING_BG, Palette.WARNING_TEXT)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(margins(metrics, 2))
        self.text = TextLabel(
            "",
            metrics,
            size_mm=TEXT_LABEL_MM,
            bold=True,
            wrap=False,
            name="voice_banner_text",
            parent=self,
        )
        row.addWidget(self.text)
        self._hide_timer = QtCore.QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.timeout.connect(self.hide)
        self.hide()

    def show_text(self, text: str, *, hide_after_ms: int = 0) -> None:
        self.text.setText(text)
        self.show()
        if hide_after_ms:
            self._hide_timer.start(hide_after_ms)
        else:
            self._hide_timer.stop()

    def apply_metrics(self, metrics: Metrics) -> None:
        self.text.apply_metrics(metrics)


def install_mic(window: MainWindow) -> tuple[MicButton, VoiceBanner]:
    """Put the mic button in the common bar (left of 再说一遍) and the banner under the bar."""
    mic = MicButton(window.metrics, window.bar)
    bar = window.bar.layout()
    assert isinstance(bar, QtWidgets.QBoxLayout)
    bar.insertWidget(bar.indexOf(window.common["repeat"]), mic)
    mic.hide()
    banner = VoiceBanner(window.metrics, window)
    window.add_banner(banner)
    return mic, banner
