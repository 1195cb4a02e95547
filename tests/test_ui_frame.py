"""The main window, the common frame, keyboard use and the idle reset, on the real app."""

from __future__ import annotations

import pytest

from kiosk.qt import QtCore, QtGui


def test_starts_at_home_with_three_big_choices(kiosk):
    w = kiosk.window
    assert w.current_screen().name == "home"
    home = w.screens["home"]
    names = [b.text() for b in home.choices()]
    assert names == ["一键呼叫", "健康监测", "社区活动"]
    assert all(b.isVisible() for b in home.choices())
    assert not w.common["back"].isVisible()  # no 返回 at home


def test_close_and_escape_are_ignored_for_residents(kiosk, qtbot):
    w = kiosk.window
    w.allow_close = False
    assert not w.close()
    assert w.isVisible()
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Escape)
    assert w.isVisible()
    w.allow_close = True


def test_arrow_keys_move_focus_and_enter_activates(kiosk, qtbot):
    home = kiosk.window.screens["home"]
    home.call_button.setFocus()
    qtbot.keyClick(home.call_button, QtCore.Qt.Key.Key_Right)
    assert home.health_button.hasFocus()
    with qtbot.waitSignal(kiosk.window.screen_changed, timeout=2000) as sig:
        qtbot.keyClick(home.health_button, QtCore.Qt.Key.Key_Return)
    assert sig.args == ["health"]


def test_digit_keys_choose_on_home(kiosk, qtbot):
    with qtbot.waitSignal(kiosk.window.screen_changed, timeout=2000) as sig:
        qtbot.keyClick(kiosk.window, QtCore.Qt.Key.Key_3)
    assert sig.args == ["activities"]


def test_every_interactive_widget_has_an_accessible_name(kiosk):
    from kiosk.qt import QtWidgets

    for name in kiosk.window.screens:
        kiosk.window.show_screen(name)
        for b in kiosk.window.findChildren(QtWidgets.QAbstractButton):
            if b.isVisible():
                assert b.accessibleName(), (name, b.objectName())
                assert b.accessibleDescription(), (name, b.objectName())


def test_idle_warning_then_home_forgets_the_resident(kiosk, clock, qtbot):
    w = kiosk.window
    w.show_screen("activities")
    idle = kiosk.idle
    clock.advance(idle.idle_seconds - 1)
    idle.check()
    assert not w.idle_overlay.isVisible()
    clock.advance(2)
    idle.check()
    assert w.idle_overlay.isVisible()
    assert "秒后回到首页" in w.idle_overlay.detail.text()
    assert idle.warning_seconds >= 20
    # One tap on 继续 keeps the resident where they were.
    qtbot.mouseClick(w.idle_overlay.button, QtCore.Qt.MouseButton.LeftButton)
    assert not w.idle_overlay.isVisible()
    assert w.current_screen().name == "activities"
    # Walk away: warning, then home after the warning time.
    clock.advance(idle.idle_seconds + 1)
    idle.check()
    assert w.idle_overlay.isVisible()
    clock.advance(idle.warning_seconds - 2)
    idle.check()
    assert w.current_screen().name == "activities"
    with qtbot.waitSignal(w.went_home, timeout=2000):
        clock.advance(2)
        idle.check()
    assert w.current_screen().name == "home"
    assert not w.idle_overlay.isVisible()


def test_no_idle_limit_at_home(kiosk, clock):
    clock.advance(10_000)
    kiosk.idle.check()
    assert not kiosk.window.idle_overlay.isVisible()


def test_any_key_counts_as_activity(kiosk, clock, qtbot):
    w = kiosk.window
    w.show_screen("activities")
    clock.advance(kiosk.idle.idle_seconds + 1)
    kiosk.idle.check()
    assert w.idle_overlay.isVisible()
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Down)
    assert not w.idle_overlay.isVisible()


def test_font_scale_change_applies_live(kiosk):
    from kiosk.theme import Metrics

    home = kiosk.window.screens["home"]
    before = home.call_button.title_font.pixelSize()
    kiosk.set_metrics(Metrics(px_per_mm=kiosk.metrics.px_per_mm, font_scale=1.5))
    after = home.call_button.title_font.pixelSize()
    assert after >= before * 1.45


def test_key_event_type_is_routed(kiosk):
    ev = QtGui.QKeyEvent(
        QtCore.QEvent.Type.KeyPress, QtCore.Qt.Key.Key_Escape, QtCore.Qt.KeyboardModifier.NoModifier
    )
    assert kiosk.window.handle_key(ev) is True


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_slot_brings_the_resident_home_calmly(kiosk, qtbot, data_dir):
    """A bug in a slot is logged and the kiosk goes home with a calm word, instead of dying."""
    from kiosk import crash

    crash.setup_logging(data_dir)
    guard = crash.install(kiosk.recover_from_error)
    try:
        kiosk.window.show_screen("health")

        def broken() -> None:
            raise RuntimeError("a bug")

        QtCore.QTimer.singleShot(0, broken)
        qtbot.waitUntil(lambda: kiosk.window.current_screen().name == "home", timeout=3000)
        assert kiosk.window.notice.isVisible()
        assert kiosk.window.notice.text() == "出了点小问题，请稍等，我们回到首页。"
    finally:
        guard.uninstall()
    log = (data_dir / "logs" / "kiosk.log").read_text(encoding="utf-8")
    assert "RuntimeError" in log


def test_a_store_that_cannot_open_leaves_the_kiosk_up_with_the_hotline(
    qtbot, fonts_loaded, data_dir, clock
):
    """A store that cannot open at start: home, a calm notice with the hotline, no crash."""
    from kiosk import config
    from kiosk.app import KioskApp

    blocked = data_dir / "not-a-dir"
    blocked.write_text("x")  # the data dir cannot be created: a file stands in its way
    app = KioskApp(config.load(None, environ={}), blocked, clock=clock, district=False)
    app.start(windowed=True, defer=False)
    try:
        assert not app.is_ready
        home = app.window.current_screen()
        assert home is not None and home.name == "home"
        assert app.window.notice.isVisible()
        assert "12345" in app.window.notice.text()
        app.request_call("button")  # a tap on 一键呼叫 does not crash either
        assert app.window.current_screen() is home
    finally:
        app.shutdown()


def test_the_help_key_reads_the_screen_again(kiosk, qtbot):
    from kiosk.speech.normalize import normalize

    kiosk.window.show_screen("health")
    kiosk.speaker.say("别的话")
    qtbot.keyClick(kiosk.window, QtCore.Qt.Key.Key_F1)
    assert kiosk.speaker.last_text == normalize(kiosk.window.screens["health"].spoken_text())
