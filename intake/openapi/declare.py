"""What a view declares about itself for the OpenAPI document, next to the view.

    @bp.post("/orders")
    @operation(body=OrderRequest, replies={202: OrderAccepted}, problems=(409, 422, 429))
    def create_order() -> Response: ...

The declaration describes; it validates nothing. Requests are still read and refused by
the view (intake/bodies.py, intake/problems.py), exactly as without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Auth:
    """A security scheme of the document, and the problems a request without it gets."""

    scheme: str
    problems: tuple[int, ...] = (401,)
    # Staff tokens need staff:read to read and staff:write for anything else.
    roles_by_method: bool = False
    # Other schemes that do as well, each on its own.
    also: tuple[str, ...] = ()
    # Whether a request may come with none of them.
    optional: bool = False


ORDER_TOKEN = Auth("orderToken")
STAFF = Auth("staffToken", (401, 403), roles_by_method=True)
# An order's guest (its token, or the link in its mails), its customer, or staff.
ORDER_READER = Auth("orderToken", (401, 403), also=("customerToken", "staffToken", "orderLink"))
ORDER_ACTOR = Auth("orderToken", (401, 403), also=("customerToken", "staffToken"))
ACCOUNT = Auth("customerToken", (401, 403), also=("staffToken",))
# No credentials for a guest; a customer's token makes the order that account's.
MAYBE_CUSTOMER = Auth("customerToken", (401, 403), optional=True)
CARRIER_SIGNATURE = Auth("carrierSignature")
METRICS_TOKEN = Auth("metricsToken")


@dataclass(frozen=True)
class Header:
    """A request header the operation reads."""

    name: str
    description: str
    schema: dict[str, Any]
    required: bool = False


IDEMPOTENCY_KEY = Header(
    "Idempotency-Key",
    'A structured-field string (RFC 8941), so quoted: `"8e03978e-40d5-43e8-bc93-6894a57f9324"`; '
    "required (unless `IDEMPOTENCY_KEY_REQUIRED=false`). Send the same request again with "
    "the same key and get the first answer again, with `Idempotent-Replayed: true`. A key is "
    "its client's: a customer's keys are the account's (the same key with another body is a "
    "422), a guest's go with the body sent, so two clients' keys never meet. Kept "
    "`IDEMPOTENCY_KEY_TTL_HOURS` (24 h). 1 to 255 characters inside the quotes; one that "
    "looks like a card number is a 400.",
    {"type": "string", "pattern": r'^ *"([ !#-\[\]-~]|\\[\\"])+" *$', "maxLength": 600},
    required=True,
)


@dataclass(frozen=True)
class Content:
    """A body that is not a JSON model: its media type and schema."""

    media_type: str
    schema: dict[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Reply:
    """A success answer: its body, and the response headers it carries (RESPONSE_HEADERS)."""

    body: type[BaseModel] | Content | None
    headers: tuple[str, ...] = ()
    description: str = ""
    # The same answer in other media types, chosen by the request's Accept header.
    alternatives: tuple[Content, ...] = ()


Body = type[BaseModel] | Content


@dataclass(frozen=True)
class Operation:
    """Everything the document says about one view."""

    replies: dict[int, Reply]
    body: Body | None = None
    problems: tuple[int, ...] = ()
    auth: Auth | None = None
    headers: tuple[Header, ...] = ()
    query: type[BaseModel] | None = None
    path: dict[str, Any] = field(default_factory=dict)


DECLARED: dict[Callable[..., Any], Operation] = {}


def operation(
    *,
    replies: Mapping[int, type[BaseModel] | Content | Reply | None],
    body: Body | None = None,
    problems: tuple[int, ...] = (),
    auth: Auth | None = None,
    headers: tuple[Header, ...] = (),
    query: type[BaseModel] | None = None,
    path: Mapping[str, Any] | None = None,
) -> Callable[[F], F]:
    """Declare the view's request, answers and refusals for /openapi.json.

    `replies` maps each success status to its body (a model, a Content, None, or a Reply
    naming response headers too); `problems` lists the 4xx it can answer, each a problem
    document. Added by themselves: 400 (a refused URL or header) and 503 (an unexpected
    failure) everywhere, 404 where the path has parameters, 413 with a body, and the
    refusals of `auth`. `path` gives a type to a path parameter (a string by default).
    """
    declared = Operation(
        replies={status: _reply(answer) for status, answer in replies.items()},
        body=body,
        problems=problems,
        auth=auth,
        headers=headers,
        query=query,
        path=dict(path or {}),
    )

    def declare(view: F) -> F:
        DECLARED[view] = declared
        return view

    return declare


def _reply(answer: type[BaseModel] | Content | Reply | None) -> Reply:
    return answer if isinstance(answer, Reply) else Reply(answer)


def declared(view: Callable[..., Any]) -> Operation | None:
    """The declaration of a view, if it has one."""
    return DECLARED.get(view)
