"""Shared test set-up: offscreen Qt at 1920x1080 and a private data dir per test.

QT_QPA_PLATFORM must be set before any QApplication exists; without it and
without a DISPLAY the whole pytest process aborts with no report.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

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
