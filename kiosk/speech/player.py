"""Stoppable playback through one sounddevice OutputStream (no Qt).

The stream stays open and its callback copies the current utterance (times the
volume gain) or silence, block by block (256 frames = 12 ms at 22050 Hz). So
``stop()`` and a new utterance only swap a buffer under a lock: the next block is
silent, and what is already queued in the device drains within its latency
(~25-45 ms measured on the PulseAudio null sink). Opening the device may block,
so :meth:`open` is called from the synthesis worker, never from the UI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.speech.engine import ESPEAK_RATE, Audio

log = logging.getLogger(__name__)

BLOCK_FRAMES = 256


class OutputUnavailableError(Exception):
    """No usable output device (no PortAudio, no device, or the device refused)."""


@dataclass(frozen=True)
class PlayEvent:
    kind: str  # "started" | "finished"
    gen: int
    at: float  # time.perf_counter() when the callback handed the frames to the device


def resolve_device(spec: str, sd: Any) -> int:
    """Config value -> PortAudio output device index ("" = default, digits = index, else name)."""
    devices = sd.query_devices()
    outputs = [i for i, d in enumerate(devices) if d["max_output_channels"] > 0]
    if not outputs:
        raise OutputUnavailableError("no audio output device")
    if not spec:
        default = sd.default.device[1]
        if isinstance(default, int) and default in outputs:
            return default
        return outputs[0]
    if spec.isdigit():
        if int(spec) in outputs:
            return int(spec)
        raise OutputUnavailableError(f"output device #{spec} not found")
    exact = [i for i in outputs if devices[i]["name"] == spec]
    partial = [i for i in outputs if spec.lower() in devices[i]["name"].lower()]
    if exact or partial:
        return (exact or partial)[0]
    raise OutputUnavailableError(f"output device {spec!r} not found")


class Player:
    """Plays one utterance at a time; thread-safe ``play``/``stop``; events polled by the owner."""

    def __init__(self, device: str = "") -> None:
        self.device_spec = device
        self.device_name = ""
        self.rate = ESPEAK_RATE
        self.latency = 0.0
        self.gain = 1.0  # read by the audio callback; a float store is atomic
        self._lock = threading.Lock()
        self._stream: Any = None
        self._buf: npt.NDArray[np.float32] | None = None
        self._pos = 0
        self._gen = 0
        self._min_gen = 0
        self._events: list[PlayEvent] = []
        self.error: str | None = None

    @property
    def is_open(self) -> bool:
        stream = self._stream
        return stream is not None and bool(stream.active)

    def open(self) -> None:
        """Open the configured device (blocking; call off the UI thread)."""
        if self.is_open:
            return
        self.close()
        try:
            import sounddevice as sd  # noqa: PLC0415 - no libportaudio -> silent kiosk
        except OSError as exc:
            self.error = f"PortAudio not available: {exc}"
            raise OutputUnavailableError(self.error) from exc
        try:
            index = resolve_device(self.device_spec, sd)
            info = sd.query_devices(index)
            last: Exception | None = None
            for rate in (ESPEAK_RATE, int(info["default_samplerate"])):
                try:
                    stream = sd.OutputStream(
                        device=index,
                        samplerate=rate,
                        channels=1,
                        dtype="float32",
                        blocksize=BLOCK_FRAMES,
                        latency="low",
                        callback=self._callback,
                    )
                    stream.start()
                except sd.PortAudioError as exc:
                    last = exc
                    continue
                self._stream = stream
                self.rate = rate
                self.latency = float(stream.latency)
                self.device_name = str(info["name"])
                self.error = None
                return
            raise OutputUnavailableError(f"output device {info['name']!r} refused: {last}")
        except OutputUnavailableError as exc:
            self.error = str(exc)
            raise
        except (sd.PortAudioError, ValueError) as exc:
            self.error = f"output device error: {exc}"
            raise OutputUnavailableError(self.error) from exc

    def play(self, audio: Audio, gen: int) -> bool:
        """Start ``audio`` unless a newer stop()/utterance superseded ``gen``."""
        samples = audio.resampled(self.rate).samples
        with self._lock:
            if gen < self._min_gen:
                return False
            self._buf = samples
            self._pos = 0
            self._gen = gen
            self._min_gen = gen
        return True

    def stop(self, gen: int) -> bool:
        """Silence now and refuse anything older than ``gen``; True if something was playing."""
        with self._lock:
            was_playing = self._buf is not None
            self._buf = None
            self._min_gen = max(self._min_gen, gen)
        return was_playing

    @property
    def playing(self) -> bool:
        return self._buf is not None

    def take_events(self) -> list[PlayEvent]:
        with self._lock:
            events, self._events = self._events, []
        return events

    def _callback(
        self, outdata: npt.NDArray[np.float32], frames: int, _t: Any, status: Any
    ) -> None:
        with self._lock:
            buf = self._buf
            if buf is None:
                outdata.fill(0)
                return
            pos = self._pos
            chunk = buf[pos : pos + frames]
            n = len(chunk)
            np.multiply(chunk, self.gain, out=outdata[:n, 0])
            outdata[n:, 0] = 0
            now = time.perf_counter()
            if pos == 0:
                self._events.append(PlayEvent("started", self._gen, now))
            self._pos = pos + n
            if self._pos >= len(buf):
                self._buf = None
                # Audible end: what was just handed over still has to drain.
                self._events.append(PlayEvent("finished", self._gen, now + self.latency))

    def close(self) -> None:
        stream, self._stream = self._stream, None
        with self._lock:
            self._buf = None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception as exc:
                log.warning("closing the output stream failed: %s", exc)
