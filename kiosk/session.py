"""What the kiosk remembers about the resident at the counter, until they leave.

One ``Session`` per resident: the phone number they gave (so they are not
asked twice), and where the phone screen should return. ``reset`` forgets
everything; the app calls it when it goes home after a journey or an idle
timeout. No widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class PhoneRequest:
    """Why the phone screen is shown and what to do with the answer.

    ``on_done`` gets the valid number, or None when the resident skipped.
    """

    purpose_key: str
    on_done: Callable[[str | None], None]
    allow_skip: bool = True


@dataclass
class Session:
    phone: str | None = None
    phone_request: PhoneRequest | None = None
    volume_changed: bool = False
    extras: dict[str, object] = field(default_factory=dict)

    def reset(self) -> None:
        self.phone = None
        self.phone_request = None
        self.volume_changed = False
        self.extras.clear()
