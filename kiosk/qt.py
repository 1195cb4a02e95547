"""The one place the Qt binding is imported.

Everything else imports the Qt modules from here, so a change of binding or a
workaround for a binding bug happens in one file. Core modules may use QtCore
(signals, timers) but never QtWidgets.
"""

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Signal, Slot

__all__ = ["QtCore", "QtGui", "QtWidgets", "Signal", "Slot"]
