"""Start-up and screen-switch figures, each against a baseline measured in the same run.

    .venv/bin/python bench/startup.py [--runs 5] [--switches 100]

* cold start: from spawning a process to the home screen painted (offscreen,
  1920x1080, a fresh data dir), median of N processes; baseline: a bare PySide6
  window with one label, spawned and painted the same way. Goal: <= 2x.
* screen switch: show a screen and paint it synchronously (``repaint``),
  median of 100 switches between the registered screens. Goal: <= 16 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD_BARE = """
import sys
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication(sys.argv[:1])
w = QtWidgets.QWidget()
QtWidgets.QVBoxLayout(w).addWidget(QtWidgets.QLabel("您好"))
w.resize(1920, 1080)
class Painted(QtCore.QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QtCore.QEvent.Type.Paint and obj is w:
            print("painted", flush=True)
            QtCore.QTimer.singleShot(0, app.quit)
        return False
f = Painted(); w.installEventFilter(f)
w.show()
app.exec()
"""

CHILD_KIOSK = """
import sys
from pathlib import Path
from kiosk import config
from kiosk.qt import QtCore, QtWidgets
from kiosk.theme import load_fonts
app = QtWidgets.QApplication(sys.argv[:1])
load_fonts()
from kiosk.app import KioskApp
k = KioskApp(config.load(None), Path(sys.argv[1]))
w = k.window
home = k.screens["home"]
class Painted(QtCore.QObject):
    done = False
    def eventFilter(self, obj, ev):
        if ev.type() == QtCore.QEvent.Type.Paint and obj is home and not self.done:
            self.done = True
            print("painted", flush=True)
        return False
f = Painted(); home.installEventFilter(f)
def ready():
    print("ready", flush=True)
    QtCore.QTimer.singleShot(0, app.quit)
k.ready.connect(ready)
k.start(windowed=True)
w.resize(1920, 1080)
app.exec()
k.shutdown()
"""


def spawn(code: str, data_dir: str, *, until: str = "painted") -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, data_dir],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    elapsed = 0.0
    while until not in seen:
        line = proc.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"child ended before it reported {until!r} (saw {seen})")
        seen.append(line)
        elapsed = time.perf_counter() - t0
    proc.wait(timeout=30)
    return elapsed


def switch_times(n: int) -> list[float]:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from kiosk import config  # noqa: PLC0415
    from kiosk.app import KioskApp  # noqa: PLC0415
    from kiosk.qt import QtWidgets  # noqa: PLC0415
    from kiosk.theme import load_fonts  # noqa: PLC0415

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    load_fonts()
    k = KioskApp(config.load(None), Path(tempfile.mkdtemp()))
    k.start(windowed=True, defer=False)
    k.window.resize(1920, 1080)
    names = list(k.window.screens)
    times = []
    for i in range(n + 5):
        name = names[i % len(names)]
        t0 = time.perf_counter()
        k.window.show_screen(name, remember=False)
        k.window.repaint()
        app.processEvents()
        if i >= 5:  # the first pass lays out each screen once
            times.append(time.perf_counter() - t0)
    k.shutdown()
    return times


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--switches", type=int, default=100)
    args = ap.parse_args()
    bare, kiosk, ready = [], [], []
    for _ in range(args.runs):  # interleaved, so machine noise hits both alike
        with tempfile.TemporaryDirectory() as d:
            bare.append(spawn(CHILD_BARE, d))
        with tempfile.TemporaryDirectory() as d:
            kiosk.append(spawn(CHILD_KIOSK, d))
        with tempfile.TemporaryDirectory() as d:
            ready.append(spawn(CHILD_KIOSK, d, until="ready"))
    b, k, r = statistics.median(bare), statistics.median(kiosk), statistics.median(ready)
    print(f"cold start, bare PySide6 window : median {b * 1000:7.1f} ms  (n={args.runs})")
    print(f"cold start, kiosk home painted  : median {k * 1000:7.1f} ms  (n={args.runs})")
    print(f"ratio kiosk / bare              : {k / b:7.2f} x   (goal <= 2.0)")
    print(
        f"kiosk fully ready (store, speech, sync, all screens): median {r * 1000:7.1f} ms "
        f"({r / b:.2f} x bare)"
    )
    sw = switch_times(args.switches)
    med = statistics.median(sw) * 1000
    p95 = sorted(sw)[int(len(sw) * 0.95) - 1] * 1000
    print(
        f"screen switch (show + paint)    : median {med:7.2f} ms, p95 {p95:.2f} ms "
        f"(n={len(sw)}, goal median <= 16 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
