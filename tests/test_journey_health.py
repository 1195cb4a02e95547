"""健康监测 end to end: field by field, validation, classification, saved records, trend."""

from __future__ import annotations

from kiosk.qt import QtCore

LEFT = QtCore.Qt.MouseButton.LeftButton


def type_on(pad, qtbot, text: str) -> None:
    for ch in text:
        qtbot.mouseClick(pad.keys[ch], LEFT)


def submit(pad, qtbot) -> None:
    qtbot.mouseClick(pad.confirm, LEFT)


def start(kiosk, qtbot, which: str):
    qtbot.mouseClick(kiosk.window.screens["home"].health_button, LEFT)
    health = kiosk.window.screens["health"]
    assert kiosk.window.current_screen() is health
    qtbot.mouseClick(
        health.findChild(type(health.choices[next(iter(health.choices))]), f"health_{which}"), LEFT
    )
    return kiosk.window.screens["health_entry"]


def test_blood_pressure_with_phone_saves_and_shows_the_level(kiosk, qtbot):
    entry = start(kiosk, qtbot, "blood_pressure")
    type_on(entry.pad, qtbot, "135")
    assert entry.pad.display.text() == "135"
    submit(entry.pad, qtbot)
    type_on(entry.pad, qtbot, "88")
    submit(entry.pad, qtbot)
    assert entry.skip.isVisible()  # pulse is optional
    type_on(entry.pad, qtbot, "72")
    submit(entry.pad, qtbot)
    phone = kiosk.window.current_screen()
    assert phone.name == "phone"
    type_on(phone.pad, qtbot, "13812345678")
    submit(phone.pad, qtbot)
    result = kiosk.window.current_screen()
    assert result.name == "health_result"
    rec = kiosk.store.records(kind="health")[0]
    assert rec.payload["type"] == "blood_pressure"
    assert rec.payload["values"]["systolic"]["value"] == 135
    assert rec.payload["values"]["diastolic"]["value"] == 88
    assert rec.payload["phone"] == "13812345678"
    assert rec.payload["alert"] is False
    assert result.level.text() == "留意：血压正常高值"  # 135/88: 120-139 / 80-89
    assert result.advice.text() == "血压稍微高一点，少吃盐，过几天再量一次。"
    assert not result.call.isVisible()
    assert "138****5678" in result.saved.text()
    assert result.chart.isVisible() and result.chart.series[0].values == [135]


def test_impossible_value_names_the_field_and_saves_nothing(kiosk, qtbot):
    entry = start(kiosk, qtbot, "blood_pressure")
    type_on(entry.pad, qtbot, "300")
    submit(entry.pad, qtbot)
    assert "高压" in entry.problem.text() and "260" in entry.problem.text()
    assert kiosk.window.current_screen() is entry
    # systolic must be above diastolic
    entry.pad.set_value("")
    type_on(entry.pad, qtbot, "90")
    submit(entry.pad, qtbot)
    type_on(entry.pad, qtbot, "95")
    submit(entry.pad, qtbot)
    qtbot.mouseClick(entry.skip, LEFT)
    assert entry.problem.text() == "高压应该比低压高，请再看一下。"
    assert kiosk.store.count(kind="health") == 0


def test_change_goes_back_one_field(kiosk, qtbot):
    entry = start(kiosk, qtbot, "blood_pressure")
    type_on(entry.pad, qtbot, "135")
    submit(entry.pad, qtbot)
    qtbot.mouseClick(entry.change, LEFT)
    assert "高压" in entry.prompt.text()
    assert entry.pad.value == "135"


def test_dangerous_reading_is_an_alert_and_offers_a_call(kiosk, qtbot):
    entry = start(kiosk, qtbot, "blood_pressure")
    for value in ("185", "112"):
        type_on(entry.pad, qtbot, value)
        submit(entry.pad, qtbot)
    qtbot.mouseClick(entry.skip, LEFT)
    phone = kiosk.window.current_screen()
    qtbot.mouseClick(phone.skip, LEFT)  # anonymous
    result = kiosk.window.current_screen()
    rec = kiosk.store.records(kind="health")[0]
    assert rec.payload["alert"] is True and "phone" not in rec.payload
    assert result.call.isVisible()
    assert result.saved.text() == "已保存，没有留手机号"
    assert not result.chart.isVisible()
    qtbot.mouseClick(result.call, LEFT)
    assert kiosk.store.records(kind="call")[0].payload["source"] == "health"


def test_glucose_asks_when_it_was_measured(kiosk, qtbot):
    entry = start(kiosk, qtbot, "glucose")
    qtbot.mouseClick(
        entry.context_buttons[next(c for c in entry.context_buttons if c.value == "after_meal_2h")],
        LEFT,
    )
    type_on(entry.pad, qtbot, "11.2")
    submit(entry.pad, qtbot)
    qtbot.mouseClick(kiosk.window.current_screen().skip, LEFT)
    rec = kiosk.store.records(kind="health")[0]
    assert rec.payload["context"] == "after_meal_2h"
    assert rec.payload["values"]["glucose"]["value"] == 11.2
    assert kiosk.window.screens["health_result"].level.text().endswith("饭后血糖高")


def test_phone_is_asked_once_per_resident_and_trend_grows(kiosk, qtbot):
    for systolic in ("120", "130"):
        entry = start(kiosk, qtbot, "blood_pressure")
        for value in (systolic, "80"):
            type_on(entry.pad, qtbot, value)
            submit(entry.pad, qtbot)
        qtbot.mouseClick(entry.skip, LEFT)
        if kiosk.window.current_screen().name == "phone":
            phone = kiosk.window.current_screen()
            type_on(phone.pad, qtbot, "13912345678")
            submit(phone.pad, qtbot)
        kiosk.window.show_screen("home")
    result = kiosk.window.screens["health_result"]
    assert result.chart.series[0].values == [120, 130]


def test_bad_phone_number_is_explained(kiosk, qtbot):
    entry = start(kiosk, qtbot, "weight")
    type_on(entry.pad, qtbot, "65.5")
    submit(entry.pad, qtbot)
    qtbot.mouseClick(entry.skip, LEFT)
    phone = kiosk.window.current_screen()
    type_on(phone.pad, qtbot, "1381234")
    submit(phone.pad, qtbot)
    assert "11位" in phone.problem.text() and "7位" in phone.problem.text()
    assert kiosk.store.count(kind="health") == 0


def test_walking_away_forgets_everything_on_screen(kiosk, qtbot, clock):
    entry = start(kiosk, qtbot, "blood_pressure")
    for value in ("150", "95"):
        type_on(entry.pad, qtbot, value)
        submit(entry.pad, qtbot)
    qtbot.mouseClick(entry.skip, LEFT)
    phone = kiosk.window.current_screen()
    type_on(phone.pad, qtbot, "13812345678")
    submit(phone.pad, qtbot)
    assert kiosk.store.count(kind="health") == 1
    clock.advance(kiosk.idle.idle_seconds + kiosk.idle.warning_seconds + 1)
    kiosk.idle.check()
    kiosk.idle.check()
    assert kiosk.window.current_screen().name == "home"
    assert kiosk.session.phone is None
    from kiosk.qt import QtWidgets

    for screen in kiosk.window.screens.values():
        for lab in screen.findChildren(QtWidgets.QLabel):
            assert "1381234" not in lab.text() and "5678" not in lab.text(), lab.objectName()
            assert "150" not in lab.text(), lab.objectName()
        assert not any(
            "5678" in s.label for s in getattr(getattr(screen, "chart", None), "series", [])
        )
    assert kiosk.window.screens["health_result"].chart.series == []
    assert kiosk.store.count(kind="health") == 1  # what was saved stays saved
