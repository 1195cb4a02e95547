"""The staff sync panel against a real district server process on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk import config
from kiosk.app import KioskApp
from kiosk.qt import QtCore
from kiosk.store import Store
from kiosk.texts import t
from sync.testing import ServerProcess
from tests.test_staff_journey import login

LEFT = QtCore.Qt.MouseButton.LeftButton
RECORDS = 30


@pytest.fixture
def synced_kiosk(qtbot, fonts_loaded, data_dir: Path, clock, server: ServerProcess):
    kiosk_id = f"staff-{os.getpid()}-{data_dir.parent.name[-6:]}"
    added = server.admin("add-kiosk", kiosk_id)
    assert added.returncode == 0, added.stderr
    token_file = data_dir / "token"
    token_file.write_text(added.stdout.split()[0] + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    store = Store(data_dir)
    for i in range(RECORDS):
        store.add("proxy", {"service": "社保认证", "note": f"第 {i} 件"})
    bad = store.add("visit", {"purpose": "咨询"})
    store.lease_page(1, ids=[bad])
    store.mark_results({bad: ("rejected", "payload: purpose too long")})
    store.close()
    env = {
        "KIOSK_SERVER_URL": server.url,
        "KIOSK_KIOSK_ID": kiosk_id,
        "KIOSK_SYNC_MAX_BATCH": "7",
        "KIOSK_UI_PX_PER_MM": "3.78",
    }
    cfg = config.load(None, environ=env)
    app = KioskApp(cfg, data_dir, clock=clock, district=True, warm_prompts=False)
    app.complete_start()
    qtbot.addWidget(app.window)
    app.start(windowed=True)
    app.window.resize(1920, 1080)
    qtbot.waitExposed(app.window)
    yield app
    app.shutdown()


def test_sync_panel_counts_progress_and_checks(synced_kiosk, qtbot):
    kiosk = synced_kiosk
    login(kiosk, qtbot)
    qtbot.mouseClick(kiosk.window.screens["staff_home"].sync_button, LEFT)
    panel = kiosk.window.current_screen()
    assert panel.name == "staff_sync"
    assert panel.counts.text() == t("staff.counts", pending=RECORDS, failed=1, conflict=0)
    assert "purpose too long" in panel.failed[0].text() and panel.failed[0].isVisible()
    assert not panel.failed[1].isVisible()
    assert panel.last.text() == t("staff.last_pass_none")

    progress: list[tuple[int, int]] = []
    kiosk.district.pass_progress.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(kiosk.district.pass_finished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.sync_button, LEFT)
    result = finished.args[0]
    assert not isinstance(result, Exception), result
    qtbot.waitUntil(lambda: panel.progress.value() == panel.progress.maximum(), timeout=5000)
    assert len(progress) >= 3  # batches of 7: the bar moved step by step
    assert progress[-1][0] == progress[-1][1] == RECORDS
    assert panel.counts.text() == t("staff.counts", pending=0, failed=1, conflict=0)
    assert panel.last.text() == t("staff.last_pass", result=t("staff.pass_ok", acked=RECORDS))
    assert kiosk.store.count("acked") == RECORDS
    assert "sync_now" in [line["action"] for line in kiosk.staff.accounts.log_lines()]

    panel.wait_for_checks()
    qtbot.waitUntil(lambda: "server" in panel.server.text(), timeout=10_000)
    assert "OK" in panel.server.text() and "token accepted" in panel.server.text()
    assert "voice" in panel.voice.text()
    assert panel.speech.text().startswith(t("staff.speech_line", state="")[:4])


def test_a_revoked_token_shows_on_the_panel(synced_kiosk, qtbot, server):
    kiosk = synced_kiosk
    kiosk_id = kiosk.config.kiosk.id
    assert server.admin("revoke-kiosk", kiosk_id).returncode == 0
    login(kiosk, qtbot)
    qtbot.mouseClick(kiosk.window.screens["staff_home"].sync_button, LEFT)
    panel = kiosk.window.current_screen()
    with qtbot.waitSignal(kiosk.district.pass_finished, timeout=60_000):
        qtbot.mouseClick(panel.sync_button, LEFT)
    assert panel.counts.text() == t("staff.counts", pending=RECORDS, failed=1, conflict=0)
    panel.wait_for_checks()
    qtbot.waitUntil(lambda: "MISSING" in panel.server.text(), timeout=10_000)
