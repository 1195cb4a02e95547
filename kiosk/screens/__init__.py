"""The kiosk's screens (the only package with widgets).

Every screen is registered here, once; the app, ``--screenshot`` and the
accessibility audit all take the list from ``screen_classes``.
"""

from __future__ import annotations

from kiosk.screens.base import Screen


def screen_classes() -> list[type[Screen]]:
    """Every screen, in the order they are shown in screenshots."""
    from kiosk.screens.home import HomeScreen  # noqa: PLC0415 - keep import of Qt lazy

    return [HomeScreen]
