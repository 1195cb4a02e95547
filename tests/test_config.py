"""Settings: declared once, read from TOML and the environment, bad input named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import config


def test_defaults_are_the_declarations():
    cfg = config.load(None, environ={})
    for key in config.declared_keys():
        assert getattr(getattr(cfg, key.section), key.name) == key.default
        assert key.doc
        assert key.type in (str, int, float, bool)


def test_file_then_environment(tmp_path: Path):
    f = tmp_path / "kiosk.toml"
    f.write_text('[ui]\nidle_seconds = 120\nfont_scale = 1.2\n[call]\nhotline = "110"\n')
    cfg = config.load(f, environ={"KIOSK_UI_IDLE_SECONDS": "45"})
    assert cfg.ui.idle_seconds == 45
    assert cfg.ui.font_scale == 1.2
    assert cfg.call.hotline == "110"


def test_overrides_file_sits_between_config_and_env(tmp_path: Path):
    f = tmp_path / "kiosk.toml"
    f.write_text("[voice]\nvolume = 1\n")
    o = tmp_path / "overrides.toml"
    o.write_text("[voice]\nvolume = 3\n")
    assert config.load(f, overrides_file=o, environ={}).voice.volume == 3
    assert config.load(f, overrides_file=o, environ={"KIOSK_VOICE_VOLUME": "0"}).voice.volume == 0


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("[ui]\nidle_secs = 3\n", {}, "unknown setting ui.idle_secs"),
        ("[nope]\nx = 1\n", {}, "unknown setting nope.x"),
        ('[ui]\nidle_seconds = "soon"\n', {}, "ui.idle_seconds"),
        ("[ui]\nfont_scale = true\n", {}, "ui.font_scale"),
        ("ui = 3\n", {}, "expected a [ui] table"),
        ("", {"KIOSK_UI_IDLE_SECONDS": "many"}, "KIOSK_UI_IDLE_SECONDS"),
        ("", {"KIOSK_UI_SIZE": "3"}, "KIOSK_UI_SIZE"),
        ("[ui]\nfont_scale = 2.0\n", {}, "ui.font_scale"),
        ("[ui]\nidle_warning_seconds = 5\n", {}, "ui.idle_warning_seconds"),
        ('[sync]\nnightly_at = "25:00"\n', {}, "sync.nightly_at"),
        ("[ui\n", {}, "not valid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, toml: str, env: dict[str, str], message: str):
    f = tmp_path / "kiosk.toml"
    f.write_text(toml)
    with pytest.raises(config.ConfigError, match=message.replace("[", r"\[")):
        config.load(f, environ=env)


def test_unrelated_environment_is_ignored():
    assert config.load(None, environ={"KIOSK_TEST_X": "1", "KIOSK_DATA_DIR": "/x"}).ui


def test_readme_lists_every_key():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert config.markdown_table() in readme
    for key in config.declared_keys():
        assert f"`{key.section}.{key.name}`" in readme


def test_cli_stops_on_a_bad_key(tmp_path: Path, data_dir: Path):
    f = tmp_path / "kiosk.toml"
    f.write_text("[ui]\nidle = 3\n")
    r = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(f), "--check"],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "ui.idle" in r.stderr
