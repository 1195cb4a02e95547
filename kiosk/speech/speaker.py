"""The Speaker service: say / stop / replay / volume, used from the UI thread, never blocking it.

Threads and who owns them (all stopped by :meth:`Speaker.shutdown`):

* the UI thread: :class:`Speaker`. ``say()`` normalises the text (microseconds),
  silences the player and hands a job to the worker; nothing here waits on I/O.
  A 20 ms QTimer, running only while something is pending, turns player events
  into signals and runs the watchdog. So no Qt object is touched off the UI thread.
* one :class:`SynthesisWorker` thread owns the engine (pyttsx3 espeak driver) and
  the prompt cache. A ``say`` job always goes before background prompt rendering.
  It also opens the output device (may block on PulseAudio/ALSA).
* PortAudio's callback thread, owned by the :class:`~kiosk.speech.player.Player`.

Watchdog: if the worker is busy with one job for more than ``hang_timeout``
seconds (a sentence takes ~10 ms), the worker is abandoned (its engine is asked
to release the call; its result, if it ever comes, is dropped) and a new worker
starts with the fallback engine, the espeak-ng command line in a killable child
process (see :mod:`kiosk.speech.engine` for the measurements behind that
choice). The pending utterance is re-queued so the resident still hears it.

Rate: ``voice.rate`` is espeak words per minute; for the Mandarin voice one
"word" is one syllable = one hanzi. Measured on espeak-ng 1.51
``sit/cmn-latn-pinyin`` (four kiosk sentences): 120 wpm -> 2.2 chars/s,
140 -> 2.6, **150 -> 2.8 chars/s overall (3.0 while voiced)**, 175 -> 3.4,
200 -> 4.0, 250 -> 5.2. Everyday Mandarin and broadcast speech run at about
4-5 syllables per second; for listeners of 60-90 with age-related hearing loss
a rate 25-40 % slower helps, but stretching espeak's syllables further makes the
synthetic voice drag. 150 (~2.8-3.0 chars/s, ~170-180 chars/min) is the default;
staff can set it per site between :data:`MIN_RATE` and :data:`MAX_RATE`.

Volume: four steps, applied as gain in the playback callback (so a change is
heard within one 12 ms block, even mid-sentence): :data:`VOLUME_STEPS_DB`,
21 dB from quietest to loudest.
"""

from __future__ import annotations

import collections
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kiosk.config import VoiceSection
from kiosk.qt import QtCore, Signal
from kiosk.speech.cache import CACHE_DIRNAME, PromptCache, cache_key, fixed_prompts
from kiosk.speech.engine import (
    ESPEAK_RATE,
    Audio,
    EngineHungError,
    EngineUnavailableError,
    EspeakCliBackend,
    Pyttsx3Backend,
    SynthesisBackend,
)
from kiosk.speech.normalize import normalize
from kiosk.speech.player import OutputUnavailableError, Player, PlayEvent

log = logging.getLogger(__name__)

VOLUME_STEPS_DB = (-21.0, -14.0, -7.0, 0.0)
MIN_RATE, MAX_RATE = 80, 260
DEFAULT_HANG_TIMEOUT = 3.0
TICK_MS = 20

BackendFactory = Callable[[], SynthesisBackend]


@dataclass(frozen=True)
class SpeechStatus:
    """What works and what is missing, for ``--check`` and the staff screen.

    ``problems`` are keys of voices/zh_CN/speech.toml (the sentences staff see);
    ``details`` are English lines for the log.
    """

    engine: str = ""
    engine_ok: bool = False
    voice: str = ""
    voice_ok: bool = False
    output_device: str = ""
    output_ok: bool = False
    replaced_engines: int = 0
    problems: tuple[str, ...] = ()
    details: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.engine_ok and self.voice_ok and self.output_ok


@dataclass
class _Job:
    text: str  # already normalised
    gen: int  # say() generation; 0 = background prompt rendering
    voice: str
    rate: int


@dataclass
class _Shared:
    """State the worker reports and the UI thread polls (plain attribute stores)."""

    engine: str = ""
    engine_ok: bool = False
    voice_ok: bool = False
    engine_error: str = ""
    failures: collections.deque[tuple[int, str]] = field(default_factory=collections.deque)


class SynthesisWorker(threading.Thread):
    """Owns one synthesis backend; renders say jobs (first) and prompt jobs (idle time).

    Delivers audio straight to the player (checking the job is still current)
    and reports failures through ``shared``. Never touches Qt.
    """

    def __init__(
        self,
        *,
        factories: list[BackendFactory],
        cache: PromptCache,
        player: Player,
        current_gen: Callable[[], int],
        shared: _Shared,
        name: str,
        voice: str,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self._voice = voice
        self._factories = factories
        self._cache = cache
        self._player = player
        self._current_gen = current_gen
        self.shared = shared
        self._cond = threading.Condition()
        self._say: _Job | None = None
        self._prompts: collections.deque[_Job] = collections.deque()
        self._stopping = False
        self.abandoned = False
        self.busy_since: float | None = None
        self.current: _Job | None = None
        self.backend: SynthesisBackend | None = None
        self.ready = threading.Event()
        self.rendered = 0

    # --- called from the UI thread ---------------------------------------------------
    def submit(self, job: _Job) -> None:
        with self._cond:
            if job.gen:
                self._say = job
            else:
                self._prompts.append(job)
            self._cond.notify()

    def cancel_say(self) -> None:
        with self._cond:
            self._say = None

    def pending(self) -> bool:
        return self._say is not None or bool(self._prompts) or self.busy_since is not None

    def take_prompts(self) -> list[_Job]:
        with self._cond:
            jobs = list(self._prompts)
            self._prompts.clear()
            return jobs

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()

    def abandon(self) -> None:
        """Give up on this worker (hung): release what can be released, drop its results."""
        self.abandoned = True
        self.stop()
        backend = self.backend
        if backend is not None:
            try:
                backend.abort()
            except Exception as exc:
                log.warning("aborting the hung engine failed: %s", exc)

    # --- the thread ------------------------------------------------------------------
    def run(self) -> None:
        self.backend = self._start_backend()
        try:
            self._open_player()
            self.ready.set()
            while True:
                with self._cond:
                    while not self._stopping and self._say is None and not self._prompts:
                        self._cond.wait()
                    if self._stopping:
                        return
                    job = self._say if self._say is not None else self._prompts.popleft()
                    if job is self._say:
                        self._say = None
                self._run_job(job)
        finally:
            self.ready.set()
            if self.backend is not None and not self.abandoned:
                self.backend.close()

    def _start_backend(self) -> SynthesisBackend | None:
        errors = []
        while self._factories:
            factory = self._factories[0]
            try:
                backend = factory()
            except EngineUnavailableError as exc:
                errors.append(str(exc))
                self._factories.pop(0)
                continue
            self.shared.engine = f"{backend.name} ({backend.version})"
            self.shared.voice_ok = backend.has_voice(self._voice)
            self.shared.engine_ok = True
            self.shared.engine_error = "; ".join(errors)
            return backend
        self.shared.engine = ""
        self.shared.engine_ok = False
        self.shared.engine_error = "; ".join(errors) or "no synthesis engine"
        log.warning("speech disabled: %s", self.shared.engine_error)
        return None

    def _open_player(self) -> None:
        try:
            self._player.open()
        except OutputUnavailableError as exc:
            log.warning("speech output disabled: %s", exc)

    def _run_job(self, job: _Job) -> None:
        if job.gen and job.gen != self._current_gen():
            return  # superseded while waiting
        self.current = job
        self.busy_since = time.monotonic()
        try:
            audio = self._render(job)
        finally:
            self.busy_since = None
            self.current = None
        if audio is None or not job.gen or self.abandoned:
            return
        if not self._player.is_open:
            self._open_player()
            if not self._player.is_open:
                self.shared.failures.append((job.gen, self._player.error or "no output"))
                return
        if job.gen == self._current_gen():
            self._player.play(audio, job.gen)

    def _render(self, job: _Job) -> Audio | None:
        backend = self.backend
        if backend is None:
            if job.gen:
                self.shared.failures.append((job.gen, self.shared.engine_error))
            return None
        key = cache_key(job.text, job.voice, job.rate, backend.version)
        audio = self._cache.get(key)
        if audio is not None:
            return audio
        try:
            audio = backend.synthesize(job.text, job.voice, job.rate)
        except EngineHungError as exc:
            log.warning("engine %s hung, switching to the next one: %s", backend.name, exc)
            backend.abort()
            backend.close()
            self._factories.pop(0)
            self.backend = self._start_backend()
            return None if self.backend is None else self._render(job)
        except Exception as exc:  # a broken engine must not kill the worker thread
            log.warning("could not synthesize %r: %s", job.text, exc, exc_info=True)
            if job.gen:
                self.shared.failures.append((job.gen, str(exc)))
            return None
        self.shared.voice_ok = backend.voice_ok
        self._cache.put(key, audio, persist=not job.gen)
        self.rendered += 1
        return audio


def default_backends() -> list[BackendFactory]:
    return [Pyttsx3Backend, EspeakCliBackend]


def fallback_backends() -> list[BackendFactory]:
    return [EspeakCliBackend]


@dataclass
class Timing:
    """When the last say() was called and when its first frame reached the device."""

    said_at: float = 0.0
    first_frame_at: float | None = None
    stopped_at: float | None = None


class Speaker(QtCore.QObject):
    """Speaks text to residents: one utterance at a time, replaceable and stoppable at once.

    Signals (always emitted on the UI thread):
      started(str)      the normalised text whose audio began playing
      finished()        the current utterance played to its end
      stopped()         stop() silenced something that was pending or playing
      failed(str)       this utterance cannot be heard (no engine / no device / error)
      volume_changed(int) the new volume step (0 quietest .. 3 loudest)
      status_changed()  status() changed (engine found/replaced, device opened/lost)
    """

    started = Signal(str)
    finished = Signal()
    stopped = Signal()
    failed = Signal(str)
    volume_changed = Signal(int)
    status_changed = Signal()

    def __init__(
        self,
        voice: VoiceSection | None = None,
        data_dir: Path | None = None,
        parent: QtCore.QObject | None = None,
        *,
        backends: list[BackendFactory] | None = None,
        fallbacks: list[BackendFactory] | None = None,
        hang_timeout: float = DEFAULT_HANG_TIMEOUT,
    ) -> None:
        super().__init__(parent)
        self._cfg = voice or VoiceSection()
        self._voice = self._cfg.tts_voice
        self._rate = _clamp_rate(self._cfg.rate)
        self._default_step = self._cfg.volume
        self._step = self._default_step
        self._hang_timeout = hang_timeout
        self._fallbacks = fallbacks if fallbacks is not None else fallback_backends()
        self._cache = PromptCache(data_dir / CACHE_DIRNAME if data_dir is not None else None)
        self._player = Player(self._cfg.output_device)
        self._player.gain = _gain(self._step)
        self._gen = 0
        self._last_text = ""
        self._current_text = ""
        self._speaking = False
        self._replaced = 0
        self._abandoned: list[SynthesisWorker] = []
        self._prompt_texts: list[str] = []
        self._last_status = SpeechStatus()
        self._chime_gen = -1
        self._chime_waiting = False
        self.chimes = 0  # chimes played (for the staff screen's tests and the log)
        self.timing = Timing()
        self._shared = _Shared()
        self._worker = self._new_worker(
            backends if backends is not None else default_backends(), self._shared
        )
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()  # until the worker has reported the engine and device

    # --- public API (UI thread) ------------------------------------------------------
    def say(self, text: str) -> None:
        """Speak ``text`` (normalised first); replaces whatever is playing or pending."""
        spoken = normalize(text)
        self._gen += 1
        self._player.stop(self._gen)
        self.timing = Timing(said_at=time.perf_counter())
        if not spoken:
            self._speaking = False
            return
        self._last_text = spoken
        self._current_text = spoken
        self._speaking = True
        self._worker.submit(_Job(spoken, self._gen, self._voice, self._rate))
        self._timer.start()

    def stop(self) -> None:
        """Silence now (next 12 ms audio block); drops a pending utterance too."""
        self._gen += 1
        self._player.stop(self._gen)
        self._worker.cancel_say()
        self._chime_waiting = False
        self.timing.stopped_at = time.perf_counter()
        if self._speaking:
            self._speaking = False
            self.stopped.emit()

    def replay(self) -> None:
        """Say the last utterance again (再说一遍)."""
        if self._last_text:
            self.say(self._last_text)

    def is_speaking(self) -> bool:
        return self._speaking

    def chime(self) -> None:
        """A short two-tone chime for staff (a resident is calling), through the same player.

        It never cuts speech: while an utterance is pending or playing the chime
        waits for its end. Speech (``say``) and ``stop`` cut a playing chime. No
        ``started``/``finished`` signals for it. Silent when there is no device.
        """
        if self._speaking:
            self._chime_waiting = True
            return
        self._play_chime()

    def _play_chime(self) -> None:
        self._chime_waiting = False
        if not self._player.is_open:
            log.info("chime not played: no audio output")
            return
        self._gen += 1
        self._chime_gen = self._gen
        if self._player.play(chime_audio(), self._gen):
            self.chimes += 1
            self._timer.start()

    @property
    def last_text(self) -> str:
        return self._last_text

    def volume(self) -> int:
        return self._step

    def set_volume(self, step: int) -> None:
        step = max(0, min(len(VOLUME_STEPS_DB) - 1, step))
        self._player.gain = _gain(step)
        if step != self._step:
            self._step = step
            self.volume_changed.emit(step)

    def volume_up(self) -> None:
        self.set_volume(self._step + 1)

    def volume_down(self) -> None:
        self.set_volume(self._step - 1)

    def set_default_volume(self, step: int) -> None:
        """Staff settings: the volume each new resident starts with (applied now too)."""
        self._default_step = max(0, min(len(VOLUME_STEPS_DB) - 1, step))
        self.set_volume(self._default_step)

    def reset_volume(self) -> None:
        """Back to the configured default (for each new resident)."""
        self.set_volume(self._default_step)

    def rate(self) -> int:
        return self._rate

    def set_rate(self, wpm: int) -> None:
        """espeak words (= Mandarin syllables) per minute, clamped to MIN_RATE..MAX_RATE."""
        wpm = _clamp_rate(wpm)
        if wpm != self._rate:
            self._rate = wpm
            if self._prompt_texts:
                self.warm_cache(self._prompt_texts)

    def warm_cache(self, texts: Iterable[str] | None = None) -> None:
        """Render prompts into the cache in the background (default: every fixed prompt)."""
        self._prompt_texts = list(texts) if texts is not None else fixed_prompts()
        for text in self._prompt_texts:
            self._worker.submit(_Job(normalize(text), 0, self._voice, self._rate))
        self._timer.start()

    def is_cached(self, text: str) -> bool:
        backend = self._worker.backend
        if backend is None:
            return False
        return self._cache.has(cache_key(normalize(text), self._voice, self._rate, backend.version))

    def cache_pending(self) -> bool:
        return self._worker.pending()

    def status(self) -> SpeechStatus:
        shared = self._shared
        problems: list[str] = []
        details: list[str] = []
        started = self._worker.ready.is_set()
        if started and not shared.engine_ok:
            problems.append("speech.no_engine")
            details.append(shared.engine_error)
        if started and shared.engine_ok and not shared.voice_ok:
            problems.append("speech.no_voice")
            details.append(f"voice {self._voice} not installed")
        if started and not self._player.is_open:
            problems.append("speech.no_output")
            details.append(self._player.error or "output device not open yet")
        if self._replaced:
            problems.append("speech.engine_replaced")
            details.append(f"engine replaced {self._replaced} time(s) after a hang")
        return SpeechStatus(
            engine=shared.engine,
            engine_ok=shared.engine_ok,
            voice=self._voice,
            voice_ok=shared.engine_ok and shared.voice_ok,
            output_device=self._player.device_name or self._cfg.output_device,
            output_ok=self._player.is_open,
            replaced_engines=self._replaced,
            problems=tuple(problems),
            details=tuple(details),
        )

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """Block until the worker has probed engine and device (for --check, not the UI)."""
        return self._worker.ready.wait(timeout)

    def shutdown(self, timeout: float = 2.0) -> None:
        """Stop the timer, the worker thread and the audio stream (idempotent)."""
        self._timer.stop()
        self._gen += 1
        self._player.stop(self._gen)
        self._worker.stop()
        self._worker.join(timeout)
        if self._worker.is_alive():
            log.warning("speech worker did not stop within %.1f s", timeout)
        for worker in self._abandoned:
            worker.join(0.05)
            if worker.is_alive():
                log.warning("abandoned speech worker %s is still blocked", worker.name)
        self._player.close()

    # --- internals -------------------------------------------------------------------
    def _new_worker(self, factories: list[BackendFactory], shared: _Shared) -> SynthesisWorker:
        worker = SynthesisWorker(
            factories=list(factories),
            cache=self._cache,
            player=self._player,
            current_gen=lambda: self._gen,
            shared=shared,
            name=f"speech-synth-{self._replaced}",
            voice=self._voice,
        )
        worker.start()
        return worker

    def _tick(self) -> None:
        self._watchdog()
        for event in self._player.take_events():
            self._on_play_event(event)
        while self._shared.failures:
            gen, reason = self._shared.failures.popleft()
            if gen == self._gen and self._speaking:
                self._speaking = False
                self.failed.emit(reason)
                if self._chime_waiting:
                    self._play_chime()
        status = self.status()
        if status != self._last_status:
            self._last_status = status
            self.status_changed.emit()
        idle = (
            self._worker.ready.is_set()
            and not self._speaking
            and not self._worker.pending()
            and not self._player.playing
        )
        if idle:
            self._timer.stop()

    def _on_play_event(self, event: PlayEvent) -> None:
        if event.gen != self._gen or event.gen == self._chime_gen:
            return
        if event.kind == "started":
            self.timing.first_frame_at = event.at
            self.started.emit(self._current_text)
        elif event.kind == "finished":
            delay_ms = max(0, int((event.at - time.perf_counter()) * 1000))
            gen = event.gen
            QtCore.QTimer.singleShot(delay_ms, lambda: self._finish(gen))

    def _finish(self, gen: int) -> None:
        if gen == self._gen and self._speaking:
            self._speaking = False
            self.finished.emit()
            if self._chime_waiting:
                self._play_chime()

    def _watchdog(self) -> None:
        worker = self._worker
        since = worker.busy_since
        died = not worker.is_alive() and worker.ready.is_set()
        if not died and (since is None or time.monotonic() - since < self._hang_timeout):
            return
        since = since or time.monotonic()
        job = worker.current
        log.warning(
            "speech worker hung (or died) for %.1f s on %r; replacing it",
            time.monotonic() - since,
            job.text if job else "",
        )
        prompts = worker.take_prompts()
        worker.abandon()
        self._abandoned.append(worker)
        self._replaced += 1
        self._shared = _Shared(voice_ok=self._shared.voice_ok)
        self._worker = self._new_worker(self._fallbacks, self._shared)
        for prompt in prompts:
            self._worker.submit(prompt)
        if job is not None and job.gen == self._gen and self._speaking:
            self._worker.submit(job)


CHIME_TONES_HZ = (880.0, 660.0)  # a falling two-tone "ding-dong"
CHIME_TONE_S = 0.28
CHIME_LEVEL = 0.35  # peak, before the volume gain: quieter than speech, gentle


@functools.cache
def chime_audio() -> Audio:
    """The staff chime: two soft sine tones with smooth edges (no clicks), ~0.6 s."""
    n = int(ESPEAK_RATE * CHIME_TONE_S)
    t = np.arange(n, dtype=np.float32) / ESPEAK_RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02).astype(np.float32)
    decay = np.exp(-3.0 * t / CHIME_TONE_S).astype(np.float32)
    tones = [
        (CHIME_LEVEL * np.sin(2 * np.pi * f * t) * fade * decay).astype(np.float32)
        for f in CHIME_TONES_HZ
    ]
    gap = np.zeros(int(ESPEAK_RATE * 0.04), dtype=np.float32)
    return Audio(np.concatenate([tones[0], gap, tones[1]]).astype(np.float32), ESPEAK_RATE)


def _gain(step: int) -> float:
    return float(10 ** (VOLUME_STEPS_DB[step] / 20))


def _clamp_rate(wpm: int) -> int:
    return max(MIN_RATE, min(MAX_RATE, int(wpm)))
