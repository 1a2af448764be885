"""The carriers: the numbers each issues, the carrier each route takes, configuration refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from models.domain.tracking import identify, tracking_url
from models.ports import RouteNotServed
from workers.adapters.carriers import PostalCarrier, UpsCarrier, UspsCarrier, choose_carrier


def test_each_carrier_issues_numbers_its_format_accepts() -> None:
    ups = UpsCarrier().create_label(order_id="o-1", warehouse_code="W1")
    usps = UspsCarrier("912345678").create_label(order_id="o-1", warehouse_code="W1")
    post = PostalCarrier("SE", "RR").create_label(order_id="o-1", warehouse_code="W1")
    assert identify(ups.tracking_number) == "ups"
    assert identify(usps.tracking_number) == "usps"
    assert post.tracking_number.startswith("RR")
    assert post.tracking_number.endswith("SE")
    assert identify(post.tracking_number) == "s10"
    assert post.tracking_url == tracking_url("s10", post.tracking_number)


@pytest.mark.parametrize(
    ("origin", "destination", "carrier", "post_country"),
    [
        ("US", "US", UpsCarrier, None),
        ("US", "SE", PostalCarrier, "US"),
        ("SE", "US", PostalCarrier, "SE"),
        ("SE", "SE", PostalCarrier, "SE"),
    ],
)
def test_international_parcels_go_by_the_origin_post_and_domestic_us_ones_by_ups(
    origin: str, destination: str, carrier: type, post_country: str | None
) -> None:
    chosen = choose_carrier(origin_country=origin, destination_country=destination)
    assert isinstance(chosen, carrier)
    if isinstance(chosen, PostalCarrier):
        assert chosen.origin_country == post_country


@pytest.mark.parametrize(
    "make",
    [
        lambda: UspsCarrier("912345"),
        lambda: PostalCarrier("UK"),
        lambda: PostalCarrier("SE", "EE"),
        lambda: choose_carrier(origin_country="US", destination_country="uk"),
    ],
)
def test_carriers_refuse_bad_configuration_when_built(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"mailer id|country|service"):
        make()


@pytest.mark.parametrize(("origin", "destination"), [("UK", "SE"), ("SE", "UK"), ("US", "us")])
def test_a_route_to_or_from_no_iso_country_is_refused_as_not_served(
    origin: str, destination: str
) -> None:
    with pytest.raises(RouteNotServed, match="ISO 3166-1 alpha-2"):
        choose_carrier(origin_country=origin, destination_country=destination)
