"""The accessibility audit: the elder-screen numbers of DESIGN.md, checked on real widgets.

It reads the same inventory that ``kiosk --screenshot`` writes as JSON, so a
screen that passes here is exactly what the screenshots show. Staff screens
(``Screen.elder = False``) are held to the smaller staff floors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.qt import QtGui
from kiosk.theme import (
    BORDER_CONTRAST_MIN,
    GAP_MIN_MM,
    HOME_BUTTON_MIN_MM,
    LABEL_MIN_MM,
    STAFF_TARGET_MIN_MM,
    STAFF_TEXT_MIN_MM,
    TARGET_MIN_MM,
    TEXT_CONTRAST_MIN,
    TEXT_MIN_MM,
    contrast_ratio,
)

TOLERANCE_MM = 0.05  # rounding of px -> mm


def _c(name: str) -> QtGui.QColor:
    return QtGui.QColor(name)


def _gap_px(a: list[int], b: list[int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    dx = max(bx - (ax + aw), ax - (bx + bw), 0)
    dy = max(by - (ay + ah), ay - (by + bh), 0)
    if dx == 0 and dy == 0:
        return -1.0  # overlapping or touching
    return float(max(dx, dy))


@dataclass(frozen=True)
class Floors:
    """The numbers one view is held to (elder screens, or the smaller staff floors)."""

    px_per_mm: float
    elder: bool

    @property
    def text(self) -> float:
        return TEXT_MIN_MM if self.elder else STAFF_TEXT_MIN_MM

    @property
    def label(self) -> float:
        return LABEL_MIN_MM if self.elder else STAFF_TEXT_MIN_MM

    @property
    def target(self) -> float:
        return TARGET_MIN_MM if self.elder else STAFF_TARGET_MIN_MM

    def mm(self, px: float) -> float:
        return px / self.px_per_mm

    def below(self, px: float, floor_mm: float) -> bool:
        return self.mm(px) + TOLERANCE_MM < floor_mm


def _text_problems(w: dict[str, Any], f: Floors, ident: str) -> list[str]:
    if not w["text"]:
        return []
    problems = []
    font_px = w.get("min_font_px", w["font_px"])
    if f.below(font_px, f.text):
        problems.append(f"{ident}: text {f.mm(font_px):.1f} mm < {f.text} mm")
    ratio = contrast_ratio(_c(w["text_color"]), _c(w["background_color"]))
    if ratio < TEXT_CONTRAST_MIN:
        problems.append(f"{ident}: contrast {ratio:.1f}:1 < {TEXT_CONTRAST_MIN}:1")
    if not w["text_fits"]:
        problems.append(f"{ident}: text is clipped")
    return problems


def _target_problems(w: dict[str, Any], f: Floors, ident: str) -> list[str]:
    problems = []
    _x, _y, width, height = w["geometry_px"]
    if not w["accessible_name"]:
        problems.append(f"{ident}: no accessible name")
    if "label_font_px" in w and f.below(w["label_font_px"], f.label):
        problems.append(f"{ident}: button label {f.mm(w['label_font_px']):.1f} mm < {f.label} mm")
    floor = HOME_BUTTON_MIN_MM if f.elder and w["object_name"].startswith("home_") else f.target
    if f.below(width, floor) or f.below(height, floor):
        problems.append(f"{ident}: target {f.mm(width):.1f} x {f.mm(height):.1f} mm < {floor} mm")
    if "border_color" in w:
        outer = _c(w["outer_background_color"])
        ratio = contrast_ratio(_c(w["border_color"]), outer)
        fill_ratio = contrast_ratio(_c(w["background_color"]), outer)
        if max(ratio, fill_ratio) < BORDER_CONTRAST_MIN:
            problems.append(f"{ident}: border contrast {ratio:.1f}:1 < {BORDER_CONTRAST_MIN}:1")
    return problems


def _gap_problems(targets: list[dict[str, Any]], f: Floors, where: str) -> list[str]:
    problems = []
    for i, a in enumerate(targets):
        for b in targets[i + 1 :]:
            gap = _gap_px(a["geometry_px"], b["geometry_px"])
            if gap < 0 or f.below(gap, GAP_MIN_MM):
                problems.append(
                    f"{where}: gap between {a['object_name']} and {b['object_name']} "
                    f"{max(f.mm(gap), 0):.1f} mm < {GAP_MIN_MM} mm"
                )
    return problems


def audit_view(facts: dict[str, Any]) -> list[str]:
    """Every violation on one view (a screen or an overlay), as readable sentences."""
    f = Floors(float(facts["px_per_mm"]), bool(facts.get("elder", True)))
    where = facts["screen"]
    screen_w, screen_h = facts["size_px"]
    problems: list[str] = []
    for w in facts["widgets"]:
        ident = f"{where}: {w['class']} {w['object_name'] or '?'} {w['text'][:12]!r}"
        x, y, width, height = w["geometry_px"]
        if x < 0 or y < 0 or x + width > screen_w or y + height > screen_h:
            problems.append(f"{ident}: partly off screen at {w['geometry_px']}")
        problems += _text_problems(w, f, ident)
        if w["interactive"]:
            problems += _target_problems(w, f, ident)
    problems += _gap_problems([w for w in facts["widgets"] if w["interactive"]], f, where)
    return problems


def audit_common(all_facts: list[dict[str, Any]]) -> list[str]:
    """The common controls sit at identical geometry on every screen that shows them."""
    seen: dict[str, tuple[str, list[int]]] = {}
    problems = []
    for facts in all_facts:
        for w in facts["widgets"]:
            name = w["object_name"]
            if not name.startswith("common_") or not w["interactive"]:
                continue
            first = seen.setdefault(name, (facts["screen"], w["geometry_px"]))
            if first[1] != w["geometry_px"]:
                problems.append(
                    f"{name} at {w['geometry_px']} on {facts['screen']} "
                    f"but at {first[1]} on {first[0]}"
                )
    return problems
