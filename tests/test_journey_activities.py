"""社区活动 end to end on the real app: the list, paging, detail, 我要报名 with the phone pad,
double sign-ups, full and cancelled activities, status updates, forgetting, and the audit."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kiosk.activities import Activity, signup_payload
from kiosk.qt import QtCore, QtWidgets
from kiosk.screens.audit import audit_view
from kiosk.screens.inventory import inventory, view_facts
from kiosk.screens.widgets import BigButton
from kiosk.store import StoreFullError
from kiosk.texts import t
from kiosk.theme import Metrics
from sync.protocol import check_record

LEFT = QtCore.Qt.MouseButton.LeftButton
CST = timezone(timedelta(hours=8))
NOW = datetime(2025, 12, 1, 10, 0, tzinfo=CST)  # a Monday morning
PHONE = "13812345678"
SMARTPHONE = "smartphone-class-2025-12-03"  # Wednesday 14:00, 20 seats, 12 taken
CALLIGRAPHY = "calligraphy-2025-12-02"  # full
PAPER = "paper-cutting-2025-12-06"  # cancelled


@pytest.fixture
def app(kiosk):
    kiosk.ctx.services["now"] = lambda: NOW
    return kiosk


def screens(app) -> Any:
    return app.window.screens


def open_list(app, qtbot) -> Any:
    qtbot.mouseClick(screens(app)["home"].activities_button, LEFT)
    listing = app.window.current_screen()
    assert listing.name == "activities"
    return listing


def visible_cards(listing) -> Any:
    return [c for c in listing.cards if c.isVisible()]


def all_cards(listing, qtbot) -> Any:
    """(id, title, hint) of every card, paging forward with 下一页 from the first page."""
    seen = []
    while True:
        seen += [(c.activity.id, c.text(), c.hint) for c in visible_cards(listing)]
        if not listing.next_button.isVisible():
            return seen
        qtbot.mouseClick(listing.next_button, LEFT)


def open_activity(app, qtbot, activity_id) -> Any:
    """From home: 社区活动, page until the card shows, tap it."""
    listing = open_list(app, qtbot)
    for _ in range(len(listing.pages)):
        for card in visible_cards(listing):
            if card.activity.id == activity_id:
                qtbot.mouseClick(card, LEFT)
                detail = app.window.current_screen()
                assert detail.name == "activity_detail"
                return detail
        qtbot.mouseClick(listing.next_button, LEFT)
    raise AssertionError(f"no card for {activity_id}")


def type_number(app, qtbot, number) -> Any:
    phone = app.window.current_screen()
    assert phone.name == "phone"
    for ch in number:
        qtbot.mouseClick(phone.pad.keys[ch], LEFT)
    qtbot.mouseClick(phone.pad.confirm, LEFT)


def district_row(activity_id, title, start, **extra) -> Any:
    row = {
        "id": activity_id,
        "title": title,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "place": "社区服务中心一楼",
        "description": "区里安排的活动。",
        "seats": 30,
        "seats_left": 10,
        "status": "open",
    }
    row.update(extra)
    return row


def shown_texts(widget) -> Any:
    """Every text a widget tree shows or names (labels, buttons, accessible names)."""
    texts = []
    for w in [widget, *widget.findChildren(QtWidgets.QWidget)]:
        texts += [w.accessibleName(), w.accessibleDescription()]
        if isinstance(w, QtWidgets.QLabel | QtWidgets.QAbstractButton):
            texts.append(w.text())
        if isinstance(w, BigButton):
            texts.append(w.hint)
    return [s for s in texts if s]


def audit_here(app, name) -> Any:
    """The audit of what is on screen now (without the demo content view_facts would add)."""
    QtWidgets.QApplication.processEvents()
    w = app.window
    assert [w.width(), w.height()] == [1920, 1080]
    facts = {
        "screen": name,
        "elder": True,
        "size_px": [w.width(), w.height()],
        "px_per_mm": app.metrics.px_per_mm,
        "font_scale": app.metrics.font_scale,
        "widgets": inventory(w, app.metrics),
    }
    return audit_view(facts)


# -- the list ---------------------------------------------------------------------------


def test_list_shows_the_shipped_catalogue_with_dates_in_words(app, qtbot):
    listing = open_list(app, qtbot)
    assert not listing.empty.isVisible()
    first = visible_cards(listing)[0]
    assert first.text() == "太极拳晨练"
    assert first.hint.split("\n") == ["明天早上七点半，社区小广场", "不限人数"]
    assert 3 <= len(visible_cards(listing)) <= 4
    assert listing.page_label.text().startswith("第1页，共")
    assert not listing.prev_button.isVisible() and listing.next_button.isVisible()
    cards = {cid: (title, hint) for cid, title, hint in all_cards(listing, qtbot)}
    assert cards[SMARTPHONE] == (
        "银龄课堂 智能手机课",
        "本周三下午两点，社区服务中心二楼教室\n还剩8个名额",
    )
    assert cards[CALLIGRAPHY][1].endswith("\n名额已满")
    assert cards[PAPER][1].endswith("\n已取消")
    assert "health-talk-2025-12-05" in cards
    # A week of the shipped catalogue: every series once, tai chi on the days still to come.
    assert len(cards) == 10
    assert listing.prev_button.isVisible() and not listing.next_button.isVisible()
    qtbot.mouseClick(listing.prev_button, LEFT)
    assert listing.next_button.isVisible()


def test_full_and_cancelled_cards_say_so_in_words_not_colour_only(app, qtbot):
    listing = open_list(app, qtbot)
    for _ in range(len(listing.pages)):
        for card in visible_cards(listing):
            status_line = card.hint.split("\n")[-1]
            if card.activity.id in (CALLIGRAPHY, PAPER):
                assert status_line in ("名额已满", "已取消")
                assert card.role == "neutral"
            else:
                assert status_line in ("不限人数", "还剩8个名额", "还剩25个名额")
                assert card.role == "activity"
        if listing.next_button.isVisible():
            qtbot.mouseClick(listing.next_button, LEFT)


def test_cards_are_big_buttons_with_gaps_and_fit_the_screen(app, qtbot):
    listing = open_list(app, qtbot)
    mm = app.metrics.to_mm
    cards = visible_cards(listing)
    for card in cards:
        assert mm(card.height()) >= 20 and mm(card.width()) >= 40
        bottom = card.mapTo(listing, QtCore.QPoint(0, card.height())).y()
        assert bottom <= listing.height()
    for a, b in itertools.pairwise(cards):
        assert mm(b.y() - (a.y() + a.height())) >= 6


def test_district_catalogue_replaces_the_shipped_one(app, qtbot):
    app.store.replace_activities(
        [
            district_row("d-2", "重阳节联欢会", NOW + timedelta(days=2, hours=5)),
            district_row(
                "d-1", "防诈骗讲座", NOW + timedelta(hours=4), seats_left=0, status="full"
            ),
            district_row("d-old", "上周的活动", NOW - timedelta(days=7)),
        ],
        cursor="c1",
    )
    listing = open_list(app, qtbot)
    cards = all_cards(listing, qtbot)
    assert [c[0] for c in cards] == ["d-1", "d-2"]  # soonest first, ended ones gone
    assert cards[0][1:] == ("防诈骗讲座", "今天下午两点，社区服务中心一楼\n名额已满")
    assert cards[1][2] == "本周三下午三点，社区服务中心一楼\n还剩10个名额"
    assert not listing.nav.isVisible()  # one page: no 上一页 / 下一页


@pytest.mark.parametrize("cursor", ["c1", None])
def test_empty_catalogue_says_no_activities(app, qtbot, cursor):
    if cursor is None:
        # The district sent a catalogue whose activities have all ended.
        app.store.replace_activities([district_row("d-old", "旧活动", NOW - timedelta(days=3))])
    else:
        app.store.replace_activities([], cursor=cursor)
    listing = open_list(app, qtbot)
    assert listing.empty.isVisible()
    assert listing.empty.text() == "近期没有活动。"
    assert visible_cards(listing) == []
    assert not listing.nav.isVisible()
    assert "近期没有活动" in listing.spoken_text()
    assert audit_here(app, "activities") == []


def test_keypad_digits_open_a_card_and_page_keys_turn_pages(app, qtbot):
    listing = open_list(app, qtbot)
    first_ids = [c.activity.id for c in visible_cards(listing)]
    with qtbot.waitSignal(listing.speak, timeout=2000):
        qtbot.keyClick(app.window, QtCore.Qt.Key.Key_PageDown)
    assert listing.page == 1
    assert [c.activity.id for c in visible_cards(listing)] != first_ids
    qtbot.keyClick(app.window, QtCore.Qt.Key.Key_PageUp)
    assert listing.page == 0
    with qtbot.waitSignal(app.window.screen_changed, timeout=2000) as sig:
        qtbot.keyClick(app.window, QtCore.Qt.Key.Key_2)
    assert sig.args == ["activity_detail"]
    detail = app.window.current_screen()
    assert detail.activity.id == first_ids[1]


def test_list_speaks_the_cards_on_the_page(app, qtbot):
    listing = open_list(app, qtbot)
    spoken = listing.spoken_text()
    assert spoken.startswith("社区活动。点一下活动")
    assert "太极拳晨练，明天早上七点半，在社区小广场，不限人数。" in spoken
    assert "第1页" in spoken


# -- detail and sign-up ------------------------------------------------------------------


def test_detail_shows_everything_about_the_activity(app, qtbot):
    detail = open_activity(app, qtbot, SMARTPHONE)
    assert detail.heading.text() == "银龄课堂 智能手机课"
    assert detail.when.text() == "时间：本周三下午两点"
    assert detail.place.text() == "地点：社区服务中心二楼教室"
    assert detail.seats.text() == "还剩8个名额"
    assert "微信视频通话" in detail.description.text()
    assert detail.signup_button.isVisible() and detail.signup_button.text() == "我要报名"
    assert not detail.outcome.isVisible()
    assert "我要报名" in detail.spoken_text()
    # 看看别的活动 and 返回 both lead back to the list.
    qtbot.mouseClick(detail.others_button, LEFT)
    assert app.window.current_screen().name == "activities"


def test_sign_up_asks_for_the_number_and_saves_the_record(app, qtbot):
    detail = open_activity(app, qtbot, SMARTPHONE)
    activity = detail.activity
    qtbot.mouseClick(detail.signup_button, LEFT)
    phone = app.window.current_screen()
    assert phone.name == "phone"
    assert phone.purpose.text() == t("phone.purpose_signup")
    assert not phone.skip.isVisible()  # a sign-up needs the number
    assert app.store.count(kind="signup") == 0
    with qtbot.waitSignal(detail.speak, timeout=2000) as said:
        type_number(app, qtbot, PHONE)
    assert said.args == ["已报名，等待确认。"]
    assert app.window.current_screen() is detail
    records = app.store.records(kind="signup")
    assert len(records) == 1
    assert records[0].payload == signup_payload(activity, PHONE)
    assert records[0].payload == {
        "activity_id": SMARTPHONE,
        "title": "银龄课堂 智能手机课",
        "starts_at": "2025-12-03T14:00:00+08:00",
        "phone": PHONE,
    }
    assert check_record("signup", records[0].created_at, records[0].payload) is None
    assert detail.outcome.text() == "已报名，等待确认。"
    assert detail.phone_line.text() == "报名手机：138****5678"
    assert not detail.signup_button.isVisible()
    assert app.session.phone == PHONE
    # 返回 goes to the list, not back to the phone pad.
    qtbot.mouseClick(app.window.common["back"], LEFT)
    assert app.window.current_screen().name == "activities"


def test_number_given_earlier_this_session_is_not_asked_again(app, qtbot):
    app.session.phone = PHONE  # e.g. given on the health check a minute ago
    detail = open_activity(app, qtbot, "health-talk-2025-12-05")
    with qtbot.waitSignal(detail.speak, timeout=2000) as said:
        qtbot.mouseClick(detail.signup_button, LEFT)
    assert said.args == ["已报名，等待确认。"]
    assert app.window.current_screen() is detail  # no phone screen
    (record,) = app.store.records(kind="signup")
    assert record.payload["activity_id"] == "health-talk-2025-12-05"
    assert record.payload["phone"] == PHONE


def test_signing_up_twice_is_caught_kindly_and_saves_nothing(app, qtbot):
    detail = open_activity(app, qtbot, SMARTPHONE)
    qtbot.mouseClick(detail.signup_button, LEFT)
    type_number(app, qtbot, PHONE)
    assert app.store.count(kind="signup") == 1
    # The same resident comes back later (a new session) and signs up again.
    app.window.home()
    detail = open_activity(app, qtbot, SMARTPHONE)
    assert detail.signup_button.isVisible()  # nobody known yet
    qtbot.mouseClick(detail.signup_button, LEFT)
    with qtbot.waitSignal(detail.speak, timeout=2000) as said:
        type_number(app, qtbot, PHONE)
    assert said.args == ["您已经报过名了，不用再报。"]
    assert detail.outcome.text() == "您已经报过名了，不用再报。"
    assert app.store.count(kind="signup") == 1
    assert not detail.signup_button.isVisible()
    # Another resident's number is a sign-up of its own.
    app.window.home()
    detail = open_activity(app, qtbot, SMARTPHONE)
    qtbot.mouseClick(detail.signup_button, LEFT)
    type_number(app, qtbot, "13900001111")
    assert app.store.count(kind="signup") == 2


def test_reopening_in_the_same_session_shows_the_sign_up(app, qtbot):
    detail = open_activity(app, qtbot, SMARTPHONE)
    qtbot.mouseClick(detail.signup_button, LEFT)
    type_number(app, qtbot, PHONE)
    qtbot.mouseClick(detail.others_button, LEFT)
    listing = app.window.current_screen()
    assert listing.name == "activities"
    card = next(c for c in visible_cards(listing) if c.activity.id == SMARTPHONE)
    qtbot.mouseClick(card, LEFT)
    assert detail.outcome.text() == "已报名，等待确认。"
    assert not detail.signup_button.isVisible()
    assert app.store.count(kind="signup") == 1


@pytest.mark.parametrize(
    ("activity_id", "reason", "seats"),
    [
        (CALLIGRAPHY, "这个活动名额已满，看看别的活动吧。", "名额已满"),
        (PAPER, "这个活动取消了，看看别的活动吧。", "已取消"),
    ],
)
def test_full_and_cancelled_activities_refuse_with_the_reason(
    app, qtbot, activity_id, reason, seats
):
    app.session.phone = PHONE
    detail = open_activity(app, qtbot, activity_id)
    assert detail.seats.text() == seats
    assert detail.outcome.text() == reason
    assert not detail.signup_button.isVisible()
    assert detail.others_button.isVisible()
    assert reason.rstrip("。") in detail.spoken_text()
    with qtbot.waitSignal(detail.speak, timeout=2000) as said:
        detail.sign_up()  # even if asked directly (a voice command), nothing is saved
    assert said.args == [reason]
    assert app.store.count(kind="signup") == 0


def test_district_full_activity_is_refused(app, qtbot):
    app.store.replace_activities(
        [district_row("d-1", "防诈骗讲座", NOW + timedelta(days=1), seats_left=0, status="full")],
        cursor="c1",
    )
    detail = open_activity(app, qtbot, "d-1")
    assert detail.outcome.text() == t("activities.err_full")
    assert not detail.signup_button.isVisible()


@pytest.mark.parametrize(
    ("status", "state", "sentence"),
    [
        ("confirmed", "报名情况：已确认", "报名成功，请按时参加。"),
        ("waitlisted", "报名情况：候补", "现在排在候补名单上，有空位会告诉您。"),
        ("wait-listed", "报名情况：候补", "现在排在候补名单上，有空位会告诉您。"),
        ("rejected", "报名情况：未成功", "这次没有报上名，请问问工作人员。"),
    ],
)
def test_status_update_is_shown_in_words(app, qtbot, status, state, sentence):
    detail = open_activity(app, qtbot, SMARTPHONE)
    qtbot.mouseClick(detail.signup_button, LEFT)
    type_number(app, qtbot, PHONE)
    (record,) = app.store.records(kind="signup")
    assert not detail.state.isVisible()
    app.store.add_status(record.id, status, source="district")
    # The resident comes back another day and taps 我要报名 again: the status is shown.
    app.window.home()
    detail = open_activity(app, qtbot, SMARTPHONE)
    qtbot.mouseClick(detail.signup_button, LEFT)
    type_number(app, qtbot, PHONE)
    assert detail.outcome.text() == "您已经报过名了，不用再报。"
    assert detail.state.text() == state
    assert detail.state_detail.text() == sentence
    assert detail.state.isVisible() and detail.state_detail.isVisible()
    assert app.store.count(kind="signup") == 1


def test_status_arriving_while_on_screen_is_shown_and_said(app, qtbot):
    detail = open_activity(app, qtbot, SMARTPHONE)
    detail.status_poll_ms = 20
    qtbot.mouseClick(detail.signup_button, LEFT)
    type_number(app, qtbot, PHONE)
    (record,) = app.store.records(kind="signup")
    with qtbot.waitSignal(detail.speak, timeout=3000) as said:
        app.store.add_status(record.id, "confirmed", source="district")
    assert said.args == ["报名情况：已确认。报名成功，请按时参加。"]
    assert detail.state.text() == "报名情况：已确认"


def test_coming_back_from_the_phone_screen_without_a_number(app, qtbot):
    detail = open_activity(app, qtbot, SMARTPHONE)
    qtbot.mouseClick(detail.signup_button, LEFT)
    assert app.window.current_screen().name == "phone"
    qtbot.mouseClick(app.window.common["back"], LEFT)
    assert app.window.current_screen() is detail
    assert app.session.phone_request is None
    assert detail.signup_button.isVisible()
    assert app.store.count(kind="signup") == 0


def test_going_home_forgets_everything_personal(app, qtbot):
    detail = open_activity(app, qtbot, SMARTPHONE)
    qtbot.mouseClick(detail.signup_button, LEFT)
    type_number(app, qtbot, PHONE)
    (record,) = app.store.records(kind="signup")
    app.store.add_status(record.id, "confirmed", source="district")
    detail.show_activity(detail.activity)
    assert detail.phone_line.text() == "报名手机：138****5678"
    assert detail.state.text() == "报名情况：已确认"
    app.window.home()
    for name in ("activities", "activity_detail", "feedback"):
        for text in shown_texts(screens(app)[name]):
            assert "5678" not in text and "138" not in text and "****" not in text, (name, text)
            assert "已确认" not in text and "已报名" not in text, (name, text)
    assert app.session.phone is None
    # The next resident opening the same activity sees no sign-up of anyone.
    detail = open_activity(app, qtbot, SMARTPHONE)
    assert detail.signup_button.isVisible()
    assert not detail.phone_line.isVisible() and not detail.state.isVisible()


def test_sign_up_that_cannot_be_saved_says_so(app, qtbot, monkeypatch):
    app.session.phone = PHONE
    detail = open_activity(app, qtbot, SMARTPHONE)

    def full(kind, payload):
        raise StoreFullError("disk full")

    monkeypatch.setattr(app.recorder, "save", full)
    with qtbot.waitSignal(detail.speak, timeout=2000) as said:
        qtbot.mouseClick(detail.signup_button, LEFT)
    assert said.args == [t("common.store_full")]
    assert detail.signup_button.isVisible()  # the resident can try again
    assert app.store.count(kind="signup") == 0


# -- accessibility audit -------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1.5])
@pytest.mark.parametrize("name", ["activities", "activity_detail"])
def test_audit_passes(app, scale, name):
    app.set_metrics(Metrics(px_per_mm=app.metrics.px_per_mm, font_scale=scale))
    app.window.resize(1920, 1080)
    facts = view_facts(app.window, app.metrics, name)
    assert facts["size_px"] == [1920, 1080]  # the screen did not grow the window
    assert audit_view(facts) == []


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_audit_passes_on_every_page_and_long_district_texts(app, qtbot, scale):
    app.set_metrics(Metrics(px_per_mm=app.metrics.px_per_mm, font_scale=scale))
    long_title = "社区老年大学春季班报名说明会暨智能手机防诈骗专题讲座"
    app.store.replace_activities(
        [
            district_row(
                f"d-{i}",
                long_title if i % 2 else f"活动{i}",
                NOW + timedelta(hours=3 + i),
                place="社区服务中心三楼东侧大会议室（请走西边楼梯）",
            )
            for i in range(7)
        ],
        cursor="c1",
    )
    listing = open_list(app, qtbot)
    pages = 0
    while True:
        pages += 1
        assert audit_here(app, f"activities page {pages}") == []
        if not listing.next_button.isVisible():
            break
        qtbot.mouseClick(listing.next_button, LEFT)
    assert pages == len(listing.pages) >= 2
    qtbot.mouseClick(visible_cards(listing)[-1], LEFT)
    assert audit_here(app, "activity_detail") == []


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_audit_passes_on_detail_states(app, qtbot, scale):
    app.set_metrics(Metrics(px_per_mm=app.metrics.px_per_mm, font_scale=scale))
    detail = open_activity(app, qtbot, CALLIGRAPHY)
    assert audit_here(app, "activity_detail full") == []
    qtbot.mouseClick(app.window.common["back"], LEFT)
    app.window.home()
    detail = open_activity(app, qtbot, SMARTPHONE)
    assert audit_here(app, "activity_detail open") == []
    # The number given earlier this session (the phone screen is audited on its own).
    app.session.phone = PHONE
    qtbot.mouseClick(detail.signup_button, LEFT)
    (record,) = app.store.records(kind="signup")
    app.store.add_status(record.id, "waitlisted", source="district")
    detail.show_activity(detail.activity)
    assert detail.state.isVisible()
    assert audit_here(app, "activity_detail signed up") == []


def test_activity_from_row_round_trip_used_by_the_list(app, qtbot):
    row = district_row("d-9", "八段锦", NOW + timedelta(days=1))
    app.store.replace_activities([row], cursor="c1")
    listing = open_list(app, qtbot)
    (card,) = visible_cards(listing)
    assert isinstance(card.activity, Activity)
    assert card.activity.starts_at == NOW + timedelta(days=1)
