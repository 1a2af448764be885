"""UPS 1Z tracking numbers: their format and their mod-10 check digit."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from models.domain.tracking import (
    UPS_TRACKING_URL,
    is_valid_ups,
    ups_check_digit,
    ups_tracking_number,
)

DOCUMENTED = "1Z999AA10123456784"  # UPS's own published example
ALPHANUMERIC = string.digits + string.ascii_uppercase


def test_the_documented_ups_example_is_valid() -> None:
    assert is_valid_ups(DOCUMENTED)
    assert ups_check_digit(DOCUMENTED[2:17]) == 4


@pytest.mark.parametrize("digit", [d for d in string.digits if d != "4"])
def test_the_documented_example_with_another_check_digit_is_invalid(digit: str) -> None:
    assert not is_valid_ups(DOCUMENTED[:-1] + digit)


def test_letters_count_as_their_offset_from_a_plus_two() -> None:
    # A=2 ... H=9, I=0, J=1, K=2: so `A` and `K` are interchangeable, a known blind spot.
    assert ups_check_digit("A" * 15) == ups_check_digit("2" * 15)
    assert ups_check_digit("I" * 15) == ups_check_digit("0" * 15)
    assert ups_check_digit("999KK1012345678") == ups_check_digit("999AA1012345678")


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1Z999AA1012345678",  # 17 characters
        "1Z999AA101234567840",  # 19 characters
        "1z999AA10123456784",  # lower-case prefix
        "1Z999aa10123456784",  # lower-case body
        "2Z999AA10123456784",
        "1Z999AA1012345678A",  # check digit must be a digit
        "1Z999AA1012345678\n4",
        "1Z999AA10123456784\n",
        " 1Z999AA10123456784",
        "1Z999-A10123456784",
    ],
)
def test_malformed_numbers_are_not_valid(number: str) -> None:
    assert not is_valid_ups(number)


@pytest.mark.parametrize(
    ("shipper", "service"),
    [
        ("999AA", "01"),  # shipper too short
        ("999AA10", "01"),  # shipper too long
        ("999aa1", "01"),  # lower case
        ("999-A1", "01"),
        ("999AA1", "1"),  # service too short
        ("999AA1", "001"),
        ("999AA1", "A1"),  # service must be digits
        ("999AA1\n", "01"),
    ],
)
def test_a_malformed_shipper_or_service_raises_value_error(shipper: str, service: str) -> None:
    with pytest.raises(ValueError, match="shipper must be 6 alphanumerics"):
        ups_tracking_number(shipper, service, 1)


def test_the_number_is_built_from_shipper_service_and_a_seven_digit_package() -> None:
    assert ups_tracking_number("999AA1", "01", 2345678) == DOCUMENTED
    assert ups_tracking_number("999AA1", "01", 7)[10:17] == "0000007"


def test_the_tracking_url_carries_the_number() -> None:
    assert UPS_TRACKING_URL.format(number=DOCUMENTED).endswith("tracknum=" + DOCUMENTED)


shippers = st.text(ALPHANUMERIC, min_size=6, max_size=6)
services = st.text(string.digits, min_size=2, max_size=2)
packages = st.integers(min_value=0, max_value=10**7 - 1)


@given(shippers, services, packages)
def test_every_generated_number_is_valid_and_eighteen_characters(
    shipper: str, service: str, package: int
) -> None:
    number = ups_tracking_number(shipper, service, package)
    assert len(number) == 18
    assert number.startswith("1Z" + shipper + service)
    assert is_valid_ups(number)


@given(shippers, services, packages, st.data())
def test_changing_one_digit_of_the_body_invalidates_the_number(
    shipper: str, service: str, package: int, data: st.DataObject
) -> None:
    number = ups_tracking_number(shipper, service, package)
    digit_positions = [i for i in range(2, 17) if number[i].isdigit()]
    position = data.draw(st.sampled_from(digit_positions))  # service digits are always there
    replacement = data.draw(st.sampled_from(string.digits))
    assume(replacement != number[position])
    # Odd body positions count double, so a digit changed by exactly 5 there keeps the sum mod 10:
    # the one digit substitution the UPS check cannot see.
    weight = 1 if (position - 2) % 2 == 0 else 2
    delta = int(replacement) - int(number[position])
    assume(weight * delta % 10 != 0)
    changed = number[:position] + replacement + number[position + 1 :]
    assert not is_valid_ups(changed)


def test_a_digit_changed_by_five_in_a_doubled_position_goes_unnoticed() -> None:
    # Body position 1 (the second `9`) counts double: 9 -> 4 changes the sum by 10.
    changed = DOCUMENTED[:3] + "4" + DOCUMENTED[4:]
    assert is_valid_ups(changed)


@given(shippers, services, packages, st.data())
def test_changing_one_digit_in_a_single_weight_position_always_invalidates(
    shipper: str, service: str, package: int, data: st.DataObject
) -> None:
    number = ups_tracking_number(shipper, service, package)
    # Body positions 8, 10, 12 and 14 are package digits with weight one.
    position = 2 + data.draw(st.sampled_from([8, 10, 12, 14]))
    replacement = data.draw(st.sampled_from(string.digits.replace(number[position], "")))
    changed = number[:position] + replacement + number[position + 1 :]
    assert not is_valid_ups(changed)
