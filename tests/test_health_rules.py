"""Health rules: every classification boundary, every validation bound, payload shape, texts."""

from __future__ import annotations

import json

import pytest

from kiosk import activities, health, phone
from kiosk.health import (
    BloodPressure,
    Glucose,
    GlucoseContext,
    Severity,
    Weight,
    classify,
    classify_blood_pressure,
    classify_bmi,
    classify_glucose,
    compute_bmi,
    health_payload,
    parse_field,
    validate_blood_pressure,
    validate_glucose,
    validate_weight,
)
from kiosk.problems import Problem, problem_text
from kiosk.texts import texts
from sync.protocol import check_record

# -- blood pressure: (systolic, diastolic) -> level id, danger ---------------------

BP_TABLE = [
    # systolic boundaries with a normal diastolic
    (119, 70, "bp_normal", False),
    (120, 70, "bp_high_normal", False),
    (139, 70, "bp_high_normal", False),
    (140, 70, "bp_stage1", False),
    (159, 70, "bp_stage1", False),
    (160, 70, "bp_stage2", False),
    (179, 70, "bp_stage2", False),
    (180, 70, "bp_stage3", True),
    # diastolic boundaries with a normal systolic
    (115, 79, "bp_normal", False),
    (115, 80, "bp_high_normal", False),
    (115, 89, "bp_high_normal", False),
    (115, 90, "bp_stage1", False),
    (115, 99, "bp_stage1", False),
    (115, 100, "bp_stage2", False),
    (115, 109, "bp_stage2", False),
    (115, 110, "bp_stage3", True),
    # mixed: the higher category wins, either way round
    (135, 95, "bp_stage1", False),
    (145, 85, "bp_stage1", False),
    (125, 105, "bp_stage2", False),
    (165, 75, "bp_stage2", False),
    (150, 112, "bp_stage3", True),
    (185, 95, "bp_stage3", True),
    (119, 80, "bp_high_normal", False),
    (120, 79, "bp_high_normal", False),
    (139, 89, "bp_high_normal", False),
    (140, 89, "bp_stage1", False),
    (139, 90, "bp_stage1", False),
]


@pytest.mark.parametrize(("systolic", "diastolic", "level", "danger"), BP_TABLE)
def test_blood_pressure_classification(systolic, diastolic, level, danger):
    c = classify_blood_pressure(systolic, diastolic)
    assert c.level.id == level
    assert c.danger is danger
    assert (c.severity is Severity.DANGER) is danger
    assert health.bp_is_danger(systolic, diastolic) is danger


def test_blood_pressure_severities_rise_with_the_category():
    order = [Severity.OK, Severity.ATTENTION, Severity.HIGH, Severity.DANGER]
    ranks = [order.index(lv.severity) for lv in health.BP_LEVELS]
    assert ranks == sorted(ranks)


# -- glucose: (value, context) -> level id, danger ----------------------------------

FASTING, AFTER = GlucoseContext.FASTING, GlucoseContext.AFTER_MEAL_2H
GLUCOSE_TABLE = [
    (3.8, FASTING, "glucose_low", True),
    (3.9, FASTING, "glucose_fasting_normal", False),
    (6.0, FASTING, "glucose_fasting_normal", False),
    (6.05, FASTING, "glucose_fasting_normal", False),  # documented: below the 6.1 cut
    (6.1, FASTING, "glucose_fasting_raised", False),
    (6.9, FASTING, "glucose_fasting_raised", False),
    (7.0, FASTING, "glucose_fasting_high", False),
    (16.6, FASTING, "glucose_fasting_high", False),
    (16.7, FASTING, "glucose_fasting_high", True),
    (3.8, AFTER, "glucose_low", True),
    (3.9, AFTER, "glucose_after_meal_normal", False),
    (7.7, AFTER, "glucose_after_meal_normal", False),
    (7.8, AFTER, "glucose_after_meal_raised", False),
    (11.0, AFTER, "glucose_after_meal_raised", False),
    (11.05, AFTER, "glucose_after_meal_raised", False),
    (11.1, AFTER, "glucose_after_meal_high", False),
    (16.6, AFTER, "glucose_after_meal_high", False),
    (16.7, AFTER, "glucose_after_meal_high", True),
    (33.3, AFTER, "glucose_after_meal_high", True),
]


@pytest.mark.parametrize(("value", "context", "level", "danger"), GLUCOSE_TABLE)
def test_glucose_classification(value, context, level, danger):
    c = classify_glucose(value, context)
    assert c.level.id == level
    assert c.danger is danger
    assert (c.severity is Severity.DANGER) is danger
    assert health.glucose_is_danger(value) is danger


def test_very_high_glucose_gets_the_danger_advice():
    assert classify_glucose(16.7, "fasting").advice_key == "health.advice_glucose_very_high"
    assert classify_glucose(16.6, "fasting").advice_key == "health.advice_glucose_fasting_high"
    assert classify_glucose(3.8, "after_meal_2h").advice_key == "health.advice_glucose_low"


def test_glucose_typed_as_text_lands_on_the_same_side_of_each_cut():
    for text, level in [("6.0", "glucose_fasting_normal"), ("6.1", "glucose_fasting_raised")]:
        reading = validate_glucose(text, "fasting")
        assert isinstance(reading, Glucose)
        c = classify(reading)
        assert c is not None
        assert c.level.id == level


# -- BMI -------------------------------------------------------------------------------

BMI_TABLE = [
    (18.4, "bmi_underweight"),
    (18.5, "bmi_normal"),
    (23.9, "bmi_normal"),
    (24.0, "bmi_overweight"),
    (27.9, "bmi_overweight"),
    (28.0, "bmi_obese"),
]


@pytest.mark.parametrize(("bmi", "level"), BMI_TABLE)
def test_bmi_classification(bmi, level):
    c = classify_bmi(bmi)
    assert c.level.id == level
    assert not c.danger


def test_bmi_is_rounded_half_up_and_classified_as_shown():
    assert compute_bmi(60, 160) == 23.4
    assert compute_bmi(70, 170) == 24.2
    # 61.4 / 1.6^2 = 23.984... shows 24.0, so it is 超重 as the resident reads it
    assert compute_bmi(61.4, 160) == 24.0
    reading = validate_weight("61.4", "160")
    assert isinstance(reading, Weight)
    c = classify(reading)
    assert c is not None
    assert c.level.id == "bmi_overweight"


def test_weight_without_height_has_no_verdict():
    reading = validate_weight("62.5")
    assert reading == Weight(62.5, None)
    assert classify(reading) is None


# -- validation bounds ------------------------------------------------------------------

BOUNDS = [
    (health.SYSTOLIC, "59", "60", "260", "261"),
    (health.DIASTOLIC, "29", "30", "160", "161"),
    (health.PULSE, "29", "30", "220", "221"),
    (health.GLUCOSE, "0.9", "1.0", "33.3", "33.4"),
    (health.WEIGHT, "19.9", "20", "250", "250.1"),
    (health.HEIGHT, "99", "100", "230", "231"),
]


@pytest.mark.parametrize(("field", "below", "low", "high", "above"), BOUNDS)
def test_field_bounds_each_side(field, below, low, high, above):
    assert parse_field(field, low) == float(low)
    assert parse_field(field, high) == float(high)
    for bad in (below, above):
        problem = parse_field(field, bad)
        assert isinstance(problem, Problem)
        assert problem.field == field.key
        assert problem.key == "health.err_range"
        assert problem.params["low"] == field.format(field.low)
        assert problem.params["high"] == field.format(field.high)


@pytest.mark.parametrize(
    ("field", "raw", "key"),
    [
        (health.SYSTOLIC, "", "health.err_empty"),
        (health.SYSTOLIC, None, "health.err_empty"),
        (health.SYSTOLIC, "  ", "health.err_empty"),
        (health.SYSTOLIC, "abc", "health.err_not_number"),
        (health.SYSTOLIC, "-120", "health.err_not_number"),
        (health.SYSTOLIC, "1e2", "health.err_not_number"),
        (health.SYSTOLIC, "135.5", "health.err_whole_number"),
        (health.SYSTOLIC, 135.5, "health.err_whole_number"),
        (health.GLUCOSE, "5.65", "health.err_one_decimal"),
        (health.GLUCOSE, float("nan"), "health.err_not_number"),
        (health.WEIGHT, -5, "health.err_range"),
    ],
)
def test_field_problems(field, raw, key):
    problem = parse_field(field, raw)
    assert isinstance(problem, Problem)
    assert problem.key == key


def test_field_parsing_accepts_what_people_type():
    assert parse_field(health.SYSTOLIC, " 135 ") == 135
    assert parse_field(health.SYSTOLIC, "１３５") == 135  # full-width digits
    assert parse_field(health.SYSTOLIC, "135.0") == 135
    assert isinstance(parse_field(health.SYSTOLIC, "135"), int)
    assert parse_field(health.GLUCOSE, "5.60") == 5.6
    assert parse_field(health.GLUCOSE, "5。6") == 5.6
    assert parse_field(health.GLUCOSE, 7) == 7.0
    with pytest.raises(TypeError):
        parse_field(health.SYSTOLIC, True)


@pytest.mark.parametrize(("systolic", "diastolic"), [("100", "100"), ("90", "100"), ("60", "61")])
def test_systolic_must_be_above_diastolic(systolic, diastolic):
    result = validate_blood_pressure(systolic, diastolic)
    assert isinstance(result, list)
    assert [p.key for p in result] == ["health.err_sys_not_above_dia"]
    assert result[0].field == "systolic"


def test_blood_pressure_validation():
    assert validate_blood_pressure("101", "100") == BloodPressure(101, 100, None)
    assert validate_blood_pressure("135", "88", "72") == BloodPressure(135, 88, 72)
    assert validate_blood_pressure("135", "88", "") == BloodPressure(135, 88, None)
    result = validate_blood_pressure("300", "", "250")
    assert isinstance(result, list)
    assert [(p.field, p.key) for p in result] == [
        ("systolic", "health.err_range"),
        ("diastolic", "health.err_empty"),
        ("pulse", "health.err_range"),
    ]


def test_glucose_and_weight_validation():
    assert validate_glucose("5.6", "after_meal_2h") == Glucose(5.6, GlucoseContext.AFTER_MEAL_2H)
    assert isinstance(validate_glucose("40", "fasting"), list)
    with pytest.raises(ValueError):
        validate_glucose("5.6", "before_bed")
    assert validate_weight("62.5", "160") == Weight(62.5, 160)
    assert validate_weight("62.5", "") == Weight(62.5, None)
    # 250 kg at 100 cm is BMI 250: one of the two is mistyped
    result = validate_weight("250", "100")
    assert isinstance(result, list)
    assert [(p.field, p.key) for p in result] == [("height", "health.err_bmi_implausible")]


def test_problem_sentences_name_the_field_and_the_range():
    [problem] = validate_glucose("40", "fasting")  # type: ignore[misc]
    assert problem_text(problem) == "血糖应该在1.0到33.3毫摩尔每升之间，请再看一下。"
    problem = parse_field(health.SYSTOLIC, "")
    assert isinstance(problem, Problem)
    assert "高压" in problem_text(problem)


# -- payload -----------------------------------------------------------------------------


def test_blood_pressure_payload():
    assert health_payload(BloodPressure(185, 95, 80), phone="138 1234-5678") == {
        "type": "blood_pressure",
        "values": {
            "systolic": {"value": 185, "unit": "mmHg"},
            "diastolic": {"value": 95, "unit": "mmHg"},
            "pulse": {"value": 80, "unit": "bpm"},
        },
        "level": "bp_stage3",
        "severity": "danger",
        "alert": True,
        "phone": "13812345678",
    }


def test_glucose_and_weight_payloads():
    assert health_payload(Glucose(5.6, GlucoseContext.FASTING)) == {
        "type": "glucose",
        "values": {"glucose": {"value": 5.6, "unit": "mmol/L"}},
        "context": "fasting",
        "level": "glucose_fasting_normal",
        "severity": "ok",
        "alert": False,
    }
    assert health_payload(Glucose(3.5, GlucoseContext.AFTER_MEAL_2H))["alert"] is True
    assert health_payload(Weight(62.5)) == {
        "type": "weight",
        "values": {"weight": {"value": 62.5, "unit": "kg"}},
        "level": None,
        "severity": None,
        "alert": False,
    }
    payload = health_payload(Weight(62.5, 160))
    assert payload["values"]["bmi"] == {"value": 24.4, "unit": "kg/m2"}
    assert payload["level"] == "bmi_overweight"
    assert health.payload_value(payload, "bmi") == 24.4
    assert health.payload_value(payload, "systolic") is None


def test_payload_refuses_an_invalid_phone():
    with pytest.raises(ValueError):
        health_payload(Weight(62.5), phone="12345")


def test_payload_is_json():
    payload = health_payload(BloodPressure(135, 88, 72), phone="13812345678")
    assert json.loads(json.dumps(payload)) == payload


def test_normal_bands():
    assert health.normal_band("systolic") == (90.0, 120.0)
    assert health.normal_band("glucose", "fasting") == (3.9, 6.1)
    assert health.normal_band("glucose", "after_meal_2h") == (3.9, 7.8)
    assert health.normal_band("bmi") == (18.5, 24.0)
    assert health.normal_band("height") is None
    with pytest.raises(ValueError):
        health.normal_band("glucose")


# -- texts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [health, phone, activities])
def test_every_text_key_exists(module):
    catalogue = set(texts().keys())
    missing = sorted(module.TEXT_KEYS - catalogue)
    assert not missing


def test_every_level_has_words_and_advice():
    catalogue = texts()
    for level in health.LEVELS.values():
        assert catalogue.get(level.label_key)
        assert catalogue.get(level.advice_key)


def test_every_health_text_is_used():
    """No stale sentence in health.toml: each key is used by the rules or named by a screen."""
    from pathlib import Path

    screens = "".join(
        p.read_text(encoding="utf-8")
        for p in (Path(__file__).parent.parent / "kiosk" / "screens").glob("*.py")
    )
    own = {k for k in texts().items() if k.startswith("health.")}
    unused = {k for k in own - health.TEXT_KEYS if f'"{k}"' not in screens}
    assert unused == set()


@pytest.mark.parametrize(
    "reading",
    [
        BloodPressure(260, 159, 220),
        BloodPressure(61, 30),
        Glucose(1.0, GlucoseContext.FASTING),
        Glucose(33.3, GlucoseContext.AFTER_MEAL_2H),
        Weight(20.0, 100),
        Weight(250.0, 230),
        Weight(62.5),
    ],
)
def test_payloads_pass_the_wire_protocol(reading):
    payload = health_payload(reading, phone="13812345678")
    assert check_record("health", "2025-12-01T10:00:00+08:00", payload) is None
