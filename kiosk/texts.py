"""Every sentence the kiosk shows or speaks, loaded from voices/<lang>/*.toml.

Each TOML file is a namespace: the key ``greeting`` in ``home.toml`` is
``texts.get("home.greeting")``. Values may hold ``{name}`` placeholders that
``format`` fills. Code never contains UI text; it names a key.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

from kiosk.paths import voices_dir

DEFAULT_LANG = "zh_CN"


class Texts:
    """A read-only catalogue of UI sentences keyed ``<file>.<key>``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._items: dict[str, str] = {}
        for path in sorted(folder.glob("*.toml")):
            if path.stem == "commands":
                continue  # voice phrases, loaded by the listener
            with path.open("rb") as fh:
                data = tomllib.load(fh)
            self._flatten(path.stem, data)

    def _flatten(self, prefix: str, data: dict[str, Any]) -> None:
        for key, value in data.items():
            full = f"{prefix}.{key}"
            if isinstance(value, dict):
                self._flatten(full, value)
            elif isinstance(value, str):
                self._items[full] = value
            else:
                raise ValueError(f"{self.folder}: {full} must be text, got {value!r}")

    def get(self, key: str, **fields: Any) -> str:
        """The sentence for ``key`` with ``{placeholders}`` filled; KeyError if missing."""
        text = self._items[key]
        return text.format(**fields) if fields else text

    def keys(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> dict[str, str]:
        return dict(self._items)


@functools.cache
def texts(lang: str = DEFAULT_LANG) -> Texts:
    """The shared catalogue for ``lang`` (loaded once)."""
    return Texts(voices_dir() / lang)


def t(key: str, **fields: Any) -> str:
    """Shorthand for ``texts().get(key, **fields)``."""
    return texts().get(key, **fields)
