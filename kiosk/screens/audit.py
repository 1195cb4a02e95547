"""The accessibility audit: the elder-screen numbers of DESIGN.md, checked on real widgets.

It reads the same inventory that ``kiosk --screenshot`` writes as JSON, so a
screen that passes here is exactly what the screenshots show. Staff screens
(``Screen.elder = False``) are held to the smaller staff floors.
"""

from __future__ import annotations

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


def audit_view(facts: dict[str, Any]) -> list[str]:
    """Every violation on one view (a screen or an overlay), as readable sentences."""
    ppm = float(facts["px_per_mm"])
    elder = bool(facts.get("elder", True))
    text_min = TEXT_MIN_MM if elder else STAFF_TEXT_MIN_MM
    label_min = LABEL_MIN_MM if elder else STAFF_TEXT_MIN_MM
    target_min = TARGET_MIN_MM if elder else STAFF_TARGET_MIN_MM
    where = facts["screen"]
    problems: list[str] = []
    widgets = facts["widgets"]

    def mm(px: float) -> float:
        return px / ppm

    screen_w, screen_h = facts["size_px"]
    for w in widgets:
        ident = f"{where}: {w['class']} {w['object_name'] or '?'} {w['text'][:12]!r}"
        x, y, width, height = w["geometry_px"]
        if x < 0 or y < 0 or x + width > screen_w or y + height > screen_h:
            problems.append(f"{ident}: partly off screen at {w['geometry_px']}")
        if w["text"]:
            font_px = w.get("min_font_px", w["font_px"])
            if mm(font_px) + TOLERANCE_MM < text_min:
                problems.append(f"{ident}: text {mm(font_px):.1f} mm < {text_min} mm")
            ratio = contrast_ratio(_c(w["text_color"]), _c(w["background_color"]))
            if ratio < TEXT_CONTRAST_MIN:
                problems.append(f"{ident}: contrast {ratio:.1f}:1 < {TEXT_CONTRAST_MIN}:1")
            if not w["text_fits"]:
                problems.append(f"{ident}: text is clipped")
        if not w["interactive"]:
            continue
        if not w["accessible_name"]:
            problems.append(f"{ident}: no accessible name")
        if "label_font_px" in w and mm(w["label_font_px"]) + TOLERANCE_MM < label_min:
            problems.append(f"{ident}: button label {mm(w['label_font_px']):.1f} mm < {label_min} mm")
        floor = target_min
        if elder and w["object_name"].startswith("home_"):
            floor = HOME_BUTTON_MIN_MM
        if mm(width) + TOLERANCE_MM < floor or mm(height) + TOLERANCE_MM < floor:
            problems.append(
                f"{ident}: target {mm(width):.1f} x {mm(height):.1f} mm < {floor} mm"
            )
        if "border_color" in w:
            ratio = contrast_ratio(_c(w["border_color"]), _c(w["outer_background_color"]))
            fill_ratio = contrast_ratio(_c(w["background_color"]), _c(w["outer_background_color"]))
            if max(ratio, fill_ratio) < BORDER_CONTRAST_MIN:
                problems.append(f"{ident}: border contrast {ratio:.1f}:1 < {BORDER_CONTRAST_MIN}:1")
    targets = [w for w in widgets if w["interactive"]]
    for i, a in enumerate(targets):
        for b in targets[i + 1 :]:
            gap = _gap_px(a["geometry_px"], b["geometry_px"])
            if gap < 0 or mm(gap) + TOLERANCE_MM < GAP_MIN_MM:
                problems.append(
                    f"{where}: gap between {a['object_name']} and {b['object_name']} "
                    f"{max(mm(gap), 0):.1f} mm < {GAP_MIN_MM} mm"
                )
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
