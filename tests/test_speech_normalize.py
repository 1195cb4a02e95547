"""Table tests of the speech normaliser: what the resident hears for what the screen shows."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.speech import normalize as nz

INTEGERS = [
    (0, "零"),
    (7, "七"),
    (10, "十"),
    (15, "十五"),
    (88, "八十八"),
    (100, "一百"),
    (110, "一百一十"),
    (135, "一百三十五"),
    (200, "两百"),
    (1005, "一千零五"),
    (2222, "两千二百二十二"),
    (10010, "一万零一十"),
    (20000, "两万"),
    (100000, "十万"),
    (1000000, "一百万"),
    (100000001, "一亿零一"),
    (-3, "负三"),
]


@pytest.mark.parametrize(("number", "spoken"), INTEGERS)
def test_integer_to_words(number: int, spoken: str) -> None:
    assert nz.integer_to_words(number) == spoken


TEXTS = [
    # plain numbers and decimals
    ("135", "一百三十五"),
    ("6.5", "六点五"),
    ("0.25", "零点二五"),
    ("12.05", "十二点零五"),
    ("-3", "负三"),
    ("体重 65.5kg", "体重 六十五点五公斤"),
    ("36.5℃", "三十六点五度"),
    ("50%", "百分之五十"),
    # blood pressure and glucose
    ("135/88", "高压一百三十五，低压八十八"),
    ("血压 135/88 mmHg", "血压 高压一百三十五，低压八十八 毫米汞柱"),
    ("160 / 95", "高压一百六十，低压九十五"),
    ("88/135", "八十八，一百三十五"),  # not a plausible pair: two numbers
    ("血糖 6.5 mmol/L", "血糖 六点五 毫摩尔每升"),
    # measure words: 两 only where people say it
    ("2次", "两次"),
    ("2个人", "两个人"),
    ("第2周", "第二周"),
    ("2", "二"),
    # dates and times
    ("12月2日", "十二月二日"),
    ("2024年", "二零二四年"),
    ("2024-12-02", "二零二四年十二月二日"),
    ("14:00", "下午两点"),
    ("下午 14:30 活动", "下午两点半 活动"),
    ("9:05", "上午九点零五分"),
    ("12:00", "中午十二点"),
    ("20:15", "晚上八点十五分"),
    # phone numbers, codes, masked numbers
    ("13812345678", "幺三八，幺二三四，五六七八"),
    ("请拨打12345", "请拨打幺二三四五"),
    ("0571-88886666", "零五七幺，八八八八六六六六"),
    ("138****5678", "尾号五六七八"),
    ("手机 139****0001 已报名", "手机 尾号零零零幺 已报名"),
    # text without digits is untouched
    ("您好，请点一下您要办的事", "您好，请点一下您要办的事"),
]


@pytest.mark.parametrize(("text", "spoken"), TEXTS)
def test_normalize(text: str, spoken: str) -> None:
    assert nz.normalize(text) == spoken


DATETIMES = [
    (dt.datetime(2024, 12, 2, 14, 0), "十二月二日 星期一 下午两点"),
    (dt.datetime(2026, 12, 2, 14, 0), "十二月二日 星期三 下午两点"),
    (dt.datetime(2024, 3, 10, 9, 30), "三月十日 星期日 上午九点半"),
    (dt.datetime(2024, 1, 1, 0, 5), "一月一日 星期一 凌晨零点零五分"),
    (dt.datetime(2024, 6, 15, 19, 45), "六月十五日 星期六 晚上七点四十五分"),
]


@pytest.mark.parametrize(("moment", "spoken"), DATETIMES)
def test_speak_datetime(moment: dt.datetime, spoken: str) -> None:
    assert nz.speak_datetime(moment) == spoken


def test_normalized_text_has_no_ascii_digits() -> None:
    sample = "血压 142/91，血糖 7.8，电话 13900001111，时间 2024-12-02 14:00，第3次"
    assert not any(c.isdigit() and c.isascii() for c in nz.normalize(sample))
