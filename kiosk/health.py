"""Health-check rules: entry fields, validation, classification and the saved payload.

Pure functions and frozen dataclasses, no Qt, no I/O: the health screen asks
these rules what to show and what to save. Every sentence lives in
voices/zh_CN/health.toml; this module names text keys only.

Flow for a screen::

    result = validate_blood_pressure("135", "88", "72")
    if isinstance(result, list):          # list[Problem]: say problem_text(p), save nothing
        ...
    else:                                 # BloodPressure
        c = classify(result)              # Classification (None only for weight without height)
        store.add("health", health_payload(result, phone=phone_or_none))

Entry fields (physiological bounds, inclusive):

==========  =========  ========  ==========
field       unit       decimals  bounds
==========  =========  ========  ==========
systolic    mmHg       0         60-260, and must be above diastolic
diastolic   mmHg       0         30-160
pulse       bpm        0         30-220 (optional)
glucose     mmol/L     1         1.0-33.3
weight      kg         1         20-250
height      cm         0         100-230 (optional)
==========  =========  ========  ==========

With a height the BMI (kg/m2) is computed, rounded half-up to one decimal; a
BMI outside 10-80 means weight and height cannot both be right.

Classification (Chinese guidelines). Ranges are contiguous: each category
starts at its lower cut point and ends just below the next one, so a value
written "3.9-6.0" in the guideline means ``3.9 <= v < 6.1``.

* Blood pressure: systolic cuts 120/140/160/180, diastolic cuts 80/90/100/110
  give 正常, 正常高值, 1级, 2级, 3级; the higher of the two categories wins
  (135/95 is 1级).
* Fasting glucose: ``< 3.9`` low, ``3.9 <= v < 6.1`` normal, ``6.1 <= v < 7.0``
  raised, ``>= 7.0`` high. So 6.05 (which the one-decimal entry cannot
  produce, but a caller passing a float can) is **normal**.
* Glucose 2 h after a meal: ``< 3.9`` low (same hypoglycaemia level as fasting),
  ``3.9 <= v < 7.8`` normal, ``7.8 <= v < 11.1`` raised, ``>= 11.1`` high.
* BMI (of the rounded one-decimal value the resident sees): ``< 18.5``
  underweight, ``< 24`` normal, ``< 28`` overweight, ``>= 28`` obese.

Danger (the result screen offers a call as its biggest button, the record
carries ``"alert": true``): systolic >= 180 or diastolic >= 110; glucose < 3.9
or >= 16.7 (either context). A dangerous classification has severity
``danger`` whatever its level.

Payload of a ``health`` record (built by :func:`health_payload`)::

    {
      "type": "blood_pressure" | "glucose" | "weight",
      "values": {                       # only the fields measured
        "systolic":  {"value": 135, "unit": "mmHg"},
        "diastolic": {"value": 88,  "unit": "mmHg"},
        "pulse":     {"value": 72,  "unit": "bpm"},     # when given
        "glucose":   {"value": 5.6, "unit": "mmol/L"},
        "weight":    {"value": 62.5, "unit": "kg"},
        "height":    {"value": 160, "unit": "cm"},      # when given
        "bmi":       {"value": 24.4, "unit": "kg/m2"}   # when height given
      },
      "context": "fasting" | "after_meal_2h",   # glucose only
      "level": "bp_stage1" | ... | null,        # Level.id; null for weight without height
      "severity": "ok" | "attention" | "high" | "danger" | null,
      "alert": true | false,                    # the danger rule
      "phone": "13812345678"                    # only when the resident gave one (full number)
    }
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

from kiosk.phone import normalize_phone, phone_problem
from kiosk.problems import Problem

__all__ = [
    "BMI",
    "DIASTOLIC",
    "FIELDS",
    "GLUCOSE",
    "GLUCOSE_DANGER_HIGH",
    "GLUCOSE_LOW",
    "HEIGHT",
    "LEVELS",
    "MEASUREMENT_FIELDS",
    "PULSE",
    "SYSTOLIC",
    "TEXT_KEYS",
    "WEIGHT",
    "BloodPressure",
    "Classification",
    "Field",
    "Glucose",
    "GlucoseContext",
    "Level",
    "Measurement",
    "Raw",
    "Reading",
    "Severity",
    "Weight",
    "bp_is_danger",
    "classify",
    "classify_blood_pressure",
    "classify_bmi",
    "classify_glucose",
    "compute_bmi",
    "glucose_is_danger",
    "health_payload",
    "normal_band",
    "parse_field",
    "payload_value",
    "validate_blood_pressure",
    "validate_glucose",
    "validate_weight",
]


class Measurement(StrEnum):
    """What was measured; the value is the payload's ``type``."""

    BLOOD_PRESSURE = "blood_pressure"
    GLUCOSE = "glucose"
    WEIGHT = "weight"

    @property
    def label_key(self) -> str:
        """Text key of its name (「血压」, 「血糖」, 「体重」)."""
        return f"health.measurement_{self.value}"


class GlucoseContext(StrEnum):
    """When the glucose was taken; the value is the payload's ``context``."""

    FASTING = "fasting"
    AFTER_MEAL_2H = "after_meal_2h"

    @property
    def label_key(self) -> str:
        """Text key of its name (「空腹」, 「饭后两小时」)."""
        return f"health.context_{self.value}"


class Severity(StrEnum):
    """How worrying a result is: pick a colour AND an icon from it, with the level's words."""

    OK = "ok"
    ATTENTION = "attention"
    HIGH = "high"
    DANGER = "danger"

    @property
    def label_key(self) -> str:
        """Text key of a one-word name, e.g. for an icon's accessible name."""
        return f"health.severity_{self.value}"


# -- entry fields ---------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One number the resident enters (or that is computed, like BMI).

    ``unit`` is the unit code saved in payloads; ``unit_key`` the unit as shown
    next to the value, ``unit_spoken_key`` as read aloud and used in sentences.
    ``low``/``high`` are inclusive bounds; ``decimals`` is 0 (whole numbers) or 1.
    """

    key: str
    label_key: str
    unit: str
    unit_key: str
    unit_spoken_key: str
    decimals: int
    low: Decimal
    high: Decimal

    @property
    def integer(self) -> bool:
        return self.decimals == 0

    def format(self, value: float | Decimal) -> str:
        """``value`` with this field's decimals (``5.0`` for glucose, ``135`` for systolic)."""
        return f"{Decimal(str(value)):.{self.decimals}f}"


def _field(key: str, unit: str, unit_name: str, *, decimals: int, low: str, high: str) -> Field:
    return Field(
        key=key,
        label_key=f"health.field_{key}",
        unit=unit,
        unit_key=f"health.unit_{unit_name}",
        unit_spoken_key=f"health.unit_{unit_name}_spoken",
        decimals=decimals,
        low=Decimal(low),
        high=Decimal(high),
    )


SYSTOLIC: Final = _field("systolic", "mmHg", "mmhg", decimals=0, low="60", high="260")
DIASTOLIC: Final = _field("diastolic", "mmHg", "mmhg", decimals=0, low="30", high="160")
PULSE: Final = _field("pulse", "bpm", "bpm", decimals=0, low="30", high="220")
GLUCOSE: Final = _field("glucose", "mmol/L", "mmol", decimals=1, low="1.0", high="33.3")
WEIGHT: Final = _field("weight", "kg", "kg", decimals=1, low="20", high="250")
HEIGHT: Final = _field("height", "cm", "cm", decimals=0, low="100", high="230")
BMI: Final = _field("bmi", "kg/m2", "bmi", decimals=1, low="10", high="80")
"""Computed, never entered; its bounds catch a weight/height pair that cannot both be right."""

FIELDS: Final[Mapping[str, Field]] = {
    f.key: f for f in (SYSTOLIC, DIASTOLIC, PULSE, GLUCOSE, WEIGHT, HEIGHT, BMI)
}

MEASUREMENT_FIELDS: Final[Mapping[Measurement, tuple[Field, ...]]] = {
    Measurement.BLOOD_PRESSURE: (SYSTOLIC, DIASTOLIC, PULSE),
    Measurement.GLUCOSE: (GLUCOSE,),
    Measurement.WEIGHT: (WEIGHT, HEIGHT),
}
"""The fields the screen asks for, in order, one at a time."""

OPTIONAL_FIELDS: Final = frozenset({"pulse", "height"})
"""Fields the resident may skip (pass ``None`` or ``""``)."""

Raw = str | int | float | None
"""An entry as typed ("135", "5.6", full-width digits allowed) or as a number from speech."""

_NUMBER = re.compile(r"\d+(\.\d+)?")


def _problem(field: Field, key: str, **params: Any) -> Problem:
    names = {"field"} | ({"unit"} if "unit" in params else set())
    return Problem(field.key, key, {"field": field.label_key, **params}, frozenset(names))


def _to_decimal(raw: str | int | float) -> Decimal | None:
    if isinstance(raw, bool):
        raise TypeError(f"a reading cannot be a bool: {raw!r}")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            return None
        return value if value.is_finite() else None
    text = unicodedata.normalize("NFKC", raw).strip().replace("。", ".")
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def parse_field(field: Field, raw: Raw) -> int | float | Problem:
    """Parse one entry of ``field``: the number (int or one-decimal float) or a Problem.

    Problems (``Problem.key``): ``health.err_empty``, ``health.err_not_number``,
    ``health.err_whole_number``, ``health.err_one_decimal``, ``health.err_range``
    (params ``low``, ``high`` as display strings and ``unit``). ``135.0`` is
    accepted as ``135``; ``5.65`` is refused rather than rounded, because
    rounding could change the classification.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return _problem(field, "health.err_empty")
    value = _to_decimal(raw)
    if value is None:
        return _problem(field, "health.err_not_number")
    step = Decimal(1).scaleb(-field.decimals)
    try:
        rounded: Decimal | None = value.quantize(step)
    except InvalidOperation:
        # More digits than the decimal context holds: 10**30 (far out of range) or
        # 1.000...0001 (too many decimals); quantize raised here before.
        rounded = None
    too_precise = value.as_tuple().exponent
    if (rounded is not None and rounded != value) or (
        rounded is None and isinstance(too_precise, int) and too_precise < -field.decimals
    ):
        key = "health.err_whole_number" if field.integer else "health.err_one_decimal"
        return _problem(field, key)
    if rounded is None or not field.low <= value <= field.high:
        return _problem(
            field,
            "health.err_range",
            low=field.format(field.low),
            high=field.format(field.high),
            unit=field.unit_spoken_key,
        )
    return int(value) if field.integer else float(value.quantize(step))


def _parse_optional(field: Field, raw: Raw) -> int | float | Problem | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return parse_field(field, raw)


# -- readings -------------------------------------------------------------------


@dataclass(frozen=True)
class BloodPressure:
    """A validated blood-pressure reading (mmHg, pulse in beats per minute)."""

    systolic: int
    diastolic: int
    pulse: int | None = None

    @property
    def measurement(self) -> Measurement:
        return Measurement.BLOOD_PRESSURE


@dataclass(frozen=True)
class Glucose:
    """A validated blood-glucose reading (mmol/L, one decimal)."""

    value: float
    context: GlucoseContext

    @property
    def measurement(self) -> Measurement:
        return Measurement.GLUCOSE


@dataclass(frozen=True)
class Weight:
    """A validated weight (kg, one decimal) with an optional height (cm)."""

    weight: float
    height: int | None = None

    @property
    def measurement(self) -> Measurement:
        return Measurement.WEIGHT

    @property
    def bmi(self) -> float | None:
        """BMI rounded to one decimal, or None without a height."""
        return None if self.height is None else compute_bmi(self.weight, self.height)


Reading = BloodPressure | Glucose | Weight


def compute_bmi(weight_kg: float, height_cm: float) -> float:
    """kg / m², rounded half-up to one decimal (the value shown and classified)."""
    metres = Decimal(str(height_cm)) / 100
    bmi = Decimal(str(weight_kg)) / (metres * metres)
    return float(bmi.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def validate_blood_pressure(
    systolic: Raw, diastolic: Raw, pulse: Raw = None
) -> BloodPressure | list[Problem]:
    """The reading, or every problem found (nothing may be saved then).

    ``pulse`` is optional (``None`` or blank). Besides each field's own checks,
    systolic must be above diastolic (``health.err_sys_not_above_dia`` on the
    field ``systolic``, params ``systolic`` and ``diastolic``).
    """
    sys_v = parse_field(SYSTOLIC, systolic)
    dia_v = parse_field(DIASTOLIC, diastolic)
    pulse_v = _parse_optional(PULSE, pulse)
    problems = [v for v in (sys_v, dia_v, pulse_v) if isinstance(v, Problem)]
    if not isinstance(sys_v, Problem) and not isinstance(dia_v, Problem) and sys_v <= dia_v:
        problems.append(
            Problem(
                "systolic",
                "health.err_sys_not_above_dia",
                {"systolic": int(sys_v), "diastolic": int(dia_v)},
            )
        )
    if problems:
        return problems
    assert not isinstance(sys_v, Problem) and not isinstance(dia_v, Problem)
    assert not isinstance(pulse_v, Problem)
    return BloodPressure(int(sys_v), int(dia_v), None if pulse_v is None else int(pulse_v))


def validate_glucose(value: Raw, context: GlucoseContext | str) -> Glucose | list[Problem]:
    """The reading, or the problem with it. An unknown ``context`` is a ValueError (a bug)."""
    ctx = GlucoseContext(context)
    parsed = parse_field(GLUCOSE, value)
    if isinstance(parsed, Problem):
        return [parsed]
    return Glucose(float(parsed), ctx)


def validate_weight(weight: Raw, height: Raw = None) -> Weight | list[Problem]:
    """The reading, or every problem found. ``height`` is optional (``None`` or blank).

    A BMI outside 10-80 gives ``health.err_bmi_implausible`` on the field
    ``height`` (one of the two was mistyped, e.g. 1.6 m entered as 100 cm).
    """
    weight_v = parse_field(WEIGHT, weight)
    height_v = _parse_optional(HEIGHT, height)
    problems = [v for v in (weight_v, height_v) if isinstance(v, Problem)]
    if problems:
        return problems
    assert not isinstance(weight_v, Problem) and not isinstance(height_v, Problem)
    reading = Weight(float(weight_v), None if height_v is None else int(height_v))
    bmi = reading.bmi
    if bmi is not None and not BMI.low <= Decimal(str(bmi)) <= BMI.high:
        return [Problem("height", "health.err_bmi_implausible", {"bmi": BMI.format(bmi)})]
    return reading


# -- classification -------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One category of a guideline table.

    ``id`` is saved in payloads; ``label_key`` names it in plain words
    (「血压偏高（1级高血压）」); ``advice_key`` is a short sentence to show and say.
    """

    id: str
    severity: Severity

    @property
    def label_key(self) -> str:
        return f"health.level_{self.id}"

    @property
    def advice_key(self) -> str:
        return f"health.advice_{self.id}"


BP_NORMAL: Final = Level("bp_normal", Severity.OK)
BP_HIGH_NORMAL: Final = Level("bp_high_normal", Severity.ATTENTION)
BP_STAGE1: Final = Level("bp_stage1", Severity.HIGH)
BP_STAGE2: Final = Level("bp_stage2", Severity.HIGH)
BP_STAGE3: Final = Level("bp_stage3", Severity.DANGER)
BP_LEVELS: Final = (BP_NORMAL, BP_HIGH_NORMAL, BP_STAGE1, BP_STAGE2, BP_STAGE3)
_SYSTOLIC_CUTS: Final = (120, 140, 160, 180)
_DIASTOLIC_CUTS: Final = (80, 90, 100, 110)

GLUCOSE_LOW_LEVEL: Final = Level("glucose_low", Severity.DANGER)
GLUCOSE_FASTING_NORMAL: Final = Level("glucose_fasting_normal", Severity.OK)
GLUCOSE_FASTING_RAISED: Final = Level("glucose_fasting_raised", Severity.ATTENTION)
GLUCOSE_FASTING_HIGH: Final = Level("glucose_fasting_high", Severity.HIGH)
GLUCOSE_AFTER_MEAL_NORMAL: Final = Level("glucose_after_meal_normal", Severity.OK)
GLUCOSE_AFTER_MEAL_RAISED: Final = Level("glucose_after_meal_raised", Severity.ATTENTION)
GLUCOSE_AFTER_MEAL_HIGH: Final = Level("glucose_after_meal_high", Severity.HIGH)
GLUCOSE_LOW: Final = 3.9
"""Below this (mmol/L) is hypoglycaemia: level ``glucose_low``, danger."""
GLUCOSE_DANGER_HIGH: Final = 16.7
"""From this (mmol/L) up is danger, whatever the context."""
# (cut point, level at or above it), highest first.
_GLUCOSE_TABLES: Final[Mapping[GlucoseContext, tuple[tuple[float, Level], ...]]] = {
    GlucoseContext.FASTING: (
        (7.0, GLUCOSE_FASTING_HIGH),
        (6.1, GLUCOSE_FASTING_RAISED),
        (GLUCOSE_LOW, GLUCOSE_FASTING_NORMAL),
    ),
    GlucoseContext.AFTER_MEAL_2H: (
        (11.1, GLUCOSE_AFTER_MEAL_HIGH),
        (7.8, GLUCOSE_AFTER_MEAL_RAISED),
        (GLUCOSE_LOW, GLUCOSE_AFTER_MEAL_NORMAL),
    ),
}
GLUCOSE_VERY_HIGH_ADVICE_KEY: Final = "health.advice_glucose_very_high"

BMI_UNDERWEIGHT: Final = Level("bmi_underweight", Severity.ATTENTION)
BMI_NORMAL: Final = Level("bmi_normal", Severity.OK)
BMI_OVERWEIGHT: Final = Level("bmi_overweight", Severity.ATTENTION)
BMI_OBESE: Final = Level("bmi_obese", Severity.HIGH)
_BMI_TABLE: Final = ((28.0, BMI_OBESE), (24.0, BMI_OVERWEIGHT), (18.5, BMI_NORMAL))

LEVELS: Final[Mapping[str, Level]] = {
    lv.id: lv
    for lv in (
        *BP_LEVELS,
        GLUCOSE_LOW_LEVEL,
        GLUCOSE_FASTING_NORMAL,
        GLUCOSE_FASTING_RAISED,
        GLUCOSE_FASTING_HIGH,
        GLUCOSE_AFTER_MEAL_NORMAL,
        GLUCOSE_AFTER_MEAL_RAISED,
        GLUCOSE_AFTER_MEAL_HIGH,
        BMI_UNDERWEIGHT,
        BMI_NORMAL,
        BMI_OVERWEIGHT,
        BMI_OBESE,
    )
}
"""Every level by id (e.g. to show a saved record's ``level`` again)."""


@dataclass(frozen=True)
class Classification:
    """The verdict on one reading.

    Show ``label_key`` as the word, pick colour and icon from ``severity`` and
    show and say ``advice_key``. With ``danger`` the call button is the biggest
    on the result screen. ``severity`` is ``danger`` whenever ``danger`` is.
    """

    measurement: Measurement
    level: Level
    danger: bool
    severity: Severity
    advice_key: str

    @property
    def label_key(self) -> str:
        return self.level.label_key


def _of_level(measurement: Measurement, level: Level, danger: bool = False) -> Classification:
    severity = Severity.DANGER if danger else level.severity
    return Classification(measurement, level, danger, severity, level.advice_key)


def bp_is_danger(systolic: int, diastolic: int) -> bool:
    """Systolic >= 180 or diastolic >= 110."""
    return systolic >= _SYSTOLIC_CUTS[-1] or diastolic >= _DIASTOLIC_CUTS[-1]


def glucose_is_danger(value: float) -> bool:
    """Below 3.9 or from 16.7 mmol/L, fasting or not."""
    return value < GLUCOSE_LOW or value >= GLUCOSE_DANGER_HIGH


def classify_blood_pressure(systolic: int, diastolic: int) -> Classification:
    """The guideline category of a pair; the higher of the two single categories wins."""
    sys_rank = sum(systolic >= cut for cut in _SYSTOLIC_CUTS)
    dia_rank = sum(diastolic >= cut for cut in _DIASTOLIC_CUTS)
    level = BP_LEVELS[max(sys_rank, dia_rank)]
    return _of_level(Measurement.BLOOD_PRESSURE, level, bp_is_danger(systolic, diastolic))


def classify_glucose(value: float, context: GlucoseContext | str) -> Classification:
    """The category for ``context`` (see the module docstring for the cut points)."""
    ctx = GlucoseContext(context)
    level = GLUCOSE_LOW_LEVEL
    for cut, candidate in _GLUCOSE_TABLES[ctx]:
        if value >= cut:
            level = candidate
            break
    if value >= GLUCOSE_DANGER_HIGH:
        return Classification(
            Measurement.GLUCOSE, level, True, Severity.DANGER, GLUCOSE_VERY_HIGH_ADVICE_KEY
        )
    return _of_level(Measurement.GLUCOSE, level, glucose_is_danger(value))


def classify_bmi(bmi: float) -> Classification:
    """The category of a BMI (pass the rounded value, e.g. from :func:`compute_bmi`)."""
    level = BMI_UNDERWEIGHT
    for cut, candidate in _BMI_TABLE:
        if bmi >= cut:
            level = candidate
            break
    return _of_level(Measurement.WEIGHT, level)


def classify(reading: Reading) -> Classification | None:
    """Classify any reading; None for a weight without height (no BMI, no verdict)."""
    if isinstance(reading, BloodPressure):
        return classify_blood_pressure(reading.systolic, reading.diastolic)
    if isinstance(reading, Glucose):
        return classify_glucose(reading.value, reading.context)
    bmi = reading.bmi
    return None if bmi is None else classify_bmi(bmi)


def normal_band(
    field_key: str, context: GlucoseContext | str | None = None
) -> tuple[float, float] | None:
    """The normal range ``[low, high)`` of a field, for shading a trend chart; None if none.

    Upper bounds are the guideline cut points above. Lower bounds of blood
    pressure (90/60) and pulse (60-100) are the usual clinical ones, for the chart only.
    Glucose needs its ``context``.
    """
    if field_key == "glucose":
        if context is None:
            raise ValueError("the glucose band depends on the context")
        high = 6.1 if GlucoseContext(context) is GlucoseContext.FASTING else 7.8
        return (GLUCOSE_LOW, high)
    bands: dict[str, tuple[float, float]] = {
        "systolic": (90.0, float(_SYSTOLIC_CUTS[0])),
        "diastolic": (60.0, float(_DIASTOLIC_CUTS[0])),
        "pulse": (60.0, 100.0),
        "bmi": (18.5, 24.0),
    }
    return bands.get(field_key)


# -- payload --------------------------------------------------------------------


def _value(field: Field, value: float) -> dict[str, Any]:
    return {"value": int(value) if field.integer else float(value), "unit": field.unit}


def health_payload(reading: Reading, phone: str | None = None) -> dict[str, Any]:
    """The JSON payload of a ``health`` record (shape in the module docstring).

    ``phone`` may be typed loosely ("138 1234-5678"); it is saved normalised and
    in full (the store is private). An invalid number is a ValueError: the
    screen validates it with :func:`kiosk.phone.phone_problem` first.
    """
    values: dict[str, Any] = {}
    payload: dict[str, Any] = {"type": reading.measurement.value, "values": values}
    if isinstance(reading, BloodPressure):
        values["systolic"] = _value(SYSTOLIC, reading.systolic)
        values["diastolic"] = _value(DIASTOLIC, reading.diastolic)
        if reading.pulse is not None:
            values["pulse"] = _value(PULSE, reading.pulse)
    elif isinstance(reading, Glucose):
        values["glucose"] = _value(GLUCOSE, reading.value)
        payload["context"] = reading.context.value
    else:
        values["weight"] = _value(WEIGHT, reading.weight)
        if reading.height is not None:
            values["height"] = _value(HEIGHT, reading.height)
        bmi = reading.bmi
        if bmi is not None:
            values["bmi"] = _value(BMI, bmi)
    verdict = classify(reading)
    payload["level"] = None if verdict is None else verdict.level.id
    payload["severity"] = None if verdict is None else verdict.severity.value
    payload["alert"] = False if verdict is None else verdict.danger
    if phone is not None:
        problem = phone_problem(phone)
        if problem is not None:
            raise ValueError(f"invalid phone number for a health record ({problem.key})")
        payload["phone"] = normalize_phone(phone)
    return payload


def payload_value(payload: Mapping[str, Any], field_key: str) -> float | None:
    """The number of ``field_key`` in a saved health payload, or None (for trend charts)."""
    values = payload.get("values")
    if not isinstance(values, Mapping):
        return None
    entry = values.get(field_key)
    if not isinstance(entry, Mapping):
        return None
    value = entry.get("value")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


TEXT_KEYS: Final[frozenset[str]] = frozenset(
    {f.label_key for f in FIELDS.values()}
    | {f.unit_key for f in FIELDS.values()}
    | {f.unit_spoken_key for f in FIELDS.values()}
    | {m.label_key for m in Measurement}
    | {c.label_key for c in GlucoseContext}
    | {s.label_key for s in Severity}
    | {lv.label_key for lv in LEVELS.values()}
    | {lv.advice_key for lv in LEVELS.values()}
    | {
        GLUCOSE_VERY_HIGH_ADVICE_KEY,
        "health.err_empty",
        "health.err_not_number",
        "health.err_whole_number",
        "health.err_one_decimal",
        "health.err_range",
        "health.err_sys_not_above_dia",
        "health.err_bmi_implausible",
    }
)
"""Every text key this module can hand to a screen (checked against voices/zh_CN/ by a test)."""
