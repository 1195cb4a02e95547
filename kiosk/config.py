"""Kiosk settings: every key declared once, with its type, default and one line of doc.

A setting is read, in increasing priority, from the defaults below, the TOML
file given with ``--config``, a local override file written by the staff screen
(``overrides.toml`` in the data dir) and the environment
(``KIOSK_<SECTION>_<KEY>``, e.g. ``KIOSK_UI_IDLE_SECONDS=120``). Unknown keys and
values of the wrong type stop start-up with a message that names the key.

The README's table of keys is generated from these declarations
(``kiosk config-doc``) and a test checks that it is up to date.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A settings problem that must stop start-up; the message names the key."""


def _key(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class KioskSection:
    id: str = _key("kiosk-dev", "This kiosk's id at the district server (one token per id).")
    name: str = _key(
        "社区服务中心", "The service center's name, shown and spoken on the home screen."
    )


@dataclass(frozen=True)
class ServerSection:
    url: str = _key(
        "", "District server base URL, e.g. https://district.example/; empty = no server."
    )
    token_file: str = _key(
        "", "File holding this kiosk's bearer token (mode 0600); empty = <data dir>/token."
    )
    ca_file: str = _key(
        "", "Extra CA bundle to verify the server's TLS certificate; empty = system."
    )
    timeout_seconds: float = _key(10.0, "Network timeout for one request to the server.")


@dataclass(frozen=True)
class SyncSection:
    nightly_at: str = _key("02:30", "Local time (HH:MM) of the nightly batch upload.")
    jitter_minutes: int = _key(30, "Random delay added to the nightly time so kiosks spread out.")
    max_batch: int = _key(200, "Most records sent in one request (the server may ask for fewer).")


@dataclass(frozen=True)
class UiSection:
    px_per_mm: float = _key(
        0.0, "Screen pixels per millimetre; 0 = ask the screen. Calibrate on site."
    )
    font_scale: float = _key(1.0, "Text size multiplier, 1.0-1.5.")
    idle_seconds: int = _key(90, "Seconds without input (away from home) before the idle warning.")
    idle_warning_seconds: int = _key(
        30, "Seconds the idle warning stays before going home (at least 20)."
    )


@dataclass(frozen=True)
class CallSection:
    hotline: str = _key(
        "12345", "Phone number shown in huge digits as the fallback on the call screen."
    )
    cancel_seconds: int = _key(10, "How long 取消呼叫 is offered after a call.")


@dataclass(frozen=True)
class VoiceSection:
    tts_voice: str = _key("sit/cmn-latn-pinyin", "espeak-ng voice used by pyttsx3.")
    rate: int = _key(150, "Speech rate in espeak words per minute.")
    volume: int = _key(2, "Default volume step (0 = quietest, 3 = loudest).")
    model_path: str = _key("", "vosk model directory; empty = voices/models/<first model found>.")
    input_device: str = _key("", "Microphone (sounddevice name or index); empty = system default.")
    output_device: str = _key("", "Speaker (sounddevice name or index); empty = system default.")


@dataclass(frozen=True)
class Config:
    kiosk: KioskSection = field(default_factory=KioskSection)
    server: ServerSection = field(default_factory=ServerSection)
    sync: SyncSection = field(default_factory=SyncSection)
    ui: UiSection = field(default_factory=UiSection)
    call: CallSection = field(default_factory=CallSection)
    voice: VoiceSection = field(default_factory=VoiceSection)


@dataclass(frozen=True)
class KeyInfo:
    section: str
    name: str
    type: type
    default: Any
    doc: str

    @property
    def env(self) -> str:
        return f"KIOSK_{self.section.upper()}_{self.name.upper()}"


_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _section_type(name: str) -> type[Any]:
    """The dataclass of one [section] (its type is the Config field's default_factory)."""
    return type(getattr(Config(), name))


def declared_keys() -> list[KeyInfo]:
    """Every setting, in declaration order."""
    keys = []
    for sec in dataclasses.fields(Config):
        for f in dataclasses.fields(_section_type(sec.name)):
            keys.append(
                KeyInfo(sec.name, f.name, _TYPES[str(f.type)], f.default, f.metadata["doc"])
            )
    return keys


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _parse_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise ValueError


def _parse_number(kind: type) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int) or (kind is float and isinstance(value, float)):
            return kind(value)
        if isinstance(value, str):
            return kind(value.strip())  # ValueError when it is not a number
        raise ValueError

    return parse


def _parse_str(value: Any) -> Any:
    if isinstance(value, str):
        return value
    raise ValueError


_PARSERS: dict[type, Callable[[Any], Any]] = {
    bool: _parse_bool,
    int: _parse_number(int),
    float: _parse_number(float),
    str: _parse_str,
}


def _coerce(info: KeyInfo, value: Any, origin: str) -> Any:
    try:
        return _PARSERS[info.type](value)
    except ValueError:
        raise ConfigError(
            f"setting {info.section}.{info.name} (from {origin}): "
            f"expected {info.type.__name__}, got {value!r}"
        ) from None


def _validate(cfg: Config) -> None:
    if not 1.0 <= cfg.ui.font_scale <= 1.5:
        raise ConfigError(f"setting ui.font_scale: must be 1.0-1.5, got {cfg.ui.font_scale}")
    if cfg.ui.px_per_mm < 0:
        raise ConfigError(f"setting ui.px_per_mm: must be >= 0, got {cfg.ui.px_per_mm}")
    if cfg.ui.idle_seconds < 10:
        raise ConfigError(f"setting ui.idle_seconds: must be >= 10, got {cfg.ui.idle_seconds}")
    if cfg.ui.idle_warning_seconds < 20:
        raise ConfigError(
            f"setting ui.idle_warning_seconds: must be >= 20, got {cfg.ui.idle_warning_seconds}"
        )
    if not 0 <= cfg.voice.volume <= 3:
        raise ConfigError(f"setting voice.volume: must be 0-3, got {cfg.voice.volume}")
    if cfg.sync.max_batch < 1:
        raise ConfigError(f"setting sync.max_batch: must be >= 1, got {cfg.sync.max_batch}")
    hh, _, mm = cfg.sync.nightly_at.partition(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise ConfigError(f"setting sync.nightly_at: expected HH:MM, got {cfg.sync.nightly_at!r}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _merge_table(
    values: dict[tuple[str, str], Any],
    table: Mapping[str, Any],
    origin: str,
    by_name: Mapping[tuple[str, str], KeyInfo],
) -> None:
    for section, body in table.items():
        if not isinstance(body, dict):
            raise ConfigError(f"setting {section} (from {origin}): expected a [{section}] table")
        for name, value in body.items():
            info = by_name.get((section, name))
            if info is None:
                raise ConfigError(f"unknown setting {section}.{name} (from {origin})")
            values[(section, name)] = _coerce(info, value, origin)


def load(
    path: Path | None = None,
    *,
    overrides_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the Config from defaults, ``path``, ``overrides_file`` and the environment."""
    env = os.environ if environ is None else environ
    keys = declared_keys()
    by_name = {(k.section, k.name): k for k in keys}
    values: dict[tuple[str, str], Any] = {}
    if path is not None:
        _merge_table(values, _read_toml(path), str(path), by_name)
    if overrides_file is not None and overrides_file.exists():
        _merge_table(values, _read_toml(overrides_file), str(overrides_file), by_name)
    env_names = {k.env: k for k in keys}
    for var, raw in env.items():
        if not var.startswith("KIOSK_") or var == "KIOSK_DATA_DIR":
            continue
        info = env_names.get(var)
        if info is None:
            section = var.removeprefix("KIOSK_").split("_", 1)[0].lower()
            if section in {s.name for s in dataclasses.fields(Config)}:
                raise ConfigError(f"unknown setting in environment variable {var}")
            continue  # not a settings variable (e.g. KIOSK_TEST_*)
        values[(info.section, info.name)] = _coerce(info, raw, f"environment {var}")
    sections: dict[str, Any] = {}
    for sec in dataclasses.fields(Config):
        kwargs = {name: v for (s, name), v in values.items() if s == sec.name}
        sections[sec.name] = _section_type(sec.name)(**kwargs)
    cfg = Config(**sections)
    _validate(cfg)
    return cfg


def markdown_table() -> str:
    """The README's table of settings, generated from the declarations."""
    lines = [
        "| key | type | default | environment | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for k in declared_keys():
        default = f"`{k.default!r}`" if k.type is str else f"`{k.default}`"
        lines.append(
            f"| `{k.section}.{k.name}` | {k.type.__name__} | {default} | `{k.env}` | {k.doc} |"
        )
    return "\n".join(lines)
