"""The kiosk's screens (the only package with widgets).

Every screen is registered here, once; the app, ``--screenshot`` and the
accessibility audit all take the list from ``screen_classes``.
"""

from __future__ import annotations

from kiosk.screens.base import Screen


def screen_classes() -> list[type[Screen]]:
    """Every screen, in the order they are shown in screenshots."""
    # Imports are local so that importing kiosk.screens does not build any Qt class early.
    from kiosk.screens.activities import ActivitiesScreen, ActivityDetailScreen  # noqa: PLC0415
    from kiosk.screens.call import CallScreen  # noqa: PLC0415
    from kiosk.screens.confirm import ConfirmScreen  # noqa: PLC0415
    from kiosk.screens.feedback import FeedbackScreen  # noqa: PLC0415
    from kiosk.screens.health import (  # noqa: PLC0415
        HealthEntryScreen,
        HealthResultScreen,
        HealthScreen,
    )
    from kiosk.screens.home import HomeScreen  # noqa: PLC0415
    from kiosk.screens.phone import PhoneScreen  # noqa: PLC0415
    from kiosk.screens.staff import StaffHomeScreen, StaffLoginScreen  # noqa: PLC0415
    from kiosk.screens.staff_proxy import StaffProxyScreen  # noqa: PLC0415
    from kiosk.screens.staff_queue import StaffQueueScreen  # noqa: PLC0415
    from kiosk.screens.staff_settings import StaffSettingsScreen  # noqa: PLC0415
    from kiosk.screens.staff_sync import StaffSyncScreen  # noqa: PLC0415

    classes: list[type[Screen]] = [
        HomeScreen,
        CallScreen,
        HealthScreen,
        HealthEntryScreen,
        HealthResultScreen,
        PhoneScreen,
        ActivitiesScreen,
        ActivityDetailScreen,
        FeedbackScreen,
        ConfirmScreen,
        StaffLoginScreen,
        StaffHomeScreen,
        StaffQueueScreen,
        StaffProxyScreen,
        StaffSyncScreen,
        StaffSettingsScreen,
    ]
    return classes
