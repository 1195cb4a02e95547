"""Turn display text into speakable Mandarin before it reaches espeak-ng.

espeak-ng's Mandarin voice reads Arabic digits, slashes and colons poorly (or in
English), so every text is normalised first. Pure functions, no Qt, no I/O.

Rules (see tests/test_speech_normalize.py for the table):

* integers and decimals: ``135`` -> 一百三十五, ``6.5`` -> 六点五, ``-3`` -> 负三;
  a leading 2 before 百/千/万/亿 is 两 (``200`` -> 两百), and a bare 2 before a
  measure word is 两 (``2次`` -> 两次), as people say it;
* blood-pressure pairs ``135/88`` -> 高压一百三十五，低压八十八 (systolic 50-300 above
  diastolic 20-200; anything else with a slash is read as two numbers);
* times ``14:30`` -> 下午两点半, dates ``2024-12-02`` -> 二零二四年十二月二日;
  :func:`speak_datetime` gives 「十二月二日 星期三 下午两点」 for a ``datetime``;
* phone numbers and codes (a run of 5 or more digits, or digits with dashes
  starting with 0 or 1) are read digit by digit in groups with short pauses.
  Choice: 1 is read 幺, as Chinese telephone operators and banks do, because
  一 and 七 are easily confused by listeners with hearing loss;
* masked numbers ``138****5678`` -> 尾号五六七八 (what banks say);
* a few units: %, ℃, kg, cm, mmHg, mmol/L.
"""

from __future__ import annotations

import datetime as _dt
import re

DIGITS = "零一二三四五六七八九"
PHONE_DIGITS = "零幺二三四五六七八九"
_SMALL_UNITS = ["", "十", "百", "千"]
_BIG_UNITS = ["", "万", "亿", "万亿"]
_WEEKDAYS = "一二三四五六日"
# Measure words after which a bare 2 is spoken 两 (两次, 两个, 两位).
_MEASURE_WORDS = "个位次天周岁杯片粒斤只件张本份人项"


def _four_digits(n: int) -> str:
    """0 < n < 10000 as Chinese, with 零 for inner gaps (1005 -> 一千零五)."""
    out: list[str] = []
    zero_pending = False
    for power in (3, 2, 1, 0):
        d = (n // 10**power) % 10
        if d == 0:
            if out:
                zero_pending = True
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(DIGITS[d] + _SMALL_UNITS[power])
    return "".join(out)


def integer_to_words(n: int) -> str:
    """An integer as spoken Mandarin: 135 -> 一百三十五, 10 -> 十, 200 -> 两百."""
    if n < 0:
        return "负" + integer_to_words(-n)
    if n == 0:
        return "零"
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    if len(groups) > len(_BIG_UNITS):
        return digits_to_words(str(n))
    parts: list[str] = []
    need_zero = False
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if g == 0:
            need_zero = bool(parts)
            continue
        if parts and (need_zero or g < 1000):
            parts.append("零")
        parts.append(_four_digits(g) + _BIG_UNITS[idx])
        need_zero = False
    text = "".join(parts)
    # 一十五 -> 十五 (only at the very start: 一百一十 keeps its 一).
    if text.startswith("一十"):
        text = text[1:]
    # 二百 / 二千 / 二万 at the start is said 两百 / 两千 / 两万.
    if len(text) > 1 and text[0] == "二" and text[1] in "百千万亿":
        text = "两" + text[1:]
    return text


def digits_to_words(digits: str, *, phone: bool = False) -> str:
    """Read a digit string one digit at a time; ``phone`` reads 1 as 幺."""
    table = PHONE_DIGITS if phone else DIGITS
    return "".join(table[int(c)] if c.isdigit() else c for c in digits)


def decimal_to_words(text: str) -> str:
    """A decimal literal such as ``6.5`` or ``-0.25`` as spoken Mandarin."""
    sign = ""
    if text.startswith(("-", "−")):
        sign, text = "负", text[1:]
    whole, _, frac = text.partition(".")
    spoken = integer_to_words(int(whole or "0"))
    if frac:
        spoken += "点" + digits_to_words(frac)
    return sign + spoken


def phone_to_words(number: str) -> str:
    """A phone number digit by digit (1 -> 幺), groups separated by short pauses.

    Mobile numbers (11 digits) are grouped 3-4-4 as they are printed; other
    numbers keep their own dashes/spaces as pauses, or are read as one group.
    """
    raw = [g for g in re.split(r"[\s\-]+", number.strip()) if g]
    if len(raw) == 1 and len(raw[0]) == 11 and raw[0].startswith("1"):
        d = raw[0]
        raw = [d[:3], d[3:7], d[7:]]
    return "，".join(digits_to_words(g, phone=True) for g in raw)


def masked_to_words(masked: str) -> str:
    """``138****5678`` -> 尾号五六七八: only the visible tail is worth saying."""
    tail = re.search(r"(\d+)$", masked)
    if tail is None:
        return "号码已隐藏"
    return "尾号" + digits_to_words(tail.group(1), phone=True)


def blood_pressure_to_words(systolic: int, diastolic: int) -> str:
    return f"高压{integer_to_words(systolic)}，低压{integer_to_words(diastolic)}"


def _period(hour: int) -> str:
    if hour < 5:
        return "凌晨"
    if hour < 12:
        return "上午"
    if hour < 13:
        return "中午"
    if hour < 18:
        return "下午"
    return "晚上"


def time_to_words(hour: int, minute: int = 0, *, period: str | None = None) -> str:
    """14:00 -> 下午两点, 9:30 -> 上午九点半, 8:05 -> 上午八点零五分.

    ``period`` overrides the computed 上午/下午 when the text already names one.
    """
    h12 = hour % 12
    if h12 == 0 and hour == 12:
        h12 = 12
    hour_word = "两" if h12 == 2 else integer_to_words(h12)
    spoken = f"{_period(hour) if period is None else period}{hour_word}点"
    if minute == 30:
        spoken += "半"
    elif minute:
        spoken += ("零" if minute < 10 else "") + integer_to_words(minute) + "分"
    return spoken


def date_to_words(date: _dt.date, *, with_year: bool = False, with_weekday: bool = True) -> str:
    """2024-12-02 -> 十二月二日 星期一 (the year is read digit by digit if asked)."""
    spoken = f"{integer_to_words(date.month)}月{integer_to_words(date.day)}日"
    if with_year:
        spoken = digits_to_words(str(date.year)) + "年" + spoken
    if with_weekday:
        spoken += f" 星期{_WEEKDAYS[date.weekday()]}"
    return spoken


def speak_datetime(moment: _dt.datetime, *, with_year: bool = False) -> str:
    """A datetime as 「十二月二日 星期三 下午两点」."""
    day = date_to_words(moment.date(), with_year=with_year)
    return f"{day} {time_to_words(moment.hour, moment.minute)}"


# --- free text -------------------------------------------------------------------------

_UNITS = [
    (re.compile(r"mmol/L", re.IGNORECASE), "毫摩尔每升"),
    (re.compile(r"mmHg", re.IGNORECASE), "毫米汞柱"),
    (re.compile(r"(?<=\d)\s*kg\b", re.IGNORECASE), "公斤"),
    (re.compile(r"(?<=\d)\s*cm\b", re.IGNORECASE), "厘米"),
    (re.compile(r"(?<=\d)\s*(℃|°C)"), "度"),
]
_MASKED = re.compile(r"\d*[*＊xX]{3,}\d+")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_TIME = re.compile(
    r"(?:(凌晨|早上|上午|中午|下午|晚上)\s*)?(?<![\d:])([01]?\d|2[0-3])[:：]([0-5]\d)(?![\d:])"
)
_PAIR = re.compile(r"(?<![\d.])(\d{2,3})\s*/\s*(\d{2,3})(?![\d.])")
_PHONE = re.compile(r"(?<![\d.])(?:\d{3,4}-\d{3,4}-?\d{0,4}|\d{5,})(?![\d.])")
_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)\s*[%％]")
_YEAR = re.compile(r"(\d{4})(?=年)")
_NUMBER = re.compile(r"(?<![\d.])-?\d+(?:\.\d+)?(?![\d])")


def _number(text: str) -> str:
    return decimal_to_words(text) if "." in text else integer_to_words(int(text))


def _pair(match: re.Match[str]) -> str:
    high, low = int(match.group(1)), int(match.group(2))
    if 50 <= high <= 300 and 20 <= low <= 200 and high > low:
        return blood_pressure_to_words(high, low)
    return f"{integer_to_words(high)}，{integer_to_words(low)}"


def _plain_number(match: re.Match[str]) -> str:
    literal = match.group(0)
    # "-" between two characters is a dash, not a minus sign.
    start = match.start()
    if literal.startswith("-") and start > 0 and match.string[start - 1].isalnum():
        literal = literal[1:]
        prefix = "，"
    else:
        prefix = ""
    spoken = _number(literal)
    end = match.end()
    nxt = match.string[end : end + 1]
    before = match.string[start - 1 : start] if start else ""
    if literal == "2" and nxt and nxt in _MEASURE_WORDS and before != "第":
        spoken = "两"
    return prefix + spoken


def normalize(text: str) -> str:
    """Make ``text`` speakable: every digit sequence becomes Chinese words."""
    for pattern, word in _UNITS:
        text = pattern.sub(word, text)
    text = _MASKED.sub(lambda m: masked_to_words(m.group(0)), text)
    text = _ISO_DATE.sub(
        lambda m: date_to_words(
            _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))),
            with_year=True,
            with_weekday=False,
        ),
        text,
    )
    text = _TIME.sub(
        lambda m: time_to_words(int(m.group(2)), int(m.group(3)), period=m.group(1)), text
    )
    text = _PAIR.sub(_pair, text)
    text = _PHONE.sub(lambda m: phone_to_words(m.group(0)), text)
    text = _PERCENT.sub(lambda m: "百分之" + _number(m.group(1)), text)
    text = _YEAR.sub(lambda m: digits_to_words(m.group(1)), text)
    text = _NUMBER.sub(_plain_number, text)
    return text.strip()
