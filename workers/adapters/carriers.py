"""The carrier port and carriers that issue UPS, USPS IMpb and UPU S10 tracking numbers."""

from __future__ import annotations

import secrets

from models.domain.countries import ISO_COUNTRIES
from models.domain.tracking import (
    UPS_TRACKING_URL,
    USPS_TRACKING_URL,
    s10_tracking_number,
    tracking_url,
    ups_tracking_number,
    usps_tracking_number,
)
from models.ports import Carrier, Label, RouteNotServed

# UPS's service code for a return paid by the shipper (the customer pays nothing).
RETURNS_SERVICE = "90"


class UpsCarrier:
    """Issues valid 1Z numbers under one shipper account, ground service."""

    name = "ups"

    def __init__(self, shipper: str = "8X4F2A", service: str = "03") -> None:
        self._shipper = shipper
        self._service = service

    def create_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """A new tracking number; uniqueness is enforced by the shipment table."""
        number = ups_tracking_number(self._shipper, self._service, secrets.randbelow(10**7))
        return Label(self.name, number, UPS_TRACKING_URL.format(number=number))

    def create_return_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """A return label: a new number under the returns service, paid by the shipper."""
        number = ups_tracking_number(self._shipper, RETURNS_SERVICE, secrets.randbelow(10**7))
        return Label(self.name, number, UPS_TRACKING_URL.format(number=number))


class UspsCarrier:
    """Issues valid 22-digit IMpb numbers under one mailer id and service type code."""

    name = "usps"

    def __init__(self, mailer_id: str = "812345", service: str = "001") -> None:
        usps_tracking_number(mailer_id, 0, service)  # refuse a bad id now, not at first parcel
        self._mailer_id = mailer_id
        self._service = service
        self._serials = 10 ** (16 - len(mailer_id))  # a 9-digit id leaves 7 serial digits

    def create_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """A new tracking number; uniqueness is enforced by the shipment table."""
        serial = secrets.randbelow(self._serials)
        number = usps_tracking_number(self._mailer_id, serial, self._service)
        return Label(self.name, number, USPS_TRACKING_URL.format(number=number))

    def create_return_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """A return label: a new IMpb number, as any parcel's."""
        return self.create_label(order_id=order_id, warehouse_code=warehouse_code)


class PostalCarrier:
    """A national post issuing UPU S10 item ids (`CP` parcel post, `RR` registered)."""

    name = "post"

    def __init__(self, origin_country: str, service: str = "CP") -> None:
        if service not in {"CP", "RR"}:
            raise ValueError("postal service must be CP (parcel) or RR (registered)")
        s10_tracking_number(service, 0, origin_country)  # refuse a bad country up front
        self.origin_country = origin_country
        self._service = service

    def create_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """A new S10 id issued by the origin country's post."""
        number = s10_tracking_number(self._service, secrets.randbelow(10**8), self.origin_country)
        return Label(self.name, number, tracking_url("s10", number))

    def create_return_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """A return label: a new S10 id issued by the post of the country the parcel leaves."""
        return self.create_label(order_id=order_id, warehouse_code=warehouse_code)


def choose_carrier(*, origin_country: str, destination_country: str) -> Carrier:
    """The carrier for a parcel from the warehouse's country to the customer's."""
    for country in (origin_country, destination_country):
        if country not in ISO_COUNTRIES:
            raise RouteNotServed(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    # Posts hand parcels to each other under the UPU: an international parcel goes with the
    # origin country's post, the only carrier here that reaches every destination.
    if origin_country != destination_country:
        return PostalCarrier(origin_country)
    # Domestic US parcels go with our UPS account; elsewhere with the national post, since
    # we have no account with a private carrier there and S10 ids work domestically too.
    if origin_country == "US":
        return UpsCarrier()
    return PostalCarrier(origin_country)
