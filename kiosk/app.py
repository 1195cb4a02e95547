"""The composition root: builds the services and screens and wires their signals in one place."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.calls import CallDesk
from kiosk.config import Config
from kiosk.idle import IdleMonitor
from kiosk.qt import QtCore, QtGui, QtWidgets
from kiosk.screens import screen_classes
from kiosk.records import Recorder
from kiosk.screens.base import Screen, ScreenContext
from kiosk.screens.call import CallBanner, CallScreen
from kiosk.screens.health import HealthResultScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.window import MainWindow
from kiosk.session import Session
from kiosk.speech.speaker import Speaker
from kiosk.store import Store, StoreError
from kiosk.texts import t
from kiosk.theme import Metrics, px_per_mm_from_screen

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


class KioskApp(QtCore.QObject):
    """Owns the store, the services, the window and the idle timer."""

    def __init__(
        self,
        config: Config,
        data_dir: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        store: Store | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.data_dir = data_dir
        self.store = store if store is not None else Store(data_dir)
        self.metrics = self._metrics()
        self.session = Session()
        self.speaker = speaker if speaker is not None else Speaker(config.voice, data_dir, parent=self)
        self.recorder = Recorder(self.store, parent=self)
        self.calls = CallDesk(
            self.store, save=self.recorder.save, cancel_seconds=config.call.cancel_seconds,
            clock=clock, parent=self,
        )  # fmt: skip
        self.screens: dict[str, Screen] = {}
        self.ctx = ScreenContext(
            config=config, metrics=self.metrics, store=self.store,
            services={"session": self.session, "recorder": self.recorder, "calls": self.calls,
                      "screens": self.screens, "speaker": self.speaker},
        )  # fmt: skip
        self.window = MainWindow(self.metrics)
        for cls in screen_classes():
            screen = cls(self.ctx)
            self.screens[screen.name] = screen
            self.window.register(screen)
        self.banner = CallBanner(self.ctx, self.window)
        self.window.add_banner(self.banner)
        self.idle = IdleMonitor(
            config.ui.idle_seconds, config.ui.idle_warning_seconds, clock=clock, parent=self
        )
        self.input_filter = InputFilter(self.on_input, self.window.handle_key)
        self._connect_signals()

    def _metrics(self) -> Metrics:
        ui = self.config.ui
        ppm = ui.px_per_mm or px_per_mm_from_screen(QtGui.QGuiApplication.primaryScreen())
        return Metrics(px_per_mm=ppm, font_scale=ui.font_scale)

    def _connect_signals(self) -> None:
        w = self.window
        w.screen_changed.connect(self._on_screen_changed)
        w.went_home.connect(self.session.reset)
        w.enable_common("call", lambda: self.request_call("frame"))
        home = self.screens["home"]
        assert isinstance(home, HomeScreen)
        home.call_requested.connect(lambda: self.request_call("button"))
        result = self.screens["health_result"]
        assert isinstance(result, HealthResultScreen)
        result.call_requested.connect(lambda: self.request_call("health"))
        for screen in self.screens.values():
            screen.speak.connect(self.speaker.say)
        w.enable_common("repeat", self.speaker.replay)
        w.went_home.connect(self.speaker.reset_volume)
        home.louder.clicked.connect(self._louder)
        home.quieter.clicked.connect(self._quieter)
        self.idle.warning.connect(self._on_idle_warning)
        self.calls.alert_changed.connect(self._on_call_alert)
        self.calls.status_changed.connect(lambda _id, _s: self._on_call_alert(self.calls.needs_staff()))
        self.idle.warning.connect(w.idle_overlay.show_countdown)
        self.idle.resumed.connect(w.idle_overlay.hide)
        self.idle.timed_out.connect(w.home)
        w.idle_overlay.continue_clicked.connect(self.idle.poke)

    def _on_screen_changed(self, name: str) -> None:
        self.idle.set_armed(name != "home")
        self.speaker.say(self.screens[name].spoken_text())

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

    def _on_call_alert(self, alert: bool) -> None:
        self.banner.show_status(alert, self.calls.status)

    def on_input(self) -> None:
        """Any touch or key: the resident is here (idle timer), and speech stops (barge-in)."""
        self.idle.poke()
        self.speaker.stop()

    def set_metrics(self, metrics: Metrics) -> None:
        """Apply a new px_per_mm / font scale to every screen, live."""
        self.metrics = metrics
        self.ctx.metrics = metrics
        self.window.apply_metrics(metrics)

    def start(self, *, windowed: bool) -> None:
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
        self.speaker.warm_cache()

    def shutdown(self) -> None:
        self.idle.stop()
        self.speaker.shutdown()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.input_filter)
        self.window.allow_close = True
        self.window.close()
        self.store.close()
