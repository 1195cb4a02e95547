"""Crash resilience: a private rotating log, and uncaught exceptions turned into a calm recovery.

* :func:`setup_logging` adds ``<data dir>/logs/kiosk.log`` (mode 0600, 5 x 1 MB) to the root
  logger. The log is for district IT, so it must never hold personal data: exceptions are
  written as their type and stack frames only (an exception's message may quote a payload),
  and :class:`PhoneMaskFilter` masks anything that looks like a mainland mobile number in
  every message, as a second line of defence.
* :func:`install` replaces ``sys.excepthook`` (PySide6 calls it for an exception raised in a
  slot) and ``threading.excepthook`` (an exception that ends a worker thread). Each uncaught
  exception is logged and the app's recovery callback (show 「出了点小问题…」 and go home) runs
  on the UI thread, delivered through a queued Qt signal so a worker's exception hops threads.
  If exceptions keep coming (a loop the callback cannot break), the guard stops the event loop
  with :data:`EXIT_CRASH_LOOP` and systemd's ``Restart=always`` starts a fresh kiosk.

No widgets here: the callback belongs to the composition root.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Final

from kiosk.paths import ensure_private_dir
from kiosk.qt import QtCore, Signal, Slot

log = logging.getLogger(__name__)

LOG_DIR: Final = "logs"
LOG_NAME: Final = "kiosk.log"
LOG_MAX_BYTES: Final = 1_000_000
LOG_BACKUPS: Final = 5
LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"
# Exit status when exceptions repeat faster than recovery helps (EX_SOFTWARE).
EXIT_CRASH_LOOP: Final = 70

# A mainland mobile number (11 digits starting 13-19), not inside a longer digit run.
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PHONE_MASK: Final = "1**********"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def mask_phones(text: str) -> str:
    """``text`` with every 11-digit mobile number replaced by a mask."""
    return _PHONE.sub(PHONE_MASK, text)


class PhoneMaskFilter(logging.Filter):
    """Masks mobile numbers in a record's formatted message (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def describe_exception(exc: BaseException) -> str:
    """A traceback with types and frames but no exception messages (they may quote data).

    Chained exceptions (``raise ... from``, or raised while handling another) are
    included, oldest first, as the standard traceback prints them.
    """
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception:"
        else:
            current = None
    lines: list[str] = []
    for item, next_link in reversed(chain):
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(item.__traceback__))
        kind = type(item)
        lines.append(f"{kind.__module__}.{kind.__qualname__} (message withheld)\n")
        if next_link:
            lines.append(f"\n{next_link}\n\n")
    return "".join(lines).rstrip("\n")


class PrivateFormatter(logging.Formatter):
    """The log file's formatter: exceptions without their messages, phones masked."""

    def formatException(self, ei: object) -> str:
        if isinstance(ei, tuple) and len(ei) == 3 and isinstance(ei[1], BaseException):
            return describe_exception(ei[1])
        return "(exception details unavailable)"

    def format(self, record: logging.LogRecord) -> str:
        # Another handler (stderr) may have cached its full traceback in exc_text: format
        # our own, then leave the record as we found it.
        cached = record.exc_text
        record.exc_text = None
        try:
            return mask_phones(super().format(record))
        finally:
            record.exc_text = cached


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files (the current one and each new one) are mode 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # an older file made with a looser umask
        return open(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


def log_path(data_dir: Path) -> Path:
    return data_dir / LOG_DIR / LOG_NAME


def setup_logging(
    data_dir: Path, *, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS
) -> logging.Handler:
    """Add the private rotating log file to the root logger (INFO and up); return its handler.

    Also puts :class:`PhoneMaskFilter` on the root logger's other handlers (stderr, which
    systemd sends to the journal). Calling it again for the same file changes nothing.
    """
    path = log_path(data_dir)
    ensure_private_dir(data_dir)
    ensure_private_dir(path.parent)
    root = logging.getLogger()
    for existing in root.handlers:
        if isinstance(existing, PrivateRotatingFileHandler) and existing.baseFilename == str(path):
            return existing
    handler = PrivateRotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.setFormatter(PrivateFormatter(LOG_FORMAT))
    handler.setLevel(logging.INFO)
    for other in root.handlers:
        if not any(isinstance(f, PhoneMaskFilter) for f in other.filters):
            other.addFilter(PhoneMaskFilter())
    handler.addFilter(PhoneMaskFilter())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


class _Relay(QtCore.QObject):
    """Lives on the UI thread; ``crashed`` is always delivered there (queued)."""

    crashed = Signal(str)

    def __init__(self, callback: Callable[[], None]) -> None:
        super().__init__()
        self._callback = callback
        self.crashed.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)

    @Slot(str)
    def _deliver(self, where: str) -> None:
        self._callback()


class CrashGuard:
    """The installed hooks: logs each uncaught exception and asks the UI thread to recover.

    Created by :func:`install`; :meth:`uninstall` puts the previous hooks back (call it
    after the event loop has ended, before widgets go away).
    """

    def __init__(
        self,
        app_callback: Callable[[], None],
        *,
        max_burst: int = 5,
        burst_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = app_callback
        self._relay = _Relay(self._recover)
        self._max_burst = max_burst
        self._burst_seconds = burst_seconds
        self._clock = clock
        self._recent: deque[float] = deque(maxlen=max_burst)
        self._lock = threading.Lock()
        self._recovering = False
        self.crashes = 0  # how many uncaught exceptions were handled (for tests and staff)
        self._old_sys = sys.excepthook
        self._old_threading = threading.excepthook
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        if sys.excepthook == self._sys_hook:
            sys.excepthook = self._old_sys
        if threading.excepthook == self._thread_hook:
            threading.excepthook = self._old_threading

    # -- the hooks (any thread) ---------------------------------------------------

    def _sys_hook(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt | SystemExit):
            self._old_sys(kind, exc, tb)
            return
        self._handle((kind, exc, tb), threading.current_thread().name)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return  # a thread may end itself with SystemExit, as the default hook allows
        name = args.thread.name if args.thread is not None else "unknown thread"
        self._handle((args.exc_type, args.exc_value, args.exc_traceback), name)

    def _handle(self, info: ExcInfo, where: str) -> None:
        with self._lock:
            self.crashes += 1
            now = self._clock()
            self._recent.append(now)
            loop = (
                len(self._recent) == self._max_burst
                and now - self._recent[0] <= self._burst_seconds
            )
        log.critical("uncaught %s in %s", info[0].__qualname__, where, exc_info=info)
        if loop:
            log.critical(
                "%d uncaught exceptions within %.0f s: exiting (%d) for a clean restart",
                self._max_burst,
                self._burst_seconds,
                EXIT_CRASH_LOOP,
            )
            app = QtCore.QCoreApplication.instance()
            if app is not None:
                app.exit(EXIT_CRASH_LOOP)  # thread-safe: posts to the UI thread's loop
            return
        self._relay.crashed.emit(where)

    # -- the UI thread ---------------------------------------------------------

    def _recover(self) -> None:
        if self._recovering:
            return
        self._recovering = True
        try:
            self._callback()
        except Exception:
            # The recovery itself failed: log it and let the next crash try again; raising
            # here would come straight back into the hook.
            log.critical("the crash recovery callback failed", exc_info=sys.exc_info())
        finally:
            self._recovering = False


def install(app_callback: Callable[[], None], **options: float) -> CrashGuard:
    """Route every uncaught exception (slots, workers) to the log and ``app_callback``.

    Call on the UI thread after the QApplication exists. ``app_callback`` runs on the UI
    thread, once per uncaught exception; it should show the calm message and go home.
    Options: ``max_burst`` (5) crashes within ``burst_seconds`` (60) end the event loop
    with :data:`EXIT_CRASH_LOOP` instead.
    """
    return CrashGuard(
        app_callback,
        max_burst=int(options.get("max_burst", 5)),
        burst_seconds=float(options.get("burst_seconds", 60.0)),
    )
