"""Staff mode end to end on the real app and store: taps with qtbot, the app's fake clock."""

from __future__ import annotations

import pytest

from kiosk import config
from kiosk.qt import QtCore
from kiosk.staff import queue
from kiosk.staff.accounts import MAX_FAILURES, StaffAccounts
from kiosk.staff.overrides import overrides_path
from kiosk.store import Store
from kiosk.texts import t

LEFT = QtCore.Qt.MouseButton.LeftButton
PIN = "2468"


def click(qtbot, widget) -> None:
    assert widget.isVisible(), widget.objectName()
    qtbot.mouseClick(widget, LEFT)


def type_text(edit, text: str) -> None:
    """Chinese text arrives from an input method as one committed string."""
    edit.setFocus()
    edit.insert(text)


def type_pin(kiosk, qtbot, pin: str) -> None:
    screen = kiosk.window.screens["staff_login"]
    for digit in pin:
        click(qtbot, screen.pin_pad.keys[digit])
    assert screen.dots.text() == "●" * len(pin)  # masked, never echoed
    click(qtbot, screen.pin_pad.confirm)


def open_login(kiosk, qtbot, name: str = "李娟"):
    if kiosk.window.current_screen().name != "home":
        kiosk.window.home()
    click(qtbot, kiosk.window.screens["home"].staff_button)
    screen = kiosk.window.current_screen()
    assert screen.name == "staff_login"
    if screen.selected != name:
        click(qtbot, screen.name_buttons[name])
    return screen


def login(kiosk, qtbot, name: str = "李娟", pin: str = PIN) -> None:
    if kiosk.staff.accounts.get(name) is None:
        kiosk.staff.accounts.add(name, pin)
    open_login(kiosk, qtbot, name)
    with qtbot.waitSignal(kiosk.staff.session.logged_in, timeout=10_000):
        type_pin(kiosk, qtbot, pin)
    assert kiosk.window.current_screen().name == "staff_home"


def test_the_staff_entry_is_on_home_and_neutral(kiosk):
    home = kiosk.window.screens["home"]
    assert home.staff_button.isVisible()
    assert home.staff_button.text() == t("staff.entry")
    assert home.staff_button.role == "neutral"
    # placed away from the three journeys: below them, at the left
    assert home.staff_button.y() > home.call_button.geometry().bottom()


def test_call_chime_take_done_and_the_resident_rates(kiosk, qtbot, monkeypatch):
    chimes: list[int] = []
    monkeypatch.setattr(kiosk.speaker, "chime", lambda: chimes.append(1))
    with qtbot.waitSignal(kiosk.calls.call_opened, timeout=2000) as opened:
        click(qtbot, kiosk.window.screens["home"].call_button)
    call_id = opened.args[0]
    assert kiosk.banner.isVisible()
    assert chimes == [1] and kiosk.staff.chime_timer.isActive()
    kiosk.staff.chime()  # the repeat timer's tick
    assert chimes == [1, 1]

    login(kiosk, qtbot)
    hub = kiosk.window.screens["staff_home"]
    assert hub.queue_button.text() == t("staff.open_queue", count=1)
    click(qtbot, hub.queue_button)
    screen = kiosk.window.current_screen()
    assert screen.name == "staff_queue"
    row = screen.rows[0]
    assert row.item is not None and row.item.id == call_id
    assert t("staff.kind_call") in row.text.text()
    before = row.text.text()
    kiosk.clock.advance(75)
    screen.tick()
    assert "1 分" in row.text.text() and row.text.text() != before  # live waiting time

    type_text(screen.note, "马上到")
    click(qtbot, row.take)
    assert kiosk.calls.status == "taken"
    # taken: the alarm becomes the status in words (issue 3), until the call is done
    assert kiosk.banner.isVisible() and kiosk.banner.text.text() == t("call.status_taken")
    assert not kiosk.staff.chime_timer.isActive()  # taken: the chime stops
    kiosk.staff.chime()
    assert chimes == [1, 1]
    taken = [r for r in kiosk.store.records(kind="visit") if r.payload.get("handled") == call_id]
    assert len(taken) == 1
    assert taken[0].payload["status"] == "taken" and taken[0].payload["staff"] == "李娟"
    assert taken[0].payload["note"] == "马上到"

    screen.refresh()
    with qtbot.waitSignal(kiosk.calls.call_closed, timeout=2000):
        click(qtbot, screen.rows[0].done)
    assert kiosk.store.latest_status(call_id)["status"] == "done"
    visits = [r for r in kiosk.store.records(kind="visit") if r.payload.get("handled") == call_id]
    assert [v.payload["status"] for v in visits] == ["taken", "done"]
    # The counter turns to the resident: the satisfaction question, staff mode ended.
    feedback = kiosk.window.current_screen()
    assert feedback.name == "feedback"
    assert not kiosk.staff.session.active
    with qtbot.waitSignal(feedback.answered, timeout=2000):
        click(qtbot, feedback.faces[next(iter(feedback.faces))])
    saved = kiosk.store.records(kind="feedback")
    assert len(saved) == 1 and saved[0].payload["about"] == call_id
    assert saved[0].payload["rating"] == "good"
    actions = [line["action"] for line in kiosk.staff.accounts.log_lines()]
    assert {"login", "queue_taken", "queue_done", "logout"} <= set(actions)


def test_health_alerts_and_signups_are_in_the_queue(kiosk, qtbot):
    alert = kiosk.store.add("health", {"values": {"systolic": {"value": 190}}, "alert": True})
    kiosk.store.add("health", {"values": {"systolic": {"value": 120}}, "alert": False})
    signup = kiosk.store.add(
        "signup", {"activity_id": "a1", "title": "太极拳", "phone": "13812345678"}
    )
    confirmed = kiosk.store.add("signup", {"activity_id": "a2", "phone": "13812345678"})
    kiosk.store.add_status(confirmed, "confirmed", source="district")
    assert [i.id for i in queue.queue(kiosk.store)] == [alert, signup]
    login(kiosk, qtbot)
    click(qtbot, kiosk.window.screens["staff_home"].queue_button)
    screen = kiosk.window.current_screen()
    assert "190" in screen.rows[0].text.text() and "太极拳" in screen.rows[1].text.text()
    click(qtbot, screen.rows[1].done)  # a sign-up confirmed: no resident to ask
    assert kiosk.store.latest_status(signup)["status"] == "done"
    assert kiosk.window.current_screen().name == "staff_queue"
    click(qtbot, screen.rows[0].done)  # the alert handled: the resident rates
    assert kiosk.window.current_screen().name == "feedback"
    assert queue.queue(kiosk.store) == []


def test_proxy_request_saved_found_by_mobile_and_closed(kiosk, qtbot):
    login(kiosk, qtbot)
    click(qtbot, kiosk.window.screens["staff_home"].proxy_button)
    form = kiosk.window.current_screen()
    assert form.name == "staff_proxy"
    click(qtbot, form.save_button)
    assert form.message.text() == t("staff.need_service")
    click(qtbot, form.service_buttons["pension_auth"])
    type_text(form.name_edit, "王秀兰")
    qtbot.keyClicks(form.phone_edit, "13812345678")
    type_text(form.note_edit, "下周二前")
    with qtbot.waitSignal(form.saved, timeout=2000) as saved:
        click(qtbot, form.save_button)
    proxy_id, kind = saved.args
    assert kind == "proxy"
    rec = kiosk.store.get(proxy_id)
    assert rec.payload["service"] == "社保认证" and rec.payload["phone"] == "13812345678"
    assert rec.payload["resident_name"] == "王秀兰" and rec.payload["staff"] == "李娟"
    # 上门服务 needs an address and is a visit record.
    click(qtbot, form.service_buttons["home_visit"])
    click(qtbot, form.save_button)
    assert form.message.text() == t("staff.need_address")
    type_text(form.address_edit, "幸福小区 3 栋 501")
    with qtbot.waitSignal(form.saved, timeout=2000) as saved:
        click(qtbot, form.save_button)
    visit_id, kind = saved.args
    assert kind == "visit" and kiosk.store.get(visit_id).payload["address"] == "幸福小区 3 栋 501"

    # Another day: the mobile number finds the resident's earlier items.
    kiosk.window.home()
    assert not kiosk.staff.session.active
    login(kiosk, qtbot)
    click(qtbot, kiosk.window.screens["staff_home"].proxy_button)
    assert form.phone_edit.text() == "" and form.name_edit.text() == ""  # nothing kept
    assert form.list_title.text() == t("staff.open_items")
    qtbot.keyClicks(form.phone_edit, "13812345678")
    assert form.list_title.text() == t("staff.earlier_items")
    found = [r.item.id for r in form.rows if r.item is not None]
    assert found == [visit_id, proxy_id]
    # The district's status shows; 已办结 closes the request and the resident rates it.
    kiosk.store.add_status(proxy_id, "accepted", "已受理", source="district")
    form.refresh_list()
    assert t("staff.status_accepted") in form.rows[1].text.text()
    click(qtbot, form.rows[1].close_button)
    assert kiosk.store.latest_status(proxy_id)["status"] == "done"
    closing = [r for r in kiosk.store.records(kind="visit") if r.payload.get("handled") == proxy_id]
    assert len(closing) == 1 and closing[0].payload["purpose"] == "proxy_done"
    feedback = kiosk.window.current_screen()
    assert feedback.name == "feedback" and not kiosk.staff.session.active
    click(qtbot, feedback.faces[list(feedback.faces)[1]])
    rating = kiosk.store.records(kind="feedback")[-1]
    assert rating.payload["about"] == proxy_id and rating.payload["ref_kind"] == "proxy"
    assert [i.id for i in queue.open_proxy_items(kiosk.store)] == [visit_id]


def test_wrong_pins_lock_the_account_and_the_lock_survives_a_restart(kiosk, qtbot, data_dir):
    kiosk.staff.accounts.add("李娟", PIN)
    screen = open_login(kiosk, qtbot)
    for i in range(MAX_FAILURES):
        type_pin(kiosk, qtbot, "0000")
        screen.wait_for_check()
        qtbot.waitUntil(screen.pin_pad.isEnabled, timeout=5000)
        if i < MAX_FAILURES - 1:
            assert screen.message.text() == t("staff.wrong_pin", tries=MAX_FAILURES - 1 - i)
    assert screen.message.text() == t("staff.locked", minutes=5)
    type_pin(kiosk, qtbot, PIN)  # refused at once, no check
    assert screen.message.text() == t("staff.locked", minutes=5)
    assert not kiosk.staff.session.active
    other = Store(data_dir, check=False)
    try:
        assert 0 < StaffAccounts(other).locked_for("李娟") <= 300
    finally:
        other.close()


def test_staff_mode_logs_out_after_two_idle_minutes(kiosk, qtbot, clock):
    login(kiosk, qtbot)
    session = kiosk.staff.session
    click(qtbot, kiosk.window.screens["staff_home"].proxy_button)
    clock.advance(100)
    kiosk.idle.check()
    assert not kiosk.idle.warning_shown  # the resident's 90 s rule does not apply here
    form = kiosk.window.current_screen()
    click(qtbot, form.service_buttons["other"])  # any input restarts the two minutes
    qtbot.keyClicks(form.phone_edit, "13912345678")
    clock.advance(119)
    session.check()
    assert session.active
    clock.advance(2)
    qtbot.waitUntil(lambda: not session.active, timeout=3000)  # the session's own timer
    assert kiosk.window.current_screen().name == "home"
    assert kiosk.window.notice.text() == t("staff.logged_out_idle")
    assert form.phone_edit.text() == "" and form.service is None  # forgotten
    assert kiosk.window.history == []
    assert kiosk.staff.accounts.log_lines()[0]["detail"] == "idle"


def test_settings_apply_live_and_persist(kiosk, qtbot, data_dir):
    login(kiosk, qtbot)
    click(qtbot, kiosk.window.screens["staff_home"].settings_button)
    screen = kiosk.window.current_screen()
    assert screen.name == "staff_settings"
    home = kiosk.window.screens["home"]
    before_px = home.call_button.font().pixelSize()
    plus = {b.objectName(): b for b in screen.step_buttons}
    for _ in range(7):  # 1.0 -> 1.5 (clamped)
        click(qtbot, plus["staff_settings_font_scale_plus"])
    click(qtbot, plus["staff_settings_idle_seconds_plus"])
    click(qtbot, plus["staff_settings_volume_minus"])
    click(qtbot, plus["staff_settings_rate_minus"])
    screen.hotline.selectAll()
    qtbot.keyClicks(screen.hotline, "96180")
    bar_px = screen.bar.bar_px()
    qtbot.keyClicks(screen.measured, "95")
    click(qtbot, screen.calibrate_button)
    click(qtbot, screen.apply_button)
    assert screen.message.text() == t("staff.applied")
    # live
    assert kiosk.metrics.font_scale == 1.5
    assert kiosk.metrics.px_per_mm == pytest.approx(bar_px / 95, abs=1e-3)
    assert home.call_button.font().pixelSize() > before_px
    assert kiosk.idle.idle_seconds == 100
    assert kiosk.speaker.volume() == 1 and kiosk.speaker.rate() == 140
    assert kiosk.window.screens["call"].hotline.text() == "96180"
    kiosk.speaker.set_volume(3)
    kiosk.speaker.reset_volume()  # the next resident starts at the new default
    assert kiosk.speaker.volume() == 1
    # persisted
    cfg = config.load(None, overrides_file=overrides_path(data_dir), environ={})
    assert cfg.ui.font_scale == 1.5 and cfg.ui.idle_seconds == 100
    assert cfg.voice.volume == 1 and cfg.voice.rate == 140 and cfg.call.hotline == "96180"
    assert cfg.ui.px_per_mm == pytest.approx(bar_px / 95, abs=1e-3)
    assert "settings" in [line["action"] for line in kiosk.staff.accounts.log_lines()]


def test_going_home_forgets_and_staff_screens_need_a_login(kiosk, qtbot):
    login(kiosk, qtbot)
    click(qtbot, kiosk.window.screens["staff_home"].proxy_button)
    form = kiosk.window.current_screen()
    type_text(form.name_edit, "王秀兰")
    click(qtbot, kiosk.window.common["back"])  # proxy -> hub
    click(qtbot, kiosk.window.common["back"])  # hub -> login: that ends staff mode
    assert kiosk.window.current_screen().name == "staff_login"
    assert not kiosk.staff.session.active
    assert not [n for n in kiosk.window.history if n.startswith("staff_") and n != "staff_login"]
    kiosk.window.home()
    assert form.name_edit.text() == ""


def test_exit_only_from_staff_mode(kiosk, qtbot):
    kiosk.window.allow_close = False  # as started full screen (the fixture is windowed)
    kiosk.window.close()
    assert kiosk.window.isVisible()  # residents cannot close it
    quits: list[int] = []
    login(kiosk, qtbot)
    kiosk.staff.quit = lambda: quits.append(1)
    click(qtbot, kiosk.window.screens["staff_home"].quit_button)
    assert quits == [1] and kiosk.window.allow_close
    assert "quit" in [line["action"] for line in kiosk.staff.accounts.log_lines()]
