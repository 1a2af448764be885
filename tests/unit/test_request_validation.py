"""The order schema and the problem document a refused request gets back."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from intake.problems import Problem, field_path, from_validation_error
from intake.schemas import OrderRequest, validate_order
from models.domain.lifecycle import DeliveryMethod

MAX_LINE_QUANTITY = 100
MAX_ORDER_LINES = 3


def valid_body() -> dict[str, Any]:
    return {
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "shipping_address": {
            "line1": "350 Fifth Avenue",
            "city": "New York",
            "region": "NY",
            "postal_code": "10118",
            "country": "US",
        },
        "delivery_method": "curbside",
        "payment_method": "pm_card_visa",
        "lines": [{"article_number": "493.857.51", "quantity": 2}],
    }


def with_change(path: str, value: Any) -> dict[str, Any]:
    """The valid body with one dotted path (`lines.0.quantity`) set to `value`."""
    body = valid_body()
    *parents, last = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return body


def validate(body: Any) -> OrderRequest:
    return validate_order(
        body, max_line_quantity=MAX_LINE_QUANTITY, max_order_lines=MAX_ORDER_LINES
    )


def refusals(body: Any) -> list[dict[str, str]]:
    """The field and reason of every fault, as the client would see them."""
    with pytest.raises(ValidationError) as caught:
        validate(body)
    return from_validation_error(caught.value).errors


def refused_fields(body: Any) -> list[str]:
    return [error["field"] for error in refusals(body)]


def test_a_valid_body_passes() -> None:
    order = validate(valid_body())
    assert order.customer.email == "ada@example.com"
    assert order.delivery_method is DeliveryMethod.CURBSIDE
    assert [(line.article_number, line.quantity) for line in order.lines] == [("493.857.51", 2)]


def test_the_body_is_not_modified_by_validation() -> None:
    body = valid_body()
    before = copy.deepcopy(body)
    validate(body)
    assert body == before


def test_surrounding_whitespace_is_stripped() -> None:
    order = validate(with_change("customer.name", "  Ada  "))
    assert order.customer.name == "Ada"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("coupon", "coupon"),
        ("customer.phone", "customer.phone"),
        ("shipping_address.floor", "shipping_address.floor"),
        ("lines.0.discount", "lines[0].discount"),
    ],
)
def test_unknown_fields_are_refused_wherever_they_appear(path: str, field: str) -> None:
    errors = refusals(with_change(path, "x"))
    assert errors == [{"field": field, "reason": "Extra inputs are not permitted"}]


@pytest.mark.parametrize(
    "quantity", [0, -1, 10**9, MAX_LINE_QUANTITY + 1, "2", 2.5, 2.0, True, None, [2]]
)
def test_a_quantity_that_is_not_a_whole_number_within_limits_is_refused(quantity: Any) -> None:
    assert refused_fields(with_change("lines.0.quantity", quantity)) == ["lines[0].quantity"]


def test_a_quantity_over_the_limit_says_what_the_limit_is() -> None:
    (error,) = refusals(with_change("lines.0.quantity", MAX_LINE_QUANTITY + 1))
    assert error["reason"] == f"must be at most {MAX_LINE_QUANTITY}"


def test_the_largest_allowed_quantity_passes() -> None:
    order = validate(with_change("lines.0.quantity", MAX_LINE_QUANTITY))
    assert order.lines[0].quantity == MAX_LINE_QUANTITY


def test_the_same_article_twice_is_refused_asking_to_combine() -> None:
    body = with_change(
        "lines",
        [
            {"article_number": "493.857.51", "quantity": 1},
            {"article_number": "493.857.51", "quantity": 2},
        ],
    )
    (error,) = refusals(body)
    assert error["field"] == "lines"
    assert "493.857.51 appears twice" in error["reason"]


def test_more_lines_than_allowed_are_refused() -> None:
    lines = [{"article_number": f"100.000.0{i}", "quantity": 1} for i in range(4)]
    assert refusals(with_change("lines", lines)) == [
        {"field": "lines", "reason": "at most 3 lines"}
    ]


def test_an_order_without_lines_is_refused() -> None:
    assert refused_fields(with_change("lines", [])) == ["lines"]


def test_a_malformed_article_number_is_explained() -> None:
    (error,) = refusals(with_change("lines.0.article_number", "49385751"))
    assert error == {
        "field": "lines[0].article_number",
        "reason": "must be an article number like 493.857.51",
    }


def test_an_upper_case_country_passes() -> None:
    assert validate(with_change("shipping_address.country", "SE")).shipping_address.country == "SE"


def test_a_lower_case_country_is_accepted_and_upper_cased() -> None:
    order = validate(with_change("shipping_address.country", "us"))
    assert order.shipping_address.country == "US"


@pytest.mark.parametrize("country", ["USA", "U", "U5", ""])
def test_a_country_that_is_not_two_letters_is_refused(country: str) -> None:
    (error,) = refusals(with_change("shipping_address.country", country))
    assert error["field"] == "shipping_address.country"
    assert "ISO 3166-1" in error["reason"]


@pytest.mark.parametrize("country", ["UK", "uk", "EU", "XX", "\u017fe"])
def test_a_two_letter_country_that_iso_never_assigned_is_refused(country: str) -> None:
    (error,) = refusals(with_change("shipping_address.country", country))
    assert error["field"] == "shipping_address.country"
    assert "ISO 3166-1" in error["reason"]


@pytest.mark.parametrize("payment_method", ["card_4242", "pm_", "pm_4242-42"])
def test_a_payment_method_that_is_not_a_token_is_refused_saying_so(payment_method: str) -> None:
    (error,) = refusals(with_change("payment_method", payment_method))
    assert error["field"] == "payment_method"
    assert "token" in error["reason"]
    assert "never card data" in error["reason"]


@pytest.mark.parametrize("payment_method", ["4242424242424242", "4242 4242 4242 4242"])
def test_a_card_number_as_payment_method_is_refused_as_card_data(payment_method: str) -> None:
    (error,) = refusals(with_change("payment_method", payment_method))
    assert error["field"] == "payment_method"
    assert error["reason"].startswith("looks like a card number")
    assert payment_method not in str(error)


@pytest.mark.parametrize("token", ["pm_card_visa", "tok_visa", "pm_1PqRsT"])
def test_a_payment_method_token_passes(token: str) -> None:
    assert validate(with_change("payment_method", token)).payment_method == token


@pytest.mark.parametrize(
    "email", ["ada", "ada@", "@example.com", "ada@@example.com", "ada example"]
)
def test_an_invalid_email_is_refused(email: str) -> None:
    assert refused_fields(with_change("customer.email", email)) == ["customer.email"]


def test_an_unknown_delivery_method_is_refused() -> None:
    assert refused_fields(with_change("delivery_method", "drone")) == ["delivery_method"]


def test_every_missing_required_field_is_reported_at_once() -> None:
    fields = refused_fields({"customer": {}, "lines": [{}]})
    assert set(fields) == {
        "customer.email",
        "customer.name",
        "shipping_address",
        "delivery_method",
        "payment_method",
        "lines[0].article_number",
        "lines[0].quantity",
    }


@pytest.mark.parametrize("body", [[], "order", None, 42])
def test_a_body_that_is_not_an_object_is_refused_as_a_whole(body: Any) -> None:
    assert refused_fields(body) == ["body"]


@pytest.mark.parametrize(
    ("location", "path"),
    [
        (("lines", 0, "quantity"), "lines[0].quantity"),
        (("shipping_address", "country"), "shipping_address.country"),
        (("lines", 12), "lines[12]"),
        (("coupon",), "coupon"),
        ((), ""),
    ],
)
def test_field_path_writes_a_location_the_way_a_client_would(
    location: tuple[int | str, ...], path: str
) -> None:
    assert field_path(location) == path


def test_a_validation_error_becomes_a_422_problem_without_an_app() -> None:
    with pytest.raises(ValidationError) as caught:
        validate(with_change("lines.0.quantity", 0))
    problem = from_validation_error(caught.value)
    assert isinstance(problem, Problem)
    assert (problem.status, problem.title) == (422, "Invalid request")
    assert problem.errors == [
        {"field": "lines[0].quantity", "reason": "Input should be greater than or equal to 1"}
    ]
