"""The health check: choose 血压 / 血糖 / 体重, enter a field at a time, see the result.

Flow: ``health`` (choose) -> ``health_entry`` (glucose: fasting or after a
meal first; then each field on the number pad, 下一步 / 改一下 / 跳过 for optional
fields) -> the phone screen (optional; skipped when a number was given this
session) -> saved -> ``health_result`` (level in words, advice, a call offered
when dangerous, the resident's trend when they gave a number).
"""

from __future__ import annotations

from typing import Any

from kiosk import health
from kiosk.health import Field, GlucoseContext, Measurement
from kiosk.phone import mask_phone
from kiosk.problems import Problem, problem_text
from kiosk.qt import QtGui, QtWidgets, Signal
from kiosk.records import Recorder
from kiosk.screens.base import Screen, ScreenContext, margins
from kiosk.screens.chart import Series, TrendChart
from kiosk.screens.numpad import NumberPad
from kiosk.session import PhoneRequest, Session
from kiosk.store import StoreError, StoreFullError
from kiosk.texts import t
from kiosk.theme import TEXT_BODY_MM, TEXT_TITLE_MM

TREND_POINTS = 10


class HealthScreen(Screen):
    """Choose what to measure."""

    name = "health"
    title_key = "health.title"

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(margins(self.metrics, 8))
        layout.setSpacing(self.metrics.mm(8))
        layout.addWidget(
            self.label(t("health.choose"), size_mm=TEXT_TITLE_MM, bold=True, name="health_choose")
        )
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(self.metrics.mm(12))
        self.choices: dict[Measurement, QtWidgets.QPushButton] = {}
        for m, hint in (
            (Measurement.BLOOD_PRESSURE, "health.bp_hint"),
            (Measurement.GLUCOSE, "health.glucose_hint"),
            (Measurement.WEIGHT, "health.weight_hint"),
        ):
            b = self.button(
                m.label_key,
                hint_key=hint,
                role="health",
                min_mm=(110.0, 80.0),
                label_mm=TEXT_TITLE_MM * 1.2,
                name=f"health_{m.value}",
            )
            b.clicked.connect(lambda _=False, m=m: self.choose(m))
            row.addWidget(b)
            self.choices[m] = b
        layout.addLayout(row, 1)
        layout.addStretch(0)

    def choose(self, measurement: Measurement) -> None:
        entry = self.window_screen("health_entry")
        assert isinstance(entry, HealthEntryScreen)
        entry.start(measurement)
        self.navigate.emit("health_entry")

    def window_screen(self, name: str) -> Screen:
        screens: dict[str, Screen] = self.ctx.services["screens"]
        return screens[name]

    def on_enter(self) -> None:
        self.choices[Measurement.BLOOD_PRESSURE].setFocus()


class HealthEntryScreen(Screen):
    """One field at a time on the number pad; nothing is saved until every field is valid.

    Signals: speak(str) with each problem and the echoed value; saved_reading(str id).
    """

    name = "health_entry"
    title_key = "health.entry_title"
    saved_reading = Signal(str)

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.measurement = Measurement.BLOOD_PRESSURE
        self.context: GlucoseContext | None = None
        self.fields: tuple[Field, ...] = ()
        self.index = 0
        self.values: dict[str, str] = {}
        self.pages = QtWidgets.QStackedLayout(self)
        self.pages.addWidget(self._context_page())
        self.pages.addWidget(self._entry_page())
        self.pad.submitted.connect(self._next)
        self.pad.changed.connect(self._echo)
        self.change.clicked.connect(self._previous)
        self.skip.clicked.connect(self._skip)

    def _context_page(self) -> QtWidgets.QWidget:
        """Page 0: glucose asks first when it was measured."""
        ctx_page = QtWidgets.QWidget(self)
        cl = QtWidgets.QVBoxLayout(ctx_page)
        cl.setContentsMargins(margins(self.metrics, 8))
        cl.setSpacing(self.metrics.mm(10))
        self.context_question = self.label(
            t("health.choose_context"),
            size_mm=TEXT_TITLE_MM,
            bold=True,
            name="health_context_question",
        )
        self.context_question.setParent(ctx_page)
        cl.addWidget(self.context_question)
        crow = QtWidgets.QHBoxLayout()
        crow.setSpacing(self.metrics.mm(12))
        self.context_buttons: dict[GlucoseContext, QtWidgets.QPushButton] = {}
        for c in GlucoseContext:
            b = self.button(
                c.label_key,
                role="health",
                min_mm=(110.0, 50.0),
                label_mm=TEXT_TITLE_MM,
                name=f"health_context_{c.value}",
            )
            b.setParent(ctx_page)
            b.clicked.connect(lambda _=False, c=c: self._set_context(c))
            crow.addWidget(b)
            self.context_buttons[c] = b
        cl.addLayout(crow)
        cl.addStretch(1)
        return ctx_page

    def _entry_page(self) -> QtWidgets.QWidget:
        """Page 1: the field being entered, with the pad and the echoed value."""
        entry = QtWidgets.QWidget(self)
        outer = QtWidgets.QHBoxLayout(entry)
        outer.setContentsMargins(margins(self.metrics, 6))
        outer.setSpacing(self.metrics.mm(12))
        left = QtWidgets.QVBoxLayout()
        left.setSpacing(self.metrics.mm(5))
        self.prompt = self.label("", size_mm=TEXT_TITLE_MM, bold=True, name="health_prompt")
        self.range_hint = self.label("", size_mm=TEXT_BODY_MM, name="health_range")
        self.done_values = self.label("", size_mm=TEXT_BODY_MM, name="health_done_values")
        self.problem = self.label("", size_mm=TEXT_BODY_MM, bold=True, name="health_problem")
        self.change = self.button(
            "health.change", role="neutral", min_mm=(50.0, 22.0), name="health_change"
        )
        self.skip = self.button(
            "health.skip", role="neutral", min_mm=(50.0, 22.0), name="health_skip"
        )
        for w in (
            self.prompt,
            self.range_hint,
            self.done_values,
            self.problem,
            self.change,
            self.skip,
        ):
            w.setParent(entry)
        left.addWidget(self.prompt)
        left.addWidget(self.range_hint)
        left.addWidget(self.done_values)
        left.addWidget(self.problem)
        left.addStretch(1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.setSpacing(self.metrics.mm(8))
        buttons.addWidget(self.change)
        buttons.addWidget(self.skip)
        buttons.addStretch(1)
        left.addLayout(buttons)
        outer.addLayout(left, 1)
        self.pad = NumberPad(
            self.metrics, decimal=True, max_length=5, name="health_pad", parent=entry
        )
        outer.addWidget(self.pad, 0)
        left.insertWidget(1, self.pad.display)
        return entry

    # -- flow -------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        s = self.ctx.services["session"]
        assert isinstance(s, Session)
        return s

    def start(self, measurement: Measurement) -> None:
        self.measurement = measurement
        self.fields = health.MEASUREMENT_FIELDS[measurement]
        self.values = {}
        self.index = 0
        self.context = None
        self.problem.setText("")
        if measurement is Measurement.GLUCOSE:
            self.pages.setCurrentIndex(0)
        else:
            self._show_field()

    def _set_context(self, context: GlucoseContext) -> None:
        self.context = context
        self._show_field()
        self.speak.emit(self.spoken_text())

    def _show_field(self) -> None:
        self.pages.setCurrentIndex(1)
        f = self.fields[self.index]
        optional = f.key in health.OPTIONAL_FIELDS
        key = "health.enter_field_optional" if optional else "health.enter_field"
        self.prompt.setText(t(key, field=t(f.label_key)))
        hint = t(
            "health.range_hint", low=f.format(f.low), high=f.format(f.high), unit=t(f.unit_key)
        )
        if f.key == "weight":
            hint += "\n" + t("health.hint_weight_kg")
        self.range_hint.setText(hint)
        self.done_values.setText(self._values_text())
        self.problem.setText("")
        if self.pad.point is not None:
            self.pad.point.setVisible(not f.integer)
        self.pad.confirm.set_texts(
            t("numpad.done") if self.index == len(self.fields) - 1 else t("numpad.next")
        )
        self.pad.set_value(self.values.get(f.key, ""))
        self.skip.setVisible(optional)
        self.change.setVisible(self.index > 0)
        self.pad.keys["1"].setFocus()

    def _values_text(self) -> str:
        parts = []
        for f in self.fields[: self.index]:
            raw = self.values.get(f.key)
            if raw:
                parts.append(f"{t(f.label_key)} {raw}")
        return "  ".join(parts)

    def _echo(self, value: str) -> None:
        if value:
            self.problem.setText("")

    def _next(self, value: str) -> None:
        f = self.fields[self.index]
        if value == "" and f.key in health.OPTIONAL_FIELDS:
            self._skip()
            return
        parsed = health.parse_field(f, value)
        if isinstance(parsed, Problem):
            self._show_problem(problem_text(parsed))
            return
        self.values[f.key] = value
        self.speak.emit(f"{t(f.label_key)} {value}")
        self._advance()

    def _skip(self) -> None:
        self.values.pop(self.fields[self.index].key, None)
        self._advance()

    def _previous(self) -> None:
        if self.index > 0:
            self.index -= 1
            self._show_field()

    def _advance(self) -> None:
        if self.index < len(self.fields) - 1:
            self.index += 1
            self._show_field()
            self.speak.emit(self.prompt.text())
            return
        self._finish()

    def _show_problem(self, sentence: str) -> None:
        self.problem.setText(sentence)
        self.speak.emit(sentence)

    def _reading(self) -> health.Reading | list[Problem]:
        v = self.values
        if self.measurement is Measurement.BLOOD_PRESSURE:
            return health.validate_blood_pressure(
                v.get("systolic"), v.get("diastolic"), v.get("pulse")
            )
        if self.measurement is Measurement.GLUCOSE:
            return health.validate_glucose(v.get("glucose"), self.context or GlucoseContext.FASTING)
        return health.validate_weight(v.get("weight"), v.get("height"))

    def _finish(self) -> None:
        reading = self._reading()
        if isinstance(reading, list):
            first = reading[0]
            self.index = next((i for i, f in enumerate(self.fields) if f.key == first.field), 0)
            self._show_field()
            self._show_problem(problem_text(first))
            return
        if self.session.phone is not None:
            self._save(reading, self.session.phone)
            return
        self.session.phone_request = PhoneRequest(
            "phone.purpose_health", on_done=lambda phone: self._save(reading, phone)
        )
        self.navigate.emit("phone")

    def _save(self, reading: health.Reading, phone: str | None) -> None:
        recorder = self.ctx.services["recorder"]
        assert isinstance(recorder, Recorder)
        payload = health.health_payload(reading, phone=phone)
        try:
            record_id = recorder.save("health", payload)
        except StoreError as exc:
            key = "common.store_full" if isinstance(exc, StoreFullError) else "common.store_error"
            self.pages.setCurrentIndex(1)
            self._show_problem(t(key))
            self.navigate.emit("health_entry")
            return
        result = self.ctx.services["screens"]["health_result"]
        assert isinstance(result, HealthResultScreen)
        result.show_result(reading, payload, phone)
        self.values = {}
        self.saved_reading.emit(record_id)
        self.navigate.emit("health_result")

    def on_enter(self) -> None:
        if self.pages.currentIndex() == 0:
            self.context_buttons[GlucoseContext.FASTING].setFocus()

    def spoken_text(self) -> str:
        if self.pages.currentIndex() == 0:
            return self.context_question.text() + "，".join(
                b.text() for b in self.context_buttons.values()
            )
        return f"{self.prompt.text()}。{self.range_hint.text()}"

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        return self.pages.currentIndex() == 1 and self.pad.handle_key(event)

    def demo(self) -> None:
        self.start(Measurement.BLOOD_PRESSURE)
        self.values["systolic"] = "135"
        self.index = 1
        self._show_field()
        self.pad.set_value("88")

    def reset(self) -> None:
        self.values = {}
        self.index = 0
        self.context = None
        self.pad.set_value("")
        self.problem.setText("")
        self.done_values.setText("")
        self.pages.setCurrentIndex(1)


class HealthResultScreen(Screen):
    """The result in plain words; a call offered first when it is dangerous.

    Signals: call_requested() when 呼叫工作人员 is tapped.
    """

    name = "health_result"
    title_key = "health.result_title"
    call_requested = Signal()

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        outer = QtWidgets.QHBoxLayout(self)
        outer.setContentsMargins(margins(self.metrics, 8))
        outer.setSpacing(self.metrics.mm(10))
        left = QtWidgets.QVBoxLayout()
        left.setSpacing(self.metrics.mm(4))
        self.level = self.label("", size_mm=TEXT_TITLE_MM, bold=True, name="health_level")
        self.values_line = self.label("", size_mm=TEXT_BODY_MM, name="health_values")
        self.advice = self.label("", size_mm=TEXT_BODY_MM, bold=True, name="health_advice")
        self.saved = self.label("", size_mm=TEXT_BODY_MM, name="health_saved")
        self.call = self.button(
            "health.call_staff",
            role="call",
            min_mm=(110.0, 32.0),
            label_mm=TEXT_TITLE_MM,
            name="health_call",
        )
        for w in (self.level, self.values_line, self.advice, self.saved):
            left.addWidget(w)
        left.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(self.metrics.mm(10))
        row.addWidget(self.call)  # the biggest button, first, when the reading is dangerous
        self.again = self.button(
            "health.again", role="health", min_mm=(60.0, 24.0), name="health_again"
        )
        self.finish = self.button(
            "health.finish", role="primary", min_mm=(60.0, 24.0), name="health_finish"
        )
        row.addWidget(self.again)
        row.addWidget(self.finish)
        row.addStretch(1)
        left.addLayout(row)
        outer.addLayout(left, 3)
        right = QtWidgets.QVBoxLayout()
        self.trend_title = self.label(
            "", size_mm=TEXT_BODY_MM, bold=True, name="health_trend_title"
        )
        self.chart = TrendChart(self.metrics, self)
        self.trend_band = self.label(
            t("health.trend_band"), size_mm=TEXT_BODY_MM, name="health_trend_band"
        )
        right.addWidget(self.trend_title)
        right.addWidget(self.chart, 1)
        right.addWidget(self.trend_band)
        outer.addLayout(right, 2)
        self.call.clicked.connect(self.call_requested)
        self.again.clicked.connect(lambda: self.navigate.emit("health"))
        self.finish.clicked.connect(self.go_home)
        self.reset()

    def show_result(
        self, reading: health.Reading, payload: dict[str, Any], phone: str | None
    ) -> None:
        c = health.classify(reading)
        measurement = t(reading.measurement.label_key)
        values = []
        for key, item in payload.get("values", {}).items():
            f = health.FIELDS[key]
            values.append(f"{t(f.label_key)} {f.format(item['value'])}")
        self.values_line.setText(
            t("health.your_values", measurement=measurement, values="，".join(values))
        )
        if c is None:
            self.level.setText(measurement)
            self.advice.setText("")
        else:
            self.level.setText(f"{t(c.severity.label_key)}：{t(c.label_key)}")
            self.advice.setText(t(c.advice_key))
        self.call.setVisible(bool(c and c.danger))
        self.saved.setText(
            t("health.saved") + f"  {mask_phone(phone)}" if phone else t("health.saved_anonymous")
        )
        self._show_trend(reading.measurement, phone)

    def _show_trend(self, measurement: Measurement, phone: str | None) -> None:
        visible = phone is not None
        series: list[Series] = []
        if phone is not None:
            rows = [
                r.payload
                for r in self.ctx.store.records(kind="health", limit=100_000)
                if r.payload.get("phone") == phone and r.payload.get("type") == measurement.value
            ]
            rows = rows[-TREND_POINTS:]
            keys = {
                "blood_pressure": ("systolic", "diastolic"),
                "glucose": ("glucose",),
                "weight": ("weight",),
            }[measurement.value]
            for key in keys:
                vals = [v for p in rows if (v := health.payload_value(p, key)) is not None]
                series.append(
                    Series(t(health.FIELDS[key].label_key), vals, health.normal_band(key))
                )
            visible = any(len(s.values) >= 1 for s in series)
        self.chart.set_series(series)
        self.trend_title.setText(
            t("health.trend_title", measurement=t(measurement.label_key)) if visible else ""
        )
        for w in (self.chart, self.trend_title, self.trend_band):
            w.setVisible(visible)

    def on_enter(self) -> None:
        (self.call if self.call.isVisible() else self.finish).setFocus()

    def spoken_text(self) -> str:
        parts = [self.level.text(), self.values_line.text(), self.advice.text()]
        if self.call.isVisible():
            parts.append(self.call.text())
        return "。".join(p for p in parts if p) + "。"

    def demo(self) -> None:
        reading = health.validate_blood_pressure(185, 112, 80)
        assert not isinstance(reading, list)
        self.show_result(reading, health.health_payload(reading), None)
        self.chart.set_series(
            [
                Series(
                    t("health.field_systolic"),
                    [128, 141, 150, 138, 185],
                    health.normal_band("systolic"),
                ),
                Series(
                    t("health.field_diastolic"),
                    [82, 90, 96, 85, 112],
                    health.normal_band("diastolic"),
                ),
            ]
        )
        self.trend_title.setText(
            t("health.trend_title", measurement=t("health.measurement_blood_pressure"))
        )
        for w in (self.chart, self.trend_title, self.trend_band):
            w.setVisible(True)

    def reset(self) -> None:
        for w in (self.level, self.values_line, self.advice, self.saved, self.trend_title):
            w.setText("")
        self.chart.set_series([])
        self.call.setVisible(False)
        for widget in (self.chart, self.trend_title, self.trend_band):
            widget.setVisible(False)
