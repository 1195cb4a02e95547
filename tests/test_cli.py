"""The `kiosk` command as operators use it: --screenshot, --check, no display, bad settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.store import DB_NAME

ROOT = Path(__file__).resolve().parent.parent


def run_kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    full_env.pop("QT_QPA_PLATFORM", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shots")
    data = tmp_path_factory.mktemp("data")
    r = run_kiosk("--screenshot", str(out), "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    return out


def test_screenshot_renders_every_screen_at_1080p(shots: Path):
    from kiosk.qt import QtGui

    names = {p.stem for p in shots.glob("*.png")}
    assert {
        "home",
        "call",
        "health",
        "health_entry",
        "health_result",
        "phone",
        "idle_warning",
    } <= names
    for name in names:
        img = QtGui.QImage(str(shots / f"{name}.png"))
        assert (img.width(), img.height()) == (1920, 1080)
        facts = json.loads((shots / f"{name}.json").read_text(encoding="utf-8"))
        assert facts["screen"] == name and facts["widgets"]


def test_home_screenshot_has_crisp_chinese_text(shots: Path):
    """The bundled font renders: the title area holds real dark-on-light glyph pixels."""
    from kiosk.qt import QtGui

    facts = json.loads((shots / "home.json").read_text(encoding="utf-8"))
    greeting = next(w for w in facts["widgets"] if w["object_name"] == "home_greeting")
    assert greeting["text"] == "您好，请点一下您要办的事"
    x, y, w, h = greeting["geometry_px"]
    img = QtGui.QImage(str(shots / "home.png"))
    dark = sum(
        1
        for i in range(x, x + w, 2)
        for j in range(y, y + h, 2)
        if QtGui.QColor(img.pixel(i, j)).lightness() < 60
    )
    light = sum(
        1
        for i in range(x, x + w, 2)
        for j in range(y, y + h, 2)
        if QtGui.QColor(img.pixel(i, j)).lightness() > 200
    )
    assert dark > 500 and light > 500  # glyph strokes on a white background
    # Every widget records the facts the audit uses.
    for item in facts["widgets"]:
        assert {
            "class",
            "object_name",
            "accessible_name",
            "text",
            "geometry_px",
            "geometry_mm",
            "font_px",
            "text_color",
            "background_color",
        } <= set(item)


def test_check_reports_ok_on_a_fresh_data_dir(tmp_path: Path):
    r = run_kiosk("--check", "--data-dir", str(tmp_path / "d"))
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("fonts", "data dir", "database"):
        assert any(line.startswith(name) and " OK " in line for line in r.stdout.splitlines()), (
            r.stdout
        )


def test_check_tells_staff_about_a_corrupt_database_without_failing(tmp_path: Path):
    data = tmp_path / "d"
    data.mkdir()
    (data / DB_NAME).write_bytes(b"\x00garbage" * 1000)
    r = run_kiosk("--check", "--data-dir", str(data))
    assert r.returncode == 0, r.stdout
    line = next(line for line in r.stdout.splitlines() if line.startswith("database"))
    assert "WARN" in line and "损坏" in line


def test_check_fails_when_the_data_dir_is_not_writable(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_kiosk("--check", "--data-dir", str(blocker / "sub"))
    assert r.returncode == 1
    assert "MISSING" in r.stdout


def test_without_a_display_it_points_to_screenshot(tmp_path: Path):
    r = run_kiosk("--data-dir", str(tmp_path))
    assert r.returncode == 2
    assert "kiosk --screenshot" in r.stderr


def test_kiosk_starts_despite_a_corrupt_database(tmp_path: Path):
    data = tmp_path / "d"
    data.mkdir()
    (data / DB_NAME).write_bytes(b"not sqlite" * 500)
    r = run_kiosk("--screenshot", str(tmp_path / "out"), "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "home.png").exists()
    assert list(data.glob(f"{DB_NAME}.corrupt-*"))


def test_config_doc_matches_the_declarations():
    from kiosk.config import markdown_table

    r = run_kiosk("config-doc")
    assert r.returncode == 0
    assert r.stdout.strip() == markdown_table()
