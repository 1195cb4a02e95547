"""Asking for a mobile number: a number pad, one consent line, and 不留了 to skip.

Shown by other journeys through ``Session.phone_request``; the number is kept
in the session (not asked twice) and forgotten when the resident leaves.
"""

from __future__ import annotations

from kiosk.phone import PHONE_LENGTH, normalize_phone, phone_problem
from kiosk.problems import problem_text
from kiosk.qt import QtCore, QtGui, QtWidgets
from kiosk.screens.base import Screen, ScreenContext, margins
from kiosk.screens.numpad import NumberPad
from kiosk.session import Session
from kiosk.texts import t
from kiosk.theme import TEXT_BODY_MM, TEXT_LABEL_MM


class PhoneScreen(Screen):
    """Number entry for a phone number; answers ``session.phone_request``.

    Signals (from Screen): speak(str) with a problem sentence.
    """

    name = "phone"
    title_key = "phone.title"

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        outer = QtWidgets.QHBoxLayout(self)
        outer.setContentsMargins(margins(self.metrics, 6))
        outer.setSpacing(self.metrics.mm(12))
        left = QtWidgets.QVBoxLayout()
        left.setSpacing(self.metrics.mm(6))
        self.purpose = self.label("", size_mm=TEXT_LABEL_MM, bold=True, name="phone_purpose")
        self.consent = self.label(t("health.consent"), size_mm=TEXT_BODY_MM, name="phone_consent")
        self.problem = self.label("", size_mm=TEXT_BODY_MM, bold=True, name="phone_problem")
        self.skip = self.button(
            "phone.skip", role="neutral", min_mm=(60.0, 22.0), name="phone_skip"
        )
        left.addWidget(self.purpose)
        left.addWidget(self.consent)
        left.addWidget(self.problem)
        left.addStretch(1)
        left.addWidget(self.skip, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        outer.addLayout(left, 1)
        self.pad = NumberPad(
            self.metrics,
            max_length=PHONE_LENGTH,
            confirm_key="numpad.done",
            name="phone_pad",
            parent=self,
        )
        outer.addWidget(self.pad, 0)
        left.insertWidget(1, self.pad.display)
        self.pad.submitted.connect(self._submit)
        self.pad.changed.connect(lambda _v: self.problem.setText(""))
        self.skip.clicked.connect(self._skip)

    @property
    def session(self) -> Session:
        session = self.ctx.services["session"]
        assert isinstance(session, Session)
        return session

    def on_enter(self) -> None:
        request = self.session.phone_request
        self.purpose.setText(t(request.purpose_key) if request else t("phone.title"))
        self.skip.setVisible(request is None or request.allow_skip)
        self.pad.set_value("")
        self.problem.setText("")
        self.pad.keys["1"].setFocus()

    def spoken_text(self) -> str:
        parts = [self.purpose.text(), self.consent.text()]
        if self.skip.isVisible():
            parts.append(t("phone.skip_spoken"))
        return "".join(parts)

    def _submit(self, value: str) -> None:
        problem = phone_problem(value)
        if problem is not None:
            sentence = problem_text(problem)
            self.problem.setText(sentence)
            self.speak.emit(sentence)
            return
        number = normalize_phone(value)
        self.session.phone = number
        self._finish(number)

    def _skip(self) -> None:
        self._finish(None)

    def _finish(self, number: str | None) -> None:
        request = self.session.phone_request
        self.session.phone_request = None
        self.pad.set_value("")
        if request is not None:
            request.on_done(number)
        else:
            self.go_back.emit()

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        return self.pad.handle_key(event)

    def demo(self) -> None:
        self.purpose.setText(t("phone.purpose_health"))
        self.skip.setVisible(True)
        self.pad.set_value("1381234")

    def reset(self) -> None:
        self.pad.set_value("")
        self.problem.setText("")
        self.purpose.setText("")
