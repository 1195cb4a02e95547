"""设置: default volume, speech rate, text size, idle seconds, hotline and screen calibration.

Values change with －/＋ (and the hotline field); 保存并应用 writes the changed
ones to ``<data dir>/overrides.toml`` and applies them at once (through
``StaffMode.apply_settings``). Calibration: the bar is drawn
:data:`BAR_MM` long with the current ``ui.px_per_mm``; the staff member
measures it with a ruler and types the length, and ``px_per_mm`` becomes
bar pixels / measured millimetres.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from kiosk.qt import QtGui, QtWidgets
from kiosk.screens.base import ScreenContext, margins
from kiosk.screens.staff import (
    STAFF_GAP_MM,
    STAFF_MARGIN_MM,
    StaffLineEdit,
    StaffScreen,
    staff_button,
    staff_label,
)
from kiosk.screens.widgets import BigButton, TextLabel
from kiosk.speech.speaker import MAX_RATE, MIN_RATE
from kiosk.texts import t
from kiosk.theme import Metrics, Palette

BAR_MM: Final = 100.0
MEASURE_RANGE_MM: Final = (50.0, 200.0)
STEP_BUTTON_MM: Final = (16.0, 13.0)


@dataclass(frozen=True)
class Stepper:
    """One －/＋ setting: (section, key), range, step and how to show the value."""

    section: str
    key: str
    text_key: str
    low: float
    high: float
    step: float
    show: Callable[[float], str]


STEPPERS: Final = (
    Stepper("voice", "volume", "staff.volume", 0, 3, 1, lambda v: f"{int(v) + 1}/4"),
    Stepper("voice", "rate", "staff.rate", MIN_RATE, MAX_RATE, 10, lambda v: str(int(v))),
    Stepper("ui", "font_scale", "staff.font_scale", 1.0, 1.5, 0.1, lambda v: f"{v:.1f}"),
    Stepper("ui", "idle_seconds", "staff.idle_seconds", 30, 600, 10, lambda v: str(int(v))),
)


class CalibrationBar(QtWidgets.QWidget):
    """A black bar BAR_MM long at ``px_per_mm`` with end ticks (measured with a ruler)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staff_settings_bar")
        self.px_per_mm = 4.0
        self.setMinimumHeight(40)

    def bar_px(self) -> int:
        return round(BAR_MM * self.px_per_mm)

    def set_px_per_mm(self, value: float) -> None:
        self.px_per_mm = value
        self.setMinimumWidth(self.bar_px() + 4)
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        p = QtGui.QPainter(self)
        h = self.height()
        length = self.bar_px()
        p.fillRect(0, h // 2 - 3, length, 6, Palette.TEXT)
        p.fillRect(0, 0, 3, h, Palette.TEXT)
        p.fillRect(length - 3, 0, 3, h, Palette.TEXT)
        p.end()


class StaffSettingsScreen(StaffScreen):
    """The staff settings (see the module docstring)."""

    name = "staff_settings"
    title_key = "staff.settings_title"

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        m = self.metrics
        self.values: dict[tuple[str, str], Any] = {}
        self.initial: dict[tuple[str, str], Any] = {}
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(margins(m, STAFF_MARGIN_MM))
        col.setSpacing(m.mm(STAFF_GAP_MM))
        grid = QtWidgets.QGridLayout()
        grid.setHorizontalSpacing(m.mm(STAFF_GAP_MM))
        grid.setVerticalSpacing(m.mm(STAFF_GAP_MM))
        self.value_labels: dict[str, TextLabel] = {}
        self.step_buttons: list[BigButton] = []
        for i, st in enumerate(STEPPERS):
            self._add_stepper(grid, i, st)
        grid.setColumnMinimumWidth(4, m.mm(10))
        grid.setColumnStretch(9, 1)
        col.addLayout(grid)
        hot = QtWidgets.QHBoxLayout()
        hot.setSpacing(m.mm(STAFF_GAP_MM))
        hot.addWidget(staff_label(self, m, t("staff.hotline"), name="staff_settings_hotline_label"))
        self.hotline = StaffLineEdit(
            m,
            name="staff_settings_hotline",
            placeholder=t("staff.hotline"),
            max_length=20,
            parent=self,
        )
        hot.addWidget(self.hotline)
        hot.addStretch(1)
        col.addLayout(hot)
        self.bar_label = staff_label(self, m, "", name="staff_settings_bar_label")
        col.addWidget(self.bar_label)
        self.bar = CalibrationBar(self)
        col.addWidget(self.bar)
        cal = QtWidgets.QHBoxLayout()
        cal.setSpacing(m.mm(STAFF_GAP_MM))
        self.measured = StaffLineEdit(
            m,
            name="staff_settings_measured",
            placeholder=t("staff.measured_placeholder"),
            max_length=6,
            parent=self,
        )
        self.measured.setToolTip(t("staff.calibrate_hint"))
        self.calibrate_button = staff_button(
            self, m, t("staff.calibrate_apply"), name="staff_settings_calibrate"
        )
        self.calibrate_button.set_role("neutral")
        cal.addWidget(self.measured)
        cal.addWidget(self.calibrate_button)
        cal.addStretch(1)
        col.addLayout(cal)
        col.addStretch(1)
        bottom = QtWidgets.QHBoxLayout()
        bottom.setSpacing(m.mm(STAFF_GAP_MM))
        self.message = staff_label(self, m, "", name="staff_settings_message", bold=True)
        self.apply_button = staff_button(self, m, t("staff.apply"), name="staff_settings_apply")
        self.apply_button.set_role("health")
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.apply_button)
        col.addLayout(bottom)
        self.calibrate_button.clicked.connect(self.calibrate)
        self.apply_button.clicked.connect(self.apply)
        self.hotline.textEdited.connect(lambda text: self._set(("call", "hotline"), text.strip()))

    def _add_stepper(self, grid: QtWidgets.QGridLayout, i: int, st: Stepper) -> None:
        m = self.metrics
        r, c = divmod(i, 2)
        base = c * 5
        grid.addWidget(
            staff_label(self, m, t(st.text_key), name=f"staff_settings_{st.key}", wrap=False),
            r,
            base,
        )
        minus = staff_button(
            self,
            m,
            t("staff.minus"),
            name=f"staff_settings_{st.key}_minus",
            min_mm=STEP_BUTTON_MM,
        )
        plus = staff_button(
            self,
            m,
            t("staff.plus"),
            name=f"staff_settings_{st.key}_plus",
            min_mm=STEP_BUTTON_MM,
        )
        minus.setAccessibleName(f"{t(st.text_key)} {t('staff.minus')}")
        plus.setAccessibleName(f"{t(st.text_key)} {t('staff.plus')}")
        value = staff_label(
            self, m, "", name=f"staff_settings_{st.key}_value", wrap=False, left=False
        )
        value.setMinimumWidth(m.mm(20))
        minus.clicked.connect(lambda _=False, s=st: self.step(s, -1))
        plus.clicked.connect(lambda _=False, s=st: self.step(s, 1))
        grid.addWidget(minus, r, base + 1)
        grid.addWidget(value, r, base + 2)
        grid.addWidget(plus, r, base + 3)
        self.value_labels[st.key] = value
        self.step_buttons += [minus, plus]

    # -- values -----------------------------------------------------------------------------

    def load(self) -> None:
        """Current values: the settings in force and the metrics on screen."""
        cfg = self.ctx.config
        speaker = self.ctx.services.get("speaker")
        self.values = {
            ("voice", "volume"): cfg.voice.volume,
            ("voice", "rate"): speaker.rate() if speaker is not None else cfg.voice.rate,
            ("ui", "font_scale"): round(self.metrics.font_scale, 1),
            ("ui", "idle_seconds"): cfg.ui.idle_seconds,
            ("call", "hotline"): cfg.call.hotline,
            ("ui", "px_per_mm"): round(self.metrics.px_per_mm, 3),
        }
        self.initial = dict(self.values)
        self.show_values()

    def show_values(self) -> None:
        for st in STEPPERS:
            self.value_labels[st.key].setText(st.show(float(self.values[(st.section, st.key)])))
        if self.hotline.text() != self.values[("call", "hotline")]:
            self.hotline.setText(str(self.values[("call", "hotline")]))
        self.bar.set_px_per_mm(float(self.values[("ui", "px_per_mm")]))
        self.bar_label.setText(
            f"{t('staff.bar_label', mm=int(BAR_MM))}。{t('staff.calibrate_hint')}"
        )

    def _set(self, key: tuple[str, str], value: Any) -> None:
        self.values[key] = value

    def step(self, st: Stepper, direction: int) -> None:
        key = (st.section, st.key)
        value = float(self.values[key]) + direction * st.step
        value = min(st.high, max(st.low, round(value, 1)))
        self.values[key] = value if isinstance(st.step, float) else int(value)
        self.show_values()

    def calibrate(self) -> None:
        """px_per_mm from the bar's length in pixels and the measured millimetres."""
        try:
            measured = float(self.measured.text().strip().replace(",", "."))
        except ValueError:
            measured = 0.0
        low, high = MEASURE_RANGE_MM
        if not low <= measured <= high:
            self.message.setText(t("staff.bad_measure"))
            return
        self.values[("ui", "px_per_mm")] = round(self.bar.bar_px() / measured, 3)
        self.measured.clear()
        self.message.setText("")
        self.show_values()

    def changes(self) -> dict[str, dict[str, Any]]:
        """The changed values, {section: {key: value}}."""
        out: dict[str, dict[str, Any]] = {}
        for (section, key), value in self.values.items():
            if value != self.initial.get((section, key)):
                out.setdefault(section, {})[key] = value
        return out

    def apply(self) -> None:
        """保存并应用 (through StaffMode.apply_settings, which also writes the file)."""
        mode = self.ctx.services.get("staff_mode")
        if mode is None:
            return
        problem = mode.apply_settings(self.changes())
        if problem:
            self.message.setText(t("staff.bad_value", problem=problem))
            return
        self.initial = dict(self.values)
        self.message.setText(t("staff.applied"))

    # -- Screen -----------------------------------------------------------------------------

    def apply_metrics(self, metrics: Metrics) -> None:
        super().apply_metrics(metrics)
        if self.values:
            self.bar.set_px_per_mm(float(self.values[("ui", "px_per_mm")]))

    def on_enter(self) -> None:
        self.message.setText("")
        self.load()

    def reset(self) -> None:
        self.values = {}
        self.initial = {}
        self.measured.clear()
        self.message.setText("")

    def demo(self) -> None:
        self.load()
        self.measured.setText("98.5")
        self.message.setText(t("staff.applied"))
