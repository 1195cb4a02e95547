"""社区活动: the list of upcoming activities and one activity's detail with 我要报名.

The list shows the catalogue the district sent (``Store.activities``); until
the district has ever sent one, the catalogue shipped with the kiosk. Each
activity is one big card (a button) with its title, the date in words, the
place and the seats left; full and cancelled ones say so in words. Cards are
paged by what fits on the screen at the current text size (at most four).

The detail screen signs the resident up with their mobile number (the one
given earlier this session, or asked for on the phone screen), catches a
second sign-up for the same activity kindly, and shows the sign-up's status
(confirmed / wait-listed / not successful) once one arrives.

The list hands the chosen activity to the detail screen through the session
(``Session.extras[SELECTED_KEY]``), so nothing outlives the resident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

from kiosk.activities import (
    Activity,
    ActivityStatus,
    date_in_words,
    signup_payload,
    signup_problem,
    upcoming_activities,
)
from kiosk.phone import mask_phone, normalize_phone
from kiosk.problems import problem_text
from kiosk.qt import QtCore, QtGui, QtWidgets
from kiosk.screens.base import Screen, ScreenContext, margins
from kiosk.screens.widgets import FOCUS_MM, PADDING_MM, BigButton
from kiosk.session import PhoneRequest, Session
from kiosk.store import Store, StoreError, StoreFullError
from kiosk.texts import t
from kiosk.theme import TEXT_BODY_MM, TEXT_LABEL_MM, TEXT_TITLE_MM, Metrics

log = logging.getLogger(__name__)

SELECTED_KEY: Final = "activities.selected"
"""``Session.extras`` key of the Activity chosen on the list."""

PAGE_MAX: Final = 4  # cards per page at most, however small the text
MARGIN_MM: Final = 6.0
GAP_MM: Final = 6.5  # a little over the 6 mm floor, so pixel rounding never undercuts it
LINE_GAP_MM: Final = 2.5  # between lines of text (not touch targets): keeps 1.5x text on screen
NAV_BUTTON_MM: Final = (45.0, 22.0)
DEFAULT_CATALOGUE_DAYS: Final = 7  # every weekly series once, without a page of daily tai chi
SIGNUP_SCAN_LIMIT: Final = 1_000_000  # sign-ups are few; the store cannot filter by payload

# District status words for a sign-up (lower case, without '-'/'_') -> our state key.
_STATES: Final[dict[str, str]] = {
    "confirmed": "confirmed",
    "accepted": "confirmed",
    "waitlisted": "waitlisted",
    "waitlist": "waitlisted",
    "waiting": "waitlisted",
    "rejected": "rejected",
    "declined": "rejected",
    "refused": "rejected",
    "failed": "rejected",
}


# -- helpers shared by the activity and feedback screens --------------------------------


def session_of(ctx: ScreenContext) -> Session:
    """The resident's session (created on first use when the app did not provide one)."""
    session = ctx.services.setdefault("session", Session())
    assert isinstance(session, Session)
    return session


def now_of(ctx: ScreenContext) -> datetime:
    """The current time: ``ctx.services["now"]()`` when given (tests), else the local clock."""
    clock = ctx.services.get("now")
    if callable(clock):
        value = clock()
        assert isinstance(value, datetime)
        return value
    return datetime.now().astimezone()


def save_record(ctx: ScreenContext, kind: str, payload: dict[str, Any]) -> str:
    """Save through the app's recorder when there is one (it announces the record), else the store.

    Raises kiosk.store.StoreError when nothing was saved.
    """
    recorder = ctx.services.get("recorder")
    save: Callable[[str, dict[str, Any]], str] | None = getattr(recorder, "save", None)
    if save is not None:
        return save(kind, payload)
    return ctx.store.add(kind, payload)


def store_error_text(exc: StoreError) -> str:
    return t("common.store_full" if isinstance(exc, StoreFullError) else "common.store_error")


def seats_text(activity: Activity) -> str:
    """Seats left, or why there are none, in words."""
    if activity.status is not ActivityStatus.OPEN:
        return t(activity.status.label_key)
    if activity.seats_left is None:
        return t("activities.seats_unlimited")
    if activity.seats_left <= 0:
        return t(ActivityStatus.FULL.label_key)
    return t("activities.seats_left", count=activity.seats_left)


def closed_reason(activity: Activity, now: datetime) -> str | None:
    """The text key saying why nobody can sign up for ``activity`` now, or None."""
    if activity.status is ActivityStatus.CANCELLED:
        return "activities.err_cancelled"
    if activity.status is ActivityStatus.FULL or activity.seats_left == 0:
        return "activities.err_full"
    if activity.starts_at <= now:
        return "activities.err_started"
    return None


def state_key(status: str) -> str | None:
    """Our word for a sign-up status from the district or staff, or None when unknown."""
    return _STATES.get(status.lower().replace("-", "").replace("_", "").strip())


def catalogue(store: Store, now: datetime) -> list[Activity]:
    """The activities to show: the district's upcoming ones, or the shipped catalogue's.

    The shipped catalogue is used only while the district has never sent one
    (no cursor and an empty table); an empty district catalogue stays empty.
    """
    if store.sync_state("activities_cursor") is None and not store.activities():
        return upcoming_activities(now, DEFAULT_CATALOGUE_DAYS)
    found = []
    for row in store.activities(upcoming_from=now):
        try:
            found.append(Activity.from_row(row))
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("activity %r skipped: %s", row.get("id"), exc)
    return found


def wrap_text(text: str, fm: QtGui.QFontMetrics, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width`` px (anywhere: Chinese has no spaces)."""
    if width <= 0 or fm.horizontalAdvance(text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and fm.horizontalAdvance(current + ch) > width:
            lines.append(current.rstrip())
            current = ch.lstrip()
        else:
            current += ch
    if current:
        lines.append(current)
    return lines


# -- the card -----------------------------------------------------------------------------


class ActivityCard(BigButton):
    """One activity as one big button: title, then when and where, then seats or status.

    Long lines wrap to the card's width, and its height follows (height for width).
    Emits ``clicked`` like any button.
    """

    def __init__(self, metrics: Metrics, *, name: str, parent: QtWidgets.QWidget) -> None:
        super().__init__(
            "", metrics, role="activity", min_mm=(40.0, 20.0), name=name, parent=parent
        )
        self.activity: Activity | None = None
        policy = QtWidgets.QSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed
        )
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def show_activity(self, activity: Activity, now: datetime) -> None:
        self.activity = activity
        title, hint = card_texts(activity, now)
        self.set_role("activity" if activity.status is ActivityStatus.OPEN else "neutral")
        self.set_texts(title, hint)
        self.setAccessibleDescription(hint.replace("\n", "，"))

    def _update_minimum(self) -> None:
        # Lines wrap to the width, so only the millimetre floor is a minimum;
        # the height follows the width (heightForWidth) instead.
        w, h = self.min_mm
        self.setMinimumSize(self.metrics.mm(w), self.metrics.mm(h))
        self.updateGeometry()

    def _pad(self) -> int:
        return self.metrics.mm(PADDING_MM + FOCUS_MM)

    def _wrapped(
        self, width: int, texts: tuple[str, str] | None = None
    ) -> list[tuple[str, QtGui.QFont]]:
        """Lines as drawn at ``width``; ``texts`` = (title, hint), by default the shown ones."""
        title, hint = texts if texts is not None else (self.text(), self.hint)
        raw = [(line, self.title_font) for line in title.split("\n")]
        if hint:
            raw += [(line, self.hint_font) for line in hint.split("\n")]
        inner = width - 2 * self._pad() if width > 0 else 0
        lines: list[tuple[str, QtGui.QFont]] = []
        for line, f in raw:
            lines += [(part, f) for part in wrap_text(line, QtGui.QFontMetrics(f), inner)]
        return lines

    def _lines(self) -> list[tuple[str, QtGui.QFont]]:
        return self._wrapped(self.width())

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self.height_for(width)

    def height_for(self, width: int, texts: tuple[str, str] | None = None) -> int:
        """The card's height at ``width`` for ``texts`` (measured only: nothing changes)."""
        lines = self._wrapped(width, texts)
        height = sum(QtGui.QFontMetrics(f).height() for _, f in lines) + 2 * self._pad()
        return max(height, self.minimumHeight())

    def sizeHint(self) -> QtCore.QSize:
        width = max(self.width(), self.minimumWidth())
        return QtCore.QSize(self.minimumWidth(), self.heightForWidth(width))

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.sizeHint()


def card_texts(activity: Activity, now: datetime) -> tuple[str, str]:
    """(title, hint) of a card; the hint has two lines: when and where, then seats."""
    when = date_in_words(activity.starts_at, now)
    first = (
        t("activities.card_when_place", when=when, place=activity.place) if activity.place else when
    )
    return activity.title, f"{first}\n{seats_text(activity)}"


def card_spoken(activity: Activity, now: datetime) -> str:
    return t(
        "activities.card_spoken",
        title=activity.title,
        when=date_in_words(activity.starts_at, now),
        place=activity.place,
        seats=seats_text(activity),
    )


def paginate(heights: Sequence[int], available: int, gap: int, most: int) -> list[list[int]]:
    """Indices of ``heights`` grouped into pages that fit ``available`` px (gaps between).

    A card taller than a page gets a page of its own; no page has more than ``most``.
    """
    pages: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, h in enumerate(heights):
        need = h + (gap if current else 0)
        if current and (used + need > available or len(current) >= most):
            pages.append(current)
            current, used, need = [], 0, h
        current.append(i)
        used += need
    if current:
        pages.append(current)
    return pages


# -- the list ----------------------------------------------------------------------------------


class ActivitiesScreen(Screen):
    """The upcoming activities as big cards, a page at a time, with 上一页 / 下一页.

    Tapping a card (or its digit 1-4 on the keypad) opens ``activity_detail``;
    PageUp / PageDown turn pages. An empty catalogue says 近期没有活动.
    Signals (from Screen): navigate(str).
    """

    name = "activities"
    title_key = "activities.title"

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.activities: list[Activity] = []
        self.pages: list[list[int]] = [[]]
        self.page = 0
        self.now = now_of(ctx)
        layout = self.main_layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(margins(self.metrics, MARGIN_MM))
        layout.setSpacing(self.metrics.mm(GAP_MM))
        self.empty = self.label(
            t("activities.empty"), size_mm=TEXT_TITLE_MM, bold=True, name="activities_empty"
        )
        layout.addWidget(self.empty)
        self.cards: list[ActivityCard] = []
        for i in range(PAGE_MAX):
            card = ActivityCard(self.metrics, name=f"activity_card_{i + 1}", parent=self)
            card.clicked.connect(lambda _=False, c=card: self._open(c.activity))
            card.hide()
            layout.addWidget(card)
            self.cards.append(card)
        layout.addStretch(1)
        self.nav = QtWidgets.QWidget(self)
        self.nav.setObjectName("activities_nav")
        nav = QtWidgets.QHBoxLayout(self.nav)
        nav.setContentsMargins(0, 0, 0, 0)
        nav.setSpacing(self.metrics.mm(GAP_MM))
        self.prev_button = self.button(
            "activities.prev_page", role="neutral", min_mm=NAV_BUTTON_MM, name="activities_prev"
        )
        self.next_button = self.button(
            "activities.next_page", role="primary", min_mm=NAV_BUTTON_MM, name="activities_next"
        )
        self.page_label = self.label("", size_mm=TEXT_BODY_MM, wrap=False, name="activities_page")
        for b in (self.prev_button, self.next_button):
            b.setParent(self.nav)
            keep = b.sizePolicy()
            keep.setRetainSizeWhenHidden(True)  # the other button does not move
            b.setSizePolicy(keep)
        self.page_label.setParent(self.nav)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.page_label, 1)
        nav.addWidget(self.next_button)
        layout.addWidget(self.nav)
        self.prev_button.clicked.connect(lambda: self.turn(-1))
        self.next_button.clicked.connect(lambda: self.turn(1))

    # -- data ----------------------------------------------------------------------------

    def load(self) -> None:
        """Read the catalogue again (the sync may have brought a new one)."""
        self.now = now_of(self.ctx)
        self.activities = catalogue(self.ctx.store, self.now)

    # -- pages ----------------------------------------------------------------------------

    def _available_height(self, with_nav: bool) -> int:
        m = self.main_layout.contentsMargins()
        height = self.height() - m.top() - m.bottom()
        if with_nav:
            height -= self.nav.sizeHint().height() + self.metrics.mm(GAP_MM)
        return height

    def _card_width(self) -> int:
        m = self.main_layout.contentsMargins()
        return self.width() - m.left() - m.right()

    def repaginate(self) -> None:
        """Group the activities into pages that fit; keep the first card of this page in view."""
        first = self.pages[self.page][0] if self.pages and self.pages[self.page] else 0
        measure, width = self.cards[0], self._card_width()
        heights = [measure.height_for(width, card_texts(a, self.now)) for a in self.activities]
        gap = self.metrics.mm(GAP_MM)
        pages = paginate(heights, self._available_height(False), gap, PAGE_MAX)
        if len(pages) > 1:
            pages = paginate(heights, self._available_height(True), gap, PAGE_MAX)
        self.pages = pages or [[]]
        self.page = next((n for n, p in enumerate(self.pages) if first in p), 0)
        self._show_page()

    def _show_page(self) -> None:
        indices = self.pages[self.page]
        for i, card in enumerate(self.cards):
            if i < len(indices):
                card.show_activity(self.activities[indices[i]], self.now)
                card.show()
            else:
                card.activity = None
                card.hide()
        self.empty.setVisible(not self.activities)
        several = len(self.pages) > 1
        self.nav.setVisible(several)
        self.prev_button.setVisible(several and self.page > 0)
        self.next_button.setVisible(several and self.page < len(self.pages) - 1)
        self.page_label.setText(
            t("activities.page", page=self.page + 1, pages=len(self.pages)) if several else ""
        )

    def turn(self, step: int) -> None:
        """Show the previous (-1) or next (+1) page and say what is on it."""
        page = min(max(self.page + step, 0), len(self.pages) - 1)
        if page == self.page:
            return
        self.page = page
        self._show_page()
        visible = [c for c in self.cards if c.isVisibleTo(self)]
        if visible:
            visible[0].setFocus()
        self.speak.emit(self._page_spoken())

    def _open(self, activity: Activity | None) -> None:
        if activity is None:
            return
        session_of(self.ctx).extras[SELECTED_KEY] = activity
        self.navigate.emit("activity_detail")

    # -- Screen --------------------------------------------------------------------------

    def on_enter(self) -> None:
        self.load()
        self.repaginate()
        visible = [c for c in self.cards if c.isVisibleTo(self)]
        (visible[0] if visible else self.empty).setFocus()

    def reset(self) -> None:
        self.page = 0
        self.pages = [[]]
        for card in self.cards:
            card.activity = None
            card.hide()

    def _page_spoken(self) -> str:
        parts = [c.activity for c in self.cards if c.isVisibleTo(self) and c.activity]
        spoken = "".join(card_spoken(a, self.now) for a in parts)
        if len(self.pages) > 1:
            spoken += self.page_label.text() + "。"
        return spoken

    def spoken_text(self) -> str:
        if not self.activities:
            return self.title() + "。" + t("activities.empty")
        return self.title() + "。" + t("activities.list_spoken_hint") + self._page_spoken()

    def handle_key(self, event: QtGui.QKeyEvent) -> bool:
        key = QtCore.Qt.Key(event.key())
        if key == QtCore.Qt.Key.Key_PageDown:
            self.turn(1)
            return True
        if key == QtCore.Qt.Key.Key_PageUp:
            self.turn(-1)
            return True
        text = event.text()
        if text.isascii() and text.isdigit() and 1 <= int(text) <= PAGE_MAX:
            card = self.cards[int(text) - 1]
            if card.isVisibleTo(self):
                card.setFocus()
                card.animateClick()
            return True
        return False

    def apply_metrics(self, metrics: Metrics) -> None:
        super().apply_metrics(metrics)
        self.repaginate()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.activities:
            self.repaginate()


# -- the detail ----------------------------------------------------------------------------------


class ActivityDetailScreen(Screen):
    """One activity in full, with 我要报名 and 看看别的活动.

    我要报名 reuses the number given this session or asks for one on the phone
    screen, then saves a ``signup`` record and says 已报名，等待确认. A second
    sign-up with the same number is caught kindly (nothing saved); full,
    cancelled and started activities say why instead of offering 我要报名.
    The sign-up's status is shown in words once the district or staff set one.

    Signals (from Screen): speak(str) with the outcome; navigate("phone");
    go_back() back to the list.
    """

    name = "activity_detail"
    title_key = "activities.detail_title"

    status_poll_ms = 5000  # how often the shown sign-up's status is read again

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.activity: Activity | None = None
        self.signup_id: str | None = None  # the resident's sign-up for this activity
        self.signup_phone: str | None = None
        self.message = ""  # the outcome of the last tap (signed up, already, why not)
        self.now = now_of(ctx)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(margins(self.metrics, MARGIN_MM))
        outer.setSpacing(self.metrics.mm(GAP_MM))
        self.heading = self.label("", size_mm=TEXT_TITLE_MM, bold=True, name="activity_title")
        outer.addWidget(self.heading)
        # The wrapped text's height-for-width must not push the window past the
        # screen (Qt estimates it at narrower widths than the real ones); the
        # audit still checks that every line fits where it is drawn.
        self.body = QtWidgets.QWidget(self)
        self.body.setObjectName("activity_body")
        self.body.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Ignored
        )
        columns = QtWidgets.QHBoxLayout(self.body)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setSpacing(self.metrics.mm(GAP_MM * 2))
        left = QtWidgets.QVBoxLayout()
        left.setSpacing(self.metrics.mm(LINE_GAP_MM))
        left_align = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        self.when = self.label(
            "", size_mm=TEXT_BODY_MM, bold=True, align=left_align, name="activity_when"
        )
        self.place = self.label("", size_mm=TEXT_BODY_MM, align=left_align, name="activity_place")
        self.seats = self.label(
            "", size_mm=TEXT_BODY_MM, bold=True, align=left_align, name="activity_seats"
        )
        self.description = self.label(
            "", size_mm=TEXT_BODY_MM, align=left_align, name="activity_description"
        )
        for w in (self.when, self.place, self.seats, self.description):
            left.addWidget(w)
        left.addStretch(1)
        right = QtWidgets.QVBoxLayout()
        right.setSpacing(self.metrics.mm(LINE_GAP_MM))
        self.outcome = self.label(
            "", size_mm=TEXT_LABEL_MM, bold=True, align=left_align, name="activity_outcome"
        )
        self.state = self.label(
            "", size_mm=TEXT_BODY_MM, bold=True, align=left_align, name="activity_signup_state"
        )
        self.state_detail = self.label(
            "", size_mm=TEXT_BODY_MM, align=left_align, name="activity_signup_state_detail"
        )
        self.phone_line = self.label(
            "", size_mm=TEXT_BODY_MM, align=left_align, name="activity_signup_phone"
        )
        for w in (self.outcome, self.state, self.state_detail, self.phone_line):
            right.addWidget(w)
        right.addStretch(1)
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        outer.addWidget(self.body, 1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.setSpacing(self.metrics.mm(GAP_MM * 2))
        self.signup_button = self.button(
            "activities.signup", role="activity", min_mm=(80.0, 24.0), name="activity_signup"
        )
        self.others_button = self.button(
            "activities.see_others", role="neutral", min_mm=(60.0, 24.0), name="activity_others"
        )
        buttons.addWidget(self.signup_button)
        buttons.addWidget(self.others_button)
        buttons.addStretch(1)
        outer.addLayout(buttons)
        self.signup_button.clicked.connect(self.sign_up)
        self.others_button.clicked.connect(self.go_back)
        self.poll = QtCore.QTimer(self)
        self.poll.timeout.connect(self._poll)
        self._request: PhoneRequest | None = None

    @property
    def session(self) -> Session:
        return session_of(self.ctx)

    # -- showing ----------------------------------------------------------------------------

    def show_activity(self, activity: Activity) -> None:
        """Show ``activity`` afresh; with a number given this session, its earlier sign-up."""
        self.activity = activity
        self.message = ""
        self.signup_id = None
        self.signup_phone = None
        phone = self.session.phone
        if phone:
            self.signup_id = self._earlier_signup(activity.id, phone)
            self.signup_phone = phone if self.signup_id else None
        self._render()

    def _render(self, status: dict[str, Any] | None = None) -> None:
        """Show the activity and the outcome; the sign-up's status is read from the store."""
        self.now = now_of(self.ctx)
        a = self.activity
        if a is None:
            for lab in (self.heading, self.when, self.place, self.seats, self.description):
                lab.setText("")
            self.heading.setText(t("activities.empty"))
            self._show_outcome("", None)
            self.signup_button.hide()
            return
        self.heading.setText(a.title)
        self.when.setText(t("activities.detail_when", when=date_in_words(a.starts_at, self.now)))
        self.place.setText(t("activities.detail_place", place=a.place) if a.place else "")
        self.place.setVisible(bool(a.place))
        self.seats.setText(seats_text(a))
        self.description.setText(a.description)
        self.description.setVisible(bool(a.description))
        if self.signup_id is not None:
            self._show_outcome(
                self.message or t("activities.signed_up"),
                status or self.ctx.store.latest_status(self.signup_id),
            )
            self.signup_button.hide()
            return
        reason = closed_reason(a, self.now)
        self._show_outcome(self.message or (t(reason) if reason else ""), None)
        self.signup_button.setVisible(reason is None)

    def _poll(self) -> None:
        """Read the sign-up's status again; say it when it changed (e.g. confirmed)."""
        before = self.state.text()
        self._render()
        if self.state.text() and self.state.text() != before:
            self.speak.emit(self.state.text() + "。" + self.state_detail.text())

    def _show_outcome(self, outcome: str, status: dict[str, Any] | None) -> None:
        self.outcome.setText(outcome)
        self.outcome.setVisible(bool(outcome))
        key = state_key(str(status.get("status", ""))) if status else None
        self.state.setText(
            t("activities.signup_state", state=t(f"activities.state_{key}")) if key else ""
        )
        self.state_detail.setText(t(f"activities.update_{key}") if key else "")
        phone = self.signup_phone if self.signup_id else None
        self.phone_line.setText(
            t("activities.signup_phone", phone=mask_phone(phone)) if phone else ""
        )
        for lab in (self.state, self.state_detail, self.phone_line):
            lab.setVisible(bool(lab.text()))
        if self.signup_id is not None and self.isVisible():
            self.poll.start(self.status_poll_ms)
        else:
            self.poll.stop()

    # -- signing up -----------------------------------------------------------------------

    def sign_up(self) -> None:
        """我要报名: with the session's number at once, otherwise after the phone screen."""
        a = self.activity
        if a is None or self.signup_id is not None:
            return
        reason = closed_reason(a, now_of(self.ctx))
        if reason is not None:
            self._say(t(reason))
            return
        phone = self.session.phone
        if phone:
            self._sign_up_with(phone)
            return
        self._request = PhoneRequest(
            "phone.purpose_signup", on_done=self._phone_given, allow_skip=False
        )
        self.session.phone_request = self._request
        self.navigate.emit("phone")

    def _phone_given(self, phone: str | None) -> None:
        self._request = None
        self.go_back.emit()  # back from the phone screen to this one
        if phone:
            self._sign_up_with(phone)

    def _signups(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (r.id, r.payload)
            for r in self.ctx.store.records(kind="signup", limit=SIGNUP_SCAN_LIMIT)
        ]

    def _earlier_signup(self, activity_id: str, phone: str) -> str | None:
        """The newest saved sign-up of ``phone`` for ``activity_id``, or None."""
        wanted = normalize_phone(phone)
        found = None
        for record_id, payload in self._signups():
            same_number = normalize_phone(str(payload.get("phone", ""))) == wanted
            if payload.get("activity_id") == activity_id and same_number:
                found = record_id
        return found

    def _sign_up_with(self, phone: str) -> None:
        a = self.activity
        if a is None:
            return
        earlier = self._earlier_signup(a.id, phone)
        if earlier is not None:
            self.signup_id, self.signup_phone = earlier, phone
            self._say(t("activities.err_already_signed_up"))
            return
        problem = signup_problem(a, phone, now_of(self.ctx))
        if problem is not None:
            self._say(problem_text(problem))
            return
        try:
            record_id = save_record(self.ctx, "signup", signup_payload(a, phone))
        except StoreError as exc:
            log.error("sign-up not saved: %s", exc)
            self._say(store_error_text(exc))
            return
        self.signup_id, self.signup_phone = record_id, phone
        self._say(t("activities.signed_up"))

    def _say(self, sentence: str) -> None:
        self.message = sentence
        self._render()
        self.speak.emit(sentence)

    # -- Screen -----------------------------------------------------------------------------

    def on_enter(self) -> None:
        if self._request is not None and self.session.phone_request is self._request:
            self.session.phone_request = None  # the resident came back without a number
        self._request = None
        chosen = self.session.extras.get(SELECTED_KEY)
        if isinstance(chosen, Activity) and chosen != self.activity:
            self.show_activity(chosen)
        elif self.activity is None:
            # Opened without a choice (e.g. a screenshot): the first upcoming activity.
            listing = catalogue(self.ctx.store, now_of(self.ctx))
            if listing:
                self.show_activity(listing[0])
            else:
                self._render()
        else:
            self._render()
        focus = self.signup_button if self.signup_button.isVisibleTo(self) else self.others_button
        focus.setFocus()

    def demo(self) -> None:
        """The fullest state: signed up, wait-listed, with the (made-up) number masked."""
        listing = catalogue(self.ctx.store, now_of(self.ctx))
        if not listing:
            return
        self.activity = listing[0]
        self.signup_id, self.signup_phone = "demo", "13800001234"
        self.message = t("activities.signed_up")
        self._render(status={"status": "waitlisted"})
        self.poll.stop()

    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        self.poll.stop()
        super().hideEvent(event)

    def reset(self) -> None:
        self.poll.stop()
        self.activity = None
        self.signup_id = None
        self.signup_phone = None
        self.message = ""
        self._request = None
        for lab in (
            self.heading,
            self.when,
            self.place,
            self.seats,
            self.description,
            self.outcome,
            self.state,
            self.state_detail,
            self.phone_line,
        ):
            lab.setText("")

    def spoken_text(self) -> str:
        parts = [
            w.text()
            for w in (
                self.heading,
                self.when,
                self.place,
                self.seats,
                self.description,
                self.outcome,
                self.state,
                self.state_detail,
            )
            if w.isVisibleTo(self) and w.text()
        ]
        parts += [b.text() for b in self.visible_buttons()]
        return "。".join(p.rstrip("。") for p in parts) + "。"
