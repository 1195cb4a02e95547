"""Small shared widgets for the screens: big buttons and large text labels.

``BigButton`` paints itself (flat fill, a border that contrasts with what is
behind it, a thick focus ring) so the colours the accessibility audit reads are
exactly the colours on screen. It reports where its text is drawn
(``text_blocks``) so the audit can check nothing is clipped.
"""

from __future__ import annotations

from typing import Final

from kiosk.qt import QtCore, QtGui, QtWidgets
from kiosk.theme import TEXT_BODY_MM, TEXT_LABEL_MM, Metrics, Palette, font

# role -> (fill, text, border)
ROLES: Final[dict[str, tuple[QtGui.QColor, QtGui.QColor, QtGui.QColor]]] = {
    "primary": (Palette.PRIMARY, Palette.PRIMARY_TEXT, Palette.BORDER),
    "call": (Palette.CALL, Palette.CALL_TEXT, Palette.BORDER),
    "health": (Palette.HEALTH, Palette.HEALTH_TEXT, Palette.BORDER),
    "activity": (Palette.ACTIVITY, Palette.ACTIVITY_TEXT, Palette.BORDER),
    "neutral": (Palette.NEUTRAL, Palette.NEUTRAL_TEXT, Palette.BORDER),
    "bar": (Palette.NEUTRAL, Palette.NEUTRAL_TEXT, Palette.BAR_TEXT),
    "bar_call": (Palette.CALL, Palette.CALL_TEXT, Palette.BAR_TEXT),
}

PADDING_MM: Final = 3.0
BORDER_MM: Final = 0.8
FOCUS_MM: Final = 1.6


class BigButton(QtWidgets.QPushButton):
    """A large, high-contrast button with a title and an optional hint line.

    Emits ``clicked`` like any QPushButton; Enter and Space activate it when focused.
    """

    def __init__(
        self,
        text: str,
        metrics: Metrics,
        *,
        hint: str = "",
        role: str = "primary",
        min_mm: tuple[float, float] = (40.0, 20.0),
        label_mm: float = TEXT_LABEL_MM,
        hint_mm: float = TEXT_BODY_MM,
        name: str = "",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        self.metrics = metrics
        self.hint = hint
        self.role = role
        self.min_mm = min_mm
        self.label_mm = label_mm
        self.hint_mm = hint_mm
        if name:
            self.setObjectName(name)
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setAutoDefault(False)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.apply_metrics(metrics)
        self.set_texts(text, hint)

    # -- configuration -----------------------------------------------------------

    def set_texts(self, text: str, hint: str = "") -> None:
        self.setText(text)
        self.hint = hint
        self.setAccessibleName(text)
        self.setAccessibleDescription(hint or text)
        if hasattr(self, "title_font"):
            self._update_minimum()
        self.update()

    def set_role(self, role: str) -> None:
        self.role = role
        self.update()

    def apply_metrics(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.title_font = font(metrics, self.label_mm, bold=True)
        self.hint_font = font(metrics, self.hint_mm)
        self.setFont(self.title_font)
        self._update_minimum()

    def _update_minimum(self) -> None:
        """The floor in mm, or more when the text needs it: a layout never clips the text."""
        w, h = self.min_mm
        floor = QtCore.QSize(self.metrics.mm(w), self.metrics.mm(h))
        self.setMinimumSize(self._text_size().expandedTo(floor))
        self.updateGeometry()

    @property
    def colors(self) -> tuple[QtGui.QColor, QtGui.QColor, QtGui.QColor]:
        """(fill, text, border) as painted."""
        return ROLES[self.role]

    # -- geometry ------------------------------------------------------------------

    def _lines(self) -> list[tuple[str, QtGui.QFont]]:
        lines = [(line, self.title_font) for line in self.text().split("\n")]
        if self.hint:
            lines += [(line, self.hint_font) for line in self.hint.split("\n")]
        return lines

    def _text_size(self) -> QtCore.QSize:
        pad = self.metrics.mm(PADDING_MM + FOCUS_MM) * 2
        width = height = 0
        for line, f in self._lines():
            fm = QtGui.QFontMetrics(f)
            width = max(width, fm.horizontalAdvance(line))
            height += fm.height()
        return QtCore.QSize(width + pad + 2, height + pad + 2)

    def sizeHint(self) -> QtCore.QSize:
        return self._text_size().expandedTo(self.minimumSize())

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.sizeHint()

    def text_blocks(self) -> list[tuple[str, QtGui.QFont, QtCore.QRect]]:
        """Each line of text, its font and the rectangle it is drawn in (widget coords)."""
        pad = self.metrics.mm(PADDING_MM + FOCUS_MM)
        inner = self.rect().adjusted(pad, pad, -pad, -pad)
        lines = self._lines()
        heights = [QtGui.QFontMetrics(f).height() for _, f in lines]
        y = inner.top() + max(0, (inner.height() - sum(heights)) // 2)
        blocks = []
        for (line, f), h in zip(lines, heights, strict=True):
            blocks.append((line, f, QtCore.QRect(inner.left(), y, inner.width(), h)))
            y += h
        return blocks

    # -- painting -----------------------------------------------------------------

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        fill, text, border = self.colors
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        radius = self.metrics.mm(2.5)
        bw = max(2, self.metrics.mm(BORDER_MM))
        rect = QtCore.QRectF(self.rect()).adjusted(bw / 2, bw / 2, -bw / 2, -bw / 2)
        if self.isDown():
            fill = fill.darker(130)
        p.setPen(QtGui.QPen(border, bw))
        p.setBrush(fill)
        p.drawRoundedRect(rect, radius, radius)
        if self.hasFocus():
            fw = max(3, self.metrics.mm(FOCUS_MM))
            ring = rect.adjusted(bw + fw / 2, bw + fw / 2, -bw - fw / 2, -bw - fw / 2)
            p.setPen(QtGui.QPen(Palette.FOCUS, fw))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(ring, radius, radius)
        p.setPen(text)
        for line, f, r in self.text_blocks():
            p.setFont(f)
            p.drawText(r, int(QtCore.Qt.AlignmentFlag.AlignCenter), line)
        p.end()


class TextLabel(QtWidgets.QLabel):
    """Large text on the background of its parent; wraps by default."""

    def __init__(
        self,
        text: str,
        metrics: Metrics,
        *,
        size_mm: float = TEXT_BODY_MM,
        bold: bool = False,
        wrap: bool = True,
        align: QtCore.Qt.AlignmentFlag = QtCore.Qt.AlignmentFlag.AlignCenter,
        name: str = "",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        self.size_mm = size_mm
        self.bold = bold
        if name:
            self.setObjectName(name)
        self.setWordWrap(wrap)
        self.setAlignment(align)
        self.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.apply_metrics(metrics)
        self.setAccessibleName(text)

    def apply_metrics(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.setFont(font(metrics, self.size_mm, bold=self.bold))

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setAccessibleName(text)


def fill_background(widget: QtWidgets.QWidget, color: QtGui.QColor, text: QtGui.QColor) -> None:
    """Give ``widget`` an opaque background and a text colour (read by the audit)."""
    pal = widget.palette()
    pal.setColor(QtGui.QPalette.ColorRole.Window, color)
    pal.setColor(QtGui.QPalette.ColorRole.WindowText, text)
    widget.setPalette(pal)
    widget.setAutoFillBackground(True)
