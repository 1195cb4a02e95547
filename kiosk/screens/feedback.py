"""满意度: 「您对这次服务满意吗？」 with three big faces, after a call or a proxy service.

The app opens it with ``FeedbackScreen.ask(record_id, kind)`` and then shows it.
An answer saves one ``feedback`` record pointing at the served record, thanks
the resident (shown and spoken) and goes home; 跳过 saves nothing and goes home.
Each face carries its word (满意 / 一般 / 不满意), so the picture is never the only
meaning.

Payload of a ``feedback`` record::

    {"ref": "<served record id>", "ref_kind": "call",
     "about": "<served record id>",   # the wire protocol's pointer (sync.protocol)
     "rating": "good"}                 # "good" | "ok" | "bad": 满意 / 一般 / 不满意

``rating`` uses the wire protocol's words: the district rejects any other.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from enum import StrEnum
from typing import Any, Final

from kiosk.qt import QtCore, QtGui, QtWidgets, Signal
from kiosk.screens.activities import save_record, store_error_text
from kiosk.screens.base import Screen, ScreenContext, margins
from kiosk.screens.widgets import FOCUS_MM, PADDING_MM, BigButton
from kiosk.store import StoreError
from kiosk.texts import t
from kiosk.theme import TEXT_LABEL_MM, TEXT_TITLE_MM, Metrics

log = logging.getLogger(__name__)


class Rating(StrEnum):
    """A resident's answer; ``wire`` is the word saved in the record."""

    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    UNSATISFIED = "unsatisfied"

    @property
    def wire(self) -> str:
        return _WIRE[self]

    @property
    def text_key(self) -> str:
        return f"feedback.{self.value}"


_WIRE: Final[dict[Rating, str]] = {
    Rating.SATISFIED: "good",
    Rating.NEUTRAL: "ok",
    Rating.UNSATISFIED: "bad",
}

FACE_BUTTON_MM: Final = (105.0, 100.0)
FACE_MM: Final = 50.0  # diameter of the drawn face
SKIP_MM: Final = (60.0, 24.0)
MARGIN_MM: Final = 6.0
GAP_MM: Final = 8.0


def feedback_payload(ref: str, ref_kind: str, rating: Rating) -> dict[str, Any]:
    """The ``feedback`` record's payload (shape in the module docstring)."""
    payload: dict[str, Any] = {"ref": ref, "ref_kind": ref_kind, "rating": rating.wire}
    # The wire's ``about`` must be a UUID; ``ref`` keeps any other id as it was given.
    with contextlib.suppress(ValueError):
        payload["about"] = str(uuid.UUID(ref))
    return payload


class FaceButton(BigButton):
    """A big button with a drawn face above its word (smile, straight mouth or frown).

    The face is drawn in the button's text colour, which contrasts >= 7:1 with
    its fill. Emits ``clicked``.
    """

    def __init__(
        self, rating: Rating, metrics: Metrics, *, parent: QtWidgets.QWidget | None = None
    ) -> None:
        self.rating = rating
        super().__init__(
            t(rating.text_key),
            metrics,
            role="primary",
            min_mm=FACE_BUTTON_MM,
            label_mm=TEXT_LABEL_MM * 1.2,
            name=f"feedback_{rating.value}",
            parent=parent,
        )

    def _pad(self) -> int:
        return self.metrics.mm(PADDING_MM + FOCUS_MM)

    def _text_height(self) -> int:
        return sum(QtGui.QFontMetrics(f).height() for _, f in self._lines())

    def sizeHint(self) -> QtCore.QSize:
        base = super().sizeHint()
        needed = self.metrics.mm(FACE_MM) + self._text_height() + 3 * self._pad()
        return QtCore.QSize(base.width(), max(base.height(), needed))

    def text_blocks(self) -> list[tuple[str, QtGui.QFont, QtCore.QRect]]:
        """The word sits at the bottom, under the face."""
        pad = self._pad()
        y = self.height() - pad - self._text_height()
        blocks = []
        for line, f in self._lines():
            h = QtGui.QFontMetrics(f).height()
            blocks.append((line, f, QtCore.QRect(pad, y, self.width() - 2 * pad, h)))
            y += h
        return blocks

    def face_rect(self) -> QtCore.QRectF:
        """Where the face is drawn: a circle centred above the word."""
        pad = self._pad()
        room = self.height() - self._text_height() - 3 * pad
        size = float(max(0, min(self.metrics.mm(FACE_MM), room, self.width() - 2 * pad)))
        x = (self.width() - size) / 2
        y = pad + max(0.0, (room - size) / 2)
        return QtCore.QRectF(x, y, size, size)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        super().paintEvent(event)
        r = self.face_rect()
        if r.width() <= 0:
            return
        ink = self.colors[1]
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        line = max(3.0, r.width() * 0.06)
        pen = QtGui.QPen(ink, line)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.drawEllipse(r.adjusted(line / 2, line / 2, -line / 2, -line / 2))
        # eyes
        p.setBrush(ink)
        eye = r.width() * 0.10
        for fx in (0.34, 0.66):
            centre = QtCore.QPointF(r.left() + r.width() * fx, r.top() + r.height() * 0.38)
            p.drawEllipse(centre, eye / 2, eye / 2)
        # mouth: a smile, a straight line or a frown
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        mouth = QtCore.QRectF(
            r.left() + r.width() * 0.28,
            r.top() + r.height() * 0.52,
            r.width() * 0.44,
            r.height() * 0.26,
        )
        if self.rating is Rating.SATISFIED:
            p.drawArc(mouth.translated(0, -mouth.height() / 2), 200 * 16, 140 * 16)
        elif self.rating is Rating.UNSATISFIED:
            p.drawArc(mouth.translated(0, mouth.height() * 0.45), 20 * 16, 140 * 16)
        else:
            y = mouth.center().y()
            p.drawLine(QtCore.QPointF(mouth.left(), y), QtCore.QPointF(mouth.right(), y))
        p.end()


class FeedbackScreen(Screen):
    """满意 / 一般 / 不满意 for one served record, or 跳过.

    Call ``ask(record_id, kind)`` before showing it. Digits 1-3 on the keypad
    choose a face. Signals: answered(str rating) after the feedback record is
    saved; skipped(); go_home() after the thanks (or at once on 跳过).
    """

    name = "feedback"
    title_key = "feedback.title"
    show_back = False  # the way out is 跳过

    answered = Signal(str)
    skipped = Signal()

    thanks_ms = 2500  # how long 谢谢您！ stays before going home

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.ref: str | None = None
        self.ref_kind = ""
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(margins(self.metrics, MARGIN_MM))
        layout.setSpacing(self.metrics.mm(GAP_MM))
        layout.addStretch(1)
        self.question = self.label(
            t("feedback.question"), size_mm=TEXT_TITLE_MM * 1.2, bold=True, name="feedback_question"
        )
        layout.addWidget(self.question)
        self.thanks = self.label(
            t("feedback.thanks"), size_mm=TEXT_TITLE_MM * 1.6, bold=True, name="feedback_thanks"
        )
        self.thanks.hide()
        layout.addWidget(self.thanks)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(self.metrics.mm(GAP_MM * 1.5))
        row.addStretch(1)
        self.faces: dict[Rating, FaceButton] = {}
        for rating in Rating:
            face = FaceButton(rating, self.metrics, parent=self)
            face.clicked.connect(lambda _=False, r=rating: self.answer(r))
            row.addWidget(face)
            self.faces[rating] = face
        row.addStretch(1)
        layout.addLayout(row)
        self.skip_button = self.button(
            "feedback.skip", role="neutral", min_mm=SKIP_MM, name="feedback_skip"
        )
        layout.addWidget(self.skip_button, 0, QtCore.Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.skip_button.clicked.connect(self.skip)
        self.timer = QtCore.QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.go_home)
        self._done = False

    def ask(self, record_id: str, kind: str) -> None:
        """Ask about the served record ``record_id`` of ``kind`` (call, proxy, ...)."""
        self.reset()
        self.ref, self.ref_kind = record_id, kind

    def answer(self, rating: Rating) -> None:
        """Save the answer (once), thank the resident, then go home."""
        if self._done:
            return
        self._done = True
        if self.ref is not None:
            try:
                save_record(self.ctx, "feedback", feedback_payload(self.ref, self.ref_kind, rating))
            except StoreError as exc:
                log.error("feedback not saved: %s", exc)
                self._finish(store_error_text(exc))
                return
            self.answered.emit(rating.value)
        self._finish(t("feedback.thanks"))

    def _finish(self, sentence: str) -> None:
        self.thanks.setText(sentence)
        self.question.hide()
        for face in self.faces.values():
            face.hide()
        self.skip_button.hide()
        self.thanks.show()
        self.speak.emit(sentence)
        self.timer.start(self.thanks_ms)

    def skip(self) -> None:
        """跳过: nothing saved, straight home."""
        if self._done:
            return
        self._done = True
        self.skipped.emit()
        self.go_home.emit()

    # -- Screen -------------------------------------------------------------------------

    def on_enter(self) -> None:
        self.faces[Rating.SATISFIED].setFocus()

    def reset(self) -> None:
        self.timer.stop()
        self.ref = None
        self.ref_kind = ""
        self._done = False
        self.thanks.hide()
        self.question.show()
        for face in self.faces.values():
            face.show()
        self.skip_button.show()

    def spoken_text(self) -> str:
        if self.thanks.isVisibleTo(self):
            return self.thanks.text()
        choices = "，".join(b.text() for b in self.visible_buttons())
        return f"{self.question.text()}{choices}。"

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        keys = {QtCore.Qt.Key.Key_1: 0, QtCore.Qt.Key.Key_2: 1, QtCore.Qt.Key.Key_3: 2}
        index = keys.get(QtCore.Qt.Key(event.key()))
        if index is None or self._done:
            return False
        face = list(self.faces.values())[index]
        face.setFocus()
        face.animateClick()
        return True
