"""Speaker service on the real engine (espeak-ng via pyttsx3) and real devices.

Devices are a private PulseAudio's null sinks (tests/audio.py).

Time is measured on the speaker's monitor (``kiosk_loop``): what a resident
would actually hear. Waits are signals or polling with timeouts, never sleeps.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from kiosk.config import VoiceSection
from kiosk.speech.cache import fixed_prompts
from kiosk.speech.engine import (
    Audio,
    EspeakCliBackend,
    Pyttsx3Backend,
    SynthesisError,
)
from kiosk.speech.speaker import VOLUME_STEPS_DB, Speaker
from kiosk.texts import texts
from tests.audio import LoopRecorder, Pulse, rms

VOICE = "sit/cmn-latn-pinyin"
GREETING = "您好，请点一下您要办的事"
LONG = "银龄课堂每周三下午有智能手机课，欢迎您来参加。" * 3


def _hanzi(text: str) -> int:
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff")


@pytest.fixture
def speaker(pulse: Pulse, qtbot: QtBot) -> Iterator[Speaker]:
    sp = Speaker(VoiceSection(output_device=pulse.speaker))
    qtbot.waitUntil(lambda: sp.status().output_ok and sp.status().engine_ok, timeout=10_000)
    yield sp
    sp.shutdown()


# --- the engine alone -------------------------------------------------------------------


@pytest.mark.parametrize("backend_type", [Pyttsx3Backend, EspeakCliBackend])
def test_espeak_audio_is_speech_of_plausible_length(backend_type: type) -> None:
    backend = backend_type()
    try:
        assert backend.has_voice(VOICE)
        audio: Audio = backend.synthesize(GREETING, VOICE, 150)
    finally:
        backend.close()
    assert audio.rate == 22050
    assert rms(audio.samples) > 0.02, "synthesized audio is silent"
    # 2-4.5 hanzi per second at 150 wpm (measured 2.8), plus up to a second of pauses.
    n = _hanzi(GREETING)
    assert n / 4.5 < audio.seconds < n / 2.0 + 1.0


def test_both_engines_render_the_same_speech() -> None:
    a, b = Pyttsx3Backend(), EspeakCliBackend()
    try:
        x = a.synthesize(GREETING, VOICE, 150)
        y = b.synthesize(GREETING, VOICE, 150)
    finally:
        a.close()
        b.close()
    assert a.version == b.version  # so the prompt cache is shared between them
    assert abs(x.seconds - y.seconds) < 0.05


# --- playback on the null sink ----------------------------------------------------------


def test_say_is_heard_on_the_speaker(speaker: Speaker, qtbot: QtBot) -> None:
    with LoopRecorder() as rec:
        start = time.perf_counter()
        with qtbot.waitSignal(speaker.started, timeout=5000) as started:
            speaker.say(GREETING)
        assert started.args == [GREETING]
        with qtbot.waitSignal(speaker.finished, timeout=15_000):
            pass
        # `finished` means the last frames went to the device; the monitor hands them back
        # later (capture latency, more on a loaded machine): wait until capture has caught up.
        done = time.perf_counter()
        qtbot.waitUntil(lambda: rec.latest() > done + 0.5, timeout=5000)
        loud = [t for t in rec.loud_times() if t >= start]
    assert loud, "nothing was captured on the speaker monitor"
    heard = loud[-1] - loud[0]
    assert _hanzi(GREETING) / 4.5 < heard < _hanzi(GREETING) / 2.0 + 1.0
    assert not speaker.is_speaking()


def test_stop_silences_within_100_ms(speaker: Speaker, qtbot: QtBot) -> None:
    with LoopRecorder() as rec:
        with qtbot.waitSignal(speaker.started, timeout=5000):
            speaker.say(LONG)
        begun = time.perf_counter()
        qtbot.waitUntil(lambda: any(t > begun + 0.3 for t in rec.loud_times()), timeout=5000)
        with qtbot.waitSignal(speaker.stopped, timeout=1000):
            speaker.stop()
        stopped = time.perf_counter()
        qtbot.waitUntil(lambda: rec.latest() > stopped + 0.5, timeout=5000)
        after = [t for t in rec.loud_times() if t > stopped]
        tail = rec.samples(stopped + 0.1)
    last = max(after, default=stopped) - stopped
    assert last <= 0.100, f"still audible {last * 1000:.0f} ms after stop()"
    assert rms(tail) < 0.001


def test_new_say_replaces_the_current_one(speaker: Speaker, qtbot: QtBot) -> None:
    with qtbot.waitSignal(speaker.started, timeout=5000):
        speaker.say(LONG)
    with qtbot.waitSignal(speaker.started, timeout=5000) as second:
        speaker.say("返回")
    assert second.args == ["返回"]
    with qtbot.waitSignal(speaker.finished, timeout=5000):
        pass  # the short one ends long before the long one would have


def test_replay_says_the_last_prompt_again(speaker: Speaker, qtbot: QtBot) -> None:
    with qtbot.waitSignal(speaker.started, timeout=5000):
        speaker.say("血压 135/88")
    speaker.stop()
    with qtbot.waitSignal(speaker.started, timeout=5000) as again:
        speaker.replay()
    assert again.args == ["血压 高压一百三十五，低压八十八"]


@pytest.mark.slow
def test_300_utterances_in_a_row_do_not_hang(speaker: Speaker, qtbot: QtBot) -> None:
    for i in range(300):
        with qtbot.waitSignal(speaker.started, timeout=5000):
            speaker.say(f"第{i}次，血压 {100 + i % 80}/{60 + i % 30}")
    with qtbot.waitSignal(speaker.finished, timeout=15_000):
        pass
    assert speaker.status().replaced_engines == 0


def test_volume_steps_span_at_least_18_db(speaker: Speaker, qtbot: QtBot) -> None:
    levels: list[float] = []
    with LoopRecorder() as rec:
        for step in range(len(VOLUME_STEPS_DB)):
            speaker.set_volume(step)
            start = time.perf_counter()
            with qtbot.waitSignal(speaker.finished, timeout=10_000):
                speaker.say("您好")
            ended = time.perf_counter()
            qtbot.waitUntil(lambda: rec.latest() > ended + 0.1, timeout=5000)  # noqa: B023
            samples = rec.samples(start)
            voiced = samples[np.abs(samples) > 0]  # null sink silence is exact zeros
            levels.append(rms(samples))
            assert len(voiced) > 1000
    span_db = 20 * math.log10(levels[-1] / levels[0])
    steps_db = [20 * math.log10(b / a) for a, b in itertools.pairwise(levels)]
    assert span_db >= 18.0, f"volume span {span_db:.1f} dB, steps {steps_db}"
    assert all(s > 3.0 for s in steps_db)
    speaker.reset_volume()
    assert speaker.volume() == VoiceSection().volume


# --- failure modes ----------------------------------------------------------------------


class BlockingBackendDouble:
    """TEST DOUBLE: a synthesis backend whose synthesize() blocks until released (a hung engine)."""

    name = "blocking-test-double"
    version = "espeak-ng 1.51"
    voice_ok = True

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def has_voice(self, voice: str) -> bool:
        return True

    def synthesize(self, text: str, voice: str, rate: int) -> Audio:
        self.entered.set()
        self.release.wait(30)
        raise SynthesisError("the blocking test double was released")

    def abort(self) -> None:
        """Like a call stuck in C code: abort() cannot release it."""

    def close(self) -> None:
        self.release.set()


def test_hung_engine_is_replaced_by_the_watchdog(pulse: Pulse, qtbot: QtBot) -> None:
    double = BlockingBackendDouble()
    sp = Speaker(
        VoiceSection(output_device=pulse.speaker),
        backends=[lambda: double],
        fallbacks=[EspeakCliBackend],
        hang_timeout=0.5,
    )
    try:
        with qtbot.waitSignal(sp.status_changed, timeout=5000):
            pass
        t0 = time.perf_counter()
        with qtbot.waitSignal(sp.started, timeout=5000) as started:
            sp.say(GREETING)
        assert double.entered.is_set()
        assert started.args == [GREETING]
        assert time.perf_counter() - t0 < 2.0
        status = sp.status()
        assert status.replaced_engines == 1
        assert status.engine.startswith("espeak-ng-cli")
        assert "speech.engine_replaced" in status.problems
        with qtbot.waitSignal(sp.finished, timeout=15_000):
            pass
    finally:
        double.release.set()
        sp.shutdown()


def test_no_output_device_is_silent_and_reported(qtbot: QtBot) -> None:
    sp = Speaker(VoiceSection(output_device="no-such-speaker"))
    try:
        qtbot.waitUntil(lambda: "speech.no_output" in sp.status().problems, timeout=10_000)
        with qtbot.waitSignal(sp.failed, timeout=5000):
            sp.say(GREETING)
        status = sp.status()
        assert status.engine_ok
        assert not status.output_ok
        assert not status.ok
        sp.stop()
        sp.volume_up()
        sp.replay()
    finally:
        sp.shutdown()


def test_no_engine_is_silent_and_reported(qtbot: QtBot) -> None:
    sp = Speaker(VoiceSection(output_device="no-such-speaker"), backends=[], fallbacks=[])
    try:
        qtbot.waitUntil(lambda: "speech.no_engine" in sp.status().problems, timeout=10_000)
        with qtbot.waitSignal(sp.failed, timeout=5000):
            sp.say(GREETING)
        assert not sp.status().engine_ok
    finally:
        sp.shutdown()


def test_every_status_problem_has_a_sentence(qtbot: QtBot) -> None:
    catalogue = texts().items()
    for key in ("speech.no_engine", "speech.no_voice", "speech.no_output"):
        assert key in catalogue
    assert "speech.engine_replaced" in catalogue


# --- prompt cache -----------------------------------------------------------------------


def test_fixed_prompts_are_rendered_once_into_the_data_dir(data_dir: Path, qtbot: QtBot) -> None:
    prompts = fixed_prompts()
    assert GREETING in prompts
    assert not any("{" in p for p in prompts)
    sp = Speaker(VoiceSection(output_device="no-such-speaker"), data_dir=data_dir)
    try:
        sp.warm_cache()
        qtbot.waitUntil(lambda: not sp.cache_pending(), timeout=30_000)
        files = list((data_dir / "prompt-cache").glob("*.wav"))
        assert len(files) == len(prompts)
        assert all(sp.is_cached(p) for p in prompts)
        sp.set_rate(sp.rate() + 20)  # a new rate is a new key: rendered again
        assert not sp.is_cached(prompts[0])
        qtbot.waitUntil(lambda: not sp.cache_pending(), timeout=30_000)
        assert len(list((data_dir / "prompt-cache").glob("*.wav"))) == 2 * len(prompts)
    finally:
        sp.shutdown()
    # A second start finds everything on disk and renders nothing.
    sp2 = Speaker(VoiceSection(output_device="no-such-speaker"), data_dir=data_dir)
    try:
        sp2.warm_cache()
        qtbot.waitUntil(lambda: not sp2.cache_pending(), timeout=30_000)
        assert sp2._worker.rendered == 0
    finally:
        sp2.shutdown()
