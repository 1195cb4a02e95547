"""「要呼叫工作人员吗？」: a yes / no question before an action that cannot be undone.

Actions started by voice that cannot be undone (a call, a sign-up) ask first; the answer
comes by touch (big 是 / 不是 buttons), keypad (1 / 2) or voice (是 / 不是).
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.qt import QtCore, QtGui, QtWidgets, Signal
from kiosk.screens.base import Screen, ScreenContext, margins
from kiosk.texts import t
from kiosk.theme import TEXT_TITLE_MM

ANSWER_MM = (90.0, 55.0)


class ConfirmScreen(Screen):
    """A question and two answers. Call :meth:`ask` before showing it.

    On an answer the screen leaves (``go_back``) and then runs the answer's action.
    Signals: answered(bool) after the action ran.
    """

    name = "confirm"
    title_key = "voice.confirm_title"
    show_back = False  # 不是 is the way out

    answered = Signal(bool)

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._on_yes: Callable[[], None] | None = None
        self._on_no: Callable[[], None] | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(margins(self.metrics, 8))
        layout.setSpacing(self.metrics.mm(12))
        layout.addStretch(1)
        self.question = self.label(
            "", size_mm=TEXT_TITLE_MM * 1.3, bold=True, name="confirm_question"
        )
        layout.addWidget(self.question)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(self.metrics.mm(20))
        row.addStretch(1)
        self.yes = self.button(
            "voice.yes",
            role="health",
            min_mm=ANSWER_MM,
            label_mm=TEXT_TITLE_MM * 1.3,
            name="confirm_yes",
        )
        self.no = self.button(
            "voice.no",
            role="neutral",
            min_mm=ANSWER_MM,
            label_mm=TEXT_TITLE_MM * 1.3,
            name="confirm_no",
        )
        row.addWidget(self.yes)
        row.addWidget(self.no)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        self.yes.clicked.connect(lambda: self.answer(True))
        self.no.clicked.connect(lambda: self.answer(False))

    def ask(
        self, question: str, on_yes: Callable[[], None], on_no: Callable[[], None] | None = None
    ) -> None:
        self.question.setText(question)
        self._on_yes, self._on_no = on_yes, on_no

    @property
    def pending(self) -> bool:
        return self._on_yes is not None

    def answer(self, yes: bool) -> None:
        """Leave the screen, then run the chosen action (once)."""
        action = self._on_yes if yes else self._on_no
        self._on_yes = self._on_no = None
        self.go_back.emit()
        if action is not None:
            action()
        self.answered.emit(yes)

    def on_enter(self) -> None:
        self.yes.setFocus()

    def spoken_text(self) -> str:
        return f"{self.question.text()}{self.yes.text()}，{self.no.text()}。"

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        key = QtCore.Qt.Key(event.key())
        if key == QtCore.Qt.Key.Key_1:
            self.yes.animateClick()
            return True
        if key == QtCore.Qt.Key.Key_2:
            self.no.animateClick()
            return True
        return False

    def demo(self) -> None:
        self.question.setText(t("voice.confirm_call"))

    def reset(self) -> None:
        self._on_yes = self._on_no = None
        self.question.setText("")
