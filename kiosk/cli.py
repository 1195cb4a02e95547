"""The ``kiosk`` command line.

kiosk [--config FILE] [--data-dir DIR] [--windowed] [--screenshot DIR] [--check]
kiosk config-doc          print the settings table (the README's copy is generated from it)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from kiosk import config as config_mod
from kiosk.paths import default_data_dir
from kiosk.staff import cli as staff_cli
from kiosk.voice import cli as voice_cli

NO_DISPLAY = (
    "没有找到显示器 (no display): the kiosk needs a graphical session (DISPLAY or "
    "WAYLAND_DISPLAY).\n"
    "To see the screens without one, render them: kiosk --screenshot out/\n"
    "To check the installation: kiosk --check"
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="银龄服务台 Silver Counter kiosk")
    p.add_argument("--config", type=Path, help="settings file (TOML)")
    p.add_argument("--data-dir", type=Path, help="where records are kept (or KIOSK_DATA_DIR)")
    p.add_argument("--windowed", action="store_true", help="a normal window (development)")
    p.add_argument(
        "--screenshot",
        type=Path,
        metavar="DIR",
        help="render every screen at 1920x1080 into DIR and exit",
    )
    p.add_argument("--check", action="store_true", help="print a self-test table and exit")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("config-doc", help="print the table of settings (markdown)")
    voice_cli.add_parser(sub)
    staff_cli.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0911 (a return per subcommand)
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "config-doc":
        print(config_mod.markdown_table())
        return 0
    if args.command == "voice":
        return voice_cli.run(args)
    data_dir: Path = args.data_dir or default_data_dir()
    if args.command == "staff":
        return staff_cli.run(args, data_dir)
    try:
        cfg = config_mod.load(args.config, overrides_file=data_dir / "overrides.toml")
    except config_mod.ConfigError as exc:
        print(f"配置错误 (configuration error): {exc}", file=sys.stderr)
        return 2
    if args.check:
        from kiosk.checks import CheckContext, format_table, run_checks  # noqa: PLC0415

        results = run_checks(CheckContext(config=cfg, data_dir=data_dir))
        print(format_table(results))
        return 1 if any(r.failed for r in results) else 0
    if args.screenshot is not None:
        # Render offscreen whatever the session has.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and not (
        os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "vnc", "eglfs", "linuxfb"))
    ):
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    return _run_gui(args, cfg, data_dir)


def _run_gui(args: argparse.Namespace, cfg: config_mod.Config, data_dir: Path) -> int:
    from kiosk import crash  # noqa: PLC0415
    from kiosk.app import KioskApp  # noqa: PLC0415 - Qt only when a GUI is needed
    from kiosk.qt import QtWidgets  # noqa: PLC0415
    from kiosk.theme import load_fonts  # noqa: PLC0415

    if args.screenshot is None:
        crash.setup_logging(data_dir)
    app = QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("silver-counter")
    app.setStyle("Fusion")
    for problem in load_fonts():
        logging.getLogger("kiosk").warning("%s", problem)
    kiosk = KioskApp(cfg, data_dir)
    if args.screenshot is not None:
        from kiosk.screens.inventory import render_all  # noqa: PLC0415

        kiosk.complete_start()
        for path in render_all(kiosk.window, kiosk.metrics, args.screenshot):
            print(path)
        kiosk.shutdown()
        return 0
    kiosk.start(windowed=args.windowed)
    guard = crash.install(kiosk.recover_from_error)
    try:
        code = app.exec()
    finally:
        guard.uninstall()
    kiosk.shutdown()
    return int(code)  # 70 after a crash loop: systemd restarts the kiosk
