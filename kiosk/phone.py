"""Mainland China mobile numbers: validation, normalisation and masking.

A valid number has 11 digits, starts with 1 and its second digit is 3-9
(e.g. 13812345678). Residents type it on the number pad or say it; what they
enter may carry spaces or dashes ("138 1234-5678") and full-width digits,
which :func:`normalize_phone` removes. Saved payloads hold the full normalised
number (the store is private); screens show it masked: ``138****1234``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from kiosk.problems import Problem

__all__ = [
    "PHONE_LENGTH",
    "TEXT_KEYS",
    "is_valid_phone",
    "mask_phone",
    "normalize_phone",
    "phone_problem",
]

PHONE_LENGTH: Final = 11
_SEPARATORS: Final = re.compile(r"[\s\-‐‑‒–—―]+")
_VALID: Final = re.compile(r"1[3-9]\d{9}")


def normalize_phone(raw: str) -> str:
    """``raw`` with full-width digits made ASCII and spaces/dashes removed.

    Nothing else is changed, so a bad entry stays visible as bad to
    :func:`phone_problem`.
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))


def phone_problem(raw: str) -> Problem | None:
    """None when ``raw`` is a valid mobile number, otherwise what is wrong.

    Problem keys (all on the field ``phone``): ``phone.err_empty``,
    ``phone.err_not_digits``, ``phone.err_length`` (params ``expected`` = 11 and
    ``count`` = digits typed), ``phone.err_prefix`` (does not start with 13-19).
    """
    number = normalize_phone(raw)
    if not number:
        return Problem("phone", "phone.err_empty")
    if not number.isascii() or not number.isdigit():
        return Problem("phone", "phone.err_not_digits")
    if len(number) != PHONE_LENGTH:
        return Problem(
            "phone", "phone.err_length", {"expected": PHONE_LENGTH, "count": len(number)}
        )
    if not _VALID.fullmatch(number):
        return Problem("phone", "phone.err_prefix")
    return None


def is_valid_phone(raw: str) -> bool:
    """True when ``raw`` (after normalisation) is a valid mainland mobile number."""
    return phone_problem(raw) is None


def mask_phone(raw: str) -> str:
    """The number as shown on screen: first three and last four digits, ``138****1234``.

    ValueError if ``raw`` is not a valid number (never show a half-masked entry).
    """
    problem = phone_problem(raw)
    if problem is not None:
        raise ValueError(f"cannot mask an invalid phone number ({problem.key})")
    number = normalize_phone(raw)
    return f"{number[:3]}****{number[-4:]}"


TEXT_KEYS: Final[frozenset[str]] = frozenset(
    {"phone.err_empty", "phone.err_not_digits", "phone.err_length", "phone.err_prefix"}
)
"""Every text key this module can hand to a screen."""
