"""Crash resilience (kiosk/crash.py): uncaught exceptions in slots and workers are logged
privately and the recovery callback runs on the UI thread; the log rotates and holds no phones."""

from __future__ import annotations

import logging
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import crash
from kiosk.qt import QtCore, QtWidgets

PHONE = "13812345678"
# Built at run time: the traceback's source lines must not contain what the test looks for.
SECRET = "".join(["resident ", "张三 ", PHONE])


class BoomError(RuntimeError):
    pass


@pytest.fixture
def crash_log(data_dir: Path) -> Iterator[Path]:
    handler = crash.setup_logging(data_dir)
    yield crash.log_path(data_dir)
    logging.getLogger().removeHandler(handler)
    handler.close()


@pytest.fixture
def guard(qapp) -> Iterator[tuple[crash.CrashGuard, list[str]]]:
    calls: list[str] = []

    def recover() -> None:
        calls.append(threading.current_thread().name)

    g = crash.install(recover)
    yield g, calls
    g.uninstall()


def read(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_exception_in_timer_slot_is_logged_and_recovered(qtbot, crash_log, guard):
    g, calls = guard

    def slot() -> None:
        raise BoomError(SECRET)

    QtCore.QTimer.singleShot(0, slot)
    qtbot.waitUntil(lambda: calls == ["MainThread"], timeout=3000)
    text = read(crash_log)
    assert "uncaught BoomError in MainThread" in text
    assert "test_crash.py" in text and "in slot" in text  # the frames are there
    assert "tests.test_crash.BoomError (message withheld)" in text
    assert SECRET not in text and "张三" not in text and PHONE not in text
    assert g.crashes == 1


def test_exception_in_button_click_is_logged_and_recovered(qtbot, crash_log, guard):
    _g, calls = guard
    button = QtWidgets.QPushButton("x")
    qtbot.addWidget(button)

    def clicked() -> None:
        raise KeyError(SECRET)

    button.clicked.connect(clicked)
    button.click()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=3000)
    text = read(crash_log)
    assert "uncaught KeyError in MainThread" in text
    assert "张三" not in text


def test_exception_in_worker_thread_hops_to_ui_thread(qtbot, crash_log, guard):
    g, calls = guard

    def work() -> None:
        raise BoomError(SECRET)

    worker = threading.Thread(target=work, name="synth-worker")
    worker.start()
    worker.join(5)
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=3000)
    assert calls == ["MainThread"]  # the callback ran on the UI thread, not the worker
    text = read(crash_log)
    assert "uncaught BoomError in synth-worker" in text
    assert PHONE not in text
    assert g.crashes == 1


def test_chained_exceptions_keep_frames_not_messages(crash_log):
    def inner() -> None:
        raise ValueError(SECRET)

    try:
        try:
            inner()
        except ValueError as exc:
            raise BoomError(SECRET[::-1]) from exc
    except BoomError:
        logging.getLogger("kiosk.test").exception("saving failed")
    text = read(crash_log)
    assert "builtins.ValueError (message withheld)" in text
    assert "direct cause" in text and "in inner" in text
    assert "张三" not in text and PHONE not in text


def test_phone_numbers_are_masked_in_messages(crash_log):
    logging.getLogger("kiosk.test").warning("sign-up for %s by %s", "act-1", PHONE)
    logging.getLogger("kiosk.test").warning("id 2013812345678901 is not a phone")
    text = read(crash_log)
    assert f"by {PHONE}" not in text
    assert "sign-up for act-1 by 1**********" in text
    assert "2013812345678901" in text


def test_log_file_is_private_and_rotates(data_dir: Path):
    handler = crash.setup_logging(data_dir, max_bytes=2000, backups=2)
    try:
        assert crash.setup_logging(data_dir) is handler  # idempotent
        logger = logging.getLogger("kiosk.test")
        for i in range(200):
            logger.info("record %d kind call", i)
        handler.flush()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    logs = data_dir / "logs"
    files = sorted(p.name for p in logs.iterdir())
    assert files == ["kiosk.log", "kiosk.log.1", "kiosk.log.2"]
    for name in files:
        assert stat.S_IMODE((logs / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    assert all((logs / n).stat().st_size <= 2000 for n in files)


def test_a_failing_callback_is_logged_not_looped(qtbot, crash_log):
    calls: list[int] = []

    def recover() -> None:
        calls.append(1)
        raise BoomError("recovery broke")

    g = crash.install(recover)
    try:
        QtCore.QTimer.singleShot(0, lambda: (_ for _ in ()).throw(BoomError("first")))
        qtbot.waitUntil(lambda: "the crash recovery callback failed" in read(crash_log))
    finally:
        g.uninstall()
    assert calls == [1]
    assert g.crashes == 1


def test_a_crash_loop_ends_the_event_loop(qtbot, crash_log, qapp):
    calls: list[int] = []
    g = crash.CrashGuard(lambda: calls.append(1), max_burst=3, burst_seconds=60)
    codes: list[int] = []
    try:
        loop = QtCore.QEventLoop()
        for _ in range(3):
            QtCore.QTimer.singleShot(0, lambda: (_ for _ in ()).throw(BoomError("again")))
        # QCoreApplication.exit() ends the innermost running loop: this one.
        QtCore.QTimer.singleShot(5000, lambda: loop.exit(-1))
        codes.append(loop.exec())
    finally:
        g.uninstall()
        # QCoreApplication.exit() also marks the thread as quitting, so every later
        # QEventLoop.exec() (qtbot.waitSignal in other tests) would return at once.
        # QCoreApplication.exec() clears that mark: run it for one turn.
        QtCore.QTimer.singleShot(0, qapp.quit)
        qapp.exec()
    assert codes == [crash.EXIT_CRASH_LOOP]
    assert g.crashes == 3
    assert "exiting (70) for a clean restart" in read(crash_log)


def test_uninstall_restores_the_hooks(qapp):
    before = (sys.excepthook, threading.excepthook)
    g = crash.install(lambda: None)
    assert sys.excepthook != before[0]
    g.uninstall()
    assert (sys.excepthook, threading.excepthook) == before
