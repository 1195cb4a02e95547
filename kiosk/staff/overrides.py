"""The local settings override file ``<data dir>/overrides.toml``, written by staff settings.

``kiosk.config.load`` reads it above the ``--config`` file and below the
environment. Writing is atomic: the new content goes to a temporary file in the
same directory (mode 0600, fsync), is validated by loading it as the config
loader would, then replaces the old file with ``os.replace`` (and the directory
is fsynced), so a power cut leaves the old file or the new one, never half of
one. Only declared keys with plain values are written; anything else is a
ConfigError and nothing changes. No widgets.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from kiosk import config as config_mod

OVERRIDES_NAME: Final = "overrides.toml"
HEADER: Final = (
    "# Written by the kiosk's staff settings screen; values here override the --config file.\n"
    "# Delete this file to go back to the configured settings.\n"
)

Values = Mapping[str, Mapping[str, Any]]


def overrides_path(data_dir: Path) -> Path:
    return Path(data_dir) / OVERRIDES_NAME


def read_overrides(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The current overrides ({section: {key: value}}); empty when there is no file."""
    path = overrides_path(data_dir)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise config_mod.ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return {k: dict(v) for k, v in data.items() if isinstance(v, dict)}


def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise config_mod.ConfigError(f"setting {where}: {value!r} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        # JSON's string escapes are a subset of TOML's basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    raise config_mod.ConfigError(f"setting {where}: {value!r} cannot be written")


def to_toml(values: Values) -> str:
    """Plain TOML for {section: {key: value}} (str / int / float / bool only)."""
    declared = {(k.section, k.name) for k in config_mod.declared_keys()}
    lines = [HEADER]
    for section in sorted(values):
        body = values[section]
        if not body:
            continue
        lines.append(f"[{section}]")
        for key in sorted(body):
            if (section, key) not in declared:
                raise config_mod.ConfigError(f"unknown setting {section}.{key}")
            lines.append(f"{key} = {_toml_value(body[key], f'{section}.{key}')}")
        lines.append("")
    return "\n".join(lines)


def write_overrides(data_dir: Path, changes: Values) -> dict[str, dict[str, Any]]:
    """Merge ``changes`` into the override file atomically; returns the file's new content.

    Raises ConfigError (nothing written) for an unknown key or a value the config
    loader would refuse (e.g. font_scale 2.0).
    """
    merged = read_overrides(data_dir)
    for section, body in changes.items():
        merged.setdefault(section, {}).update(body)
    text = to_toml(merged)
    path = overrides_path(data_dir)
    tmp = path.with_name(f".{OVERRIDES_NAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        config_mod.load(None, overrides_file=tmp, environ={})  # ConfigError if refused
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)
    return merged


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
