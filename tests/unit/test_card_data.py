"""Spotting card numbers: the Luhn check, the ways people group digits, and where they hide."""

from __future__ import annotations

import pytest

from intake.card_data import (
    MASK,
    card_number_locations,
    looks_like_card_number,
    luhn_valid,
    mask_card_numbers,
)
from intake.idempotency import parse_key

VISA = "4242424242424242"


def luhn_completed(prefix: str) -> str:
    """`prefix` with the check digit that makes it pass the Luhn check."""
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


@pytest.mark.parametrize("number", [VISA, "5555555555554444", "378282246310005", "79927398713"])
def test_known_good_numbers_pass_the_luhn_check(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "79927398710", "1234567812345678"])
def test_a_wrong_check_digit_fails_the_luhn_check(number: str) -> None:
    assert not luhn_valid(number)


@pytest.mark.parametrize(
    "text",
    [
        "4242 4242 4242 4242",
        "5555-5555-5555-4444",
        "378282246310005",
        "3782 822463 10005",
        f"card {VISA}, thanks",
        f"pm_{VISA}",
    ],
)
def test_real_test_card_numbers_are_spotted_however_written(text: str) -> None:
    assert looks_like_card_number(text)


@pytest.mark.parametrize("length", [13, 19])
def test_luhn_valid_runs_of_13_and_19_digits_are_card_numbers(length: int) -> None:
    assert looks_like_card_number(luhn_completed("4" + "1" * (length - 2)))


@pytest.mark.parametrize("length", [12, 20])
def test_luhn_valid_runs_of_12_and_20_digits_are_not(length: int) -> None:
    assert not looks_like_card_number(luhn_completed("4" + "1" * (length - 2)))


def test_a_16_digit_run_that_fails_the_luhn_check_passes() -> None:
    assert not looks_like_card_number("order reference 4242424242424241")


@pytest.mark.parametrize(
    "text",
    ["+1 212-555-0100", "+46 70 123 45 67", "Apt 4242, 4242 Main St", "0000000000000000"],
)
def test_phone_numbers_addresses_and_zero_padded_references_pass(text: str) -> None:
    assert not looks_like_card_number(text)


def test_a_number_followed_by_its_security_code_is_still_spotted() -> None:
    assert looks_like_card_number("4242 4242 4242 4242 123")


def test_digit_groups_joined_by_any_separator_are_one_number() -> None:
    for written in ("4242  4242  4242  4242", "4242/4242/4242/4242", "4242.4242.4242.4242"):
        assert looks_like_card_number(written), written
    assert looks_like_card_number("4242\t4242 - 4242_4242") is False  # "_" is a word character
    assert looks_like_card_number("4242 -/4242 -/4242 -/4242")


def test_groups_further_apart_than_three_separators_or_on_two_lines_are_not_joined() -> None:
    assert not looks_like_card_number("4242 .... 4242 .... 4242 .... 4242")
    assert not looks_like_card_number("4242\n4242\n4242\n4242")


def test_a_card_number_as_a_key_is_named_by_the_object_holding_it_never_by_a_path_below() -> None:
    body = {"notes": {VISA: {"also": VISA}}}

    assert card_number_locations(body) == [("notes",)]


def test_card_numbers_are_found_by_path_in_nested_values_lists_and_json_numbers() -> None:
    body = {
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "shipping_address": {"line1": "1 Main St", "line2": "4242 4242 4242 4242"},
        "lines": [{"quantity": 1}, {"note": int(VISA)}],
        "flag": True,
    }

    assert card_number_locations(body) == [("shipping_address", "line2"), ("lines", 1, "note")]


def test_a_card_number_used_as_a_key_names_the_object_not_the_key() -> None:
    assert card_number_locations({"extra": {VISA: "x"}}) == [("extra",)]
    assert card_number_locations({VISA: "x"}) == [()]


def test_a_clean_body_has_no_card_numbers() -> None:
    body = {"customer": {"name": "Ada"}, "phone": "+1 212-555-0100", "lines": [{"quantity": 2}]}

    assert card_number_locations(body) == []


def test_a_deeply_nested_body_is_searched_without_recursion() -> None:
    body: object = VISA
    for _ in range(5000):
        body = [body]

    assert card_number_locations(body) == [(0,) * 5000]


def test_masking_removes_every_card_number_and_keeps_the_rest() -> None:
    text = f"failed for 4242-4242-4242-4242 and {VISA} at +1 212-555-0100"

    masked = mask_card_numbers(text)

    assert masked == f"failed for {MASK} and {MASK} at +1 212-555-0100"


def test_digits_glued_to_a_letter_belong_to_another_word() -> None:
    # Once read as "45190372 6645 4": thirteen digits passing the Luhn check.
    assert not looks_like_card_number("45190372-6645-4d27-849f-e351895a4096")
    assert looks_like_card_number("pm_4242424242424242")


def test_a_uuid_is_an_idempotency_key_whatever_its_digits() -> None:
    # All-digit first groups that pass the Luhn check: still a UUID, never card data.
    for key in ("24861945-7521-4606-9082-9c1cf9a7d637", "37709546-9306-4826-ab1b-bbcbeecfda44"):
        assert parse_key(f'"{key}"') == key
