"""满意度 on the real app: three faces and 跳过, the saved feedback record, thanks, home."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.qt import QtCore, QtGui
from kiosk.screens.audit import audit_view
from kiosk.screens.feedback import Rating
from kiosk.screens.inventory import inventory, view_facts
from kiosk.store import StoreFullError
from kiosk.texts import t
from kiosk.theme import Metrics
from sync.protocol import check_record

LEFT = QtCore.Qt.MouseButton.LeftButton


def ask_about_a_call(kiosk) -> Any:
    """A handled call, then the feedback screen as the app opens it: ask() and show."""
    call_id = kiosk.store.add("call", {"reason": "help", "source": "button"})
    screen = kiosk.window.screens["feedback"]
    screen.ask(call_id, "call")
    kiosk.window.show_screen("feedback")
    assert kiosk.window.current_screen() is screen
    return screen, call_id


def test_question_and_three_faces_with_words(kiosk):
    screen, _ = ask_about_a_call(kiosk)
    assert screen.question.text() == "您对这次服务满意吗？"
    assert [b.text() for b in screen.visible_buttons()] == ["满意", "一般", "不满意", "跳过"]
    for face in screen.faces.values():
        assert face.accessibleName() == face.text()
        assert kiosk.metrics.to_mm(face.width()) >= 60
        assert kiosk.metrics.to_mm(face.height()) >= 60
    assert screen.spoken_text() == "您对这次服务满意吗？满意，一般，不满意，跳过。"
    assert not kiosk.window.common["back"].isVisible()  # 跳过 is the way out


@pytest.mark.parametrize(
    ("rating", "wire"),
    [(Rating.SATISFIED, "good"), (Rating.NEUTRAL, "ok"), (Rating.UNSATISFIED, "bad")],
)
def test_answer_saves_feedback_pointing_at_the_served_record(kiosk, qtbot, rating, wire):
    screen, call_id = ask_about_a_call(kiosk)
    screen.thanks_ms = 300
    shown = []
    screen.speak.connect(lambda _s: shown.append((screen.thanks.isVisible(), screen.thanks.text())))
    with qtbot.waitSignal(kiosk.window.went_home, timeout=3000):
        with qtbot.waitSignal(screen.speak, timeout=2000) as said:
            qtbot.mouseClick(screen.faces[rating], LEFT)
        assert said.args == ["谢谢您！"]
        assert shown == [(True, "谢谢您！")]
        assert not any(f.isVisible() for f in screen.faces.values())
        (record,) = kiosk.store.records(kind="feedback")
        payload = {"ref": call_id, "ref_kind": "call", "about": call_id, "rating": wire}
        assert record.payload == payload
        assert check_record("feedback", record.created_at, record.payload) is None
    assert kiosk.window.current_screen().name == "home"
    # Home reset the screen for the next resident.
    assert screen.ref is None and not screen.thanks.isVisible()
    assert all(not f.isHidden() for f in screen.faces.values())


def test_a_proxy_service_can_be_rated_too(kiosk, qtbot):
    proxy_id = kiosk.store.add("proxy", {"service": "社保认证"})
    screen = kiosk.window.screens["feedback"]
    screen.ask(proxy_id, "proxy")
    kiosk.window.show_screen("feedback")
    with qtbot.waitSignal(screen.answered, timeout=2000) as answered:
        qtbot.mouseClick(screen.faces[Rating.NEUTRAL], LEFT)
    assert answered.args == ["neutral"]
    (record,) = kiosk.store.records(kind="feedback")
    assert record.payload["ref"] == proxy_id and record.payload["ref_kind"] == "proxy"


def test_skip_saves_nothing_and_goes_home(kiosk, qtbot):
    screen, _ = ask_about_a_call(kiosk)
    with qtbot.waitSignal(kiosk.window.went_home, timeout=2000):
        qtbot.mouseClick(screen.skip_button, LEFT)
    assert kiosk.store.count(kind="feedback") == 0
    assert kiosk.window.current_screen().name == "home"


def test_double_tap_saves_one_answer(kiosk, qtbot):
    screen, _ = ask_about_a_call(kiosk)
    screen.thanks_ms = 10_000
    qtbot.mouseClick(screen.faces[Rating.SATISFIED], LEFT)
    screen.answer(Rating.UNSATISFIED)  # a second tap (or key) before home
    screen.skip()
    assert kiosk.store.count(kind="feedback") == 1
    assert kiosk.store.records(kind="feedback")[0].payload["rating"] == "good"
    assert kiosk.window.current_screen() is screen  # still thanking


def test_keypad_digits_choose_a_face(kiosk, qtbot):
    screen, _ = ask_about_a_call(kiosk)
    screen.thanks_ms = 50
    with qtbot.waitSignal(screen.answered, timeout=2000) as answered:
        qtbot.keyClick(kiosk.window, QtCore.Qt.Key.Key_3)
    assert answered.args == ["unsatisfied"]
    assert kiosk.store.records(kind="feedback")[0].payload["rating"] == "bad"


def test_idle_reset_before_answering_saves_nothing(kiosk, qtbot):
    screen, _ = ask_about_a_call(kiosk)
    kiosk.window.home()
    assert screen.ref is None
    kiosk.window.show_screen("feedback")
    screen.thanks_ms = 50
    with qtbot.waitSignal(kiosk.window.went_home, timeout=2000):
        qtbot.mouseClick(screen.faces[Rating.SATISFIED], LEFT)
    assert kiosk.store.count(kind="feedback") == 0  # nothing to point at


def test_answer_that_cannot_be_saved_says_so(kiosk, qtbot, monkeypatch):
    screen, _ = ask_about_a_call(kiosk)
    screen.thanks_ms = 50

    def full(kind, payload):
        raise StoreFullError("disk full")

    monkeypatch.setattr(kiosk.recorder, "save", full)
    with (
        qtbot.waitSignal(kiosk.window.went_home, timeout=3000),
        qtbot.waitSignal(screen.speak, timeout=2000) as said,
    ):
        qtbot.mouseClick(screen.faces[Rating.SATISFIED], LEFT)
    assert said.args == [t("common.store_full")]
    assert kiosk.store.count(kind="feedback") == 0


def test_the_three_faces_are_drawn_differently(kiosk):
    screen, _ = ask_about_a_call(kiosk)
    images = {}
    for rating, face in screen.faces.items():
        img = face.grab().toImage()
        r = face.face_rect().toRect()
        assert r.width() >= kiosk.metrics.mm(40)
        # The face is drawn in the text colour inside the face area.
        ink = face.colors[1]
        inked = sum(
            1
            for x in range(r.left(), r.right(), 3)
            for y in range(r.top(), r.bottom(), 3)
            if QtGui.QColor(img.pixel(x, y)) == ink
        )
        assert inked > 50, rating
        images[rating] = img.copy(r)
    assert images[Rating.SATISFIED] != images[Rating.UNSATISFIED]
    assert images[Rating.SATISFIED] != images[Rating.NEUTRAL]
    assert images[Rating.NEUTRAL] != images[Rating.UNSATISFIED]


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_audit_passes(kiosk, qtbot, scale):
    kiosk.set_metrics(Metrics(px_per_mm=kiosk.metrics.px_per_mm, font_scale=scale))
    kiosk.window.resize(1920, 1080)
    facts = view_facts(kiosk.window, kiosk.metrics, "feedback")
    assert facts["size_px"] == [1920, 1080]  # the screen did not grow the window
    assert audit_view(facts) == []
    # and while thanking
    screen = kiosk.window.screens["feedback"]
    screen.thanks_ms = 10_000
    screen.ask(kiosk.store.add("call", {"reason": "help"}), "call")
    qtbot.mouseClick(screen.faces[Rating.SATISFIED], LEFT)
    qtbot.waitUntil(screen.thanks.isVisible, timeout=2000)
    w = kiosk.window
    facts = {
        "screen": "feedback thanks",
        "elder": True,
        "size_px": [w.width(), w.height()],
        "px_per_mm": kiosk.metrics.px_per_mm,
        "font_scale": kiosk.metrics.font_scale,
        "widgets": inventory(w, kiosk.metrics),
    }
    assert audit_view(facts) == []
