"""Whom a request is counted against, and the limits the settings accept."""

from __future__ import annotations

import pytest
from flask import Flask
from pydantic import ValidationError

from intake.limits import client_address
from settings import Settings


@pytest.mark.parametrize(
    ("remote", "counted"),
    [
        ("198.51.100.7", "198.51.100.7"),
        # One IPv6 client usually holds a /64: its addresses share one count.
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_a_client_is_counted_by_its_address_or_its_ipv6_slash_64(remote: str, counted: str) -> None:
    with Flask(__name__).test_request_context(environ_base={"REMOTE_ADDR": remote}):
        assert client_address() == counted


def test_a_rate_limit_setting_takes_limits_notation_and_refuses_anything_else() -> None:
    assert Settings(rate_limit_order_creation="5/second;1000/hour").rate_limit_order_creation

    with pytest.raises(ValidationError, match="rate_limit_carrier_webhook"):
        Settings(rate_limit_carrier_webhook="plenty")
