"""Prompt cache: synthesized audio of fixed sentences, kept as WAV files in the data dir.

Every fixed prompt (a value of ``texts().items()`` without ``{placeholders}``) is
rendered in the background at first start into ``<data dir>/prompt-cache/``;
dynamic text (readings, dates, activity details, call status) is synthesized on
demand and kept only in the worker's small in-memory cache. A file's name is a
hash of (normalised text, voice, rate, engine version), so a change of any of
them renders anew and stale files are simply never read again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import wave
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path

from kiosk.paths import ensure_private_dir
from kiosk.speech.engine import Audio, SynthesisError, read_wav, write_wav
from kiosk.speech.normalize import normalize

log = logging.getLogger(__name__)

CACHE_DIRNAME = "prompt-cache"


def cache_key(text: str, voice: str, rate: int, engine_version: str) -> str:
    blob = "\x1f".join([text, voice, str(rate), engine_version]).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


def fixed_prompts(items: Mapping[str, str] | None = None) -> list[str]:
    """The normalised plain sentences of the text catalogue (placeholders skipped)."""
    if items is None:
        from kiosk.texts import texts  # noqa: PLC0415 - the catalogue loads TOML files

        items = texts().items()
    seen: dict[str, None] = {}
    for value in items.values():
        if "{" in value or not value.strip():
            continue
        seen[normalize(value)] = None
    return list(seen)


class PromptCache:
    """WAV files on disk plus a small LRU in memory; used by the synthesis worker only."""

    def __init__(self, folder: Path | None, memory_items: int = 64) -> None:
        self.folder = ensure_private_dir(folder) if folder is not None else None
        self._memory: OrderedDict[str, Audio] = OrderedDict()
        self._memory_items = memory_items

    def get(self, key: str) -> Audio | None:
        audio = self._memory.get(key)
        if audio is not None:
            self._memory.move_to_end(key)
            return audio
        if self.folder is None:
            return None
        path = self.folder / f"{key}.wav"
        try:
            audio = read_wav(path)
        except FileNotFoundError:
            return None
        except (OSError, EOFError, wave.Error, SynthesisError) as exc:
            log.warning("dropping unreadable cached prompt %s: %s", path.name, exc)
            path.unlink(missing_ok=True)
            return None
        self._remember(key, audio)
        return audio

    def has(self, key: str) -> bool:
        return key in self._memory or (
            self.folder is not None and (self.folder / f"{key}.wav").exists()
        )

    def put(self, key: str, audio: Audio, *, persist: bool) -> None:
        self._remember(key, audio)
        if not persist or self.folder is None:
            return
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        os.close(fd)
        try:
            write_wav(Path(tmp), audio)
            os.replace(tmp, self.folder / f"{key}.wav")
        except OSError as exc:  # disk full or read-only: the kiosk still speaks
            log.warning("could not cache prompt %s: %s", key, exc)
            Path(tmp).unlink(missing_ok=True)

    def _remember(self, key: str, audio: Audio) -> None:
        self._memory[key] = audio
        self._memory.move_to_end(key)
        while len(self._memory) > self._memory_items:
            self._memory.popitem(last=False)

    def files(self) -> Iterable[Path]:
        return [] if self.folder is None else sorted(self.folder.glob("*.wav"))
