"""Understanding -> action on the real app: navigation, buttons, numbers, confirmation, rejects."""

from __future__ import annotations

import pytest

from kiosk.qt import QtCore
from kiosk.texts import t
from kiosk.voice.controller import VoiceController
from kiosk.voice.intents import Word


@pytest.fixture
def voice(kiosk):  # type: ignore[no-untyped-def]
    """The app's own voice controller (attached by KioskApp.complete_start)."""
    controller: VoiceController = kiosk.voice
    return controller


def screen(kiosk) -> str:  # type: ignore[no-untyped-def]
    return str(kiosk.window.current_screen().name)


def test_health_monitoring_on_home_goes_to_health(qtbot, kiosk, voice):
    assert screen(kiosk) == "home"
    u = voice.handle_text("健康 监测")
    assert u.kind == "button"
    qtbot.waitUntil(lambda: screen(kiosk) == "health", timeout=2000)


def test_an_alias_presses_a_chain_across_screens(qtbot, kiosk, voice):
    voice.handle_text("测 血压")
    qtbot.waitUntil(lambda: screen(kiosk) == "health_entry", timeout=2000)
    entry = kiosk.window.screens["health_entry"]
    assert entry.measurement.value == "blood_pressure"


def test_a_number_is_typed_into_the_health_entry(qtbot, kiosk, voice):
    voice.handle_text("测 血压")
    qtbot.waitUntil(lambda: screen(kiosk) == "health_entry", timeout=2000)
    pad = kiosk.window.screens["health_entry"].pad
    voice.handle_text("一 百 三 十 五")
    assert pad.value == "135"


def test_a_blood_pressure_pair_fills_two_fields(qtbot, kiosk, voice):
    voice.handle_text("测 血压")
    qtbot.waitUntil(lambda: screen(kiosk) == "health_entry", timeout=2000)
    entry = kiosk.window.screens["health_entry"]
    voice.handle_text("一百三十五 八十八")  # cn2an form: a space where the speaker paused
    assert entry.values["systolic"] == "135"
    assert entry.index == 1 and entry.pad.value == "88"


def test_globals_back_home_and_volume(qtbot, kiosk, voice):
    voice.handle_text("社区 活动")
    qtbot.waitUntil(lambda: screen(kiosk) == "activities", timeout=2000)
    voice.handle_text("返回")
    assert screen(kiosk) == "home"
    kiosk.window.show_screen("health")
    voice.handle_text("首页")
    assert screen(kiosk) == "home"
    before = kiosk.speaker.volume()
    voice.handle_text("小声 点")
    assert kiosk.speaker.volume() == max(before - 1, 0)
    voice.handle_text("大声 点")
    assert kiosk.speaker.volume() == before


def test_a_call_is_confirmed_first_and_yes_saves_it(qtbot, kiosk, voice):
    assert kiosk.store.count(kind="call") == 0
    voice.handle_text("呼叫")
    assert screen(kiosk) == "confirm"
    confirm = kiosk.window.screens["confirm"]
    assert confirm.question.text() == t("voice.confirm_call")
    assert kiosk.store.count(kind="call") == 0
    voice.handle_text("是")
    assert kiosk.store.count(kind="call") == 1
    assert screen(kiosk) == "call"
    kiosk.window.back()
    assert screen(kiosk) == "home"  # the question is not in the way back


def test_no_saves_nothing_and_goes_back(qtbot, kiosk, voice):
    kiosk.window.show_screen("health")
    voice.handle_text("一键 呼叫")
    assert screen(kiosk) == "confirm"
    voice.handle_text("不是")
    assert kiosk.store.count(kind="call") == 0
    assert screen(kiosk) == "health"


def test_the_confirmation_answers_by_touch_too(qtbot, kiosk, voice):
    voice.handle_text("呼叫 帮助")
    confirm = kiosk.window.screens["confirm"]
    qtbot.mouseClick(confirm.yes, QtCore.Qt.MouseButton.LeftButton)
    assert kiosk.store.count(kind="call") == 1


@pytest.mark.parametrize(
    "transcript",
    ["", "取消 取消", "健康 监测 社区 活动", "<UNK>", "[unk] 返回", "一 百 三 十 五", "血压"],
)
def test_garbage_is_rejected_with_the_spoken_sentence(qtbot, kiosk, voice, transcript):
    with qtbot.waitSignal(voice.not_understood, timeout=1000):
        u = voice.handle_text(transcript)
    assert u.rejected
    assert screen(kiosk) == "home"
    assert "没听清" in kiosk.speaker.last_text
    assert kiosk.store.count(kind="call") == 0


def test_weak_words_are_rejected(qtbot, kiosk, voice):
    with qtbot.waitSignal(voice.not_understood, timeout=1000) as sig:
        voice.perform_words([Word("返回", 0.5)])
    assert sig.args == ["weak"]


def test_sign_up_by_voice_is_confirmed(qtbot, kiosk, voice):
    kiosk.window.show_screen("activity_detail")
    detail = kiosk.window.screens["activity_detail"]
    if not detail.signup_button.isVisibleTo(detail):
        pytest.skip("the shipped catalogue has no open activity now")
    voice.handle_text("我要 报名")
    assert screen(kiosk) == "confirm"
    voice.handle_text("是")
    assert screen(kiosk) in ("phone", "activity_detail")


def test_without_a_model_the_mic_is_hidden(kiosk, voice):
    assert not voice.available
    assert voice.mic is not None and not voice.mic.isVisible()
    assert voice.listener.status().problems == ("voice.no_model",)
