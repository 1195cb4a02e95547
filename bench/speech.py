"""Speech benchmark on the real engine and a private PulseAudio null sink.

Prints:
  * cached prompt: say() -> first audio frame handed to the device, p50/p95 (goal <= 150 ms)
  * uncached text: say() -> first frame vs. the espeak-ng command line synthesizing the same
    text in the same run (ratio of medians, goal <= 1.2x)
  * stop() -> silence on the speaker monitor (goal <= 100 ms; arrival time, an upper bound)
  * N utterances in a row without a hang (default 1,000)
  * UI-thread max stall while speaking: a 5 ms QTimer measures its own lateness (goal <= 50 ms)

Run: ``.venv/bin/python -m bench.speech [--utterances 1000]`` (starts and stops its own
PulseAudio through scripts/pa_setup.sh).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VOICE = "sit/cmn-latn-pinyin"
LONG = "银龄课堂每周三下午有智能手机课，欢迎您来参加。" * 3


def start_pulse(state: Path) -> int:
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pa_setup.sh"), str(state)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    env = dict(w.partition("=")[::2] for w in out.replace("export ", "").split())
    pid = int(env.pop("PA_PID"))
    os.environ.update({k: v.strip("'") for k, v in env.items()})
    return pid


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


class StallMeter:
    """A 5 ms QTimer on the UI thread; the largest lateness is the worst UI stall."""

    def __init__(self, qtcore: Any) -> None:
        self.worst = 0.0
        self._last = time.perf_counter()
        self._timer = qtcore.QTimer()
        self._timer.setTimerType(qtcore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self._last - 0.005)
        self._last = now


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one linear report
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-speech-"))
    pa_pid = start_pulse(tmp / "pulse")
    # sounddevice (PortAudio) enumerates devices at import: import after the environment is set.
    import sounddevice as sd  # noqa: PLC0415

    from kiosk.config import VoiceSection  # noqa: PLC0415
    from kiosk.qt import QtCore  # noqa: PLC0415
    from kiosk.speech.cache import fixed_prompts  # noqa: PLC0415
    from kiosk.speech.speaker import Speaker  # noqa: PLC0415

    app = QtCore.QCoreApplication.instance() or QtCore.QCoreApplication(sys.argv)

    def spin_until(pred: Callable[[], bool], timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while not pred():
            if time.perf_counter() > deadline:
                return False
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 2)
            time.sleep(0.001)
        return True

    def wait_seconds(seconds: float) -> None:
        end = time.perf_counter() + seconds
        spin_until(lambda: time.perf_counter() > end, seconds + 1)

    speaker = Speaker(VoiceSection(output_device="kiosk_speaker"), data_dir=tmp / "data")
    events: dict[str, int] = {"started": 0, "finished": 0}
    speaker.started.connect(lambda _t: events.__setitem__("started", events["started"] + 1))
    speaker.finished.connect(lambda: events.__setitem__("finished", events["finished"] + 1))
    stall = StallMeter(QtCore)
    try:
        if not spin_until(lambda: speaker.status().output_ok, 10):
            print("speaker not ready:", speaker.status())
            return 1
        print(f"engine: {speaker.status().engine}, device: {speaker.status().output_device}")
        prompts = fixed_prompts()
        t0 = time.perf_counter()
        speaker.warm_cache(prompts)
        spin_until(lambda: not speaker.cache_pending(), 60)
        print(f"prompt cache: {len(prompts)} prompts rendered in {time.perf_counter() - t0:.2f} s")
        stall.start()

        def say_and_wait_start(text: str) -> float | None:
            n = events["started"]
            speaker.say(text)
            if not spin_until(lambda: events["started"] > n, 5):
                return None
            first = speaker.timing.first_frame_at
            return None if first is None else first - speaker.timing.said_at

        # 1. cached prompts
        cached: list[float] = []
        for i in range(args.samples):
            latency = say_and_wait_start(prompts[i % len(prompts)])
            if latency is not None:
                cached.append(latency)
        print(
            f"cached prompt say -> first frame: p50 {pct(cached, 50) * 1000:.1f} ms, "
            f"p95 {pct(cached, 95) * 1000:.1f} ms (goal <= 150 ms; device latency "
            f"{speaker._player.latency * 1000:.0f} ms more)"
        )

        # 2. uncached text vs the espeak-ng command line, same texts, same run
        uncached: list[float] = []
        cli: list[float] = []
        for i in range(args.samples):
            text = f"您的血压是 {110 + i}/{70 + i % 20}，测量时间 {8 + i % 10}:{i % 60:02d}"
            latency = say_and_wait_start(text)
            if latency is not None:
                uncached.append(latency)
            spoken = speaker.last_text
            start = time.perf_counter()
            subprocess.run(
                ["espeak-ng", "-v", VOICE, "-s", str(speaker.rate()), "--stdout", spoken],
                capture_output=True,
                check=True,
            )
            cli.append(time.perf_counter() - start)
        ratio = statistics.median(uncached) / statistics.median(cli)
        print(
            f"uncached say -> first frame: p50 {pct(uncached, 50) * 1000:.1f} ms, "
            f"p95 {pct(uncached, 95) * 1000:.1f} ms; espeak-ng CLI same text p50 "
            f"{pct(cli, 50) * 1000:.1f} ms; ratio {ratio:.2f}x (goal <= 1.2x)"
        )

        # 3. stop -> silence, measured on the speaker monitor
        lock = threading.Lock()
        blocks: list[tuple[float, float]] = []

        def record(indata: Any, frames: int, _t: Any, _s: Any) -> None:
            level = float(np.sqrt(np.mean(indata[:, 0] ** 2)))
            with lock:
                blocks.append((time.perf_counter(), level))

        silences: list[float] = []
        with sd.InputStream(
            device="kiosk_loop", samplerate=16000, channels=1, blocksize=160, callback=record
        ):
            spin_until(lambda: bool(blocks), 5)
            for _ in range(10):
                say_and_wait_start(LONG)
                wait_seconds(0.3)
                speaker.stop()
                stopped = time.perf_counter()
                wait_seconds(0.4)
                with lock:
                    loud = [t for t, lvl in blocks if t > stopped and lvl > 0.005]
                silences.append(max(loud, default=stopped) - stopped)
        print(
            f"stop -> silence on the monitor: p50 {pct(silences, 50) * 1000:.0f} ms, "
            f"max {max(silences) * 1000:.0f} ms (goal <= 100 ms)"
        )

        # 4. many utterances in a row
        t0 = time.perf_counter()
        missing = 0
        for i in range(args.utterances):
            if say_and_wait_start(f"第{i}次，血压 {100 + i % 80}/{60 + i % 30}") is None:
                missing += 1
        spin_until(lambda: not speaker.is_speaking(), 15)
        status = speaker.status()
        print(
            f"{args.utterances} utterances in {time.perf_counter() - t0:.1f} s: "
            f"{args.utterances - missing} started, {missing} missing, "
            f"engine replaced {status.replaced_engines} times, engine now {status.engine}"
        )
        stall.stop()
        print(f"UI thread max stall while speaking: {stall.worst * 1000:.1f} ms (goal <= 50 ms)")
    finally:
        speaker.shutdown()
        subprocess.run(["kill", str(pa_pid)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
