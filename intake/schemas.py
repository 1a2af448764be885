"""The shapes of requests and responses, validated by pydantic; unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from intake.card_data import Location, card_number_locations
from models.domain.countries import country_code
from models.domain.lifecycle import DeliveryMethod
from models.tables.catalog import ARTICLE_NUMBER

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Lower case is read as upper, so "se" is as good as "SE"; the carrier needs an assigned code.
CountryCode = Annotated[str, AfterValidator(country_code)]
# Letters, digits, spaces and dashes: every postal code format in use fits, nothing else does.
PostalCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{1,14}$")]


class Strict(BaseModel):
    """Refuses fields it does not know."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Customer(Strict):
    """Who the order is for; guests need only an email and a name."""

    email: EmailStr
    name: Text


class ShippingAddress(Strict):
    """Where the parcel goes."""

    line1: Text
    line2: Text | None = None
    city: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    region: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    postal_code: PostalCode
    country: CountryCode


class OrderLineIn(Strict):
    """An article number and how many."""

    article_number: Annotated[str, StringConstraints(pattern=ARTICLE_NUMBER)]
    quantity: int = Field(strict=True, ge=1, description="at most MAX_LINE_QUANTITY (100)")

    @field_validator("quantity")
    @classmethod
    def _not_more_than_allowed(cls, quantity: int, info: ValidationInfo) -> int:
        limit = (info.context or {}).get("max_line_quantity")
        if limit is not None and quantity > limit:
            raise ValueError(f"must be at most {limit}")
        return quantity


class OrderRequest(Strict):
    """A guest order."""

    customer: Customer
    shipping_address: ShippingAddress
    delivery_method: DeliveryMethod
    payment_method: Annotated[str, StringConstraints(pattern=r"^(pm|tok)_[A-Za-z0-9_]{1,200}$")] = (
        Field(description="a payment method token from the payment provider, never card data")
    )
    lines: list[OrderLineIn] = Field(
        min_length=1, description="at most MAX_ORDER_LINES (50), each article once"
    )

    @field_validator("lines")
    @classmethod
    def _within_limits(cls, lines: list[OrderLineIn], info: ValidationInfo) -> list[OrderLineIn]:
        limit = (info.context or {}).get("max_order_lines")
        if limit is not None and len(lines) > limit:
            raise ValueError(f"at most {limit} lines")
        seen: set[str] = set()
        for line in lines:
            if line.article_number in seen:
                raise ValueError(f"{line.article_number} appears twice; combine the quantities")
            seen.add(line.article_number)
        return lines


CARD_NUMBER_REASON = "looks like a card number: send a payment method token (pm_...) instead"


def _card_data_refused(locations: list[Location]) -> ValidationError:
    # The value is left out of the error, so neither a response nor a log line can repeat it.
    errors: list[InitErrorDetails] = [
        {"type": PydanticCustomError("card_number", CARD_NUMBER_REASON), "loc": loc, "input": None}
        for loc in locations
    ]
    return ValidationError.from_exception_data(OrderRequest.__name__, errors, hide_input=True)


def validate_order(body: Any, *, max_line_quantity: int, max_order_lines: int) -> OrderRequest:
    """Validate a decoded JSON body, refusing card data anywhere, against schema and limits."""
    # The raw body, not the model: unknown fields must not carry card data past the check.
    if locations := card_number_locations(body):
        raise _card_data_refused(locations)
    context = {"max_line_quantity": max_line_quantity, "max_order_lines": max_order_lines}
    return OrderRequest.model_validate(body, context=context)
