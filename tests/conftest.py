"""Shared test set-up: offscreen Qt at 1920x1080 and a private data dir per test.

QT_QPA_PLATFORM must be set before any QApplication exists; without it and
without a DISPLAY the whole pytest process aborts with no report.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.audio"]

_HERE = Path(__file__).resolve().parent
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_HERE / 'offscreen_1080p.json'}"
os.environ.setdefault("QT_QPA_FONTDIR", "/usr/share/fonts")
# Tests must never touch a real data dir or read the developer's settings.
for _var in [v for v in os.environ if v.startswith("KIOSK_")]:
    del os.environ[_var]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh kiosk data dir, also exported as KIOSK_DATA_DIR for subprocesses."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("KIOSK_DATA_DIR", str(d))
    yield d


class FakeClock:
    """A monotonic clock the test moves by hand (for idle timers and backoff)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def fonts_loaded(qapp):  # type: ignore[no-untyped-def]
    from kiosk.theme import load_fonts

    assert load_fonts() == []
    return True


def make_app(data_dir: Path, clock: FakeClock, **ui: object):  # type: ignore[no-untyped-def]
    """A KioskApp on real settings, a real store in ``data_dir`` and a fake clock."""
    from kiosk import config
    from kiosk.app import KioskApp

    env = {f"KIOSK_UI_{k.upper()}": str(v) for k, v in ui.items()}
    cfg = config.load(None, environ=env)
    # Prompt pre-rendering (163 sentences) is tested in test_speech_speaker.py; doing it
    # for every UI test would only load the machine.
    app = KioskApp(cfg, data_dir, clock=clock, district=False, warm_prompts=False)
    app.complete_start()
    app.window.resize(1920, 1080)
    return app


@pytest.fixture
def kiosk(qtbot, fonts_loaded, data_dir, clock):  # type: ignore[no-untyped-def]
    """The whole kiosk, windowed at 1920x1080 offscreen, at home."""
    app = make_app(data_dir, clock, px_per_mm=3.78)
    qtbot.addWidget(app.window)
    app.start(windowed=True)
    app.window.resize(1920, 1080)
    qtbot.waitExposed(app.window)
    yield app
    app.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real district-server process on a SQLite file, one per test module.

    Modules that need another database or options define their own ``server``.
    """
    from sync.testing import ServerProcess

    work = tmp_path_factory.mktemp("district")
    srv = ServerProcess(f"sqlite:///{work / 'district.db'}", work)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def engine(server):  # type: ignore[no-untyped-def]
    """A SQLAlchemy engine on the module's district database (to look behind the API)."""
    from sync.server import db

    eng = db.open_engine(server.db_url)
    yield eng
    eng.dispose()
