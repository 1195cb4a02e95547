"""The vosk model on disk: where it is, whether it is complete, installing one, ``--check``.

A model directory usable with a grammar needs the acoustic model (am/final.mdl), its
configuration (conf/model.conf) and a dynamic graph: graph/HCLr.fst + graph/Gr.fst (the
"lookahead" graph of the small models, which vosk recompiles per grammar). A model with
only a static graph/HCLG.fst ignores the grammar, so it is refused.

Loading a model is slow (1.2-2.8 s, ~530 MB RSS for the Korean test model): never on the
UI thread (see :class:`kiosk.voice.listener.Listener`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from kiosk.config import VoiceSection
from kiosk.paths import voices_dir

if TYPE_CHECKING:
    from kiosk.checks import CheckContext, CheckResult

log = logging.getLogger(__name__)

REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")
GRAMMAR_GRAPH = ("graph/HCLr.fst", "graph/Gr.fst")


class ModelError(Exception):
    """A model is missing, incomplete or cannot be installed; the message says why."""


def models_dir() -> Path:
    return voices_dir() / "models"


def model_problems(path: Path) -> list[str]:
    """What ``path`` lacks to be a vosk model usable with grammars ([] = complete)."""
    if not path.is_dir():
        return [f"{path} is not a directory"]
    problems = [f"missing {f}" for f in REQUIRED_FILES if not (path / f).is_file()]
    if not all((path / f).is_file() for f in GRAMMAR_GRAPH):
        static = (path / "graph" / "HCLG.fst").is_file()
        problems.append(
            "no dynamic graph (graph/HCLr.fst + graph/Gr.fst)"
            + ("; graph/HCLG.fst alone cannot use a grammar" if static else "")
        )
    return problems


def find_model(voice: VoiceSection, root: Path | None = None) -> Path | None:
    """``voice.model_path`` if set, else the first model directory under voices/models/."""
    if voice.model_path:
        return Path(voice.model_path).expanduser()
    base = models_dir() if root is None else root
    if not base.is_dir():
        return None
    for child in sorted(base.iterdir()):
        if child.is_dir() and (child / "am" / "final.mdl").is_file():
            return child
    return None


def unknown_words(model: Any, words: Iterable[str]) -> list[str]:
    """Words the loaded vosk ``model`` does not know (``vosk_model_find_word`` == -1)."""
    return sorted(w for w in set(words) if model.vosk_model_find_word(w) == -1)


def unknown_token(model: Any) -> str | None:
    """The model's out-of-vocabulary word: "[unk]" in most models, "<UNK>" in some."""
    for token in ("[unk]", "<UNK>", "<unk>"):
        if model.vosk_model_find_word(token) != -1:
            return token
    return None


def load_model(path: Path) -> Any:
    """Load a vosk Model (slow: call off the UI thread). Raises ModelError."""
    problems = model_problems(path)
    if problems:
        raise ModelError(f"{path}: " + "; ".join(problems))
    try:
        import vosk  # noqa: PLC0415 - optional at run time: the kiosk works by touch without it
    except (ImportError, OSError) as exc:
        raise ModelError(f"vosk is not available: {exc}") from exc
    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(str(path))
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelError(f"{path}: vosk could not load it: {exc}") from exc


# -- installing -------------------------------------------------------------------------------


def _model_root(tree: Path) -> Path:
    """The directory inside an unpacked archive that holds am/ (the archive's top folder)."""
    if (tree / "am").is_dir():
        return tree
    found = [p.parent.parent for p in tree.glob("*/am/final.mdl")]
    found += [p.parent.parent for p in tree.glob("*/*/am/final.mdl")]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ModelError("no am/final.mdl found: not a vosk model")
    raise ModelError(f"several models in one archive: {sorted(str(f) for f in found)}")


def _safe_extract(archive: zipfile.ZipFile, dest: Path) -> None:
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts:
            raise ModelError(f"unsafe path in the archive: {info.filename}")
    archive.extractall(dest)


def install_model(source: Path, dest_root: Path | None = None, *, replace: bool = False) -> Path:
    """Check a model zip or directory and copy it to voices/models/<name>; returns the new dir.

    The model is checked before anything is written; it is copied to a temporary sibling
    and renamed into place, so a full disk never leaves half a model where the kiosk looks.
    """
    root = models_dir() if dest_root is None else dest_root
    if not source.exists():
        raise ModelError(f"{source} does not exist")
    with tempfile.TemporaryDirectory(prefix="vosk-model-") as tmp:
        if source.is_dir():
            model = _model_root(source)
        elif zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                _safe_extract(archive, Path(tmp))
            model = _model_root(Path(tmp))
        else:
            raise ModelError(f"{source} is neither a directory nor a zip archive")
        problems = model_problems(model)
        if problems:
            raise ModelError(f"{source}: " + "; ".join(problems))
        name = model.name if model.name != Path(tmp).name else source.stem
        target = root / name
        if target.exists() and not replace:
            raise ModelError(f"{target} already exists (use --replace)")
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".{name}.installing"
        if staging.exists():
            shutil.rmtree(staging)
        try:
            shutil.copytree(model, staging)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelError(f"could not install into {target}: {exc}") from exc
    log.info("voice model installed: %s", target)
    return target


# -- input devices ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str


def find_input_device(spec: str) -> InputDevice | str:
    """Config value -> an input device ("" = default), or why there is none."""
    try:
        import sounddevice as sd  # noqa: PLC0415 - no libportaudio -> no speech input
    except OSError as exc:
        return f"PortAudio not available: {exc}"
    try:
        devices = sd.query_devices()
        inputs = [i for i, d in enumerate(devices) if d["max_input_channels"] > 0]
        if not inputs:
            return "no audio input device"
        if not spec:
            default = sd.default.device[0]
            index = default if isinstance(default, int) and default in inputs else inputs[0]
        elif spec.isdigit():
            if int(spec) not in inputs:
                return f"input device #{spec} not found"
            index = int(spec)
        else:
            exact = [i for i in inputs if devices[i]["name"] == spec]
            partial = [i for i in inputs if spec.lower() in devices[i]["name"].lower()]
            if not exact and not partial:
                return f"input device {spec!r} not found"
            index = (exact or partial)[0]
        return InputDevice(index, str(devices[index]["name"]))
    except (sd.PortAudioError, ValueError) as exc:
        return f"input device error: {exc}"


# -- --check ------------------------------------------------------------------------------------


def check_voice(ctx: CheckContext) -> CheckResult:
    """``--check`` row: the model (complete, loads, knows every command word) and the mic.

    Not required: without it the kiosk works fully by touch (the mic button is hidden).
    """
    from kiosk.checks import CheckResult  # noqa: PLC0415 - kiosk.checks may import this module
    from kiosk.voice.intents import commands  # noqa: PLC0415

    path = find_model(ctx.config.voice)
    if path is None:
        return CheckResult(
            "voice model",
            "MISSING",
            f"no model in {models_dir()} (speech input off)",
            "kiosk voice install-model vosk-model-small-cn-0.22.zip",
            required=False,
        )
    try:
        model = load_model(path)
    except ModelError as exc:
        return CheckResult(
            "voice model",
            "MISSING",
            str(exc),
            "reinstall: kiosk voice install-model vosk-model-small-cn-0.22.zip --replace",
            required=False,
        )
    unknown = unknown_words(model, commands().words())
    device = find_input_device(ctx.config.voice.input_device)
    parts = [path.name]
    fix = []
    status = "OK"
    if unknown:
        status = "WARN"
        parts.append(f"unknown words: {' '.join(unknown)}")
        fix.append("re-segment these phrases in voices/zh_CN/commands.toml")
    if isinstance(device, str):
        status = "WARN"
        parts.append(f"microphone: {device}")
        fix.append("connect a microphone or set voice.input_device")
    else:
        parts.append(f"microphone: {device.name}")
    return CheckResult("voice model", status, "; ".join(parts), "; ".join(fix), required=False)
