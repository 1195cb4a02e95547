"""Understanding -> action: what a recognized phrase does on the current screen.

Without touching the screens, a result is turned into, in this order:

1. a global intent: 返回 -> ``window.back()``, 首页 -> ``window.home()``, 再说一遍 ->
   ``speaker.replay()``, 大声点 / 小声点 -> volume, 呼叫 -> confirmation, then the call;
   是 / 不是 -> the open question (or a visible 是 / 不是 button);
2. the visible button on the current screen whose label matches (an alias may press a chain
   across screens, e.g. 「测血压」 on home = 健康监测 then 血压);
3. numbers typed into the current screen's number pad (a screen attribute ``pad``), the first
   of two numbers confirmed so the second goes to the next field (「一百三十五 八十八」).

A rejection says 「没听清，请再说一遍」 and does nothing else. Actions that cannot be undone
(a call, 我要报名) are asked first on the confirmation screen, answerable by voice.

Only QtCore here; the mic button and banner come from kiosk.screens.mic (imported in
:meth:`VoiceController.attach`, the one place this module reaches widgets).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config import VoiceSection
from kiosk.qt import QtCore, QtGui, Signal
from kiosk.texts import t
from kiosk.voice.intents import Commands, Understanding, Word, commands, understand, words_from_text
from kiosk.voice.listener import Listener
from kiosk.voice.model import find_model

if TYPE_CHECKING:
    from kiosk.screens.base import Screen
    from kiosk.screens.confirm import ConfirmScreen
    from kiosk.screens.mic import MicButton, VoiceBanner
    from kiosk.screens.window import MainWindow
    from kiosk.speech.speaker import Speaker

log = logging.getLogger(__name__)

TALK_KEYS = frozenset({QtCore.Qt.Key.Key_F12, QtCore.Qt.Key.Key_Asterisk})
CUE_TIMEOUT_MS = 2000  # start listening even if the spoken cue never reports its end
HEARD_MS = 2500  # how long 「听到：…」 stays after a result


class _TalkKeyFilter(QtCore.QObject):
    def __init__(self, on_key: Callable[[], None], parent: QtCore.QObject) -> None:
        super().__init__(parent)
        self.on_key = on_key

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.KeyPress and watched.isWidgetType():
            assert isinstance(event, QtGui.QKeyEvent)
            if QtCore.Qt.Key(event.key()) in TALK_KEYS and not event.isAutoRepeat():
                self.on_key()
                return True
        return False


class VoiceController(QtCore.QObject):
    """Wires the Listener to the window: mic button, talk key, grammar per screen, actions.

    Signals:
        understood(str kind, str text): an accepted result ("global", "button", "numbers").
        not_understood(str reason): a rejection (after 「没听清，请再说一遍」 was said).
    """

    understood = Signal(str, str)
    not_understood = Signal(str)

    def __init__(
        self,
        voice: VoiceSection,
        *,
        listener: Listener | None = None,
        cmds: Commands | None = None,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cmds = cmds if cmds is not None else commands()
        if listener is None:
            path: Path | None = find_model(voice)
            listener = Listener(
                path,
                input_device=voice.input_device,
                vocabulary=sorted(self.cmds.words()),
                parent=self,
            )
        self.listener = listener
        self.window: MainWindow | None = None
        self.speaker: Speaker | None = None
        self.request_call: Callable[[str], None] = lambda _source: None
        self.mic: MicButton | None = None
        self.banner: VoiceBanner | None = None
        self._cue_pending = False
        self._cue_started = False
        self._cue_timer = QtCore.QTimer(self)
        self._cue_timer.setSingleShot(True)
        self._cue_timer.timeout.connect(self._begin_listening)
        self._key_filter: _TalkKeyFilter | None = None
        self._own: set[str] = set()  # what this controller said (as the speaker normalised it)
        self._replay_text = ""  # the screen's last sentence, for 再说一遍 after a cue

    # -- wiring ---------------------------------------------------------------------------------

    def attach(
        self, window: MainWindow, speaker: Speaker, request_call: Callable[[str], None]
    ) -> VoiceController:
        """Add the mic button and banner to ``window``, hook the talk key, load the model."""
        from kiosk.screens.mic import install_mic  # noqa: PLC0415 - widgets stay out of core imports

        self.window, self.speaker, self.request_call = window, speaker, request_call
        self.mic, self.banner = install_mic(window)
        self.mic.clicked.connect(self.toggle)
        window.screen_changed.connect(self._on_screen_changed)
        speaker.started.connect(self._on_cue_started)
        for sig in (speaker.finished, speaker.stopped):
            sig.connect(self._on_cue_over)
        speaker.failed.connect(lambda _reason: self._on_cue_over(force=True))
        lst = self.listener
        lst.listening_changed.connect(self._on_listening)
        lst.partial.connect(self._on_partial)
        lst.result.connect(self._on_result)
        lst.rejected.connect(self._on_rejected)
        lst.failed.connect(self._on_failed)
        lst.status_changed.connect(self._update_mic)
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            self._key_filter = _TalkKeyFilter(self.toggle, self)
            app.installEventFilter(self._key_filter)
            app.aboutToQuit.connect(self.shutdown)
        self._update_mic()
        lst.load()
        return self

    def shutdown(self) -> None:
        app = QtCore.QCoreApplication.instance()
        if app is not None and self._key_filter is not None:
            app.removeEventFilter(self._key_filter)
            self._key_filter = None
        self.listener.shutdown()

    @property
    def available(self) -> bool:
        return self.listener.status().ready

    def _update_mic(self) -> None:
        if self.mic is not None:
            self.mic.setVisible(self.available)

    # -- listening ------------------------------------------------------------------------------

    def current(self) -> Screen | None:
        return self.window.current_screen() if self.window is not None else None

    def grammar(self) -> list[str]:
        screen = self.current()
        name = screen.name if screen is not None else ""
        return self.cmds.grammar(name, numbers=self._pad(screen) is not None)

    def toggle(self) -> None:
        """Tap / talk key: start listening, or end the utterance now if already listening."""
        if self.listener.is_listening or self._cue_pending:
            self._cue_pending = False
            self._cue_timer.stop()
            self.listener.stop()
            return
        if not self.available:
            return
        self.listener.set_grammar(self.grammar())
        self._cue_pending, self._cue_started = True, False
        if self.banner is not None:
            self.banner.show_text(t("voice.prompt"))
        if self.mic is not None:
            self.mic.set_listening(True)
        self._cue_timer.start(CUE_TIMEOUT_MS)
        if self.speaker is not None:
            if self.speaker.last_text not in self._own:
                self._replay_text = self.speaker.last_text
            # The audible cue; the microphone opens when it has been said (no echo of it).
            self._say(t("voice.prompt"))
        else:
            self._begin_listening()

    def _on_cue_started(self, _text: str) -> None:
        if self._cue_pending:
            self._cue_started = True

    def _on_cue_over(self, force: bool = False) -> None:
        if self._cue_pending and (self._cue_started or force):
            self._begin_listening()

    def _begin_listening(self) -> None:
        if not self._cue_pending:
            return
        self._cue_pending = False
        self._cue_timer.stop()
        if not self.listener.start():
            self._show_idle()

    def _on_listening(self, on: bool) -> None:
        if self.mic is not None:
            self.mic.set_listening(on)
        if on and self.banner is not None:
            self.banner.show_text(t("voice.listening"))

    def _on_partial(self, text: str) -> None:
        if self.banner is not None and text:
            self.banner.show_text(text.replace(" ", ""))

    def _on_result(self, _text: str, _confidence: float) -> None:
        self.perform_words(self.listener.last_words)

    def _on_rejected(self, reason: str) -> None:
        self._reject(reason)

    def _on_failed(self, detail: str) -> None:
        log.warning("speech input failed: %s", detail)
        self._show_idle()

    def _show_idle(self) -> None:
        if self.mic is not None:
            self.mic.set_listening(False)
        if self.banner is not None:
            self.banner.hide()

    def _on_screen_changed(self, _name: str) -> None:
        if self.listener.is_listening:
            self.listener.stop()

    # -- understanding -> action -----------------------------------------------------------------

    @staticmethod
    def _pad(screen: Screen | None) -> Any:
        pad = getattr(screen, "pad", None)
        if screen is None or pad is None or not pad.isVisibleTo(screen):
            return None
        return pad

    def handle_text(self, text: str) -> Understanding:
        """Act on a transcript in vosk's output form ("健康 监测"); for tests and tools."""
        return self.perform_words(words_from_text(text))

    def perform_words(self, words: list[Word]) -> Understanding:
        screen = self.current()
        name = screen.name if screen is not None else ""
        u = understand(words, self.cmds, name, numbers=self._pad(screen) is not None)
        self.perform(u)
        return u

    def perform(self, u: Understanding) -> None:
        self._show_idle()
        if u.rejected:
            self._reject(u.reason)
            return
        ok = True
        if u.kind == "global":
            ok = self._global(u)
        elif u.kind == "button":
            if u.confirm:
                ok = self._find(u.labels[0]) is not None
                if ok:
                    self._confirm(t(f"voice.{u.confirm}"), lambda: self._press_all(u.labels))
            else:
                ok = self._press(u.labels, animate=True)
        elif u.kind == "numbers":
            ok = self._type_numbers(u.numbers)
        if not ok:
            self._reject("no_button")
            return
        if self.banner is not None:
            self.banner.show_text(t("voice.heard", text=u.text), hide_after_ms=HEARD_MS)
        self.understood.emit(u.kind, u.text)

    def _reject(self, reason: str) -> None:
        log.info("speech rejected: %s", reason)
        self._show_idle()
        self._say(t("voice.not_understood"))
        self.not_understood.emit(reason)

    def _say(self, text: str) -> None:
        if self.speaker is not None:
            self.speaker.say(text)
            self._own.add(self.speaker.last_text)

    def _global(self, u: Understanding) -> bool:
        w, sp = self.window, self.speaker
        if w is None or sp is None:
            return False
        intent = u.intent
        if intent == "back":
            w.back()
        elif intent == "home":
            w.home()
        elif intent == "repeat":
            # the cue 「请说」 must not be what is repeated
            if sp.last_text in self._own and self._replay_text:
                sp.say(self._replay_text)
            else:
                sp.replay()
        elif intent == "louder":
            sp.volume_up()
            sp.say(t("speech.louder"))
        elif intent == "quieter":
            sp.volume_down()
            sp.say(t("speech.quieter"))
        elif intent == "call":
            self._confirm(t("voice.confirm_call"), lambda: self.request_call("voice"))
        elif intent in ("yes", "no"):
            return self._answer(intent == "yes")
        return True

    def _confirm_screen(self) -> ConfirmScreen | None:
        from kiosk.screens.confirm import ConfirmScreen  # noqa: PLC0415

        screen = self.window.screens.get("confirm") if self.window is not None else None
        return screen if isinstance(screen, ConfirmScreen) else None

    def _confirm(self, question: str, action: Callable[[], None]) -> None:
        screen = self._confirm_screen()
        if screen is None or self.window is None:
            log.warning("no confirmation screen registered: not acting on a voice command")
            return
        screen.ask(question, action)
        self.window.show_screen("confirm")

    def _answer(self, yes: bool) -> bool:
        screen = self.current()
        confirm = self._confirm_screen()
        if confirm is not None and screen is confirm and confirm.pending:
            confirm.answer(yes)
            return True
        label = t("voice.yes") if yes else t("voice.no")
        return self._press((label,), animate=True)

    def _find(self, label: str) -> Any:
        screen = self.current()
        if screen is None:
            return None
        for b in screen.visible_buttons():
            if b.isEnabled() and b.text().replace("\n", "") == label:
                return b
        return None

    def _press(self, labels: tuple[str, ...], animate: bool = False) -> bool:
        """Press each label's button on whatever screen is current by then."""
        for i, label in enumerate(labels):
            button = self._find(label)
            if button is None:
                return i > 0  # a chain that got part of the way still did something
            if animate and i == len(labels) - 1:
                button.animateClick()
            else:
                button.click()
        return True

    def _press_all(self, labels: tuple[str, ...]) -> None:
        if not self._press(labels):
            self._reject("no_button")

    def _type_numbers(self, numbers: tuple[str, ...]) -> bool:
        pad = self._pad(self.current())
        if pad is None:
            return False
        for i, value in enumerate(numbers):
            if i > 0:
                pad.confirm.click()  # the previous number is done: on to the next field
                pad = self._pad(self.current())
                if pad is None:
                    return True
            pad.press("clear")
            for ch in value:
                pad.press(ch)
        return True
