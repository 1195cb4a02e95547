"""Push-to-talk speech input: microphone -> vosk grammar recognizer -> a result, off the UI thread.

Threads and who owns them (all stopped by :meth:`Listener.shutdown`):

* the UI thread: :class:`Listener`. ``start()`` / ``stop()`` only post to the worker; results
  come back through a queued signal, so every public signal is emitted on the UI thread.
* a loader thread (once): loads the vosk Model (1.2-2.8 s) and looks for the input device.
* one worker thread: per utterance it opens a sounddevice InputStream (16 kHz mono int16,
  100 ms blocks), feeds a fresh KaldiRecognizer with the current grammar, runs the
  :class:`Endpointer` and closes the stream. Blocks are dropped once fed: audio is never stored.
* PortAudio's callback thread, which only queues blocks.

End of utterance (vosk 0.3.45 has no configurable endpointer): an energy detector with a
floor adapted from the first 300 ms — see :class:`Endpointing` for the thresholds and why.
No listening ever starts without ``start()`` (a tap or a key).
"""

from __future__ import annotations

import json
import logging
import math
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from kiosk.qt import QtCore, Signal
from kiosk.voice.intents import Word, words_from_result
from kiosk.voice.model import (
    InputDevice,
    ModelError,
    find_input_device,
    load_model,
    unknown_token,
    unknown_words,
)

log = logging.getLogger(__name__)

RATE: Final = 16000


@dataclass(frozen=True)
class Endpointing:
    """Thresholds of the end-of-utterance detector (all times in ms).

    * ``block_ms`` 100: the recognizer gets 1600 samples at a time (FEASIBILITY: 100-200 ms
      blocks; the smaller size makes the end detectable 100 ms sooner).
    * ``calibrate_ms`` 300: the quietest block of the first 300 ms is the noise floor. The
      quietest, not the mean, so a resident who starts talking at once does not raise it.
    * ``snr`` 3.2 (≈ +10 dB over the floor) and ``min_rms`` 0.004 (-48 dBFS, well under
      quiet speech at a kiosk microphone, well over a digital-silence null sink): a block
      is voiced above max(floor * snr, min_rms); it stays voiced down to 0.7 of that
      (hysteresis, so syllable dips do not count as silence).
    * ``min_speech_ms`` 200: speech has started after two voiced blocks (a click is one).
    * ``trailing_silence_ms`` 600: the end. Mandarin speakers pause 150-400 ms inside a
      phrase and between the two numbers of a blood-pressure pair; 600 ms keeps those
      together and is the issue's upper bound for the wait after the last word.
    * ``no_speech_ms`` 5000: nothing said after the tap -> rejected as no speech.
    * ``max_ms`` 8000: hard cap for one utterance (what was heard so far is recognized).
    """

    block_ms: int = 100
    calibrate_ms: int = 300
    snr: float = 3.2
    min_rms: float = 0.004
    hysteresis: float = 0.7
    min_speech_ms: int = 200
    trailing_silence_ms: int = 600
    no_speech_ms: int = 5000
    max_ms: int = 8000

    @property
    def block_samples(self) -> int:
        return RATE * self.block_ms // 1000


class Endpointer:
    """Feeds on block RMS values (0..1); says when the utterance is over and why.

    ``done`` is None while listening, then "silence" (speech followed by the trailing
    silence), "no_speech" or "max".
    """

    def __init__(self, cfg: Endpointing) -> None:
        self.cfg = cfg
        self.elapsed_ms = 0
        self.floor: float | None = None
        self._calibration: list[float] = []
        self.voiced_ms = 0
        self.silence_ms = 0
        self.speaking = False
        self.done: str | None = None
        self.speech_end_ms: int | None = None  # when the trailing silence began

    @property
    def threshold(self) -> float:
        floor = self.floor if self.floor is not None else 0.0
        return max(floor * self.cfg.snr, self.cfg.min_rms)

    def feed(self, rms: float) -> str | None:
        c = self.cfg
        if self.done is not None:
            return self.done
        self.elapsed_ms += c.block_ms
        if self.floor is None:
            self._calibration.append(rms)
            if self.elapsed_ms < c.calibrate_ms:
                return None
            self.floor = min(self._calibration)
            for value in self._calibration:
                self._step(value)
        else:
            if not self.speaking and rms < self.floor:
                self.floor = rms  # a quieter room than during calibration
            self._step(rms)
        if self.done is None and self.elapsed_ms >= c.max_ms:
            self.done = "max"
        elif self.done is None and not self.speaking and self.elapsed_ms >= c.no_speech_ms:
            self.done = "no_speech"
        return self.done

    def _step(self, rms: float) -> None:
        c = self.cfg
        voiced = rms > (self.threshold * c.hysteresis if self.speaking else self.threshold)
        if not self.speaking:
            self.voiced_ms = self.voiced_ms + c.block_ms if voiced else 0
            if self.voiced_ms >= c.min_speech_ms:
                self.speaking = True
            return
        if voiced:
            self.silence_ms = 0
            self.speech_end_ms = None
            return
        if self.silence_ms == 0:
            self.speech_end_ms = self.elapsed_ms - c.block_ms
        self.silence_ms += c.block_ms
        if self.silence_ms >= c.trailing_silence_ms:
            self.done = "silence"


def block_rms(block: npt.NDArray[np.int16]) -> float:
    if not len(block):
        return 0.0
    x = block.astype(np.float64) / 32768.0
    return math.sqrt(float(np.mean(x * x)))


@dataclass(frozen=True)
class ListenerStatus:
    """What works and what is missing (for the mic button, ``--check`` and staff).

    ``problems`` are keys of voices/zh_CN/voice.toml; ``details`` English lines for the log.
    """

    model_path: str = ""
    loading: bool = False
    model_ok: bool = False
    input_device: str = ""
    input_ok: bool = False
    unknown_words: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    details: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return self.model_ok and self.input_ok


@dataclass
class UtteranceStats:
    """Timings of the last utterance (perf_counter seconds), for the benchmark and tests."""

    opened: float = 0.0
    first_audio: float = 0.0
    speech_end: float = 0.0  # estimated end of the last word (start of the trailing silence)
    endpoint: float = 0.0  # when the silence wait was over
    result: float = 0.0  # when the final result was ready
    audio_seconds: float = 0.0
    decode_seconds: float = 0.0  # time spent inside vosk
    reason: str = ""


@dataclass
class _Session:
    grammar: str
    stop: threading.Event = field(default_factory=threading.Event)


class Listener(QtCore.QObject):
    """The speech input service.

    Signals (always on the UI thread):
        listening_changed(bool): the microphone is open (True) or closed again (False).
        partial(str): words heard so far, while speaking (spaces between model words).
        result(str text, float confidence): the final words and their lowest confidence.
        rejected(str reason): nothing usable: "no_speech", "empty".
        failed(str): the microphone or the recognizer failed (English detail).
        status_changed(): the model finished loading (or failed), see :meth:`status`.
    """

    listening_changed = Signal(bool)
    partial = Signal(str)
    result = Signal(str, float)
    rejected = Signal(str)
    failed = Signal(str)
    status_changed = Signal()
    _posted = Signal(object)

    def __init__(
        self,
        model_path: Path | None,
        *,
        input_device: str = "",
        vocabulary: Sequence[str] = (),
        endpointing: Endpointing | None = None,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model_path = model_path
        self.input_spec = input_device
        self.vocabulary = tuple(vocabulary)
        self.endpointing = endpointing or Endpointing()
        self.last_words: list[Word] = []
        self.last_stats = UtteranceStats()
        self.load_seconds = 0.0
        self._model: Any = None
        self._unknown: str | None = None
        self._device: InputDevice | None = None
        self._status = ListenerStatus(
            model_path=str(model_path or ""),
            problems=() if model_path else ("voice.no_model",),
            details=() if model_path else ("no vosk model installed",),
        )
        self._grammar: list[str] = []
        self._listening = False
        self._session: _Session | None = None
        self._jobs: queue.SimpleQueue[_Session | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._loader: threading.Thread | None = None
        self._closed = False
        self._posted.connect(self._on_posted, QtCore.Qt.ConnectionType.QueuedConnection)

    # -- model ------------------------------------------------------------------------------

    def load(self) -> None:
        """Load the model and find the microphone in the background (once)."""
        if self.model_path is None or self._loader is not None:
            return
        self._status = ListenerStatus(model_path=str(self.model_path), loading=True)
        self._loader = threading.Thread(target=self._load, name="voice-model-loader", daemon=True)
        self._loader.start()

    def _load(self) -> None:
        assert self.model_path is not None
        started = time.perf_counter()
        problems: list[str] = []
        details: list[str] = []
        model: Any = None
        unknown: list[str] = []
        try:
            model = load_model(self.model_path)
        except ModelError as exc:
            problems.append("voice.model_failed")
            details.append(str(exc))
        if model is not None:
            unknown = unknown_words(model, self.vocabulary)
            if unknown:
                problems.append("voice.unknown_words")
                details.append(f"words unknown to the model: {' '.join(unknown)}")
        device = find_input_device(self.input_spec)
        if isinstance(device, str):
            problems.append("voice.no_input")
            details.append(device)
        self._posted.emit(
            (
                "loaded",
                model,
                device,
                tuple(unknown),
                tuple(problems),
                tuple(details),
                time.perf_counter() - started,
            )
        )

    def status(self) -> ListenerStatus:
        return self._status

    def wait_loaded(self, timeout: float = 30.0) -> bool:
        """Block until the loader thread is done (tools and benchmarks, not the UI)."""
        if self._loader is not None:
            self._loader.join(timeout)
            return not self._loader.is_alive()
        return True

    # -- listening -----------------------------------------------------------------------------

    def set_grammar(self, phrases: Sequence[str]) -> None:
        """Phrases (words separated by spaces) the next utterance is recognized against."""
        self._grammar = list(phrases)

    def grammar_with_unknown(self) -> list[str]:
        phrases = list(self._grammar)
        if self._unknown and self._unknown not in phrases:
            phrases.append(self._unknown)
        return phrases

    @property
    def is_listening(self) -> bool:
        return self._listening

    def start(self) -> bool:
        """Open the microphone and listen for one utterance; False if that cannot happen."""
        if self._closed or self._session is not None:
            return False
        if not self._status.ready:
            reason = self._status.details[0] if self._status.details else "voice model loading"
            self.failed.emit(reason)
            return False
        session = _Session(json.dumps(self.grammar_with_unknown(), ensure_ascii=False))
        self._session = session
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="voice-listener", daemon=True)
            self._worker.start()
        self._jobs.put(session)
        return True

    def stop(self) -> None:
        """End the utterance now (push-to-talk released): what was heard is recognized."""
        if self._session is not None:
            self._session.stop.set()

    def shutdown(self, timeout: float = 2.0) -> None:
        self._closed = True
        self.stop()
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join(timeout)
            if self._worker.is_alive():
                log.warning("voice listener thread did not stop within %.1f s", timeout)

    # -- worker thread -----------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            session = self._jobs.get()
            if session is None:
                return
            try:
                self._listen(session)
            except Exception as exc:  # the worker must survive anything vosk/PortAudio raise
                log.exception("listening failed")
                self._posted.emit(("failed", session, f"{type(exc).__name__}: {exc}"))

    def _open_stream(
        self, session: _Session, blocks: queue.SimpleQueue[npt.NDArray[np.int16]]
    ) -> Any:
        """The started input stream queueing its blocks into ``blocks``, or None (posted)."""
        import sounddevice as sd  # noqa: PLC0415 - found by the loader already

        def callback(indata: Any, _frames: int, _t: Any, _status: Any) -> None:
            blocks.put(indata[:, 0].copy())

        assert self._device is not None
        try:
            stream = sd.InputStream(
                device=self._device.index,
                samplerate=RATE,
                channels=1,
                dtype="int16",
                blocksize=self.endpointing.block_samples,
                callback=callback,
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._posted.emit(("failed", session, f"microphone: {exc}"))
            return None
        return stream

    def _listen(self, session: _Session) -> None:
        import vosk  # noqa: PLC0415 - loaded by the loader already

        cfg = self.endpointing
        stats = UtteranceStats(opened=time.perf_counter())
        rec = vosk.KaldiRecognizer(self._model, RATE, session.grammar)
        rec.SetWords(True)
        blocks: queue.SimpleQueue[npt.NDArray[np.int16]] = queue.SimpleQueue()

        stream = self._open_stream(session, blocks)
        if stream is None:
            return
        segments: list[dict[str, Any]] = []
        endpointer = Endpointer(cfg)
        last_partial = ""
        decode = 0.0
        try:
            while endpointer.done is None and not session.stop.is_set():
                try:
                    block = blocks.get(timeout=0.05)
                except queue.Empty:
                    if (
                        stats.first_audio
                        and time.perf_counter() - stats.first_audio > cfg.max_ms / 1000
                    ):
                        break
                    if not stats.first_audio and time.perf_counter() - stats.opened > 5.0:
                        raise RuntimeError("no audio from the microphone within 5 s") from None
                    continue
                if not stats.first_audio:
                    stats.first_audio = time.perf_counter()
                    self._posted.emit(("listening", session, True))
                stats.audio_seconds += len(block) / RATE
                arrived = time.perf_counter()
                was_silent = endpointer.silence_ms > 0
                endpointer.feed(block_rms(block))
                if endpointer.speaking and endpointer.silence_ms > 0 and not was_silent:
                    # silence began about one block before this block arrived
                    stats.speech_end = arrived - cfg.block_ms / 1000
                t0 = time.perf_counter()
                if rec.AcceptWaveform(block.tobytes()):
                    segments.append(json.loads(rec.Result()))
                    text = ""
                else:
                    text = str(json.loads(rec.PartialResult()).get("partial", ""))
                decode += time.perf_counter() - t0
                shown = " ".join([*(str(s.get("text", "")) for s in segments), text]).strip()
                if shown != last_partial:
                    last_partial = shown
                    self._posted.emit(("partial", session, shown))
        finally:
            stats.endpoint = time.perf_counter()
            stream.abort()  # no draining: the recording is not needed any more
            stream.close()
        stats.decode_seconds = decode
        self._finish(session, rec, segments, endpointer, stats)

    def _finish(
        self,
        session: _Session,
        rec: Any,
        segments: list[dict[str, Any]],
        endpointer: Endpointer,
        stats: UtteranceStats,
    ) -> None:
        """Final result of one utterance -> a posted result or rejection."""
        if endpointer.speech_end_ms is None:
            stats.speech_end = 0.0  # still speaking when it ended (max, stop)
        t0 = time.perf_counter()
        segments.append(json.loads(rec.FinalResult()))
        stats.decode_seconds += time.perf_counter() - t0
        stats.result = time.perf_counter()
        stats.reason = "stopped" if session.stop.is_set() else (endpointer.done or "max")
        words = [w for s in segments for w in words_from_result(s) if w.word]
        if stats.reason == "no_speech" and not words:
            self._posted.emit(("rejected", session, "no_speech", stats))
        elif not words:
            self._posted.emit(("rejected", session, "empty", stats))
        else:
            self._posted.emit(("result", session, words, stats))

    # -- UI thread ---------------------------------------------------------------------------

    @QtCore.Slot(object)
    def _on_posted(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        if kind == "loaded":
            _, model, device, unknown, problems, details, seconds = event
            self._model = model
            self._unknown = unknown_token(model) if model is not None else None
            self._device = device if isinstance(device, InputDevice) else None
            self.load_seconds = seconds
            self._status = ListenerStatus(
                model_path=str(self.model_path),
                loading=False,
                model_ok=model is not None,
                input_device=self._device.name if self._device else "",
                input_ok=self._device is not None,
                unknown_words=unknown,
                problems=problems,
                details=details,
            )
            for line in details:
                log.warning("speech input: %s", line)
            self.status_changed.emit()
            return
        session = event[1]
        if session is not self._session:
            return  # a late event of an abandoned utterance
        if kind == "listening":
            self._set_listening(True)
        elif kind == "partial":
            self.partial.emit(event[2])
        else:
            self._session = None
            self._set_listening(False)
            if kind == "failed":
                self.failed.emit(event[2])
            elif kind == "rejected":
                self.last_words, self.last_stats = [], event[3]
                self.rejected.emit(event[2])
            elif kind == "result":
                words: list[Word] = event[2]
                self.last_words, self.last_stats = words, event[3]
                text = " ".join(w.word for w in words)
                self.result.emit(text, min(w.conf for w in words))

    def _set_listening(self, on: bool) -> None:
        if self._listening != on:
            self._listening = on
            self.listening_changed.emit(on)
