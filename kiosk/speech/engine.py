"""Synthesis backends: text in, mono PCM out. No Qt, no playback.

Two backends produce the same audio (both drive libespeak-ng 1.51 with the same
voice data):

* :class:`Pyttsx3Backend`, the normal one: pyttsx3's espeak driver in-process,
  ~10 ms per sentence (measured). It must be created and used on one thread only
  (the synthesis worker) and works around pyttsx3 2.99's bugs listed in
  shared/FEASIBILITY.md: ``runAndWait()`` may return before the file is written,
  so we wait on the ``finished-utterance`` callback with a timeout; only one
  ``save_to_file`` is queued per ``runAndWait``; ``say()`` (aplay, unstoppable,
  unroutable) and ``stop()`` (does nothing) are never used.
* :class:`EspeakCliBackend`: one ``espeak-ng --stdout`` process per utterance,
  ~17 ms per sentence including process start (measured). It is the replacement
  after pyttsx3 hangs: a process can be killed on timeout, while a call stuck in
  libespeak-ng cannot be interrupted and the library is a process-wide singleton
  (pyttsx3 initialises it once per process and its synth callback is global), so a
  second in-process engine would share whatever state hung. (A new
  ``pyttsx3.Engine`` in a new thread does work after a stuck *Python* run loop -
  measured, 12 ms - but we cannot tell the two kinds of hang apart from outside.)
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

ESPEAK_RATE = 22050  # libespeak-ng's output rate, also hard-coded in pyttsx3's driver
FALLBACK_VOICE = "sit/cmn"  # reads hanzi as pinyin with tone numbers: better than nothing


class SynthesisError(Exception):
    """The engine could not turn this text into audio (the engine itself may still work)."""


class EngineHungError(SynthesisError):
    """The engine did not finish within its timeout; it must be replaced."""


class EngineUnavailableError(Exception):
    """The engine cannot start at all (library or program missing)."""


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at ``rate`` Hz."""

    samples: npt.NDArray[np.float32]
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    @classmethod
    def from_pcm16(cls, data: bytes, rate: int) -> Audio:
        pcm = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
        return cls((pcm.astype(np.float32) / 32768.0), rate)

    def resampled(self, rate: int) -> Audio:
        """Linear resampling: enough for speech played on a device that refuses 22050 Hz."""
        if rate == self.rate or len(self.samples) == 0:
            return self
        n_out = round(len(self.samples) * rate / self.rate)
        x_out = np.linspace(0, len(self.samples) - 1, n_out)
        out = np.interp(x_out, np.arange(len(self.samples)), self.samples).astype(np.float32)
        return Audio(out, rate)


class SynthesisBackend(Protocol):
    """What the synthesis worker needs from an engine."""

    name: str
    version: str
    voice_ok: bool

    def has_voice(self, voice: str) -> bool: ...

    def synthesize(self, text: str, voice: str, rate: int) -> Audio: ...

    def abort(self) -> None:
        """Best effort to release a call that hangs (called from another thread)."""

    def close(self) -> None: ...


def read_wav(path: Path) -> Audio:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise SynthesisError(f"{path}: expected 16-bit mono WAV")
        return Audio.from_pcm16(wav.readframes(wav.getnframes()), wav.getframerate())


def write_wav(path: Path, audio: Audio) -> None:
    pcm = (np.clip(audio.samples, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(audio.rate)
        wav.writeframes(pcm.tobytes())


class Pyttsx3Backend:
    """pyttsx3's espeak driver, owned by the one thread that created it.

    Every utterance is one ``save_to_file`` + ``runAndWait`` into a private temp
    file, then a wait on the ``finished-utterance`` callback (timeout
    ``timeout`` seconds -> :class:`EngineHungError`).
    """

    name = "pyttsx3"
    # libespeak-ng is a process-wide singleton and pyttsx3's synth callback is global: a
    # second live engine steals the first one's callbacks (measured: the first one then
    # never finishes, and the second one's rate is wrong). So at most one per process.
    # The engine itself is created once and handed from owner to owner: a second
    # pyttsx3.Engine in the same process was measured to ignore later rate changes.
    _alive_lock = threading.Lock()
    _alive = False
    _engine_singleton: Any = None

    def __init__(self, timeout: float = 2.0) -> None:
        with Pyttsx3Backend._alive_lock:
            if Pyttsx3Backend._alive:
                raise EngineUnavailableError("a pyttsx3 engine is already alive in this process")
            Pyttsx3Backend._alive = True
        self._closed = False
        self._owner = threading.current_thread()
        try:
            self._setup(timeout)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        with Pyttsx3Backend._alive_lock:
            Pyttsx3Backend._alive = False

    def _setup(self, timeout: float) -> None:
        try:
            import pyttsx3  # noqa: PLC0415 - optional at run time: missing lib -> silent kiosk
            import pyttsx3.drivers.espeak as espeak_driver  # noqa: PLC0415
            from pyttsx3.drivers import _espeak  # noqa: PLC0415
        except (ImportError, OSError) as exc:
            raise EngineUnavailableError(f"pyttsx3/libespeak-ng not loadable: {exc}") from exc
        # The driver prints "Audio saved to <file>" for every file: keep stdout clean.
        espeak_driver.print = _quiet_print
        self._timeout = timeout
        if Pyttsx3Backend._engine_singleton is None:
            try:
                Pyttsx3Backend._engine_singleton = pyttsx3.Engine("espeak")
            except (RuntimeError, OSError) as exc:
                raise EngineUnavailableError(f"espeak driver failed to start: {exc}") from exc
        self._engine: Any = Pyttsx3Backend._engine_singleton
        raw_info = _espeak.Info(None)
        espeak_version = raw_info.decode().split()[0] if raw_info else "?"
        self.version = f"espeak-ng {espeak_version}"
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._tokens = [
            self._engine.connect("finished-utterance", self._on_finished),
            self._engine.connect("error", self._on_error),
        ]
        self._voices = {str(v.id).lower() for v in self._engine.getProperty("voices")}
        self._voice = ""
        self.voice_ok = True
        self._tmp = Path(tempfile.mkdtemp(prefix="kiosk-tts-"))
        self._wav = self._tmp / "utterance.wav"

    def has_voice(self, voice: str) -> bool:
        return voice.lower() in self._voices

    def _on_finished(self, name: object = None, completed: bool = True) -> None:
        self._done.set()

    def _on_error(self, name: object = None, exception: BaseException | None = None) -> None:
        self._error = exception
        self._done.set()

    def _configure(self, voice: str, rate: int) -> None:
        # Set voice and rate on the library directly, before every utterance: pyttsx3
        # queues setProperty() behind its own commands, and the espeak parameters are
        # process-wide, so a queued or cached setting was seen to be lost (wrong rate).
        self.voice_ok = self.has_voice(voice)
        if not self.voice_ok and voice != self._voice:
            log.warning("voice %s not installed; using %s", voice, FALLBACK_VOICE)
        driver = self._engine.proxy._driver
        if voice != self._voice:
            driver.setProperty("voice", voice if self.voice_ok else FALLBACK_VOICE)
            self._voice = voice
        # Set twice: espeak-ng was measured to apply a single rate change only from the
        # utterance after next in some sequences (150, 200 -> both spoken at 150).
        driver.setProperty("rate", rate)
        driver.setProperty("rate", rate)

    def synthesize(self, text: str, voice: str, rate: int) -> Audio:
        self._configure(voice, rate)
        self._done.clear()
        self._error = None
        self._wav.unlink(missing_ok=True)
        self._engine.save_to_file(text, str(self._wav))
        self._engine.runAndWait()
        if not self._done.wait(self._timeout):
            raise EngineHungError(f"pyttsx3 gave no finished-utterance within {self._timeout} s")
        if self._error is not None:
            raise SynthesisError(f"pyttsx3: {self._error}")
        try:
            return read_wav(self._wav)
        except (OSError, EOFError, wave.Error) as exc:
            raise SynthesisError(f"pyttsx3 wrote no readable WAV: {exc}") from exc

    def abort(self) -> None:
        # Releases a run loop that spins forever (the "second runAndWait" hang); a call
        # stuck inside libespeak-ng stays stuck and its thread is abandoned. Only the
        # owning thread may touch the driver: ending its loop from the watchdog's thread
        # while the loop runs was seen to crash the process (segfault in startLoop).
        if threading.current_thread() is self._owner:
            driver = getattr(getattr(self._engine, "proxy", None), "_driver", None)
            if driver is not None:
                driver.endLoop()
        self._done.set()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        shutil.rmtree(self._tmp, ignore_errors=True)
        for token in self._tokens:
            self._engine.disconnect(token)
        self._release()


def _quiet_print(*args: object, **kwargs: object) -> None:
    log.debug("pyttsx3: %s", " ".join(str(a) for a in args))


class EspeakCliBackend:
    """``espeak-ng --stdout`` in a child process per utterance; killed after ``timeout``."""

    name = "espeak-ng-cli"

    def __init__(self, timeout: float = 5.0, program: str = "espeak-ng") -> None:
        found = shutil.which(program)
        if found is None:
            raise EngineUnavailableError(f"{program} not found on PATH")
        self._program = found
        self._timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        try:
            # A program found on PATH with list arguments, no shell.
            out = subprocess.run(  # noqa: S603
                [found, "--version"], capture_output=True, timeout=timeout, check=True
            ).stdout.decode(errors="replace")
            voices = subprocess.run(  # noqa: S603
                [found, "--voices=cmn"], capture_output=True, timeout=timeout, check=True
            ).stdout.decode(errors="replace")
        except (OSError, subprocess.SubprocessError) as exc:
            raise EngineUnavailableError(f"{program} does not run: {exc}") from exc
        # "eSpeak NG text-to-speech: 1.51  Data at: ..."
        parts = out.split(":", 1)[-1].split()
        self.version = f"espeak-ng {parts[0] if parts else '?'}"
        self._voices = voices.lower()
        self.voice_ok = True

    def has_voice(self, voice: str) -> bool:
        return f" {voice.lower()} " in self._voices

    def synthesize(self, text: str, voice: str, rate: int) -> Audio:
        self.voice_ok = self.has_voice(voice)
        use = voice if self.voice_ok else FALLBACK_VOICE
        cmd = [self._program, "-v", use, "-s", str(rate), "--stdout", "--stdin"]
        proc = subprocess.Popen(  # noqa: S603 - list arguments, text on stdin, no shell
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._proc = proc
        try:
            out, err = proc.communicate(text.encode("utf-8"), timeout=self._timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.communicate()
            raise EngineHungError(f"espeak-ng took more than {self._timeout} s") from exc
        finally:
            self._proc = None
        if proc.returncode != 0 or len(out) < 44:
            raise SynthesisError(
                f"espeak-ng exit {proc.returncode}: {err.decode(errors='replace')}"
            )
        # --stdout writes a WAV header with an unknown length; the rate is at byte 24.
        rate_hz = int.from_bytes(out[24:28], "little") or ESPEAK_RATE
        return Audio.from_pcm16(out[44:], rate_hz)

    def abort(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def close(self) -> None:
        self.abort()
