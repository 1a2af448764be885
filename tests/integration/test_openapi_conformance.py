"""Every operation of /openapi.json, run by schemathesis against the app on real services.

Valid and invalid requests alike: no answer may be a 5xx, and every answer, problem
documents included, must have a status, media type, headers and body the document allows.
Staff operations get a token with both staff roles, the guest read the order token of a
shipped order, /metrics its token, and the carrier webhook a signature over the body sent;
a valid request's ids and tracking number are swapped for real ones, so that the answers'
bodies are checked too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from settings import Settings
from tests.integration.openapi_support import Known, known_things, own_intake, routes_document

# Each operation runs its examples, boundary cases and this many generated requests, from a
# fixed seed: the same requests every run, about a minute for every operation on 2 cores.
EXAMPLES = 40
SEED = 20261130
CONFIG = {"seed": SEED, "generation": {"deterministic": True, "database": "none"}}
ApiCase = Case[Any]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]


@pytest.fixture(scope="module")
def own(settings: Settings) -> Iterator[tuple[Flask, Known]]:
    """The app on a database of its own, and what exists there."""
    with own_intake(settings) as (app, context):
        yield app, known_things(app, context)


# The document as the app builds it, read before any service runs so that each operation is
# a test of its own; test_openapi_document checks the app serves this very document.
schema = schemathesis.openapi.from_dict(
    routes_document(), config=SchemathesisConfig.from_dict(CONFIG)
)


def _scheme(case: ApiCase) -> str | None:
    security = case.operation.definition.raw.get("security") or [{}]
    return next(iter(security[0]), None)


def _real_values(case: ApiCase, known: Known) -> None:
    """A valid request names things that exist: a real order, shelf, shipment, parcel."""
    meta = case.meta
    if meta is None or meta.generation.mode is not GenerationMode.POSITIVE:
        return
    values = known.path_values(case.path)
    for name in case.path_parameters or {}:
        # A parameter with no real value here (a new route's) keeps the generated one.
        case.path_parameters[name] = values.get(name, case.path_parameters[name])
    if isinstance(case.body, dict) and "tracking_number" in case.body:
        case.body["tracking_number"] = known.tracking_number


def _credentials(case: ApiCase, known: Known) -> dict[str, Any]:
    scheme = _scheme(case)
    if scheme == "carrierSignature":
        raw, signature = known.signed(b"" if isinstance(case.body, NotSet) else case.body)
        return {"data": raw, "headers": {"Carrier-Signature": signature}}
    bearer = known.bearer(scheme) if scheme else None
    return {"headers": {"Authorization": bearer}} if bearer else {}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_document_says(
    case: ApiCase, own: tuple[Flask, Known]
) -> None:
    app, known = own
    # The checks that send requests of their own (ignored_auth) send them to the schema's app.
    case.operation.schema.app = app
    _real_values(case, known)
    checks = CHECKS
    if _scheme(case) == "orderToken":
        # A wrong order token gets the 404 of a missing order, so order ids cannot be probed.
        checks = [check for check in CHECKS if check is not ignored_auth]
    case.call_and_validate(app=app, checks=checks, **_credentials(case, known))
