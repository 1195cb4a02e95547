"""The deployment files in deploy/: systemd accepts every unit (``systemd-analyze verify``,
warnings count as failures) and the files agree with the programs and settings they name."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from kiosk import config

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
USER_UNITS = (
    "silver-counter-kiosk.service",
    "silver-counter-sync.service",
    "silver-counter-sync.timer",
)
SYSTEM_UNITS = ("district-server.service",)
# Where docs/deploy.md installs things; the test points these at stub programs.
INSTALL_PREFIXES = ("/opt/silver-counter/current/", "/opt/district-server/venv/bin/")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    """The units copied with their install paths pointing at executable stubs."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for program in ("kiosk", "kiosk-sync", "district-server"):
        stub = stubs / program
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for name in USER_UNITS + SYSTEM_UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        for prefix in INSTALL_PREFIXES:
            text = text.replace(prefix, f"{stubs}/")
        (units / name).write_text(text, encoding="utf-8")
    return units


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing: install the Debian package 'systemd'")
        pytest.skip("systemd-analyze is not installed (Debian package 'systemd')")
    return found


@pytest.mark.parametrize("name", USER_UNITS)
def test_user_units_verify(staged: Path, tmp_path: Path, name: str):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [_analyze(), "--user", "verify", str(staged / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr  # unknown keys are only warnings


@pytest.mark.parametrize("name", SYSTEM_UNITS)
def test_system_units_verify(staged: Path, name: str):
    proc = subprocess.run(
        [_analyze(), "verify", str(staged / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr


def test_kiosk_unit_restarts_in_the_graphical_session():
    u = unit("silver-counter-kiosk.service")
    assert u["Service"]["Restart"] == "always"
    assert u["Service"]["RestartSec"] == "2"
    assert u["Unit"]["StartLimitIntervalSec"] == "0"
    assert "graphical-session.target" in u["Unit"]["PartOf"]
    assert "graphical-session.target" in u["Unit"]["After"]
    assert u["Install"]["WantedBy"] == "graphical-session.target"


def test_units_run_the_shipped_programs():
    """ExecStart names programs the bundle (kiosk.spec) or the server package provide."""
    spec = (ROOT / "kiosk.spec").read_text(encoding="utf-8")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    for name, program in [
        ("silver-counter-kiosk.service", "kiosk"),
        ("silver-counter-sync.service", "kiosk-sync"),
    ]:
        exec_start = unit(name)["Service"]["ExecStart"].split()
        assert exec_start[0] == f"/opt/silver-counter/current/{program}"
        assert f'"{program}")' in spec, f"kiosk.spec does not build {program}"
        assert exec_start[1:3] == ["--config", "/etc/silver-counter/kiosk.toml"]
    server = unit("district-server.service")["Service"]["ExecStart"].split()
    assert Path(server[0]).name in scripts
    assert server[1] == "serve"


def test_timer_matches_the_in_app_schedule():
    timer = unit("silver-counter-sync.timer")["Timer"]
    sync = config.load(None, environ={}).sync
    assert timer["OnCalendar"] == f"*-*-* {sync.nightly_at}:00"
    assert timer["RandomizedDelaySec"] == f"{sync.jitter_minutes}min"
    assert timer["Unit"] == "silver-counter-sync.service"
    assert timer["Persistent"] == "true"


def test_nginx_site_proxies_to_the_server_port():
    site = (DEPLOY / "district-server.nginx.conf").read_text(encoding="utf-8")
    server = unit("district-server.service")["Service"]["ExecStart"]
    port = re.search(r"--port (\d+)", server)
    assert port is not None
    assert f"proxy_pass http://127.0.0.1:{port.group(1)};" in site
    assert "--host 127.0.0.1" in server  # only the proxy reaches it
    assert "location /api/" in site
