"""A large, simple trend chart of a resident's last readings (QPainter only).

Each series is a thick line with big dots; the normal range is a shaded band
and the newest value is written beside its dot, so nothing depends on colour.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.qt import QtCore, QtGui, QtWidgets
from kiosk.theme import TEXT_BODY_MM, Metrics, Palette, font

BAND = QtGui.QColor("#CDEBD3")
SERIES_COLORS = (QtGui.QColor("#0B3D91"), QtGui.QColor("#9E0B0F"))
SERIES_DASH = (QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenStyle.DashLine)


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]
    band: tuple[float, float] | None = None


class TrendChart(QtWidgets.QWidget):
    """Paints up to two series over the same readings (e.g. 高压 and 低压)."""

    def __init__(self, metrics: Metrics, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.metrics = metrics
        self.series: list[Series] = []
        self.setObjectName("trend_chart")
        self.setMinimumHeight(metrics.mm(60))

    def set_series(self, series: list[Series]) -> None:
        self.series = [s for s in series if s.values]
        self.setAccessibleName("，".join(f"{s.label} {s.values[-1]:g}" for s in self.series))
        self.update()

    def apply_metrics(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        if not self.series:
            return
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), Palette.BACKGROUND)
        f = font(self.metrics, TEXT_BODY_MM)
        p.setFont(f)
        fm = QtGui.QFontMetrics(f)
        label_w = fm.horizontalAdvance("000.0") + self.metrics.mm(3)
        area = QtCore.QRectF(self.rect()).adjusted(
            self.metrics.mm(2), fm.height(), -label_w, -fm.height() / 2
        )
        values = [v for s in self.series for v in s.values]
        bands = [b for s in self.series if s.band for b in s.band]
        lo, hi = min(values + bands), max(values + bands)
        pad = (hi - lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad

        def y(v: float) -> float:
            return area.bottom() - (v - lo) / (hi - lo) * area.height()

        n = max(len(s.values) for s in self.series)

        def x(i: int) -> float:
            return area.left() + (area.width() * i / (n - 1) if n > 1 else area.width() / 2)

        for s in self.series:
            if s.band:
                top, bottom = y(s.band[1]), y(s.band[0])
                p.fillRect(QtCore.QRectF(area.left(), top, area.width(), bottom - top), BAND)
        p.setPen(QtGui.QPen(Palette.BORDER, max(2, self.metrics.mm(0.4))))
        p.drawLine(area.bottomLeft(), area.bottomRight())
        dot = self.metrics.mm(2.2)
        for k, s in enumerate(self.series):
            color = SERIES_COLORS[k % 2]
            pen = QtGui.QPen(color, self.metrics.mm(1.0))
            pen.setStyle(SERIES_DASH[k % 2])
            p.setPen(pen)
            pts = [QtCore.QPointF(x(i), y(v)) for i, v in enumerate(s.values)]
            if len(pts) > 1:
                p.drawPolyline(pts)
            p.setBrush(color)
            for pt in pts:
                p.drawEllipse(pt, dot, dot)
            p.setPen(Palette.TEXT)
            last = pts[-1]
            p.drawText(
                QtCore.QPointF(last.x() + dot * 1.5, last.y() + fm.ascent() / 2),
                f"{s.values[-1]:g}",
            )
        p.end()
