"""Bad input at the screen: Hypothesis against the health validators, the phone parser,
the spoken-number and intent parsers and the config loader.

Properties: never an unexpected exception; only valid readings accepted (in
bounds, right decimals, systolic above diastolic); every rejection carries a
text key that exists in voices/zh_CN/ and renders into a sentence.
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk import config, health, phone
from kiosk.problems import Problem, problem_text
from kiosk.texts import texts
from kiosk.voice import intents

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DIGITS = "0123456789０１２３４５６７８９٣.。 -"
raw_entry = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet=DIGITS, max_size=40),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)


def _check_problem(p: Problem) -> None:
    assert p.key in texts().items(), p.key
    sentence = problem_text(p)
    assert sentence and "{" not in sentence


def _in_field(field: health.Field, value: float) -> None:
    d = Decimal(str(value))
    assert field.low <= d <= field.high
    assert d == d.quantize(Decimal(1).scaleb(-field.decimals))


@SETTINGS
@given(raw=raw_entry, key=st.sampled_from(sorted(health.FIELDS)))
def test_parse_field_total(raw: Any, key: str) -> None:
    field = health.FIELDS[key]
    result = health.parse_field(field, raw)
    if isinstance(result, Problem):
        _check_problem(result)
    else:
        _in_field(field, result)


@SETTINGS
@given(sys_=raw_entry, dia=raw_entry, pulse=raw_entry)
def test_blood_pressure_only_valid_readings(sys_: Any, dia: Any, pulse: Any) -> None:
    result = health.validate_blood_pressure(sys_, dia, pulse)
    if isinstance(result, list):
        assert result
        for p in result:
            _check_problem(p)
        return
    _in_field(health.SYSTOLIC, result.systolic)
    _in_field(health.DIASTOLIC, result.diastolic)
    assert result.systolic > result.diastolic
    if result.pulse is not None:
        _in_field(health.PULSE, result.pulse)
    payload = health.health_payload(result)
    json.dumps(payload, allow_nan=False)
    from sync.protocol import check_record

    assert check_record("health", "2025-01-01T10:00:00+08:00", payload) is None


@SETTINGS
@given(value=raw_entry, ctx=st.sampled_from(list(health.GlucoseContext)))
def test_glucose_only_valid_readings(value: Any, ctx: health.GlucoseContext) -> None:
    result = health.validate_glucose(value, ctx)
    if isinstance(result, list):
        for p in result:
            _check_problem(p)
    else:
        _in_field(health.GLUCOSE, result.value)
        assert health.classify(result) is not None


@SETTINGS
@given(weight=raw_entry, height=raw_entry)
def test_weight_only_valid_readings(weight: Any, height: Any) -> None:
    result = health.validate_weight(weight, height)
    if isinstance(result, list):
        for p in result:
            _check_problem(p)
        return
    _in_field(health.WEIGHT, result.weight)
    if result.height is not None:
        _in_field(health.HEIGHT, result.height)
        bmi = result.bmi
        assert bmi is not None and health.BMI.low <= Decimal(str(bmi)) <= health.BMI.high


@SETTINGS
@given(raw=st.one_of(st.text(), st.text(alphabet="0123456789１３８ -‐—\t", max_size=30)))
def test_phone_parser(raw: str) -> None:
    problem = phone.phone_problem(raw)
    if problem is None:
        number = phone.normalize_phone(raw)
        assert len(number) == 11 and number.isascii() and number.isdigit()
        assert number[0] == "1" and number[1] in "3456789"
        masked = phone.mask_phone(raw)
        assert masked[:3] == number[:3] and masked[-4:] == number[-4:] and "****" in masked
    else:
        assert problem.key in phone.TEXT_KEYS
        _check_problem(problem)


NUMBER_WORDS = "零幺一二两三四五六七八九十百点"


@SETTINGS
@given(text=st.one_of(st.text(alphabet=NUMBER_WORDS + " ", max_size=30), st.text(max_size=30)))
def test_number_parser_total(text: str) -> None:
    values = intents.parse_numbers(text)
    for v in values:
        assert v and all(c.isdigit() or c == "." for c in v), (text, v)
        float(v)


word = st.builds(
    intents.Word,
    st.one_of(
        st.sampled_from(["测", "血压", "返回", "[unk]", "一百", "三十五", "呼叫"]), st.text()
    ),
    st.floats(0, 1),
    st.floats(0, 10),
    st.floats(0, 10),
)


@SETTINGS
@given(
    words=st.lists(word, max_size=6),
    screen=st.sampled_from(["home", "health", "call", "activities", "nowhere"]),
    numbers=st.booleans(),
)
def test_intent_parser_total(words: list[intents.Word], screen: str, numbers: bool) -> None:
    result = intents.understand(words, intents.commands(), screen, numbers=numbers)
    assert result.kind in {"global", "button", "numbers", "reject"}
    if result.rejected:
        assert result.reason in {"empty", "unknown", "garbage", "weak", "no_match", "bad_number"}
        # Every voice rejection is answered with 「没听清，请再说一遍」 (the controller).
        assert "voice.not_understood" in texts().items()


SECTIONS = ["kiosk", "server", "sync", "ui", "call", "voice", "bogus"]
KEYS = sorted({k.name for k in config.declared_keys()} | {"nope"})
toml_value = st.one_of(
    st.text(max_size=20),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


def _toml(data: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, body in data.items():
        lines.append(f"[{section}]")
        for key, value in body.items():
            lines.append(f"{key} = {json.dumps(value)}")  # JSON scalars are TOML scalars
    return "\n".join(lines) + "\n"


@SETTINGS
@given(
    data=st.dictionaries(
        st.sampled_from(SECTIONS), st.dictionaries(st.sampled_from(KEYS), toml_value, max_size=4)
    ),
    env=st.dictionaries(
        st.sampled_from([k.env for k in config.declared_keys()] + ["KIOSK_UI_NOPE", "KIOSK_X"]),
        st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\0")),
        max_size=3,
    ),
    junk=st.text(max_size=40),
)
def test_config_loader_total(
    data: dict[str, dict[str, Any]], env: dict[str, str], junk: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for text in (_toml(data), junk):
            path = Path(tmp) / "kiosk.toml"
            path.write_text(text, encoding="utf-8")
            try:
                cfg = config.load(path, environ=env)
            except config.ConfigError as exc:
                assert str(exc)  # names the key or the file
            else:
                assert 1.0 <= cfg.ui.font_scale <= 1.5 and cfg.sync.max_batch >= 1
