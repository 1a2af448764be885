"""Tracking numbers in real carrier formats, with their check digits."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from models.domain.countries import ISO_COUNTRIES

TrackingFormat = Literal["ups", "usps", "s10"]

UPS_PATTERN = re.compile(r"^1Z[0-9A-Z]{15}[0-9]$")
UPS_TRACKING_URL = "https://www.ups.com/track?tracknum={number}"

# Only the 22-digit IMpb form is accepted: the 20-digit legacy numbers and the 26/30/34-digit
# forms with routing or extra serial digits are refused rather than half-supported.
USPS_PATTERN = re.compile(r"9[1-5][0-9]{20}")
USPS_TRACKING_URL = "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"
USPS_CHANNEL = "94"

S10_PATTERN = re.compile(r"([A-Z]{2})([0-9]{8})([0-9])([A-Z]{2})")
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
# The last two letters name the issuing post, so the country's own tracker is the best link;
# where we know of none, 17TRACK follows any UPU member's S10 items.
S10_TRACKING_URLS = {
    "SE": "https://tracking.postnord.com/se/?id={number}",
    "US": USPS_TRACKING_URL,
}
S10_FALLBACK_URL = "https://www.17track.net/en/track?nums={number}"


def _ups_value(char: str) -> int:
    # UPS maps letters onto digits by their offset from 'A' plus two, modulo ten.
    return int(char) if char.isdigit() else (ord(char) - 63) % 10


def ups_check_digit(body: str) -> int:
    """The check digit of the 15 characters after `1Z`."""
    values = [_ups_value(char) for char in body]
    odd = sum(values[0::2])
    even = sum(values[1::2])
    return (10 - (odd + 2 * even) % 10) % 10


def ups_tracking_number(shipper: str, service: str, package: int) -> str:
    """A UPS 1Z number: 6-character shipper, 2-digit service, 7-digit package number."""
    if not re.fullmatch(r"[0-9A-Z]{6}", shipper) or not re.fullmatch(r"[0-9]{2}", service):
        raise ValueError("shipper must be 6 alphanumerics and service 2 digits")
    body = f"{shipper}{service}{package % 10**7:07d}"
    return f"1Z{body}{ups_check_digit(body)}"


def is_valid_ups(number: str) -> bool:
    """Whether `number` is a well-formed UPS 1Z number with a correct check digit."""
    if not UPS_PATTERN.fullmatch(number):
        return False
    return ups_check_digit(number[2:17]) == int(number[17])


def usps_check_digit(body: str) -> int:
    """The USPS mod-10 check digit of the 21 digits before it."""
    # Weights 3, 1, 3, ... from the right; 3 is coprime to 10, so no single digit slips by.
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def usps_tracking_number(mailer_id: str, serial: int, service: str = "001") -> str:
    """A 22-digit IMpb number: channel `94`, 3-digit service type, mailer id, serial, check."""
    # USPS hands out 6-digit mailer ids starting 0-8 and 9-digit ones starting with 9; the
    # serial fills what is left, so a bigger mailer gets fewer serial digits per id.
    if not re.fullmatch(r"[0-8][0-9]{5}|9[0-9]{8}", mailer_id):
        raise ValueError("mailer id must be 6 digits starting 0-8 or 9 digits starting 9")
    if not re.fullmatch(r"[0-9]{3}", service):
        raise ValueError("service type code must be 3 digits")
    width = 16 - len(mailer_id)
    if not 0 <= serial < 10**width:
        raise ValueError(f"serial must be between 0 and {10**width - 1}")
    body = f"{USPS_CHANNEL}{service}{mailer_id}{serial:0{width}d}"
    return f"{body}{usps_check_digit(body)}"


def is_valid_usps(number: str) -> bool:
    """Whether `number` is a 22-digit IMpb number (channel 91-95) with a correct check digit."""
    if not USPS_PATTERN.fullmatch(number):
        return False
    return usps_check_digit(number[:21]) == int(number[21])


def s10_check_digit(serial: str) -> int:
    """The UPU S10 mod-11 check digit of an 8-digit serial."""
    remainder = sum(int(digit) * w for digit, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    # 11 - remainder, except that 10 becomes 0 and 11 becomes 5: remainders 0 and 6 share 5.
    return {0: 5, 1: 0}.get(remainder, 11 - remainder)


def s10_tracking_number(service: str, serial: int, country: str) -> str:
    """An S10 item id: 2-letter service indicator, 8-digit serial, check digit, country."""
    if not re.fullmatch(r"[A-Z]{2}", service):
        raise ValueError("service indicator must be 2 capital letters")
    if not 0 <= serial < 10**8:
        raise ValueError("serial must be between 0 and 99999999")
    if country not in ISO_COUNTRIES:
        raise ValueError(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    digits = f"{serial:08d}"
    return f"{service}{digits}{s10_check_digit(digits)}{country}"


def is_valid_s10(number: str) -> bool:
    """Whether `number` is a well-formed S10 id with a correct check digit and real country."""
    match = S10_PATTERN.fullmatch(number)
    if match is None:
        return False
    _, serial, check, country = match.groups()
    return country in ISO_COUNTRIES and s10_check_digit(serial) == int(check)


VALIDATORS: dict[TrackingFormat, Callable[[str], bool]] = {
    "ups": is_valid_ups,
    "usps": is_valid_usps,
    "s10": is_valid_s10,
}


def normalize_tracking_number(number: str) -> str:
    """The number as people type it made canonical: whitespace removed, letters upper-cased."""
    return "".join(number.split()).upper()


def identify(number: str) -> TrackingFormat | None:
    """The format of a valid tracking number after normalizing, or None if it is in none."""
    # Unicode upper-casing maps dotless i (U+0131) onto `I` and long s (U+017F) onto `S`,
    # so only ASCII input may be normalized into a number.
    if not number.isascii():
        return None
    canonical = normalize_tracking_number(number)
    return next((name for name, valid in VALIDATORS.items() if valid(canonical)), None)


def tracking_url(carrier: str, number: str) -> str:
    """The public tracking page of a valid number in the format `carrier` names."""
    validator = next((valid for name, valid in VALIDATORS.items() if name == carrier), None)
    canonical = normalize_tracking_number(number)
    if validator is None or not number.isascii() or not validator(canonical):
        raise ValueError(f"{number!r} is not a valid {carrier} tracking number")
    if carrier == "ups":
        template = UPS_TRACKING_URL
    elif carrier == "usps":
        template = USPS_TRACKING_URL
    else:
        template = S10_TRACKING_URLS.get(canonical[-2:], S10_FALLBACK_URL)
    return template.format(number=canonical)
