"""Admin request bodies, validated by pydantic; unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator, model_validator

from intake.schemas import CountryCode, PostalCode, Strict, Text
from models.tables.catalog import ARTICLE_NUMBER

Count = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)]
WarehouseCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
ArticleNumber = Annotated[str, StringConstraints(pattern=ARTICLE_NUMBER)]
MAX_MOVEMENTS = 500


class WarehouseIn(Strict):
    """A new warehouse; without coordinates it is placed by its postal code."""

    code: WarehouseCode
    name: Text
    country: CountryCode
    postal_code: PostalCode
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    allows_self_service: bool = True
    # Where pickup customers collect their orders.
    address_line1: Text | None = None
    city: Text | None = None
    opening_hours: Text | None = None

    @model_validator(mode="after")
    def _both_coordinates_or_neither(self) -> WarehouseIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class WarehousePatch(Strict):
    """What an admin may change of a warehouse; a country is corrected, coordinates stay."""

    name: Text | None = None
    country: CountryCode | None = None
    active: bool | None = None
    allows_self_service: bool | None = None
    address_line1: Text | None = None
    city: Text | None = None
    opening_hours: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _something_to_change(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise ValueError(
                "give at least one of name, country, active, allows_self_service,"
                " address_line1, city, opening_hours"
            )
        return data


class ProductIn(Strict):
    """A product's name and price; the shop's currency unless another is given."""

    name: Text
    price: Count
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None


class StockCount(Strict):
    """Units counted on the shelf; a threshold of null goes back to the shop's default."""

    on_hand: Count
    reason: Text
    low_stock_threshold: Count | None = None


class Adjustment(Strict):
    """Units added (positive) or taken away (negative), and why."""

    change: Annotated[int, Field(strict=True, ge=-1_000_000_000, le=1_000_000_000)]
    reason: Text

    @field_validator("change")
    @classmethod
    def _not_zero(cls, change: int) -> int:
        if change == 0:
            raise ValueError("must not be 0")
        return change


class MovementsQuery(Strict):
    """How many of the newest movements to list."""

    limit: int = Field(50, ge=1, le=MAX_MOVEMENTS)
