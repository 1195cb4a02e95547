"""The call screen: 「已为您呼叫工作人员，请稍候」, the time waited, 取消呼叫, the hotline."""

from __future__ import annotations

from kiosk.calls import CallDesk
from kiosk.qt import QtCore, QtGui, QtWidgets
from kiosk.screens.base import Screen, ScreenContext, margins
from kiosk.screens.widgets import TextLabel, fill_background
from kiosk.texts import t
from kiosk.theme import TEXT_BODY_MM, TEXT_HUGE_MM, TEXT_LABEL_MM, TEXT_TITLE_MM, Palette


def status_text(status: str | None) -> str:
    """A call status in words (unknown statuses read as 'being passed on')."""
    if status is None:
        return t("call.status_waiting")
    try:
        return t(f"call.status_{status}")
    except KeyError:
        return t("call.status_waiting")


def waited_text(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    if minutes:
        return t("call.waited", minutes=minutes, seconds=secs)
    return t("call.waited_short", seconds=secs)


class CallScreen(Screen):
    """Shown after a call is saved (or when a second tap finds one open).

    Signals (from Screen): speak(str) for status changes and the second-tap notice.
    """

    name = "call"
    title_key = "call.title"

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(margins(self.metrics, 5))
        layout.setSpacing(self.metrics.mm(3))
        self.message = self.label(
            t("call.calling"), size_mm=TEXT_TITLE_MM, bold=True, name="call_message"
        )
        self.waited = self.label("", size_mm=TEXT_LABEL_MM, name="call_waited")
        self.status = self.label("", size_mm=TEXT_LABEL_MM, bold=True, name="call_status")
        self.delivery = self.label("", size_mm=TEXT_BODY_MM, name="call_delivery")
        self.cancel = self.button(
            "call.cancel", role="neutral", min_mm=(90.0, 25.0), name="call_cancel"
        )
        hotline_box = QtWidgets.QFrame(self)
        hotline_box.setObjectName("call_hotline_box")
        fill_background(hotline_box, Palette.WARNING_BG, Palette.WARNING_TEXT)
        hb = QtWidgets.QHBoxLayout(hotline_box)
        hb.setContentsMargins(margins(self.metrics, 3))
        self.hotline_intro = TextLabel(
            t("call.hotline_intro"),
            self.metrics,
            size_mm=TEXT_BODY_MM,
            name="call_hotline_intro",
            parent=hotline_box,
        )
        self.hotline = TextLabel(
            ctx.config.call.hotline,
            self.metrics,
            size_mm=TEXT_HUGE_MM,
            bold=True,
            wrap=False,
            name="call_hotline",
            parent=hotline_box,
        )
        hb.addWidget(self.hotline_intro)
        hb.addWidget(self.hotline)
        layout.addWidget(self.message)
        state = QtWidgets.QHBoxLayout()
        state.setSpacing(self.metrics.mm(10))
        state.addWidget(self.waited)
        state.addWidget(self.status)
        layout.addLayout(state)
        layout.addWidget(self.delivery)
        layout.addWidget(self.cancel, 0, QtCore.Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        layout.addWidget(hotline_box)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.tick)
        self.cancel.clicked.connect(self._cancel)
        self.desk.status_changed.connect(self._on_status)
        self.desk.call_closed.connect(lambda _id: self.tick())

    @property
    def desk(self) -> CallDesk:
        desk = self.ctx.services["calls"]
        assert isinstance(desk, CallDesk)
        return desk

    def show_call(self, *, again: bool, failed: bool = False) -> None:
        """Set the message before the screen is shown (new call, second tap, or not saved)."""
        key = "call.not_saved" if failed else "call.already" if again else "call.calling"
        self.message.setText(t(key))

    def on_enter(self) -> None:
        self.tick()
        self._timer.start()
        (self.cancel if self.cancel.isVisible() else self.hotline).setFocus()

    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def show_delivery(self, phase: str) -> None:
        """How far the call got on its way to the district (sent / retrying / ...)."""
        try:
            self.delivery.setText(t(f"call.delivery_{phase}"))
        except KeyError:
            self.delivery.setText("")

    def tick(self) -> None:
        desk = self.desk
        if desk.open_id is None:
            self.waited.setText("")
            self.cancel.setVisible(False)
            return
        self.waited.setText(waited_text(desk.waited_seconds()))
        self.status.setText(status_text(desk.status))
        self.cancel.setVisible(desk.can_cancel())

    def spoken_text(self) -> str:
        parts = [self.message.text()]
        if self.cancel.isVisible():
            parts.append(t("call.cancel"))
        parts.append(f"{self.hotline_intro.text()}，{self.hotline.text()}")
        return "。".join(parts) + "。"

    def _cancel(self) -> None:
        if self.desk.cancel() is not None:
            self.message.setText(t("call.cancelled"))
            self.status.setText("")
            self.speak.emit(t("call.cancelled"))
        self.tick()

    def _on_status(self, _record_id: str, status: str) -> None:
        self.status.setText(status_text(status))
        if self.isVisible():
            self.speak.emit(status_text(status))

    def demo(self) -> None:
        self.message.setText(t("call.calling"))
        self.waited.setText(waited_text(65))
        self.status.setText(status_text(None))
        self.cancel.setVisible(True)

    def reset(self) -> None:
        self.message.setText(t("call.calling"))
        self.status.setText("")
        self.delivery.setText("")
        self.waited.setText("")


class CallBanner(QtWidgets.QFrame):
    """「有居民呼叫」 under the common bar on every screen until staff take the call, then the
    call's status in words (taken / dispatched) until it is done or cancelled."""

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("call_banner")
        fill_background(self, Palette.CALL, Palette.CALL_TEXT)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(margins(ctx.metrics, 2))
        self.text = TextLabel(
            t("call.banner"),
            ctx.metrics,
            size_mm=TEXT_BODY_MM,
            bold=True,
            wrap=False,
            name="call_banner_text",
            parent=self,
        )
        row.addWidget(self.text)
        self.hide()

    def show_status(self, alert: bool, status: str | None, open_call: bool = False) -> None:
        """「有居民呼叫」 while nobody has taken the call; then its status in words until done."""
        self.text.setText(t("call.banner") if alert else status_text(status))
        if alert:
            fill_background(self, Palette.CALL, Palette.CALL_TEXT)
        else:
            fill_background(self, Palette.PRIMARY, Palette.PRIMARY_TEXT)
        self.setVisible(alert or open_call)

    def apply_metrics(self, metrics: object) -> None:
        for lab in self.findChildren(TextLabel):
            lab.apply_metrics(metrics)  # type: ignore[arg-type]
