"""Sizes in millimetres, the high-contrast palette and the bundled fonts.

Everything a resident sees is sized in millimetres and converted to pixels with
``ui.px_per_mm`` (calibrated on site; by default asked of the screen), then
multiplied by ``ui.font_scale`` for text. The floors below are the accessibility
numbers of the elder screens; staff screens have their own, smaller floors.
No widgets here: QtGui only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from kiosk.paths import fonts_dir
from kiosk.qt import QtGui

FONT_FAMILY: Final = "Noto Sans CJK SC"
FONT_FILES: Final = ("NotoSansSC-Regular.otf", "NotoSansSC-Bold.otf")

# Accessibility floors for the elder screens (DESIGN.md).
TEXT_MIN_MM: Final = 9.0
LABEL_MIN_MM: Final = 12.0
HOME_BUTTON_MIN_MM: Final = 60.0
TARGET_MIN_MM: Final = 20.0
GAP_MIN_MM: Final = 6.0
TEXT_CONTRAST_MIN: Final = 7.0
BORDER_CONTRAST_MIN: Final = 3.0
# Staff screens (issue 8): smaller floors, same audit.
STAFF_TEXT_MIN_MM: Final = 5.0
STAFF_TARGET_MIN_MM: Final = 12.0

# Text sizes used by the screens (em height, before font_scale).
TEXT_BODY_MM: Final = 9.5
TEXT_LABEL_MM: Final = 12.0
TEXT_TITLE_MM: Final = 13.0
TEXT_HUGE_MM: Final = 24.0

FALLBACK_PX_PER_MM: Final = 96 / 25.4  # a 96 dpi screen


@dataclass(frozen=True)
class Metrics:
    """Millimetre-to-pixel conversion for one screen and one text scale."""

    px_per_mm: float
    font_scale: float = 1.0

    def mm(self, millimetres: float) -> int:
        """A length in whole pixels, rounded up so a floor is never undercut."""
        return int(-(-millimetres * self.px_per_mm // 1))

    def text_px(self, millimetres: float) -> int:
        """The pixel size of text whose em height is ``millimetres`` before scaling."""
        return self.mm(millimetres * self.font_scale)

    def to_mm(self, pixels: float) -> float:
        return pixels / self.px_per_mm


def px_per_mm_from_screen(screen: QtGui.QScreen | None) -> float:
    """The screen's own idea of its pixel density, or 96 dpi when it has none that is sane."""
    if screen is None:
        return FALLBACK_PX_PER_MM
    value = screen.physicalDotsPerInch() / 25.4
    return value if 2.0 <= value <= 12.0 else FALLBACK_PX_PER_MM


class Palette:
    """The high-contrast colours. Meaning is never carried by colour alone."""

    BACKGROUND: Final = QtGui.QColor("#FFFFFF")
    TEXT: Final = QtGui.QColor("#111111")
    BAR: Final = QtGui.QColor("#1F2A44")
    BAR_TEXT: Final = QtGui.QColor("#FFFFFF")
    PRIMARY: Final = QtGui.QColor("#0B3D91")
    PRIMARY_TEXT: Final = QtGui.QColor("#FFFFFF")
    CALL: Final = QtGui.QColor("#9E0B0F")
    CALL_TEXT: Final = QtGui.QColor("#FFFFFF")
    HEALTH: Final = QtGui.QColor("#0A5C36")
    HEALTH_TEXT: Final = QtGui.QColor("#FFFFFF")
    ACTIVITY: Final = QtGui.QColor("#5B2A86")
    ACTIVITY_TEXT: Final = QtGui.QColor("#FFFFFF")
    NEUTRAL: Final = QtGui.QColor("#E8E8E8")
    NEUTRAL_TEXT: Final = QtGui.QColor("#111111")
    BORDER: Final = QtGui.QColor("#111111")
    FOCUS: Final = QtGui.QColor("#FFB000")
    WARNING_BG: Final = QtGui.QColor("#FFF4CC")
    WARNING_TEXT: Final = QtGui.QColor("#111111")


def _linear(channel: float) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: QtGui.QColor) -> float:
    """WCAG relative luminance."""
    return (
        0.2126 * _linear(color.red())
        + 0.7152 * _linear(color.green())
        + 0.0722 * _linear(color.blue())
    )


def contrast_ratio(a: QtGui.QColor, b: QtGui.QColor) -> float:
    """WCAG contrast ratio of two colours (1.0-21.0)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def font_paths() -> list[Path]:
    return [fonts_dir() / name for name in FONT_FILES]


def load_fonts() -> list[str]:
    """Register the bundled fonts with Qt (needs a QGuiApplication); returns problems."""
    problems = []
    for path in font_paths():
        if QtGui.QFontDatabase.addApplicationFont(str(path)) < 0:
            problems.append(f"font {path} could not be loaded")
    return problems


def font(metrics: Metrics, size_mm: float, *, bold: bool = False) -> QtGui.QFont:
    """The bundled family at ``size_mm`` em height (scaled), system fallback kept."""
    f = QtGui.QFont(FONT_FAMILY)
    f.setPixelSize(metrics.text_px(size_mm))
    f.setBold(bold)
    f.setStyleStrategy(QtGui.QFont.StyleStrategy.PreferAntialias)
    return f
