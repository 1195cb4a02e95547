"""The staff call chime through the real Speaker and a real (PulseAudio null-sink) device."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from kiosk.config import VoiceSection
from kiosk.speech.speaker import CHIME_TONES_HZ, Speaker, chime_audio
from tests.audio import LOOP_RATE, LoopRecorder, Pulse


@pytest.fixture
def speaker(pulse: Pulse, qtbot: QtBot) -> Iterator[Speaker]:
    sp = Speaker(VoiceSection(output_device=pulse.speaker))
    qtbot.waitUntil(lambda: sp.status().output_ok and sp.status().engine_ok, timeout=10_000)
    yield sp
    sp.shutdown()


def _dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_chime_audio_is_two_soft_tones():
    audio = chime_audio()
    assert 0.5 < audio.seconds < 0.8
    assert float(np.max(np.abs(audio.samples))) <= 0.36
    half = len(audio.samples) // 2
    first = _dominant_hz(audio.samples[: half - 500], audio.rate)
    second = _dominant_hz(audio.samples[half + 500 :], audio.rate)
    assert abs(first - CHIME_TONES_HZ[0]) < 15 and abs(second - CHIME_TONES_HZ[1]) < 15


def test_the_chime_is_heard_and_sends_no_speech_signals(speaker: Speaker, qtbot: QtBot):
    started: list[str] = []
    speaker.started.connect(started.append)
    with LoopRecorder() as rec:
        begin = time.perf_counter()
        speaker.chime()
        assert speaker.chimes == 1
        qtbot.waitUntil(lambda: any(t > begin for t in rec.loud_times()), timeout=5000)
        qtbot.waitUntil(lambda: rec.latest() > begin + 1.0, timeout=5000)
        heard = rec.samples(begin)
    assert started == []
    assert (
        abs(_dominant_hz(heard, LOOP_RATE) - CHIME_TONES_HZ[0]) < 40
        or abs(_dominant_hz(heard, LOOP_RATE) - CHIME_TONES_HZ[1]) < 40
    )


def test_the_chime_waits_for_speech_to_end(speaker: Speaker, qtbot: QtBot):
    with qtbot.waitSignal(speaker.started, timeout=5000):
        speaker.say("已为您呼叫工作人员，请稍候")
    speaker.chime()
    assert speaker.chimes == 0  # never cuts what the resident hears
    with qtbot.waitSignal(speaker.finished, timeout=15_000):
        pass
    assert speaker.chimes == 1
