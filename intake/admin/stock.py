"""Setting, adjusting and importing stock, and reading its movements, under /admin/stock."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.admin.api_models import Imported, Movements, StockRow
from intake.admin.http import actor, article_number
from intake.admin.schemas import (
    MAX_MOVEMENTS,
    Adjustment,
    ArticleNumber,
    MovementsQuery,
    StockCount,
    WarehouseCode,
)
from intake.admin.views import movement_view, stock_view
from intake.bodies import validated
from intake.openapi import STAFF, Content, operation
from intake.problems import Problem, field_error
from intake.runtime import runtime
from models.services.catalogue import warehouse_by_code
from models.services.import_stock import ImportRejected
from models.services.import_stock import import_stock as import_stock_file
from models.services.stock_admin import (
    KEEP,
    ShelfRef,
    StockChange,
    record_adjustment,
    record_count,
)
from models.tables.catalog import StockMovement

bp = Blueprint("stock", __name__)

# A stock file is bigger than an order; this many bytes is some 20,000 rows.
MAX_IMPORT_BYTES = 1024 * 1024
SHELF = {"code": WarehouseCode, "number": ArticleNumber}
STOCK_FILE = Content(
    "text/csv",
    {"type": "string"},
    "Rows of warehouse_code,article_number,on_hand[,low_stock_threshold], UTF-8, at most 1 MiB",
)


def _warehouse_id(session: Session, code: str) -> int:
    return warehouse_by_code(session, code, field="warehouse_code").id


def _answer(change: StockChange, code: str, status: int = 200) -> tuple[Response, int]:
    view = stock_view(change.stock, code, runtime().settings.low_stock_threshold)
    return jsonify(view), status


def count_on_shelf(shelf: ShelfRef, body: StockCount, who: str) -> StockChange:
    """Record a count (the API's PUT and the CLI's `stock set`); a threshold left out is kept."""
    rt = runtime()
    keep = "low_stock_threshold" not in body.model_fields_set
    return record_count(
        rt.work,
        shelf,
        on_hand=body.on_hand,
        reason=body.reason,
        actor=who,
        default_threshold=rt.settings.low_stock_threshold,
        low_stock_threshold=KEEP if keep else body.low_stock_threshold,
    )


def adjust_on_shelf(shelf: ShelfRef, body: Adjustment, who: str) -> StockChange:
    """Record an adjustment (the API's POST and the CLI's `stock adjust`)."""
    rt = runtime()
    return record_adjustment(
        rt.work,
        shelf,
        change=body.change,
        reason=body.reason,
        actor=who,
        default_threshold=rt.settings.low_stock_threshold,
    )


@bp.put("/stock/<code>/<number>")
@operation(
    body=StockCount, replies={200: StockRow}, problems=(415, 422, 429), auth=STAFF, path=SHELF
)
def put_stock(code: str, number: str) -> tuple[Response, int]:
    """Set the units on hand after a count, and optionally the low-stock threshold."""
    shelf = ShelfRef(code, article_number(number))
    return _answer(count_on_shelf(shelf, validated(StockCount), actor()), code)


@bp.post("/stock/<code>/<number>/adjustments")
@operation(
    body=Adjustment, replies={201: StockRow}, problems=(415, 422, 429), auth=STAFF, path=SHELF
)
def post_adjustment(code: str, number: str) -> tuple[Response, int]:
    """Add or take away units, with the reason."""
    shelf = ShelfRef(code, article_number(number))
    return _answer(adjust_on_shelf(shelf, validated(Adjustment), actor()), code, 201)


def _csv_text() -> str:
    if request.mimetype != "text/csv":
        raise Problem(
            415,
            "Unsupported media type",
            errors=[{"field": "Content-Type", "reason": "must be text/csv"}],
        )
    request.max_content_length = MAX_IMPORT_BYTES
    try:
        text = request.get_data().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise field_error("body", "must be UTF-8 text") from None
    if "\x00" in text:
        # PostgreSQL cannot take one in text: it would fail after the file was read.
        raise field_error("body", "must not contain a NUL character")
    return text


@bp.post("/stock/import")
@operation(body=STOCK_FILE, replies={200: Imported}, problems=(415, 422, 429), auth=STAFF)
def import_stock() -> Response:
    """Set stock from CSV rows warehouse_code,article_number,on_hand[,low_stock_threshold]."""
    text = _csv_text()
    rt = runtime()
    try:
        changes = import_stock_file(
            rt.work, text, actor=actor(), default_threshold=rt.settings.low_stock_threshold
        )
    except ImportRejected as exc:
        errors = [{"field": field, "reason": reason} for field, reason in exc.errors]
        raise Problem(
            422, "Invalid stock file", detail="nothing was imported", errors=errors
        ) from None
    return jsonify({"imported": len(changes)})


@bp.get("/stock/<code>/<number>/movements")
@operation(
    replies={200: Movements},
    problems=(422, 429),
    auth=STAFF,
    query=MovementsQuery,
    path=SHELF,
)
def list_movements(code: str, number: str) -> Response:
    """The newest changes to one stock row, newest first (`?limit=`, at most 500)."""
    number = article_number(number)
    limit = request.args.get("limit", "50")
    # isdigit() alone takes "²", which int() refuses.
    if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_MOVEMENTS:
        raise field_error("limit", f"must be a whole number from 1 to {MAX_MOVEMENTS}")
    with runtime().sessions() as session:
        movements = session.scalars(
            select(StockMovement)
            .where(
                StockMovement.warehouse_id == _warehouse_id(session, code),
                StockMovement.article_number == number,
            )
            .order_by(StockMovement.id.desc())
            .limit(int(limit))
        ).all()
        return jsonify({"movements": [movement_view(m) for m in movements]})
