"""The accessibility audit over every registered screen and overlay, at font scale 1.0 and 1.5."""

from __future__ import annotations

import pytest

from kiosk.screens.audit import audit_common, audit_view
from kiosk.screens.inventory import view_facts, views
from kiosk.theme import Metrics


@pytest.mark.parametrize(("scale", "banner"), [(1.0, False), (1.5, False), (1.5, True)])
def test_every_screen_passes_the_audit(kiosk, scale, banner):
    kiosk.set_metrics(Metrics(px_per_mm=kiosk.metrics.px_per_mm, font_scale=scale))
    kiosk.banner.show_status(banner, None)  # the open-call banner takes room on every screen
    kiosk.window.resize(1920, 1080)
    all_facts = []
    problems = []
    names = views(kiosk.window)
    assert {"home", "call", "health", "health_entry", "health_result", "phone"} <= set(names)
    for name in names:
        facts = view_facts(kiosk.window, kiosk.metrics, name)
        assert facts["widgets"], name
        assert facts["size_px"] == [1920, 1080], f"{name} made the window grow"
        problems += audit_view(facts)
        all_facts.append(facts)
    problems += audit_common(all_facts)
    assert problems == []


def test_common_controls_are_on_every_screen_but_home(kiosk):
    for name in views(kiosk.window):
        facts = view_facts(kiosk.window, kiosk.metrics, name)
        present = {
            w["object_name"] for w in facts["widgets"] if w["object_name"].startswith("common_")
        }
        if name == "idle_warning":
            continue
        assert {"common_call", "common_repeat"} <= present, name
        assert ("common_back" in present) == kiosk.window.screens[name].show_back, name


def test_the_audit_catches_a_shrunken_button(kiosk):
    home = kiosk.window.screens["home"]
    home.health_button.setMinimumSize(10, 10)
    home.health_button.setMaximumSize(kiosk.metrics.mm(15), kiosk.metrics.mm(15))
    problems = audit_view(view_facts(kiosk.window, kiosk.metrics, "home"))
    assert any("home_health" in p and "target" in p for p in problems), problems


def test_the_audit_catches_small_text_low_contrast_and_clipping(kiosk):
    from kiosk.qt import QtGui

    home = kiosk.window.screens["home"]
    f = home.greeting.font()
    f.setPixelSize(kiosk.metrics.mm(5))
    home.greeting.setFont(f)
    pal = home.greeting.palette()
    pal.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor("#999999"))
    home.greeting.setPalette(pal)
    home.call_button.set_texts("一键呼叫" * 6)
    home.call_button.setFixedWidth(kiosk.metrics.mm(70))  # a layout that squeezes it
    problems = audit_view(view_facts(kiosk.window, kiosk.metrics, "home"))
    assert any("home_greeting" in p and "text" in p and "mm" in p for p in problems), problems
    assert any("home_greeting" in p and "contrast" in p for p in problems), problems
    assert any("home_call" in p and "clipped" in p for p in problems), problems


def test_the_audit_catches_a_moved_common_control(kiosk):
    facts = [view_facts(kiosk.window, kiosk.metrics, n) for n in ("call", "health")]
    for w in facts[1]["widgets"]:
        if w["object_name"] == "common_back":
            w["geometry_px"][0] += 30
    assert audit_common(facts)
