"""Real audio devices for tests: a private PulseAudio with null sinks (scripts/pa_setup.sh).

The session fixture ``pulse`` starts the daemon, points HOME / XDG_RUNTIME_DIR /
PULSE_RUNTIME_PATH of this test process at it (so ALSA finds scripts/asoundrc
as ~/.asoundrc and sounddevice lists kiosk_speaker, kiosk_loop, kiosk_mic) and
re-initialises PortAudio, which enumerates devices only at initialisation.
:class:`LoopRecorder` records ``kiosk_loop`` (the speaker's monitor) while
something plays.

If PulseAudio cannot start, tests that need it are skipped locally and FAIL
when ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import pytest

ROOT = Path(__file__).resolve().parent.parent
PA_SETUP = ROOT / "scripts" / "pa_setup.sh"
SPEAKER = "kiosk_speaker"
LOOP = "kiosk_loop"
LOOP_RATE = 16000  # the null sink's rate
BLOCK = 160  # 10 ms
ENV_KEYS = ("HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "PULSE_RUNTIME_PATH")


@dataclass
class Pulse:
    """A running private PulseAudio; ``speaker`` / ``loop`` are sounddevice device names."""

    pid: int
    state_dir: Path
    env: dict[str, str]
    speaker: str = SPEAKER
    loop: str = LOOP


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PulseAudio null sinks are required in CI: {reason}")
    pytest.skip(f"no PulseAudio null sinks: {reason}")


def _reinit_portaudio() -> Any:
    import sounddevice as sd

    sd._terminate()
    sd._initialize()
    return sd


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pulse]:
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        _unavailable("pulseaudio / pactl not installed (apt: pulseaudio pulseaudio-utils)")
    state = tmp_path_factory.mktemp("pulse")
    try:
        out = subprocess.run(
            ["bash", str(PA_SETUP), str(state)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError) as exc:
        log = state / "pa.log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        _unavailable(f"{PA_SETUP.name} failed: {exc} {detail}")
    env: dict[str, str] = {}
    for word in out.replace("export ", "").split():
        key, _, value = word.partition("=")
        env[key] = value.strip("'")
    pid = int(env.pop("PA_PID"))
    saved: dict[str, str | None] = {k: os.environ.get(k) for k in ENV_KEYS}
    os.environ.update({k: env[k] for k in ENV_KEYS})
    try:
        sd = _reinit_portaudio()
        names = {d["name"] for d in sd.query_devices()}
        if not {SPEAKER, LOOP} <= names:
            _unavailable(f"devices {SPEAKER}/{LOOP} not listed by PortAudio: {sorted(names)}")
        yield Pulse(pid=pid, state_dir=state, env=env)
    finally:
        subprocess.run(["kill", str(pid)], check=False)
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
        _reinit_portaudio()


@dataclass
class LoopRecorder:
    """Records the speaker monitor; every 10 ms block is kept with its arrival time.

    Arrival time (``time.perf_counter()`` in the input callback) is later than the
    moment the sound was played by the capture latency, so "silent N ms after X"
    measured with it is an upper bound.
    """

    device: str = LOOP
    blocks: list[tuple[float, npt.NDArray[np.float32]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stream: Any = None

    def __enter__(self) -> LoopRecorder:
        import sounddevice as sd

        first = threading.Event()

        def callback(indata: Any, frames: int, _t: Any, _status: Any) -> None:
            with self._lock:
                self.blocks.append((time.perf_counter(), indata[:, 0].copy()))
            first.set()

        self._stream = sd.InputStream(
            device=self.device,
            samplerate=LOOP_RATE,
            channels=1,
            dtype="float32",
            blocksize=BLOCK,
            latency="low",
            callback=callback,
        )
        self._stream.start()
        # The first input callback can take 57-1800 ms after opening (FEASIBILITY.md).
        if not first.wait(5.0):
            raise RuntimeError("no audio from the loopback device within 5 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.stop()
        self._stream.close()

    def snapshot(self) -> list[tuple[float, npt.NDArray[np.float32]]]:
        with self._lock:
            return list(self.blocks)

    def samples(self, start: float = 0.0, end: float = float("inf")) -> npt.NDArray[np.float32]:
        chunks = [b for t, b in self.snapshot() if start <= t <= end]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

    def loud_times(self, threshold: float = 0.005) -> list[float]:
        """Arrival times of blocks whose RMS is above ``threshold``."""
        return [t for t, b in self.snapshot() if float(np.sqrt(np.mean(b**2))) > threshold]

    def latest(self) -> float:
        snap = self.snapshot()
        return snap[-1][0] if snap else 0.0


def rms(samples: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0
