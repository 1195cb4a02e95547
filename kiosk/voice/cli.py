"""``kiosk voice install-model PATH [--replace]``: check a vosk model zip or directory and
install it into voices/models/ (for a kiosk with no internet: the model comes on a USB stick)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk.voice.model import ModelError, install_model


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    voice = subparsers.add_parser("voice", help="speech input: install the recognition model")
    sub = voice.add_subparsers(dest="voice_command", required=True)
    install = sub.add_parser(
        "install-model", help="check a vosk model (zip or directory) and install it"
    )
    install.add_argument("path", type=Path, help="e.g. /media/usb/vosk-model-small-cn-0.22.zip")
    install.add_argument("--replace", action="store_true", help="replace an installed model")
    install.add_argument(
        "--models-dir", type=Path, default=None, help="install here instead of voices/models/"
    )


def run(args: argparse.Namespace) -> int:
    """0 installed, 1 the model was refused (the reason is printed), 2 bad usage."""
    if args.voice_command != "install-model":
        print(f"unknown voice command {args.voice_command!r}", file=sys.stderr)
        return 2
    try:
        target = install_model(args.path, args.models_dir, replace=args.replace)
    except ModelError as exc:
        print(f"model not installed: {exc}", file=sys.stderr)
        return 1
    print(f"installed {target}")
    print("restart the kiosk to use it; `kiosk --check` shows the model and the microphone")
    return 0
