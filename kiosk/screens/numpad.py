"""A huge number pad with the entered value echoed large.

Keys are at least 20 mm with 6 mm gaps; ``display`` echoes the value large and is
placed by the screen. Digits typed on a keypad work too
(``handle_key``). Signals: changed(str) after every key, submitted(str) on
the confirm key.
"""

from __future__ import annotations

from kiosk.qt import QtCore, QtGui, QtWidgets, Signal
from kiosk.screens.widgets import BigButton, TextLabel
from kiosk.texts import t
from kiosk.theme import TEXT_LABEL_MM, Metrics

KEY_MM = (30.0, 21.0)
GAP_MM = 6.2
TEXT_DISPLAY_MM = 20.0  # the echoed value


class NumberPad(QtWidgets.QWidget):
    """Digits 0-9, an optional decimal point, 删除 and a confirm key.

    Signals: changed(str), submitted(str).
    """

    changed = Signal(str)
    submitted = Signal(str)

    def __init__(
        self,
        metrics: Metrics,
        *,
        decimal: bool = False,
        max_length: int = 5,
        confirm_key: str = "numpad.next",
        name: str = "numpad",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.max_length = max_length
        self._value = ""
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        gap = metrics.mm(GAP_MM)
        grid.setHorizontalSpacing(gap)
        grid.setVerticalSpacing(gap)
        # The echoed value; the screen places it (beside its question, where the eye is).
        self.display = TextLabel(
            "",
            metrics,
            size_mm=TEXT_DISPLAY_MM,
            bold=True,
            wrap=False,
            name=f"{name}_display",
            parent=parent,
        )
        self.keys: dict[str, BigButton] = {}
        layout = [
            ("7", 1, 0),
            ("8", 1, 1),
            ("9", 1, 2),
            ("4", 2, 0),
            ("5", 2, 1),
            ("6", 2, 2),
            ("1", 3, 0),
            ("2", 3, 1),
            ("3", 3, 2),
            ("0", 4, 1),
        ]
        for digit, row, col in layout:
            self._add_key(grid, metrics, key=digit, label=digit, cell=(row, col), name=name)
        self.point: BigButton | None = None
        if decimal:
            self.point = self._add_key(
                grid, metrics, key=".", label=t("numpad.point"), cell=(4, 0), name=name
            )
        self.delete = self._add_key(
            grid, metrics, key="del", label=t("numpad.delete"), cell=(4, 2), name=name
        )
        self.delete.set_role("neutral")
        self.confirm = BigButton(
            t(confirm_key),
            metrics,
            role="health",
            min_mm=(45.0, 48.0),
            label_mm=TEXT_LABEL_MM,
            name=f"{name}_confirm",
            parent=self,
        )
        grid.addWidget(self.confirm, 1, 3, 2, 1)
        self.clear_button = self._add_key(
            grid, metrics, key="clear", label=t("numpad.clear"), cell=(3, 3), name=name
        )
        self.clear_button.set_role("neutral")
        self.clear_button.setMinimumSize(metrics.mm(45.0), metrics.mm(KEY_MM[1]))
        self.confirm.clicked.connect(lambda: self.submitted.emit(self._value))

    def _add_key(
        self,
        grid: QtWidgets.QGridLayout,
        metrics: Metrics,
        *,
        key: str,
        label: str,
        cell: tuple[int, int],
        name: str,
    ) -> BigButton:
        b = BigButton(
            label,
            metrics,
            role="primary",
            min_mm=KEY_MM,
            label_mm=TEXT_LABEL_MM,
            name=f"{name}_key_{key if key.isdigit() else {'.': 'point'}.get(key, key)}",
            parent=self,
        )
        b.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        b.clicked.connect(lambda _=False, k=key: self.press(k))
        grid.addWidget(b, *cell)
        self.keys[key] = b
        return b

    @property
    def value(self) -> str:
        return self._value

    def set_value(self, value: str) -> None:
        self._value = value
        self.display.setText(value)
        self.changed.emit(value)

    def press(self, key: str) -> None:
        v = self._value
        if key == "del":
            v = v[:-1]
        elif key == "clear":
            v = ""
        elif key == "." and self.point is not None:
            if "." not in v:
                v = (v or "0") + "."
        elif key.isdigit() and len(v) < self.max_length:
            v += key
        self.set_value(v)

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        text = event.text()
        if text.isdigit() and text.isascii():
            self.press(text)
            return True
        if text == "." and self.point is not None:
            self.press(".")
            return True
        if event.key() == QtCore.Qt.Key.Key_Backspace:
            self.press("del")
            return True
        return False
