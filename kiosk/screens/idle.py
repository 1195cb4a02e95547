"""The idle warning overlay: 「您还需要更多时间吗？」 with one big 继续 button."""

from __future__ import annotations

from kiosk.qt import QtCore, QtWidgets, Signal
from kiosk.screens.base import margins
from kiosk.screens.widgets import BigButton, TextLabel, fill_background
from kiosk.texts import t
from kiosk.theme import TEXT_LABEL_MM, TEXT_TITLE_MM, Metrics, Palette


class IdleOverlay(QtWidgets.QWidget):
    """Covers the whole window while the idle warning runs.

    Signals: continue_clicked() when the resident taps 继续.
    """

    name = "idle_warning"
    continue_clicked = Signal()

    def __init__(self, metrics: Metrics, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("idle_warning")
        self.setAccessibleName(t("common.idle_question"))
        fill_background(self, Palette.WARNING_BG, Palette.WARNING_TEXT)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(margins(metrics, 20))
        layout.setSpacing(metrics.mm(10))
        layout.addStretch(1)
        self.question = TextLabel(
            t("common.idle_question"),
            metrics,
            size_mm=TEXT_TITLE_MM * 1.4,
            bold=True,
            name="idle_question",
            parent=self,
        )
        self.detail = TextLabel("", metrics, size_mm=TEXT_LABEL_MM, name="idle_detail", parent=self)
        self.button = BigButton(
            t("common.idle_continue"),
            metrics,
            role="primary",
            min_mm=(120.0, 45.0),
            label_mm=TEXT_TITLE_MM * 1.4,
            name="idle_continue",
            parent=self,
        )
        layout.addWidget(self.question)
        layout.addWidget(self.detail)
        layout.addWidget(self.button, 0, QtCore.Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.button.clicked.connect(self.continue_clicked)
        self.hide()

    def show_countdown(self, seconds_left: int) -> None:
        self.detail.setText(t("common.idle_detail", seconds=seconds_left))
        if not self.isVisible():
            parent = self.parentWidget()
            if parent is not None:
                self.setGeometry(parent.rect())
            self.show()
            self.raise_()
            self.button.setFocus()

    def spoken_text(self) -> str:
        return f"{t('common.idle_question')}{self.detail.text()}。{self.button.text()}"

    def apply_metrics(self, metrics: Metrics) -> None:
        for w in self.findChildren(BigButton):
            w.apply_metrics(metrics)
        for lab in self.findChildren(TextLabel):
            lab.apply_metrics(metrics)
