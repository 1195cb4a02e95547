"""一键呼叫 end to end on the real app and store: saved first, never doubled, cancel is new."""

from __future__ import annotations

from kiosk.calls import CallDesk
from kiosk.qt import QtCore

LEFT = QtCore.Qt.MouseButton.LeftButton


def test_one_tap_saves_a_call_and_alerts_staff(kiosk, qtbot):
    home = kiosk.window.screens["home"]
    with qtbot.waitSignal(kiosk.calls.call_opened, timeout=2000) as opened:
        qtbot.mouseClick(home.call_button, LEFT)
    call_id = opened.args[0]
    rec = kiosk.store.get(call_id)
    assert rec is not None and rec.kind == "call" and rec.urgent
    assert rec.payload["source"] == "button"
    screen = kiosk.window.current_screen()
    assert screen.name == "call"
    assert screen.message.text() == "已为您呼叫工作人员，请稍候"
    assert screen.hotline.text() == kiosk.config.call.hotline
    assert screen.cancel.isVisible()
    assert kiosk.banner.isVisible() and kiosk.banner.text.text() == "有居民呼叫"
    # the banner stays on every screen until staff take the call
    kiosk.window.show_screen("health")
    assert kiosk.banner.isVisible()


def test_second_tap_does_not_make_a_second_call(kiosk, qtbot):
    home = kiosk.window.screens["home"]
    qtbot.mouseClick(home.call_button, LEFT)
    kiosk.window.show_screen("health")
    qtbot.mouseClick(kiosk.window.common["call"], LEFT)
    assert kiosk.store.count(kind="call") == 1
    assert kiosk.window.current_screen().message.text() == "工作人员正在赶来，请稍候"


def test_cancel_within_the_window_is_a_new_record_pointing_at_the_call(kiosk, qtbot, clock):
    qtbot.mouseClick(kiosk.window.screens["home"].call_button, LEFT)
    call_id = kiosk.calls.open_id
    screen = kiosk.window.screens["call"]
    clock.advance(kiosk.config.call.cancel_seconds - 1)
    screen.tick()
    assert screen.cancel.isVisible()
    qtbot.mouseClick(screen.cancel, LEFT)
    calls = kiosk.store.records(kind="call")
    assert len(calls) == 2
    original, cancel = calls
    assert original.id == call_id and original.payload == {"reason": "help", "source": "button"}
    assert cancel.payload["cancels"] == call_id and cancel.payload["cancelled"] is True
    assert kiosk.calls.open_id is None
    assert not kiosk.banner.isVisible()
    assert screen.message.text() == "已取消呼叫"


def test_cancel_is_withdrawn_after_the_window(kiosk, qtbot, clock):
    qtbot.mouseClick(kiosk.window.screens["home"].call_button, LEFT)
    screen = kiosk.window.screens["call"]
    clock.advance(kiosk.config.call.cancel_seconds + 1)
    screen.tick()
    assert not screen.cancel.isVisible()
    assert kiosk.calls.cancel() is None
    assert kiosk.store.count(kind="call") == 1


def test_waited_time_and_status_are_shown_in_words(kiosk, qtbot, clock):
    qtbot.mouseClick(kiosk.window.screens["home"].call_button, LEFT)
    screen = kiosk.window.screens["call"]
    clock.advance(65)
    screen.tick()
    assert screen.waited.text() == "已等候 1 分 5 秒"
    call_id = kiosk.calls.open_id
    # the district (through sync) or staff here sets a status
    kiosk.store.add_status(call_id, "dispatched", source="district")
    with qtbot.waitSignal(kiosk.calls.status_changed, timeout=2000):
        kiosk.calls.refresh()
    assert screen.status.text() == "已经派人过来了"
    # someone is on it: the banner says so in words (no longer the alarm) until it is done
    assert kiosk.banner.isVisible() and kiosk.banner.text.text() == "已经派人过来了"
    kiosk.store.add_status(call_id, "done", source="district")
    kiosk.calls.refresh()
    assert not kiosk.banner.isVisible()


def test_an_open_call_survives_a_restart(kiosk, qtbot, clock):
    qtbot.mouseClick(kiosk.window.screens["home"].call_button, LEFT)
    call_id = kiosk.calls.open_id
    desk = CallDesk(kiosk.store, clock=clock)
    assert desk.open_id == call_id
    assert desk.needs_staff()


def test_a_call_that_cannot_be_saved_says_so_and_shows_the_hotline(kiosk, qtbot):
    store = kiosk.store
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    from kiosk.store import StoreFullError

    # Fill the last free space with records the size of a call (written behind the desk's back).
    for _ in range(100_000):
        try:
            store.add("call", {"reason": "help", "source": "button"})
        except StoreFullError:
            break
    before = store.count()
    qtbot.mouseClick(kiosk.window.screens["home"].call_button, LEFT)
    screen = kiosk.window.current_screen()
    assert screen.name == "call"
    assert "没有保存成功" in screen.message.text()
    assert screen.hotline.isVisible()
    assert kiosk.calls.open_id is None
    assert store.count() == before
