"""Tracking numbers in real carrier formats, with their check digits."""

from __future__ import annotations

import re

UPS_PATTERN = re.compile(r"^1Z[0-9A-Z]{15}[0-9]$")
UPS_TRACKING_URL = "https://www.ups.com/track?tracknum={number}"


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
