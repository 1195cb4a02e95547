"""Where the kiosk finds its resources and keeps its data.

Resources (voices/, assets/) sit beside the package in a source checkout and
under ``sys._MEIPASS`` in a PyInstaller bundle. The data directory is chosen by
``--data-dir``, then ``KIOSK_DATA_DIR``, then the XDG data home.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path


def resource_root() -> Path:
    """The folder that holds voices/ and assets/."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


def voices_dir() -> Path:
    return resource_root() / "voices"


def fonts_dir() -> Path:
    return resource_root() / "assets" / "fonts"


def default_data_dir() -> Path:
    """The data dir when neither --data-dir nor KIOSK_DATA_DIR is given."""
    env = os.environ.get("KIOSK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "silver-counter"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700): it holds residents' health data and tokens."""
    path.mkdir(parents=True, exist_ok=True)
    # Not our directory (e.g. a mounted volume): its permissions stay as they are.
    with contextlib.suppress(OSError):
        path.chmod(0o700)
    return path
