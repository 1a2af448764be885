"""ISO 3166-1 alpha-2 country codes: the one list, and how a code is read from input."""

from __future__ import annotations

import pytest

from models.domain.countries import ISO_COUNTRIES, country_code


def test_the_list_holds_the_249_assigned_codes_and_nothing_else() -> None:
    assert len(ISO_COUNTRIES) == 249
    assert {"GB", "SE", "US", "SS", "CW"} <= ISO_COUNTRIES
    assert not {"UK", "EU", "EL", "XK", "XX", "ZZ", "AA", "QM"} & ISO_COUNTRIES


@pytest.mark.parametrize(("text", "code"), [("SE", "SE"), ("se", "SE"), (" gb ", "GB")])
def test_a_code_is_read_trimmed_and_upper_cased(text: str, code: str) -> None:
    assert country_code(text) == code


# Upper-casing U+017F (long s) gives `S` and U+0131 (dotless i) gives `I`: neither may
# sneak in as SE or IT.
@pytest.mark.parametrize(
    "text", ["UK", "uk", "EU", "XX", "USA", "U", "U5", "", "\u017fe", "\u0131t"]
)
def test_anything_but_an_assigned_code_is_refused_saying_what_is_wanted(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 3166-1 alpha-2"):
        country_code(text)
