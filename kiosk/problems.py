"""A problem with something a resident entered, as a text key the screen can say calmly.

Core rules (health readings, phone numbers) never build sentences: they return
:class:`Problem` values naming the field, a text key from voices/zh_CN/ and the
format fields for it. :func:`problem_text` turns one into the sentence to show
and speak.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.texts import t

TextGetter = Callable[..., str]
"""Signature of :func:`kiosk.texts.t`: ``get(key, **fields) -> str``."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an entry.

    ``field`` is the key of the entry field it concerns (e.g. ``"systolic"``,
    ``"phone"``), ``key`` the text key of the sentence (e.g. ``"health.err_range"``)
    and ``params`` its format fields. A ``params`` value that is itself a text key
    is named in ``text_params`` and is looked up before formatting (used for
    the field's label, so the sentence says 「高压」, not ``systolic``).
    """

    field: str
    key: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    text_params: frozenset[str] = frozenset()


def problem_text(problem: Problem, get: TextGetter = t) -> str:
    """The calm sentence for ``problem`` (``get`` defaults to :func:`kiosk.texts.t`)."""
    fields = {
        name: get(value) if name in problem.text_params else value
        for name, value in problem.params.items()
    }
    return get(problem.key, **fields)
