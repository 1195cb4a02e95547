"""The app speaks: entering a screen is heard on the speaker; a touch silences it (barge-in).

Real parts: the whole kiosk, the real Speaker (pyttsx3 + espeak-ng), a private PulseAudio
null sink captured from its monitor (tests/audio.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import config
from kiosk.app import KioskApp
from kiosk.qt import QtCore
from kiosk.speech.speaker import Speaker
from tests.audio import LoopRecorder, Pulse, rms


@pytest.fixture
def speaking_kiosk(pulse: Pulse, qtbot, fonts_loaded, data_dir: Path, clock) -> Iterator[KioskApp]:
    cfg = config.load(None, environ={"KIOSK_VOICE_OUTPUT_DEVICE": pulse.speaker})
    speaker = Speaker(cfg.voice, data_dir)
    qtbot.waitUntil(
        lambda: speaker.status().output_ok and speaker.status().engine_ok, timeout=10_000
    )
    app = KioskApp(cfg, data_dir, clock=clock, district=False, warm_prompts=False, speaker=speaker)
    app.complete_start()
    app.start(windowed=True, defer=False)
    app.window.resize(1920, 1080)
    yield app
    app.shutdown()


def test_entering_a_screen_is_heard_on_the_speaker(speaking_kiosk: KioskApp, qtbot) -> None:
    app = speaking_kiosk
    with LoopRecorder() as rec:
        start = time.perf_counter()
        with qtbot.waitSignal(app.speaker.started, timeout=10_000) as started:
            app.window.show_screen("health")
        assert "健康监测" in started.args[0]
        qtbot.waitUntil(lambda: any(t > start for t in rec.loud_times()), timeout=5000)


def test_a_touch_stops_the_voice_within_100_ms(speaking_kiosk: KioskApp, qtbot) -> None:
    app = speaking_kiosk
    with LoopRecorder() as rec:
        with qtbot.waitSignal(app.speaker.started, timeout=10_000):
            app.window.show_screen("activities")  # a long spoken list
        begun = time.perf_counter()
        qtbot.waitUntil(lambda: any(t > begun + 0.3 for t in rec.loud_times()), timeout=5000)
        with qtbot.waitSignal(app.speaker.stopped, timeout=1000):
            qtbot.mouseClick(app.window.screens["activities"], QtCore.Qt.MouseButton.LeftButton)
        touched = time.perf_counter()
        qtbot.waitUntil(lambda: rec.latest() > touched + 0.5, timeout=5000)
        # What was already in the device drains within its latency; after 100 ms: silence.
        assert rms(rec.samples(touched + 0.1)) < 0.002
