"""代办: a proxy-service request entered by staff for a resident, and the open requests.

Left: the form — the service (社保认证, 医保报销, 养老金/社保缴费, 证件办理,
水电燃气缴费, 上门服务, 其他; the chosen one is marked ● as well as coloured),
the resident's name, mobile number, the address (上门服务 only) and a note;
保存 saves a ``proxy`` record (``visit`` for 上门服务). Right: the open requests
with the status the district sent back, each with 已办结; while a valid mobile
number is in the form, the right side lists that resident's earlier items on
this kiosk instead.

Signals: feedback_wanted(str record id, str kind) after 已办结.
"""

from __future__ import annotations

import logging
from typing import Final

from kiosk.phone import is_valid_phone, normalize_phone, phone_problem
from kiosk.problems import problem_text
from kiosk.qt import QtWidgets, Signal
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
from kiosk.screens.staff_queue import kind_text, status_text, when_text
from kiosk.screens.widgets import BigButton
from kiosk.staff import queue
from kiosk.staff.accounts import StaffAccounts
from kiosk.store import StoreError
from kiosk.texts import t

log = logging.getLogger(__name__)

ROWS: Final = 4
SERVICE_COLUMNS: Final = 3


def service_text(code: str) -> str:
    return t(f"staff.service_{code}")


def item_line(item: queue.Item) -> str:
    what = str(item.payload.get("service") or kind_text(item.kind))
    who = " ".join(x for x in (item.resident_name, item.phone) if x)
    status = status_text(item.status)
    if item.status_note:
        status = f"{status}（{item.status_note}）"
    return t("staff.item_line", when=when_text(item.created_at), what=what, who=who, status=status)


class ProxyRow(QtWidgets.QFrame):
    """One item: a line of text and, for an open proxy request, 已办结."""

    def __init__(self, screen: StaffProxyScreen, index: int) -> None:
        super().__init__(screen)
        m = screen.metrics
        self.item: queue.Item | None = None
        self._screen = screen
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(m.mm(STAFF_GAP_MM))
        self.text = staff_label(self, m, "", name=f"staff_proxy_item_{index}")
        self.close_button = staff_button(
            self, m, t("staff.close_item"), name=f"staff_proxy_close_{index}"
        )
        self.close_button.set_role("health")
        row.addWidget(self.text, 1)
        row.addWidget(self.close_button)
        self.close_button.clicked.connect(self._close)

    def _close(self) -> None:
        if self.item is not None:
            self._screen.close_item(self.item)

    def show_item(self, item: queue.Item | None, closable: bool) -> None:
        self.item = item
        self.text.setText(item_line(item) if item is not None else "")
        self.setVisible(item is not None)
        self.close_button.setVisible(closable)


class StaffProxyScreen(StaffScreen):
    """The proxy-request form and list (see the module docstring)."""

    name = "staff_proxy"
    title_key = "staff.proxy_title"

    feedback_wanted = Signal(str, str)
    saved = Signal(str, str)  # record id, kind

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        m = self.metrics
        self.service: str | None = None
        self.items: list[queue.Item] = []
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(margins(m, STAFF_MARGIN_MM))
        row.setSpacing(m.mm(12))
        form = QtWidgets.QVBoxLayout()
        form.setSpacing(m.mm(STAFF_GAP_MM))
        grid = QtWidgets.QGridLayout()
        grid.setSpacing(m.mm(STAFF_GAP_MM))
        self.service_buttons: dict[str, BigButton] = {}
        for i, code in enumerate(queue.SERVICES):
            b = staff_button(self, m, service_text(code), name=f"staff_proxy_service_{code}")
            b.set_role("neutral")
            b.clicked.connect(lambda _=False, c=code: self.choose(c))
            grid.addWidget(b, i // SERVICE_COLUMNS, i % SERVICE_COLUMNS)
            self.service_buttons[code] = b
        form.addLayout(grid)
        self.name_edit = StaffLineEdit(
            m, name="staff_proxy_name", placeholder=t("staff.name_placeholder"), parent=self
        )
        self.phone_edit = StaffLineEdit(
            m,
            name="staff_proxy_phone",
            placeholder=t("staff.phone_placeholder"),
            digits=True,
            max_length=11,
            parent=self,
        )
        self.address_edit = StaffLineEdit(
            m, name="staff_proxy_address", placeholder=t("staff.address_placeholder"), parent=self
        )
        self.note_edit = StaffLineEdit(
            m, name="staff_proxy_note", placeholder=t("staff.note_placeholder"), parent=self
        )
        fields = QtWidgets.QGridLayout()
        fields.setHorizontalSpacing(m.mm(STAFF_GAP_MM))
        fields.setVerticalSpacing(m.mm(STAFF_GAP_MM))
        for i, (key, edit) in enumerate(
            (
                ("staff.name_label", self.name_edit),
                ("staff.phone_label", self.phone_edit),
                ("staff.address_label", self.address_edit),
                ("staff.note_label", self.note_edit),
            )
        ):
            lab = staff_label(self, m, t(key), name=f"staff_proxy_label_{i}", wrap=False)
            fields.addWidget(lab, i // 2, (i % 2) * 2)
            fields.addWidget(edit, i // 2, (i % 2) * 2 + 1)
        form.addLayout(fields)
        bottom = QtWidgets.QHBoxLayout()
        bottom.setSpacing(m.mm(STAFF_GAP_MM))
        self.message = staff_label(self, m, "", name="staff_proxy_message", bold=True)
        self.save_button = staff_button(self, m, t("staff.save"), name="staff_proxy_save")
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.save_button)
        form.addLayout(bottom)
        form.addStretch(1)
        row.addLayout(form, 3)
        side = QtWidgets.QVBoxLayout()
        side.setSpacing(m.mm(STAFF_GAP_MM))
        self.list_title = staff_label(
            self, m, t("staff.open_items"), name="staff_proxy_list_title", size_mm=STAFF_TITLE_MM
        )
        side.addWidget(self.list_title)
        self.rows = [ProxyRow(self, i) for i in range(ROWS)]
        for r in self.rows:
            side.addWidget(r)
        side.addStretch(1)
        row.addLayout(side, 2)
        self.save_button.clicked.connect(self.save)
        self.phone_edit.textChanged.connect(lambda _text: self.refresh_list())

    # -- the form ---------------------------------------------------------------------------

    def choose(self, code: str) -> None:
        self.service = code
        for c, b in self.service_buttons.items():
            b.set_role("primary" if c == code else "neutral")
            b.set_texts(("● " if c == code else "") + service_text(c))
        self.address_edit.setEnabled(code == queue.HOME_VISIT)

    def _problem(self) -> str | None:
        if self.service is None:
            return t("staff.need_service")
        raw = self.phone_edit.text().strip()
        if raw:
            problem = phone_problem(raw)
            if problem is not None:
                return t("staff.bad_phone", problem=problem_text(problem))
        if self.service == queue.HOME_VISIT and not self.address_edit.text().strip():
            return t("staff.need_address")
        return None

    def save(self) -> str | None:
        """保存: the request as a new record; returns its id (None when refused)."""
        problem = self._problem()
        if problem is not None or self.service is None:
            self.message.setText(problem or "")
            return None
        staff = self.staff_name()
        kind, payload = queue.proxy_payload(
            self.service,
            service_text=service_text(self.service),
            resident_name=self.name_edit.text(),
            phone=normalize_phone(self.phone_edit.text()),
            address=self.address_edit.text(),
            note=self.note_edit.text(),
            staff=staff,
        )
        try:
            record_id: str = self.ctx.services["recorder"].save(kind, payload)
            self._log("proxy_saved", self.service)
        except StoreError as exc:
            log.error("proxy request not saved: %s", exc)
            self.message.setText(str(exc))
            return None
        self.message.setText(t("staff.saved", service=service_text(self.service)))
        self.saved.emit(record_id, kind)
        self._clear_form(keep_phone=True)
        self.refresh_list()
        return record_id

    def _clear_form(self, *, keep_phone: bool) -> None:
        self.service = None
        for c, b in self.service_buttons.items():
            b.set_role("neutral")
            b.set_texts(service_text(c))
        for edit in (self.name_edit, self.address_edit, self.note_edit):
            edit.clear()
        self.address_edit.setEnabled(False)
        if not keep_phone:
            self.phone_edit.clear()

    def _log(self, action: str, detail: str) -> None:
        accounts = self.ctx.services.get("staff_accounts")
        staff = self.staff_name()
        if isinstance(accounts, StaffAccounts) and staff:
            accounts.log(staff, action, detail)

    # -- the list ---------------------------------------------------------------------------

    def refresh_list(self) -> None:
        phone = normalize_phone(self.phone_edit.text())
        if is_valid_phone(phone):
            self.list_title.setText(t("staff.earlier_items"))
            self.items = queue.items_for_phone(self.ctx.store, phone)
        else:
            self.list_title.setText(t("staff.open_items"))
            self.items = queue.open_proxy_items(self.ctx.store)
        if not self.items:
            self.list_title.setText(f"{self.list_title.text()}：{t('staff.no_items')}")
        self._show_rows()

    def _show_rows(self) -> None:
        for i, r in enumerate(self.rows):
            item = self.items[i] if i < len(self.items) else None
            closable = (
                item is not None
                and item.payload.get("service") is not None
                and item.status not in queue.PROXY_CLOSED
            )
            r.show_item(item, closable)

    def close_item(self, item: queue.Item) -> None:
        """已办结: a visit record and the status done; then the resident rates the service."""
        try:
            queue.close_proxy(
                self.ctx.store,
                self.ctx.services["recorder"].save,
                item,
                staff=self.staff_name(),
                note=self.note_edit.text(),
            )
            self._log("proxy_closed", item.kind)
        except StoreError as exc:
            log.error("proxy close not saved: %s", exc)
            self.message.setText(str(exc))
            return
        self.feedback_wanted.emit(item.id, item.kind)

    # -- Screen -----------------------------------------------------------------------------

    def on_enter(self) -> None:
        self.refresh_list()
        self.name_edit.setFocus()

    def reset(self) -> None:
        self._clear_form(keep_phone=False)
        self.message.setText("")
        self.items = []
        for r in self.rows:
            r.show_item(None, False)

    def demo(self) -> None:
        self.reset()
        self.choose(queue.HOME_VISIT)
        self.name_edit.setText("王秀兰")
        self.phone_edit.blockSignals(True)
        self.phone_edit.setText("13812345678")
        self.phone_edit.blockSignals(False)
        self.address_edit.setText("幸福小区 3 栋 2 单元 501")
        self.note_edit.setText("腿脚不便，周二上午")
        self.list_title.setText(t("staff.earlier_items"))
        self.items = [
            queue.Item(
                f"d{i}",
                "proxy",
                f"2025-03-0{i + 1}T10:00:00+08:00",
                {"service": service_text(code), "resident_name": "王秀兰", "phone": "13812345678"},
                status,
                "",
                "district",
            )
            for i, (code, status) in enumerate(
                (("pension_auth", "accepted"), ("medical_claim", None), ("payment", "done"))
            )
        ]
        self._show_rows()
        self.message.setText(t("staff.saved", service=service_text("pension_auth")))
