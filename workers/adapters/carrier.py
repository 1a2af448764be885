"""The carrier port and a carrier that issues UPS-format tracking numbers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from models.domain.tracking import UPS_TRACKING_URL, ups_tracking_number


@dataclass(frozen=True)
class Label:
    """What a carrier gives back for a parcel."""

    carrier: str
    tracking_number: str
    tracking_url: str


class Carrier(Protocol):
    """Something that books a parcel and returns its label."""

    def create_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """Book a parcel from the warehouse for the order."""


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
