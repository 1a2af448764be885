"""Spotting card numbers in request text, so card data is refused before anything keeps it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

Location = tuple[int | str, ...]

MIN_DIGITS = 13
MAX_DIGITS = 19
MASK = "[card number removed]"

# Digit groups joined by up to three separators of any kind (spaces, dashes, dots, slashes,
# tabs, mixed): every way people write card numbers down, and the ways to slip one past. A
# group is whole: digits glued to a letter ("4d27" in a UUID) are part of another word.
_RUN = re.compile(r"(?<![^\W_])\d+(?:[^\w\n]{1,3}\d+)*(?![^\W_])")
_GROUP = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check that every card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _candidates(run: str) -> Iterator[str]:
    # Any whole groups of a run, so a number followed by its CVV or expiry is still found;
    # a number is never split inside a group, which keeps long references from matching.
    groups = _GROUP.findall(run)
    for start in range(len(groups)):
        digits = ""
        for group in groups[start:]:
            digits += group
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS:
                yield digits


def _is_card_number(digits: str) -> bool:
    # No card scheme issues numbers starting with 0; zero-padded references are not cards.
    return not digits.startswith("0") and luhn_valid(digits)


def _card_runs(text: str) -> Iterator[re.Match[str]]:
    for run in _RUN.finditer(text):
        if any(_is_card_number(digits) for digits in _candidates(run.group())):
            yield run


def looks_like_card_number(text: str) -> bool:
    """Whether the text holds 13 to 19 digits, maybe grouped, that pass the Luhn check."""
    return next(_card_runs(text), None) is not None


def mask_card_numbers(text: str) -> str:
    """The text with every digit run that holds a card number replaced by a marker."""
    for run in reversed(list(_card_runs(text))):
        text = text[: run.start()] + MASK + text[run.end() :]
    return text


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    # A card number sent as a JSON number is card data all the same; booleans are ints too.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def texts(document: Any) -> Iterator[tuple[Location, str, bool]]:
    """Every key and scalar of a decoded JSON document as text, with where it is and whether
    it is a key (a key's location is the object holding it), in document order."""
    # A stack, not recursion: a deeply nested body must not exhaust the interpreter's stack.
    pending: list[tuple[Location, Any]] = [((), document)]
    while pending:
        location, value = pending.pop()
        children: list[tuple[Location, Any]] = []
        if isinstance(value, dict):
            for key, item in value.items():
                yield location, str(key), True
                children.append(((*location, key), item))
        elif isinstance(value, list):
            children = [((*location, index), item) for index, item in enumerate(value)]
        elif (text := _scalar_text(value)) is not None:
            yield location, text, False
        pending.extend(reversed(children))


def card_number_locations(document: Any) -> list[Location]:
    """Where in a decoded JSON document a value or key looks like a card number, in order."""
    found: list[Location] = []
    # A key that is a card number would be echoed in a path: the object holding it is named,
    # and nothing below the key is looked at.
    card_keys: list[Location] = []
    for location, text, is_key in texts(document):
        if any(location[: len(key)] == key for key in card_keys):
            continue
        if looks_like_card_number(text):
            if is_key:
                card_keys.append((*location, text))
            if location not in found:
                found.append(location)
    return found
