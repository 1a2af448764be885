"""USPS IMpb and UPU S10 tracking numbers, format identification, and tracking URLs."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain.countries import ISO_COUNTRIES
from models.domain.tracking import (
    identify,
    is_valid_s10,
    is_valid_usps,
    s10_check_digit,
    s10_tracking_number,
    tracking_url,
    ups_tracking_number,
    usps_tracking_number,
)

# Valid IMpb numbers from the test data of jkeen/tracking_number_data (couriers/usps.json).
PUBLISHED_USPS = [
    "9400111201080805483016",
    "9505511069605048600624",
    "9361289878700317633795",
    "9405803699300124287899",
]
# From the same project's couriers/s10.json; 47312482 -> 9 is the worked example of S10 itself.
PUBLISHED_S10 = ["RB123456785GB", "RB123456785US", "RB123456785CV", "RB123456785CF"]

six_digit_mailers = st.from_regex(r"[0-8][0-9]{5}", fullmatch=True)
nine_digit_mailers = st.from_regex(r"9[0-9]{8}", fullmatch=True)
usps_services = st.text(string.digits, min_size=3, max_size=3)
s10_services = st.text(string.ascii_uppercase, min_size=2, max_size=2)
s10_serials = st.integers(min_value=0, max_value=10**8 - 1)
countries = st.sampled_from(sorted(ISO_COUNTRIES))


@st.composite
def usps_numbers(draw: st.DrawFn) -> str:
    """Any IMpb number our generator can issue."""
    mailer = draw(st.one_of(six_digit_mailers, nine_digit_mailers))
    serial = draw(st.integers(min_value=0, max_value=10 ** (16 - len(mailer)) - 1))
    return usps_tracking_number(mailer, serial, draw(usps_services))


s10_numbers = st.builds(s10_tracking_number, s10_services, s10_serials, countries)


def _substitute(number: str, position: int, digit: str) -> str:
    return number[:position] + digit + number[position + 1 :]


@pytest.mark.parametrize(
    ("number", "name"),
    [*((n, "usps") for n in PUBLISHED_USPS), *((n, "s10") for n in PUBLISHED_S10)],
)
def test_published_numbers_are_valid_and_identified(number: str, name: str) -> None:
    assert (is_valid_usps if name == "usps" else is_valid_s10)(number)
    assert identify(number) == name


def test_the_generator_rebuilds_a_published_usps_number_from_its_parts() -> None:
    assert usps_tracking_number("112010", 8080548301, "001") == "9400111201080805483016"


@pytest.mark.parametrize("number", ["9400100000000000000000", "9400111899223197428490"])
def test_popular_usps_placeholders_fail_their_check_digit(number: str) -> None:
    # Both are copied around as "example tracking numbers"; neither has a correct check digit.
    assert not is_valid_usps(number)
    assert identify(number) is None


def test_the_s10_worked_example_has_check_digit_nine() -> None:
    assert s10_check_digit("47312482") == 9
    assert s10_tracking_number("RR", 47312482, "SE") == "RR473124829SE"


@given(usps_numbers())
def test_every_generated_usps_number_is_valid_and_identified(number: str) -> None:
    assert len(number) == 22
    assert number.startswith("94")
    assert is_valid_usps(number)
    assert identify(number) == "usps"


@given(s10_numbers)
def test_every_generated_s10_number_is_valid_and_identified(number: str) -> None:
    assert len(number) == 13
    assert is_valid_s10(number)
    assert identify(number) == "s10"


@given(st.from_regex(r"[0-9A-Z]{6}", fullmatch=True), st.integers(0, 10**7 - 1))
def test_every_generated_ups_number_is_identified_as_ups(shipper: str, package: int) -> None:
    assert identify(ups_tracking_number(shipper, "03", package)) == "ups"


@given(usps_numbers(), s10_numbers)
def test_any_other_check_digit_is_refused(usps: str, s10: str) -> None:
    for digit in string.digits.replace(usps[21], ""):
        assert not is_valid_usps(usps[:21] + digit)
    for digit in string.digits.replace(s10[10], ""):
        assert not is_valid_s10(_substitute(s10, 10, digit))


@given(usps_numbers())
def test_every_single_digit_substitution_in_a_usps_number_is_caught(number: str) -> None:
    # Weights 3 and 1 are both coprime to 10, so no substitution keeps the sum modulo 10.
    for position in range(21):
        for digit in string.digits.replace(number[position], ""):
            assert not is_valid_usps(_substitute(number, position, digit))


def _s10_remainder(serial: str) -> int:
    return sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11


@given(s10_numbers)
def test_an_s10_substitution_is_caught_unless_it_swaps_remainders_zero_and_six(
    number: str,
) -> None:
    # Mod 11 sees every substitution, but remainders 0 and 6 both map to check digit 5.
    before = _s10_remainder(number[2:10])
    for position in range(2, 10):
        for digit in string.digits.replace(number[position], ""):
            changed = _substitute(number, position, digit)
            after = _s10_remainder(changed[2:10])
            assert after != before
            assert is_valid_s10(changed) == ({before, after} == {0, 6})


def test_an_s10_substitution_between_remainders_zero_and_six_goes_unnoticed() -> None:
    # 00000000 sums to 0 and 90000000 to 72 = 6 mod 11: both take check digit 5.
    assert is_valid_s10("RR000000005US")
    assert is_valid_s10("RR900000005US")


@pytest.mark.parametrize(
    "number",
    [
        "",
        "940011120108080548301",  # 21 digits
        "94001112010808054830166",  # 23 digits
        "71969010756003077385",  # 20-digit legacy form is not accepted
        "8400111201080805483016",  # must start with 9
        "9600111201080805483016",  # channel 96 does not exist
        "94001112010808054830A6",
        "9400 1112 0108 0805 4830 16",  # validators take the canonical form
        "\u0669400111201080805483016",  # an Arabic-Indic nine is not an ASCII digit
    ],
)
def test_malformed_usps_numbers_are_refused(number: str) -> None:
    assert not is_valid_usps(number)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "RB12345678GB",  # 7 serial digits and the check
        "RB1234567855GB",
        "R1123456785GB",  # letters where the service indicator goes
        "RB12345A785GB",  # letter in the serial
        "RB12345678AGB",  # letter as check digit
        "RB123456785UK",  # not an ISO code: the UK is GB
        "RB123456785XX",
        "RB123456785G1",
        "rb123456785gb",  # validators take the canonical form
        "RB123456785GB\n",
    ],
)
def test_malformed_s10_numbers_are_refused(number: str) -> None:
    assert not is_valid_s10(number)


@pytest.mark.parametrize(
    ("mailer", "serial", "service"),
    [
        ("912345", 1, "001"),  # a 6-digit mailer id cannot start with 9
        ("812345678", 1, "001"),  # a 9-digit one must
        ("81234", 1, "001"),
        ("812345", 10**10, "001"),  # 6-digit ids leave 10 serial digits
        ("912345678", 10**7, "001"),  # 9-digit ids leave 7
        ("812345", -1, "001"),
        ("812345", 1, "01"),
    ],
)
def test_usps_numbers_need_a_real_mailer_id_and_a_serial_that_fits(
    mailer: str, serial: int, service: str
) -> None:
    with pytest.raises(ValueError, match=r"mailer id|serial|service"):
        usps_tracking_number(mailer, serial, service)


@pytest.mark.parametrize(
    ("service", "serial", "country"),
    [("R1", 1, "SE"), ("rr", 1, "SE"), ("RR", 10**8, "SE"), ("RR", -1, "SE"), ("RR", 1, "UK")],
)
def test_s10_numbers_need_letters_a_short_serial_and_a_real_country(
    service: str, serial: int, country: str
) -> None:
    with pytest.raises(ValueError, match=r"service|serial|country"):
        s10_tracking_number(service, serial, country)


def test_identify_accepts_spaces_and_lower_case_as_people_type_them() -> None:
    assert identify(" 1z999aa1 0123 4567 84 ") == "ups"
    assert identify("9400 1112 0108 0805 4830 16") == "usps"
    assert identify("rb 123 456 785 gb") == "s10"


def test_identify_refuses_letters_that_only_upper_case_into_ascii() -> None:
    # Dotless i upper-cases to I and long s to S; neither may sneak in a valid number.
    assert identify("RB123456785it") == "s10"
    assert identify("RB123456785\u0131t") is None
    assert identify("RB123456785se") == "s10"
    assert identify("RB123456785\u017fe") is None


@given(st.text())
def test_identify_never_fails_and_only_names_formats_that_validate(text: str) -> None:
    name = identify(text)
    if name is not None:
        assert tracking_url(name, text).startswith("https://")


def test_tracking_urls_carry_the_canonical_number() -> None:
    assert tracking_url("usps", "9400 1112 0108 0805 4830 16") == (
        "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111201080805483016"
    )
    assert tracking_url("s10", "RB123456785SE") == (
        "https://tracking.postnord.com/se/?id=RB123456785SE"
    )
    assert tracking_url("s10", "RB123456785GB") == (
        "https://www.17track.net/en/track?nums=RB123456785GB"
    )
    assert tracking_url("ups", "1Z999AA10123456784").endswith("tracknum=1Z999AA10123456784")


@pytest.mark.parametrize(
    ("carrier", "number"),
    [("ups", "RB123456785GB"), ("usps", "RB123456785GB"), ("fedex", "RB123456785GB")],
)
def test_a_tracking_url_is_refused_for_a_number_not_in_that_format(
    carrier: str, number: str
) -> None:
    with pytest.raises(ValueError, match="not a valid"):
        tracking_url(carrier, number)
