"""Staff mode: the PIN login, the staff hub, shared staff widgets, and the ``StaffMode`` glue.

Staff screens (``elder = False``) are held to the staff floors of the audit
(text >= 5 mm, targets >= 12 mm, gaps >= 6 mm). A staff-only screen
(``staff_only = True``) is shown only while someone is logged in: showing any
other screen (home, the feedback question, a call) logs out, and every staff
screen forgets what it showed when it is reset (going home resets all screens),
so the next resident never sees a resident's data. Staff screens say only their
title on entry (never the names or numbers they show).

The login screen lists the staff names (one tap), then takes the PIN on the
number pad; the PIN is masked, checked off the UI thread (scrypt, ~180 ms) and
never logged.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from kiosk.config import ConfigError
from kiosk.qt import QtCore, QtGui, QtWidgets, Signal
from kiosk.screens.base import Screen, ScreenContext, margins
from kiosk.screens.numpad import NumberPad
from kiosk.screens.widgets import BigButton, TextLabel
from kiosk.staff import queue
from kiosk.staff.accounts import LoginResult, PinCheck, StaffAccounts, StaffError
from kiosk.staff.jobs import BackgroundJob
from kiosk.staff.overrides import write_overrides
from kiosk.staff.session import StaffSession
from kiosk.texts import t
from kiosk.theme import Metrics

if TYPE_CHECKING:
    from kiosk.app import KioskApp

log = logging.getLogger(__name__)

# Staff sizes (before font_scale); the floors are 5 mm text and 12 mm targets.
STAFF_TEXT_MM = 6.0
STAFF_LABEL_MM = 6.5
STAFF_TITLE_MM = 7.5
STAFF_BUTTON_MM = (30.0, 13.0)
STAFF_GAP_MM = 7.0  # > the 6 mm gap floor between targets
STAFF_MARGIN_MM = 5.0
PIN_MAX = 8


# -- shared staff widgets --------------------------------------------------------------------


def staff_button(
    parent: QtWidgets.QWidget,
    metrics: Metrics,
    text: str,
    *,
    name: str,
    role: str = "primary",
    min_mm: tuple[float, float] = STAFF_BUTTON_MM,
) -> BigButton:
    return BigButton(
        text,
        metrics,
        role=role,
        min_mm=min_mm,
        label_mm=STAFF_LABEL_MM,
        hint_mm=STAFF_TEXT_MM,
        name=name,
        parent=parent,
    )


def staff_label(
    parent: QtWidgets.QWidget,
    metrics: Metrics,
    text: str = "",
    *,
    name: str,
    size_mm: float = STAFF_TEXT_MM,
    bold: bool = False,
    wrap: bool = True,
    left: bool = True,
) -> TextLabel:
    align = (
        QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        if left
        else QtCore.Qt.AlignmentFlag.AlignCenter
    )
    return TextLabel(
        text, metrics, size_mm=size_mm, bold=bold, wrap=wrap, align=align, name=name, parent=parent
    )


class StaffLineEdit(QtWidgets.QLineEdit):
    """A text field sized in millimetres (>= 13 mm high) with an accessible name."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        name: str,
        placeholder: str,
        digits: bool = False,
        max_length: int = 200,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(placeholder)
        self.setPlaceholderText(placeholder)
        self.setMaxLength(max_length)
        if digits:
            self.setValidator(
                QtGui.QRegularExpressionValidator(QtCore.QRegularExpression(r"[0-9]*"), self)
            )
            self.setInputMethodHints(QtCore.Qt.InputMethodHint.ImhDigitsOnly)
        self.apply_metrics(metrics)

    def apply_metrics(self, metrics: Metrics) -> None:
        from kiosk.theme import font  # noqa: PLC0415

        self.setFont(font(metrics, STAFF_TEXT_MM))
        self.setMinimumSize(metrics.mm(40), max(metrics.mm(13), self.sizeHint().height()))


class StaffScreen(Screen):
    """A screen for staff only (smaller floors; forgets everything on reset)."""

    elder = False
    staff_only: ClassVar[bool] = True

    def spoken_text(self) -> str:
        return self.title() + "。"

    def apply_metrics(self, metrics: Metrics) -> None:
        super().apply_metrics(metrics)
        for edit in self.findChildren(StaffLineEdit):
            edit.apply_metrics(metrics)

    def staff_name(self) -> str:
        session = self.ctx.services.get("staff_session")
        name = session.name if isinstance(session, StaffSession) else None
        return name or ""


def is_staff_only(screen: Screen | None) -> bool:
    return bool(getattr(screen, "staff_only", False))


# -- login -------------------------------------------------------------------------------------


class StaffLoginScreen(Screen):
    """工作人员登录: choose your name, type the PIN (masked), 登录.

    Not staff-only (a resident may land here by mistake; 返回 leads home).
    Signals: login_succeeded(str name).
    """

    name = "staff_login"
    title_key = "staff.login_title"
    elder = False

    login_succeeded = Signal(str)

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.selected: str | None = None
        self._job: BackgroundJob | None = None
        m = self.metrics
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(margins(m, STAFF_MARGIN_MM))
        row.setSpacing(m.mm(15))
        left = QtWidgets.QVBoxLayout()
        left.setSpacing(m.mm(STAFF_GAP_MM))
        self.prompt = staff_label(
            self, m, t("staff.choose_name"), name="staff_login_prompt", size_mm=STAFF_TITLE_MM
        )
        left.addWidget(self.prompt)
        self.names_box = QtWidgets.QVBoxLayout()
        self.names_box.setSpacing(m.mm(STAFF_GAP_MM))
        left.addLayout(self.names_box)
        self.name_buttons: dict[str, BigButton] = {}
        self.message = staff_label(self, m, "", name="staff_login_message", bold=True)
        left.addWidget(self.message)
        left.addStretch(1)
        row.addLayout(left, 1)
        right = QtWidgets.QVBoxLayout()
        right.setSpacing(m.mm(4))
        self.dots = staff_label(
            self, m, "", name="staff_pin_dots", size_mm=12.0, bold=True, wrap=False, left=False
        )
        self.dots.setAccessibleName(t("staff.enter_pin"))
        right.addWidget(self.dots)
        self.pin_pad = NumberPad(
            m, max_length=PIN_MAX, confirm_key="staff.login_button", name="staff_pin", parent=self
        )
        self.pin_pad.display.hide()  # the PIN is never echoed; ``dots`` shows its length
        right.addWidget(self.pin_pad)
        right.addStretch(1)
        row.addLayout(right)
        self.pin_pad.changed.connect(self._on_pin_changed)
        self.pin_pad.submitted.connect(self._submit)

    @property
    def accounts(self) -> StaffAccounts:
        accounts = self.ctx.services["staff_accounts"]
        assert isinstance(accounts, StaffAccounts)
        return accounts

    def _set_names(self, names: list[str]) -> None:
        for b in self.name_buttons.values():
            self.names_box.removeWidget(b)
            b.deleteLater()
        self.name_buttons = {}
        for i, staff in enumerate(names[:6]):
            b = staff_button(self, self.metrics, staff, name=f"staff_login_name_{i}")
            b.set_role("neutral")
            b.clicked.connect(lambda _=False, n=staff: self.choose(n))
            self.names_box.addWidget(b)
            self.name_buttons[staff] = b

    def _fill_names(self) -> None:
        names = self.accounts.names()
        self._set_names(names)
        if len(names) == 1:
            self.choose(names[0])
        elif not names:
            self.message.setText(t("staff.no_accounts"))

    def choose(self, staff: str) -> None:
        self.selected = staff
        for n, b in self.name_buttons.items():
            b.set_role("primary" if n == staff else "neutral")
            b.set_texts(f"● {n}" if n == staff else n)
        self.prompt.setText(t("staff.enter_pin"))
        self.pin_pad.set_value("")

    def _on_pin_changed(self, value: str) -> None:
        self.dots.setText("●" * len(value))

    def _submit(self, pin: str) -> None:
        """Check the PIN off the UI thread; the result comes back in ``_on_checked``."""
        if self._job is not None and self._job.running():
            return
        if self.selected is None:
            self.message.setText(t("staff.choose_name"))
            return
        if not (4 <= len(pin) <= PIN_MAX):
            self.message.setText(t("staff.pin_format"))
            return
        check = self.accounts.prepare(self.selected)
        self.pin_pad.set_value("")
        if isinstance(check, LoginResult):
            self._show_result(check)
            return
        self.message.setText(t("staff.checking"))
        self.pin_pad.setEnabled(False)
        job = BackgroundJob(functools.partial(check.matches, pin), name="pin-check", parent=self)
        job.done.connect(functools.partial(self._on_checked, check))
        self._job = job.start()

    def _on_checked(self, check: PinCheck, result: object) -> None:
        self.pin_pad.setEnabled(True)
        if not isinstance(result, bool):
            self.message.setText(t("staff.check_failed"))
            return
        outcome = self.accounts.record(check.name, result)
        self._show_result(outcome)
        if outcome.ok:
            self.login_succeeded.emit(check.name)

    def _show_result(self, outcome: LoginResult) -> None:
        if outcome.ok:
            self.message.setText("")
        elif outcome.locked_seconds > 0:
            minutes = max(1, int(-(-outcome.locked_seconds // 60)))
            self.message.setText(t("staff.locked", minutes=minutes))
        elif outcome.unknown:
            self.message.setText(t("staff.no_accounts"))
        else:
            self.message.setText(t("staff.wrong_pin", tries=outcome.tries_left))

    def wait_for_check(self, timeout: float = 10.0) -> None:
        """Block until a running PIN check is done (tests, shutdown)."""
        if self._job is not None:
            self._job.join(timeout)

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        return self.pin_pad.handle_key(event)

    def spoken_text(self) -> str:
        return self.title() + "。"

    def on_enter(self) -> None:
        self.reset()
        self._fill_names()

    def reset(self) -> None:
        self.selected = None
        self.pin_pad.set_value("")
        self.pin_pad.setEnabled(True)
        self.message.setText("")
        self.prompt.setText(t("staff.choose_name"))

    def demo(self) -> None:
        self.reset()
        self._set_names(["李娟", "王强"])
        self.choose("李娟")
        self.pin_pad.set_value("1234")
        self.message.setText(t("staff.wrong_pin", tries=3))


# -- the hub -----------------------------------------------------------------------------------


class StaffHomeScreen(StaffScreen):
    """The staff hub: 待处理 / 代办 / 同步 / 设置, 退出登录, 退出全屏, 关闭程序.

    Signals: logout_requested(), leave_fullscreen_requested(), quit_requested().
    """

    name = "staff_home"
    title_key = "staff.home_title"

    logout_requested = Signal()
    leave_fullscreen_requested = Signal()
    quit_requested = Signal()

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        m = self.metrics
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(margins(m, STAFF_MARGIN_MM))
        col.setSpacing(m.mm(STAFF_GAP_MM))
        self.who = staff_label(self, m, "", name="staff_home_who", size_mm=STAFF_TITLE_MM)
        col.addWidget(self.who)
        grid = QtWidgets.QGridLayout()
        grid.setSpacing(m.mm(10))
        big = (70.0, 30.0)
        self.queue_button = staff_button(
            self, m, t("staff.open_queue", count=0), name="staff_home_queue", min_mm=big
        )
        self.proxy_button = staff_button(
            self, m, t("staff.open_proxy"), name="staff_home_proxy", min_mm=big
        )
        self.sync_button = staff_button(
            self, m, t("staff.open_sync"), name="staff_home_sync", min_mm=big
        )
        self.settings_button = staff_button(
            self, m, t("staff.open_settings"), name="staff_home_settings", min_mm=big
        )
        grid.addWidget(self.queue_button, 0, 0)
        grid.addWidget(self.proxy_button, 0, 1)
        grid.addWidget(self.sync_button, 1, 0)
        grid.addWidget(self.settings_button, 1, 1)
        col.addLayout(grid)
        col.addStretch(1)
        bottom = QtWidgets.QHBoxLayout()
        bottom.setSpacing(m.mm(STAFF_GAP_MM))
        self.logout_button = staff_button(
            self, m, t("staff.logout"), name="staff_home_logout", role="neutral"
        )
        self.fullscreen_button = staff_button(
            self, m, t("staff.leave_fullscreen"), name="staff_home_fullscreen", role="neutral"
        )
        self.quit_button = staff_button(
            self, m, t("staff.quit"), name="staff_home_quit", role="neutral"
        )
        bottom.addWidget(self.logout_button)
        bottom.addStretch(1)
        bottom.addWidget(self.fullscreen_button)
        bottom.addWidget(self.quit_button)
        col.addLayout(bottom)
        self.queue_button.clicked.connect(lambda: self.navigate.emit("staff_queue"))
        self.proxy_button.clicked.connect(lambda: self.navigate.emit("staff_proxy"))
        self.sync_button.clicked.connect(lambda: self.navigate.emit("staff_sync"))
        self.settings_button.clicked.connect(lambda: self.navigate.emit("staff_settings"))
        self.logout_button.clicked.connect(self.logout_requested)
        self.fullscreen_button.clicked.connect(self.leave_fullscreen_requested)
        self.quit_button.clicked.connect(self.quit_requested)

    def on_enter(self) -> None:
        self.who.setText(t("staff.logged_in_as", name=self.staff_name()))
        count = len(queue.queue(self.ctx.store))
        self.queue_button.set_texts(t("staff.open_queue", count=count))

    def reset(self) -> None:
        self.who.setText("")

    def demo(self) -> None:
        self.who.setText(t("staff.logged_in_as", name="李娟"))
        self.queue_button.set_texts(t("staff.open_queue", count=3))


# -- the glue ----------------------------------------------------------------------------------


class _ActivityFilter(QtCore.QObject):
    """While staff are logged in: any touch or key restarts the staff idle time."""

    _TYPES = frozenset(
        {
            QtCore.QEvent.Type.MouseButtonPress,
            QtCore.QEvent.Type.TouchBegin,
            QtCore.QEvent.Type.KeyPress,
        }
    )

    def __init__(self, on_input: Callable[[], None], parent: QtCore.QObject) -> None:
        super().__init__(parent)
        self.on_input = on_input

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() in self._TYPES and watched.isWidgetType():
            self.on_input()
        return False


CHIME_REPEAT_MS = 15_000  # the call chime repeats this often until someone takes the call


class StaffMode(QtCore.QObject):
    """Staff mode's behaviour, wired by ``KioskApp._connect_staff``.

    Owns the accounts, the session (2-minute idle logout), the call chime's
    repeat timer and the input filter that keeps a busy staff member logged in.
    """

    def __init__(self, app: KioskApp) -> None:
        super().__init__(app)
        self.app = app
        self.accounts = StaffAccounts(app.store)
        self.session = StaffSession(clock=app.clock, parent=self)
        self.quit: Callable[[], None] = QtWidgets.QApplication.quit
        self._filter = _ActivityFilter(self.session.poke, self)
        self.chime_timer = QtCore.QTimer(self)
        self.chime_timer.setInterval(CHIME_REPEAT_MS)
        self.chime_timer.timeout.connect(self.chime)

    # -- session ------------------------------------------------------------------------

    def on_login(self, name: str) -> None:
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.installEventFilter(self._filter)
        self.app.idle.set_armed(False)  # the staff idle rule (2 min) replaces the resident's
        self.app.window.show_screen("staff_home")

    def on_logout(self, name: str, reason: str) -> None:
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._filter)
        try:
            self.accounts.log(name, "logout", reason)
        except StaffError as exc:
            log.warning("staff log not written: %s", exc)
        w = self.app.window
        w.history = [n for n in w.history if not is_staff_only(w.screens.get(n))]
        if is_staff_only(w.current_screen()):
            w.home()
            if reason == "idle":
                w.show_notice(t("staff.logged_out_idle"))

    def on_screen_changed(self, name: str) -> None:
        screen = self.app.window.screens.get(name)
        if is_staff_only(screen):
            if self.session.active:
                self.app.idle.set_armed(False)
        elif self.session.active:
            self.session.logout("home")

    def log(self, action: str, detail: str = "") -> None:
        if self.session.name is not None:
            self.accounts.log(self.session.name, action, detail)

    # -- calls: the chime -----------------------------------------------------------------

    def on_call_alert(self, alert: bool) -> None:
        """Chime now and every CHIME_REPEAT_MS until someone takes the call."""
        if alert and not self.chime_timer.isActive():
            self.chime()
            self.chime_timer.start()
        elif not alert:
            self.chime_timer.stop()

    def chime(self) -> None:
        if not self.app.calls.needs_staff():
            self.chime_timer.stop()
            return
        self.app.speaker.chime()

    # -- settings ------------------------------------------------------------------------

    def apply_settings(self, changes: dict[str, dict[str, Any]]) -> str | None:
        """Write ``changes`` to overrides.toml, then apply them live; the problem, or None."""
        if not changes:
            return None
        app = self.app
        try:
            write_overrides(app.data_dir, changes)
        except (ConfigError, OSError) as exc:
            log.warning("settings not saved: %s", exc)
            return str(exc)
        cfg = app.config
        sections = {
            name: dataclasses.replace(getattr(cfg, name), **values)
            for name, values in changes.items()
        }
        app.config = dataclasses.replace(cfg, **sections)
        app.ctx.config = app.config
        voice, ui = changes.get("voice", {}), changes.get("ui", {})
        if "volume" in voice:
            app.speaker.set_default_volume(int(voice["volume"]))
        if "rate" in voice:
            app.speaker.set_rate(int(voice["rate"]))
        if "idle_seconds" in ui:
            app.idle.idle_seconds = int(ui["idle_seconds"])
        if "hotline" in changes.get("call", {}):
            call = app.screens.get("call")
            if call is not None:
                call.hotline.setText(app.config.call.hotline)  # type: ignore[attr-defined]
        if "font_scale" in ui or "px_per_mm" in ui:
            app.set_metrics(
                Metrics(
                    px_per_mm=float(ui.get("px_per_mm", app.metrics.px_per_mm)),
                    font_scale=float(ui.get("font_scale", app.metrics.font_scale)),
                )
            )
        self.log("settings", ",".join(f"{s}.{k}" for s, v in changes.items() for k in v))
        return None

    # -- exit ----------------------------------------------------------------------------

    def leave_fullscreen(self) -> None:
        self.log("leave_fullscreen")
        w = self.app.window
        w.allow_close = True
        w.setWindowFlag(QtCore.Qt.WindowType.WindowStaysOnTopHint, False)
        w.setWindowFlag(QtCore.Qt.WindowType.FramelessWindowHint, False)
        w.showNormal()

    def quit_kiosk(self) -> None:
        self.log("quit")
        self.app.window.allow_close = True
        self.session.logout("exit")
        self.quit()
