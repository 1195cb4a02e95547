"""The widget inventory behind ``kiosk --screenshot`` and the accessibility audit.

For every visible widget of the window: class, object name, accessible name,
text, geometry in px and mm, font pixel size, text and background colours and
whether its text fits. The audit reads these same facts, so what the JSON says
is what was checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kiosk.qt import QtCore, QtGui, QtWidgets
from kiosk.screens.widgets import BigButton
from kiosk.screens.window import MainWindow
from kiosk.theme import Metrics


def _hex(c: QtGui.QColor) -> str:
    return c.name(QtGui.QColor.NameFormat.HexRgb)


def background_of(widget: QtWidgets.QWidget) -> QtGui.QColor:
    """The colour painted behind ``widget``'s text."""
    if isinstance(widget, BigButton):
        return widget.colors[0]
    w: QtWidgets.QWidget | None = widget
    while w is not None:
        if w.autoFillBackground():
            return w.palette().color(QtGui.QPalette.ColorRole.Window)
        w = w.parentWidget()
    return QtGui.QColor("#FFFFFF")


def text_color_of(widget: QtWidgets.QWidget) -> QtGui.QColor:
    if isinstance(widget, BigButton):
        return widget.colors[1]
    return widget.palette().color(QtGui.QPalette.ColorRole.WindowText)


def text_of(widget: QtWidgets.QWidget) -> str:
    if isinstance(widget, BigButton):
        return widget.text() + (("\n" + widget.hint) if widget.hint else "")
    if isinstance(widget, QtWidgets.QLabel | QtWidgets.QAbstractButton | QtWidgets.QLineEdit):
        return widget.text()
    return ""


def text_fits(widget: QtWidgets.QWidget) -> bool:
    """True when all of the widget's text is drawn inside it (nothing clipped)."""
    if isinstance(widget, BigButton):
        inside = widget.rect()
        for line, f, rect in widget.text_blocks():
            fm = QtGui.QFontMetrics(f)
            if fm.horizontalAdvance(line) > rect.width() or not inside.contains(rect):
                return False
        return True
    if isinstance(widget, QtWidgets.QLabel) and widget.text():
        rect = widget.contentsRect()
        fm = QtGui.QFontMetrics(widget.font())
        if widget.wordWrap():
            flags = int(QtCore.Qt.TextFlag.TextWordWrap)
            need = fm.boundingRect(QtCore.QRect(0, 0, rect.width(), 100000), flags, widget.text())
            return need.height() <= rect.height() and need.width() <= rect.width()
        lines = widget.text().split("\n")
        width = max(fm.horizontalAdvance(line) for line in lines)
        return width <= rect.width() and fm.height() * len(lines) <= rect.height()
    return True


def is_interactive(widget: QtWidgets.QWidget) -> bool:
    return isinstance(widget, QtWidgets.QAbstractButton | QtWidgets.QLineEdit | QtWidgets.QSlider)


def inventory(root: QtWidgets.QWidget, metrics: Metrics) -> list[dict[str, Any]]:
    """Facts about every visible widget under ``root`` (geometry relative to root)."""
    items = []
    for w in root.findChildren(QtWidgets.QWidget):
        if not w.isVisibleTo(root) or w.width() == 0:
            continue
        top_left = w.mapTo(root, QtCore.QPoint(0, 0))
        x, y, width, height = top_left.x(), top_left.y(), w.width(), w.height()
        text = text_of(w)
        item: dict[str, Any] = {
            "class": type(w).__name__,
            "object_name": w.objectName(),
            "accessible_name": w.accessibleName(),
            "accessible_description": w.accessibleDescription(),
            "text": text,
            "interactive": is_interactive(w),
            "geometry_px": [x, y, width, height],
            "geometry_mm": [round(metrics.to_mm(v), 1) for v in (x, y, width, height)],
            "font_px": w.font().pixelSize(),
            "font_mm": round(metrics.to_mm(w.font().pixelSize()), 2),
            "text_color": _hex(text_color_of(w)),
            "background_color": _hex(background_of(w)),
            "text_fits": text_fits(w),
        }
        if isinstance(w, BigButton):
            item["border_color"] = _hex(w.colors[2])
            outer = w.parentWidget()
            item["outer_background_color"] = _hex(
                background_of(outer) if outer is not None else QtGui.QColor("#FFFFFF")
            )
            item["min_font_px"] = min(f.pixelSize() for _, f, _ in w.text_blocks())
            item["label_font_px"] = w.title_font.pixelSize()
        items.append(item)
    return items


SCREEN_SIZE = QtCore.QSize(1920, 1080)


def views(window: MainWindow) -> list[str]:
    """The names of everything that can be rendered: every screen plus the overlays."""
    return [*window.screens, window.idle_overlay.name]


def show_view(window: MainWindow, name: str) -> None:
    """Bring ``name`` (a screen or an overlay) on screen with representative content."""
    if name == window.idle_overlay.name:
        others = [n for n in window.screens if n != "home"] or ["home"]
        window.show_screen(others[0], remember=False)
        window.idle_overlay.show_countdown(30)
    else:
        window.idle_overlay.hide()
        window.show_screen(name, remember=False)
        window.screens[name].demo()
    app = QtWidgets.QApplication.instance()
    assert app is not None
    app.processEvents()
    # Settle every pending layout request (a font change reaches nested layouts in rounds).
    for _ in range(3):
        for lay in window.findChildren(QtWidgets.QLayout):
            lay.activate()
        app.processEvents()


def is_elder_view(window: MainWindow, name: str) -> bool:
    screen = window.screens.get(name)
    return screen.elder if screen is not None else True


def view_facts(window: MainWindow, metrics: Metrics, name: str) -> dict[str, Any]:
    """Show ``name`` and return its facts (what the JSON beside the screenshot holds)."""
    show_view(window, name)
    return {
        "screen": name,
        "elder": is_elder_view(window, name),
        "size_px": [window.width(), window.height()],
        "px_per_mm": metrics.px_per_mm,
        "font_scale": metrics.font_scale,
        "widgets": inventory(window, metrics),
    }


def render_all(window: MainWindow, metrics: Metrics, out_dir: Path) -> list[Path]:
    """Render every view at 1920x1080 into out_dir/<name>.png and <name>.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    window.resize(SCREEN_SIZE)
    window.show()
    written = []
    for name in views(window):
        facts = view_facts(window, metrics, name)
        png = out_dir / f"{name}.png"
        if not window.grab().save(str(png)):
            raise OSError(f"could not write {png}")
        (out_dir / f"{name}.json").write_text(
            json.dumps(facts, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        written.append(png)
    window.idle_overlay.hide()
    return written
