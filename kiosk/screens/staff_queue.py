"""待处理: open calls (with the time waited, live), health alerts and sign-ups to confirm.

Each row has 我来处理 (taken) and 已完成 (done); the note field above applies to
the next action. Each action is a new ``visit`` record plus a local status
(kiosk.staff.queue.mark); the open call goes through the call desk so the
resident's call screen and banner follow. 已完成 on a call or a health alert
hands the screen to the resident for the satisfaction question.

Signals: feedback_wanted(str record id, str kind), acted(str kind, str status).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

from kiosk.calls import CallDesk
from kiosk.qt import QtCore, QtGui, QtWidgets, Signal
from kiosk.screens.base import ScreenContext, margins
from kiosk.screens.staff import (
    STAFF_GAP_MM,
    STAFF_MARGIN_MM,
    STAFF_TITLE_MM,
    StaffLineEdit,
    StaffScreen,
    staff_button,
    staff_label,
)
from kiosk.staff import queue
from kiosk.staff.accounts import StaffAccounts
from kiosk.store import StoreError
from kiosk.texts import t

log = logging.getLogger(__name__)

ROWS: Final = 4
FEEDBACK_KINDS: Final = frozenset({"call", "health"})  # a resident was served at the counter


def status_text(status: str | None) -> str:
    try:
        return t(f"staff.status_{status or 'none'}")
    except KeyError:
        return str(status)


def when_text(created_at: str) -> str:
    try:
        return datetime.fromisoformat(created_at).astimezone().strftime("%m-%d %H:%M")
    except ValueError:
        return created_at[:16]


def waited_text(seconds: float) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    return t("staff.waited", minutes=minutes, seconds=secs)


def detail_text(item: queue.Item) -> str:
    p = item.payload
    if item.kind == "health":
        values = p.get("values") or {}
        nums = [
            str(v.get("value")) if isinstance(v, dict) else str(v)
            for v in values.values()
            if v is not None
        ]
        return "/".join(nums) or str(p.get("level") or "")
    if item.kind == "signup":
        return t("staff.signup_detail", title=p.get("title") or "", phone=item.phone)
    return item.resident_name


def kind_text(kind: str) -> str:
    try:
        return t(f"staff.kind_{kind}")
    except KeyError:
        return kind


class QueueRow(QtWidgets.QFrame):
    """One waiting item: what and since when, its status, 我来处理 and 已完成."""

    def __init__(self, screen: StaffQueueScreen, index: int) -> None:
        super().__init__(screen)
        m = screen.metrics
        self.item: queue.Item | None = None
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(m.mm(STAFF_GAP_MM))
        self.text = staff_label(self, m, "", name=f"staff_queue_text_{index}", wrap=True)
        self.take = staff_button(self, m, t("staff.take"), name=f"staff_queue_take_{index}")
        self.done = staff_button(self, m, t("staff.done"), name=f"staff_queue_done_{index}")
        self.done.set_role("health")
        row.addWidget(self.text, 1)
        row.addWidget(self.take)
        row.addWidget(self.done)
        self.screen_ = screen
        self.take.clicked.connect(lambda: self._act("taken"))
        self.done.clicked.connect(lambda: self._act("done"))

    def _act(self, status: str) -> None:
        if self.item is not None:
            self.screen_.act(self.item, status)

    def show_item(self, item: queue.Item | None, line: str) -> None:
        self.item = item
        self.text.setText(line)
        self.setVisible(item is not None)
        if item is not None:
            self.take.setVisible(item.status not in ("taken", "acknowledged", "dispatched"))


class StaffQueueScreen(StaffScreen):
    """The staff queue (see the module docstring)."""

    name = "staff_queue"
    title_key = "staff.queue_title"

    feedback_wanted = Signal(str, str)
    acted = Signal(str, str)

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        m = self.metrics
        self.items: list[queue.Item] = []
        self.page = 0
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(margins(m, STAFF_MARGIN_MM))
        col.setSpacing(m.mm(STAFF_GAP_MM))
        top = QtWidgets.QHBoxLayout()
        top.setSpacing(m.mm(STAFF_GAP_MM))
        self.count = staff_label(self, m, "", name="staff_queue_count", size_mm=STAFF_TITLE_MM)
        self.note = StaffLineEdit(
            m, name="staff_queue_note", placeholder=t("staff.note_placeholder"), parent=self
        )
        top.addWidget(self.count)
        top.addWidget(self.note, 1)
        col.addLayout(top)
        self.rows = [QueueRow(self, i) for i in range(ROWS)]
        for r in self.rows:
            col.addWidget(r)
        col.addStretch(1)
        self.message = staff_label(self, m, "", name="staff_queue_message", bold=True)
        col.addWidget(self.message)
        pages = QtWidgets.QHBoxLayout()
        pages.setSpacing(m.mm(STAFF_GAP_MM))
        self.prev_button = staff_button(self, m, t("staff.prev_page"), name="staff_queue_prev")
        self.next_button = staff_button(self, m, t("staff.next_page"), name="staff_queue_next")
        for b in (self.prev_button, self.next_button):
            b.set_role("neutral")
        pages.addStretch(1)
        pages.addWidget(self.prev_button)
        pages.addWidget(self.next_button)
        col.addLayout(pages)
        self.prev_button.clicked.connect(lambda: self.turn(-1))
        self.next_button.clicked.connect(lambda: self.turn(1))
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)

    # -- data -----------------------------------------------------------------------------

    @property
    def desk(self) -> CallDesk | None:
        desk = self.ctx.services.get("calls")
        return desk if isinstance(desk, CallDesk) else None

    def refresh(self) -> None:
        self.items = queue.queue(self.ctx.store)
        self.page = min(self.page, max(0, (len(self.items) - 1) // ROWS))
        self.show_page()

    def show_page(self) -> None:
        shown = self.items[self.page * ROWS : (self.page + 1) * ROWS]
        for i, row in enumerate(self.rows):
            item = shown[i] if i < len(shown) else None
            row.show_item(item, self.line(item) if item else "")
        self.count.setText(
            t("staff.queue_count", count=len(self.items)) if self.items else t("staff.queue_empty")
        )
        self.prev_button.setVisible(self.page > 0)
        self.next_button.setVisible((self.page + 1) * ROWS < len(self.items))

    def waited_seconds(self, item: queue.Item) -> float:
        desk = self.desk
        if desk is not None and item.id == desk.open_id:
            return desk.waited_seconds()
        try:
            created = datetime.fromisoformat(item.created_at)
        except ValueError:
            return 0.0
        return (datetime.now().astimezone() - created).total_seconds()

    def line(self, item: queue.Item) -> str:
        parts = [kind_text(item.kind), detail_text(item)]
        if item.kind == "call":
            parts.append(waited_text(self.waited_seconds(item)))
        else:
            parts.append(when_text(item.created_at))
        parts.append(status_text(item.status))
        if item.status_note:
            parts.append(item.status_note)
        return "  ".join(p for p in parts if p)

    def tick(self) -> None:
        """Live waiting times (every second while shown)."""
        for row in self.rows:
            if row.item is not None:
                row.text.setText(self.line(row.item))

    def turn(self, step: int) -> None:
        self.page = max(0, self.page + step)
        self.show_page()

    # -- actions ----------------------------------------------------------------------------

    def act(self, item: queue.Item, status: str) -> None:
        """我来处理 / 已完成 on one item: a visit record and the status (see the docstring)."""
        staff = self.staff_name()
        note = self.note.text()
        recorder = self.ctx.services["recorder"]
        desk = self.desk
        via_desk = desk is not None and item.kind == "call" and item.id == desk.open_id
        try:
            queue.mark(
                self.ctx.store,
                recorder.save,
                item,
                status,
                staff=staff,
                note=note,
                add_status=not via_desk,
            )
            accounts = self.ctx.services.get("staff_accounts")
            if isinstance(accounts, StaffAccounts) and staff:
                accounts.log(staff, f"queue_{status}", item.kind)
        except StoreError as exc:
            log.error("queue action not saved: %s", exc)
            self.message.setText(str(exc))
            return
        self.note.clear()
        self.message.setText(
            t("staff.marked", what=f"{kind_text(item.kind)} {status_text(status)}")
        )
        self.acted.emit(item.kind, status)
        if via_desk:
            assert desk is not None
            desk.mark(status, note.strip())  # done: the app asks the resident at once
        elif status == "done" and item.kind in FEEDBACK_KINDS:
            self.feedback_wanted.emit(item.id, item.kind)
            return
        if self.isVisible():
            self.refresh()

    # -- Screen -----------------------------------------------------------------------------

    def on_enter(self) -> None:
        self.message.setText("")
        self.refresh()
        self.timer.start()

    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def reset(self) -> None:
        self.timer.stop()
        self.items = []
        self.page = 0
        self.note.clear()
        self.message.setText("")
        for row in self.rows:
            row.show_item(None, "")

    def demo(self) -> None:
        demo = [
            queue.Item("d1", "call", "", {"source": "button"}, None, "", ""),
            queue.Item(
                "d2",
                "health",
                "2025-03-01T09:20:00+08:00",
                {"values": {"systolic": {"value": 182}, "diastolic": {"value": 112}}},
                None,
                "",
                "",
            ),
            queue.Item(
                "d3",
                "signup",
                "2025-03-01T09:30:00+08:00",
                {"title": "银龄课堂 智能手机课", "phone": "13812345678"},
                "taken",
                "",
                "local",
            ),
        ]
        self.items = demo
        self.page = 0
        self.show_page()
        self.rows[0].text.setText(
            "  ".join([kind_text("call"), waited_text(125), status_text(None)])
        )
        self.note.setText("已电话联系家属")
