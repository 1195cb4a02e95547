"""Every button label on the elder screens is a voice phrase, and every voice phrase has a button.

Also: the language pack's segmentation is consistent, and the voice widgets (mic button,
confirmation screen) pass the accessibility audit on every screen.
"""

from __future__ import annotations

import pytest

from kiosk.screens.audit import audit_common, audit_view
from kiosk.screens.inventory import view_facts, views
from kiosk.screens.widgets import BigButton
from kiosk.texts import t
from kiosk.theme import Metrics
from kiosk.voice.controller import VoiceController
from kiosk.voice.intents import commands

# Buttons that are deliberately not voice phrases, with the reason.
LABEL_EXCEPTIONS = {
    "activity_card": "activity cards carry catalogue titles from the district, not known in "
    "advance (no pre-segmented phrase can exist); 上一页 / 下一页 and keypad digits reach them",
    "common_mic": "the microphone button starts listening; saying its label then means nothing",
    "staff_entry": "工作人员 opens the staff PIN pad; a resident who says 工作人员 wants help, "
    "so by voice it must not lead to the PIN pad (呼叫工作人员 is the call intent)",
}
# Voice intents without a button, with the reason.
INTENT_EXCEPTIONS = {
    "home": "首页 has no button in the frame (返回 and each journey's last button lead home); "
    "by voice it is a shortcut for 返回 until home",
}
# Labels a button takes in some state that the widget tree does not show at rest.
DYNAMIC_LABELS = {"health_entry": {t("numpad.done")}, "phone": set()}


@pytest.fixture
def voice(kiosk):  # type: ignore[no-untyped-def]
    """The app's own voice controller (attached by KioskApp.complete_start)."""
    controller: VoiceController = kiosk.voice
    return controller


def label_of(b: BigButton) -> str:
    return b.text().replace("\n", "")


def is_exception(b: BigButton) -> bool:
    return any(b.objectName().startswith(prefix) for prefix in LABEL_EXCEPTIONS)


def screen_labels(kiosk, name: str) -> set[str]:  # type: ignore[no-untyped-def]
    """Every label a button on ``name`` can show (all states), exceptions left out."""
    screen = kiosk.window.screens[name]
    kiosk.window.show_screen(name, remember=False)
    screen.demo()
    found = {label_of(b) for b in screen.findChildren(BigButton) if not is_exception(b)}
    return found | DYNAMIC_LABELS.get(name, set())


def test_phrases_are_segmented_consistently():
    cmds = commands()
    for phrase in cmds.all_phrases():
        assert "".join(phrase.words) == phrase.text
        assert " ".join(phrase.words) == phrase.segmented
        assert all(w.strip() == w and w for w in phrase.words)
    for word in cmds.numbers:
        assert len(word) == 1


def test_every_button_label_is_a_voice_phrase(kiosk):
    cmds = commands()
    global_texts = {p.text for ps in cmds.global_intents.values() for p in ps}
    number_texts = {str(d) for d in range(10)} | {t("numpad.point")}  # the numbers grammar
    missing = []
    for name, screen in kiosk.window.screens.items():
        if not screen.elder:
            continue
        said = global_texts | {p.text for p in cmds.buttons.get(name, ())}
        if getattr(screen, "pad", None) is not None:
            said |= number_texts
        for label in screen_labels(kiosk, name):
            if label not in said:
                missing.append(f"{name}: {label}")
    common = {label_of(b) for b in kiosk.window.common.values()}
    missing += [f"common: {c}" for c in common if c not in global_texts]
    assert missing == []


def test_every_voice_phrase_has_a_button(kiosk):
    cmds = commands()
    everywhere: set[str] = {label_of(b) for b in kiosk.window.common.values()}
    per_screen = {}
    for name in kiosk.window.screens:
        per_screen[name] = screen_labels(kiosk, name)
        everywhere |= per_screen[name]
    problems = []
    for intent, phrases in cmds.global_intents.items():
        if intent in INTENT_EXCEPTIONS:
            continue
        if not any(p.text in everywhere for p in phrases):
            problems.append(f"global {intent}: no button says any of {[p.text for p in phrases]}")
    for name, phrases in cmds.buttons.items():
        assert name in kiosk.window.screens, f"commands.toml names an unknown screen {name}"
        problems += [
            f"{name}: no button {p.text}" for p in phrases if p.text not in per_screen[name]
        ]
    for name, aliases in cmds.aliases.items():
        for said, chain in aliases.items():
            if chain[0] not in per_screen[name]:
                problems.append(
                    f"{name}: alias {said.text} starts with a missing button {chain[0]}"
                )
    assert problems == []


def test_exceptions_are_real(kiosk):
    """The documented exceptions name things that exist (so they cannot hide a typo)."""
    names = {b.objectName() for b in kiosk.window.findChildren(BigButton)}
    names |= {"common_mic"}
    for prefix in LABEL_EXCEPTIONS:
        assert any(n.startswith(prefix) for n in names), prefix
    assert set(INTENT_EXCEPTIONS) <= set(commands().global_intents)


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_voice_widgets_pass_the_audit(kiosk, voice, scale):
    assert voice.mic is not None
    kiosk.set_metrics(Metrics(px_per_mm=kiosk.metrics.px_per_mm, font_scale=scale))
    kiosk.window.resize(1920, 1080)
    voice.mic.show()  # as with a model installed
    all_facts = []
    problems = []
    for name in views(kiosk.window):
        facts = view_facts(kiosk.window, kiosk.metrics, name)
        mic = [w for w in facts["widgets"] if w["object_name"] == "common_mic"]
        assert len(mic) == 1 or name == "idle_warning", name
        all_facts.append(facts)
        if name == "confirm":
            problems += audit_view(facts)
        else:
            problems += [p for p in audit_view(facts) if "common_mic" in p]
    problems += [p for p in audit_common(all_facts) if "common_mic" in p]
    assert problems == []


def test_the_mic_keeps_its_place_while_listening(kiosk, voice):
    mic = voice.mic
    assert mic is not None
    mic.show()
    kiosk.window.resize(1920, 1080)
    before = mic.geometry()
    mic.set_listening(True)
    assert mic.text() == t("voice.listening")
    assert mic.geometry() == before
    assert mic.colors != voice.mic.__class__.__mro__[1].colors.fget(mic)  # type: ignore[attr-defined]
    mic.set_listening(False)
    assert mic.text() == t("voice.mic")
