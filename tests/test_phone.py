"""Mainland mobile numbers: normalisation, validation, masking."""

from __future__ import annotations

import pytest

from kiosk.phone import is_valid_phone, mask_phone, normalize_phone, phone_problem
from kiosk.problems import problem_text


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        (" 138－1234－5678 ", "13812345678"),  # full-width dashes
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("138\t1234\u30005678", "13812345678"),  # tab, ideographic space
    ],
)
def test_normalize(raw, normal):
    assert normalize_phone(raw) == normal
    assert is_valid_phone(raw)


@pytest.mark.parametrize("second", "3456789")
def test_second_digit_three_to_nine_is_valid(second):
    assert phone_problem(f"1{second}012345678") is None


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("", "phone.err_empty"),
        ("   ", "phone.err_empty"),
        ("138123456a8", "phone.err_not_digits"),
        ("+8613812345678", "phone.err_not_digits"),
        ("1381234567", "phone.err_length"),
        ("138123456789", "phone.err_length"),
        ("12812345678", "phone.err_prefix"),
        ("11812345678", "phone.err_prefix"),
        ("10812345678", "phone.err_prefix"),
        ("23812345678", "phone.err_prefix"),
        ("01012345678", "phone.err_prefix"),
    ],
)
def test_invalid_numbers(raw, key):
    problem = phone_problem(raw)
    assert problem is not None
    assert problem.key == key
    assert problem.field == "phone"
    assert not is_valid_phone(raw)
    assert problem_text(problem)  # the sentence exists and formats


def test_length_problem_says_how_many_digits():
    problem = phone_problem("1381234567")
    assert problem is not None
    assert problem_text(problem) == "手机号码是11位数字，现在输入了10位，请再看一下。"


def test_mask():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("138 1234 5678") == "138****5678"
    with pytest.raises(ValueError):
        mask_phone("1381234")
