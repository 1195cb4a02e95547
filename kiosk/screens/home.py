"""The home screen: three huge buttons, 一键呼叫 / 健康监测 / 社区活动."""

from __future__ import annotations

from kiosk.qt import QtCore, QtGui, QtWidgets
from kiosk.screens.base import Screen, ScreenContext, margins
from kiosk.texts import t
from kiosk.theme import HOME_BUTTON_MIN_MM, TEXT_BODY_MM, TEXT_LABEL_MM, TEXT_TITLE_MM

HOME_BUTTON_MM = (135.0, 100.0)  # width, height; the floor is 60 x 60 mm


class HomeScreen(Screen):
    """Where every resident starts and every journey ends.

    Digits 1-3 on the keypad choose a button. Signals: navigate(str) with the
    journey's screen name; the call button emits ``call_requested`` instead so
    the call is saved before anything else happens.
    """

    name = "home"
    title_key = "home.title"
    show_back = False

    call_requested = QtCore.Signal()

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        assert HOME_BUTTON_MM[0] >= HOME_BUTTON_MIN_MM and HOME_BUTTON_MM[1] >= HOME_BUTTON_MIN_MM
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(margins(self.metrics, 8))
        layout.setSpacing(self.metrics.mm(8))
        self.greeting = self.label(
            t("home.greeting"), size_mm=TEXT_TITLE_MM, bold=True, name="home_greeting"
        )
        layout.addWidget(self.greeting)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(self.metrics.mm(12))
        self.call_button, self.health_button, self.activities_button = (
            self.button(
                f"home.{key}",
                hint_key=f"home.{key}_hint",
                role=role,
                min_mm=HOME_BUTTON_MM,
                label_mm=TEXT_LABEL_MM * 1.3,
                hint_mm=TEXT_BODY_MM,
                name=f"home_{key}",
            )
            for key, role in (("call", "call"), ("health", "health"), ("activities", "activity"))
        )
        for b in self.choices():
            row.addWidget(b)
        layout.addLayout(row, 1)
        volume = QtWidgets.QHBoxLayout()
        volume.setSpacing(self.metrics.mm(10))
        # 工作人员: discreet by place (bottom left, away from the three journeys) and by its
        # neutral colour; it still meets the elder floors (>= 20 mm target, >= 12 mm label).
        self.staff_button = self.button(
            "staff.entry", role="neutral", min_mm=(40.0, 22.0), name="staff_entry"
        )
        volume.addWidget(self.staff_button)
        volume.addStretch(1)
        self.louder = self.button(
            "speech.louder", role="neutral", min_mm=(50.0, 22.0), name="volume_up"
        )
        self.quieter = self.button(
            "speech.quieter", role="neutral", min_mm=(50.0, 22.0), name="volume_down"
        )
        volume.addWidget(self.louder)
        volume.addWidget(self.quieter)
        layout.addLayout(volume)
        self.call_button.clicked.connect(self.call_requested)
        self.health_button.clicked.connect(lambda: self.navigate.emit("health"))
        self.activities_button.clicked.connect(lambda: self.navigate.emit("activities"))
        self.staff_button.clicked.connect(lambda: self.navigate.emit("staff_login"))

    def choices(self) -> list[QtWidgets.QPushButton]:
        return [self.call_button, self.health_button, self.activities_button]

    def spoken_text(self) -> str:
        parts = [t("home.greeting")]
        parts += [f"{b.text()}，{b.hint}" for b in self.visible_buttons() if b.hint]
        return "。".join(parts) + "。"

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        keys = {QtCore.Qt.Key.Key_1: 0, QtCore.Qt.Key.Key_2: 1, QtCore.Qt.Key.Key_3: 2}
        index = keys.get(QtCore.Qt.Key(event.key()))
        if index is None:
            return False
        button = self.choices()[index]
        if button.isVisible():
            button.setFocus()
            button.animateClick()
        return True

    def on_enter(self) -> None:
        self.call_button.setFocus()
