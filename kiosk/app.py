"""The composition root: builds the services and screens and wires their signals in one place.

Start-up happens in two steps so the resident sees the home screen at once:
``KioskApp(...)`` builds only the window and the home screen (Qt and the
settings, nothing heavy), ``start()`` shows them, and ``complete_start()`` —
run by the event loop right after the first paint, or at once when anything
needs a service earlier — opens the store, starts speech and sync, builds the
other screens and wires every signal in ``_connect_signals``. Input arriving
in between waits in the event queue behind ``complete_start``, so no tap is
lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.config import Config
from kiosk.idle import IdleMonitor
from kiosk.qt import QtCore, QtGui, QtWidgets, Signal
from kiosk.screens.base import Screen, ScreenContext
from kiosk.screens.home import HomeScreen
from kiosk.screens.window import MainWindow
from kiosk.session import Session
from kiosk.texts import t
from kiosk.theme import Metrics, px_per_mm_from_screen

if TYPE_CHECKING:
    from kiosk.calls import CallDesk
    from kiosk.district import DistrictLink
    from kiosk.records import Recorder
    from kiosk.screens.call import CallBanner
    from kiosk.speech.speaker import Speaker
    from kiosk.store import Store
    from kiosk.voice.controller import VoiceController

log = logging.getLogger(__name__)

_INPUT_EVENTS = frozenset(
    {
        QtCore.QEvent.Type.MouseButtonPress,
        QtCore.QEvent.Type.TouchBegin,
        QtCore.QEvent.Type.KeyPress,
    }
)


class InputFilter(QtCore.QObject):
    """Application-wide input hook: any touch or key counts as activity (idle timer,
    barge-in) and keypad keys are routed to the window."""

    def __init__(self, on_input: Callable[[], None], on_key: Callable[[QtGui.QKeyEvent], bool]):
        super().__init__()
        self.on_input = on_input
        self.on_key = on_key

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and watched.isWidgetType():
            self.on_input()
            if event.type() == QtCore.QEvent.Type.KeyPress:
                assert isinstance(event, QtGui.QKeyEvent)
                return self.on_key(event)
        return False


class _AfterFirstPaint(QtCore.QObject):
    """Calls ``callback`` once, from the event loop, after ``widget`` was first painted."""

    def __init__(self, widget: QtWidgets.QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self.callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QtCore.QTimer.singleShot(0, self.callback)
        return False


FIRST_PAINT_FALLBACK_MS = 1000  # complete the start even if the home screen is never painted
HELP_KEYS = frozenset({QtCore.Qt.Key.Key_F1, QtCore.Qt.Key.Key_Help})  # the keypad's help key
STORE_RETRY_MS = 30_000  # when the store cannot be opened (disk full), try again this often


class KioskApp(QtCore.QObject):
    """Owns the store, the services, the window and the idle timer.

    Signals: ready() once every service and screen exists (after complete_start).
    """

    ready = Signal()

    def __init__(
        self,
        config: Config,
        data_dir: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        store: Store | None = None,
        speaker: Speaker | None = None,
        district: bool = True,
        warm_prompts: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.data_dir = data_dir
        self.clock = clock
        self._given_store = store
        self._given_speaker = speaker
        self._district_wanted = district
        self._warm_prompts = warm_prompts
        self.is_ready = False
        self.metrics = self._metrics()
        self.session = Session()
        self.screens: dict[str, Screen] = {}
        self.ctx = ScreenContext(
            config=config,
            metrics=self.metrics,
            services={"session": self.session, "screens": self.screens},
        )
        self.window = MainWindow(self.metrics)
        self._add_screen(HomeScreen(self.ctx))
        self.idle = IdleMonitor(
            config.ui.idle_seconds, config.ui.idle_warning_seconds, clock=clock, parent=self
        )
        self.input_filter = InputFilter(self.on_input, self._on_key)

    def _metrics(self) -> Metrics:
        ui = self.config.ui
        ppm = ui.px_per_mm or px_per_mm_from_screen(QtGui.QGuiApplication.primaryScreen())
        return Metrics(px_per_mm=ppm, font_scale=ui.font_scale)

    def _add_screen(self, screen: Screen) -> None:
        self.screens[screen.name] = screen
        self.window.register(screen)

    # -- start-up -------------------------------------------------------------------

    def complete_start(self) -> None:
        """Open the store, start the services, build the other screens (idempotent)."""
        if self.is_ready:
            return
        # Heavy imports live here, after the home screen is on screen.
        from kiosk.calls import CallDesk  # noqa: PLC0415
        from kiosk.records import Recorder  # noqa: PLC0415
        from kiosk.screens import screen_classes  # noqa: PLC0415
        from kiosk.screens.call import CallBanner  # noqa: PLC0415
        from kiosk.speech.speaker import Speaker  # noqa: PLC0415
        from kiosk.store import Store, StoreError, StoreFullError  # noqa: PLC0415
        from kiosk.voice.controller import VoiceController  # noqa: PLC0415

        try:
            self.store: Store = self._given_store or Store(self.data_dir)
        except (StoreError, OSError) as exc:
            # The kiosk stays up: say so on screen and try again in a while.
            log.exception("the local store could not be opened")
            key = "common.store_full" if isinstance(exc, StoreFullError) else "common.store_error"
            self.window.show_notice(
                t(key) + t("call.hotline_line", hotline=self.config.call.hotline)
            )
            QtCore.QTimer.singleShot(STORE_RETRY_MS, self.complete_start)
            return
        self.speaker: Speaker = self._given_speaker or Speaker(
            self.config.voice, self.data_dir, parent=self
        )
        self.recorder: Recorder = Recorder(self.store, parent=self)
        self.calls: CallDesk = CallDesk(
            self.store,
            save=self.recorder.save,
            cancel_seconds=self.config.call.cancel_seconds,
            clock=self.clock,
            parent=self,
        )
        self.district: DistrictLink | None = None
        if self._district_wanted:
            from kiosk.district import DistrictLink  # noqa: PLC0415

            self.district = DistrictLink(self.config, self.data_dir, parent=self)
        self.ctx.store = self.store
        self.ctx.services.update(
            {
                "recorder": self.recorder,
                "calls": self.calls,
                "speaker": self.speaker,
                "district": self.district,
            }
        )
        for cls in screen_classes():
            if cls.name not in self.screens:
                self._add_screen(cls(self.ctx))
        self.banner: CallBanner = CallBanner(self.ctx, self.window)
        self.window.add_banner(self.banner)
        self.voice: VoiceController = VoiceController(self.config.voice, parent=self)
        self.voice.attach(self.window, self.speaker, self.request_call)
        self._connect_signals()
        self.is_ready = True
        if self.district is not None:
            self.district.start()
            self.district.want_updates(self.calls.open_id is not None)
        self._on_call_alert(self.calls.needs_staff())
        current = self.window.current_screen()
        if current is not None:
            self.speaker.say(current.spoken_text())
        if self._warm_prompts:
            self.speaker.warm_cache()
        self.ready.emit()

    def _connect_signals(self) -> None:
        """Every signal of the window, the screens and the services, wired in one place."""
        w = self.window
        w.screen_changed.connect(self._on_screen_changed)
        w.went_home.connect(self.session.reset)
        w.went_home.connect(self.speaker.reset_volume)
        w.enable_common("call", lambda: self.request_call("frame"))
        w.enable_common("repeat", self.speaker.replay)
        home = self.screens["home"]
        assert isinstance(home, HomeScreen)
        home.call_requested.connect(lambda: self.request_call("button"))
        home.louder.clicked.connect(self._louder)
        home.quieter.clicked.connect(self._quieter)
        result = self.screens.get("health_result")
        if result is not None:
            result.call_requested.connect(lambda: self.request_call("health"))  # type: ignore[attr-defined]
        for screen in self.screens.values():
            screen.speak.connect(self.speaker.say)
        self.idle.warning.connect(w.idle_overlay.show_countdown)
        self.idle.warning.connect(self._on_idle_warning)
        self.idle.resumed.connect(w.idle_overlay.hide)
        self.idle.timed_out.connect(w.home)
        w.idle_overlay.continue_clicked.connect(self.idle.poke)
        self.calls.alert_changed.connect(self._on_call_alert)
        self.calls.status_changed.connect(self._on_call_status)
        self.calls.call_opened.connect(self._on_call_opened)
        self.calls.call_closed.connect(self._on_call_closed)
        self.recorder.saved.connect(self._on_record_saved)
        if self.district is not None:
            self.district.updates_arrived.connect(self._on_updates)
            self.district.delivery_changed.connect(self._on_delivery)
        self._connect_staff()

    def _connect_staff(self) -> None:
        """Staff mode (issue 8): the 工作人员 entry, login, idle logout, chime, queue, 代办,
        sync panel, settings and exit, wired in one place."""
        from kiosk.screens.staff import StaffHomeScreen, StaffLoginScreen, StaffMode  # noqa: PLC0415
        from kiosk.screens.staff_proxy import StaffProxyScreen  # noqa: PLC0415
        from kiosk.screens.staff_queue import StaffQueueScreen  # noqa: PLC0415
        from kiosk.screens.staff_sync import StaffSyncScreen  # noqa: PLC0415

        self.staff = staff = StaffMode(self)
        self.ctx.services.update(
            {
                "staff_accounts": staff.accounts,
                "staff_session": staff.session,
                "staff_mode": staff,
                "data_dir": self.data_dir,
            }
        )
        w = self.window
        session = staff.session
        session.logged_in.connect(staff.on_login)
        session.logged_out.connect(staff.on_logout)
        w.screen_changed.connect(staff.on_screen_changed)
        self.calls.alert_changed.connect(staff.on_call_alert)
        login = self.screens["staff_login"]
        assert isinstance(login, StaffLoginScreen)
        login.login_succeeded.connect(session.login)
        hub = self.screens["staff_home"]
        assert isinstance(hub, StaffHomeScreen)
        hub.logout_requested.connect(lambda: session.logout("button"))
        hub.leave_fullscreen_requested.connect(staff.leave_fullscreen)
        hub.quit_requested.connect(staff.quit_kiosk)
        queue = self.screens["staff_queue"]
        assert isinstance(queue, StaffQueueScreen)
        queue.feedback_wanted.connect(self.ask_feedback)
        proxy = self.screens["staff_proxy"]
        assert isinstance(proxy, StaffProxyScreen)
        proxy.feedback_wanted.connect(self.ask_feedback)
        sync = self.screens["staff_sync"]
        assert isinstance(sync, StaffSyncScreen)
        if self.district is not None:
            self.district.pass_progress.connect(sync.on_progress)
            self.district.pass_finished.connect(sync.on_pass_finished)
        if self.calls.needs_staff():
            staff.on_call_alert(True)  # a call still open from before a restart

    # -- reactions ------------------------------------------------------------------

    def _on_screen_changed(self, name: str) -> None:
        self.idle.set_armed(name != "home")
        self.speaker.say(self.screens[name].spoken_text())

    def _on_key(self, event: QtGui.QKeyEvent) -> bool:
        if event.key() in HELP_KEYS and self.is_ready:
            current = self.window.current_screen()
            if current is not None:
                self.speaker.say(current.spoken_text())  # read the screen again
            return True
        return self.window.handle_key(event)

    def _on_idle_warning(self, seconds_left: int) -> None:
        if seconds_left == self.config.ui.idle_warning_seconds:
            self.speaker.say(self.window.idle_overlay.spoken_text())

    def _louder(self) -> None:
        self.speaker.volume_up()
        self.speaker.say(t("speech.louder"))

    def _quieter(self) -> None:
        self.speaker.volume_down()
        self.speaker.say(t("speech.quieter"))

    def request_call(self, source: str) -> None:
        """One tap on 一键呼叫 / 呼叫帮助: saved first, then shown; never a second call."""
        from kiosk.screens.call import CallScreen  # noqa: PLC0415
        from kiosk.store import StoreError  # noqa: PLC0415

        self.complete_start()
        if not self.is_ready:
            return  # the store cannot be opened: the notice with the hotline is on screen
        screen = self.screens["call"]
        assert isinstance(screen, CallScreen)
        try:
            _record_id, new = self.calls.request(source)
        except StoreError:
            log.exception("a call could not be saved")
            screen.show_call(again=False, failed=True)
        else:
            screen.show_call(again=not new)
        self.window.show_screen("call")

    def _on_record_saved(self, record_id: str, kind: str, urgent: bool) -> None:
        log.info("saved %s record %s%s", kind, record_id, " (urgent)" if urgent else "")
        if urgent and self.district is not None:
            self.district.notify_new(record_id)

    def _on_call_opened(self, _record_id: str) -> None:
        if self.district is not None:
            self.district.want_updates(True)

    def _on_call_closed(self, _record_id: str) -> None:
        if self.district is not None:
            self.district.want_updates(False)

    def _on_call_alert(self, alert: bool) -> None:
        self.banner.show_status(alert, self.calls.status, self.calls.open_id is not None)

    def _on_call_status(self, record_id: str, status: str) -> None:
        self._on_call_alert(self.calls.needs_staff())
        if status == "done":
            self.ask_feedback(record_id, "call")

    def ask_feedback(self, record_id: str, kind: str) -> None:
        """A service was finished: ask the resident at the counter how it was."""
        feedback = self.screens.get("feedback")
        if feedback is None:
            return
        feedback.ask(record_id, kind)  # type: ignore[attr-defined]
        self.window.show_screen("feedback")

    def _on_updates(self, _count: int) -> None:
        self.calls.refresh()
        current = self.window.current_screen()
        if current is not None:
            current.on_enter()

    def _on_delivery(self, record_id: str, phase: str) -> None:
        screen = self.screens.get("call")
        if screen is not None and record_id == self.calls.open_id:
            screen.show_delivery(phase)  # type: ignore[attr-defined]

    def recover_from_error(self) -> None:
        """After an uncaught exception (kiosk.crash): home, with a calm word shown and said."""
        self.window.home()
        self.window.show_notice(t("common.error_calm"))
        if self.is_ready:
            self.speaker.say(t("common.error_calm"))

    def on_input(self) -> None:
        """Any touch or key: the resident is here (idle timer), and speech stops (barge-in)."""
        self.idle.poke()
        if self.is_ready:
            self.speaker.stop()

    def set_metrics(self, metrics: Metrics) -> None:
        """Apply a new px_per_mm / font scale to every screen, live."""
        self.metrics = metrics
        self.ctx.metrics = metrics
        self.window.apply_metrics(metrics)
        if self.is_ready:
            self.banner.apply_metrics(metrics)
            if self.voice.mic is not None:
                self.voice.mic.apply_metrics(metrics)

    def start(self, *, windowed: bool, defer: bool = True) -> None:
        """Show the window at home; the rest follows right after the first paint."""
        app = QtWidgets.QApplication.instance()
        assert app is not None
        app.installEventFilter(self.input_filter)
        w = self.window
        if windowed:
            w.resize(1280, 800)
            w.allow_close = True
            w.show()
        else:
            w.setWindowFlag(QtCore.Qt.WindowType.FramelessWindowHint, True)
            w.setWindowFlag(QtCore.Qt.WindowType.WindowStaysOnTopHint, True)
            screen = QtGui.QGuiApplication.primaryScreen()
            if screen is not None:
                # Without a window manager showFullScreen() keeps the natural size.
                w.setGeometry(screen.geometry())
            w.showFullScreen()
        w.home()
        self.idle.start()
        if defer:
            _AfterFirstPaint(self.screens["home"], self.complete_start)
            QtCore.QTimer.singleShot(FIRST_PAINT_FALLBACK_MS, self.complete_start)
        else:
            self.complete_start()

    def shutdown(self) -> None:
        self.idle.stop()
        if self.is_ready:
            self.voice.shutdown()
            if self.district is not None:
                self.district.stop()
            self.speaker.shutdown()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.input_filter)
        self.window.allow_close = True
        self.window.close()
        # Delete the widgets now: a click still animating or a screen's timer must not
        # reach a store that is about to close.
        self.window.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        if self.is_ready:
            self.store.close()
