"""`flask --app intake admin ...`: tokens, warehouses, products and stock from a terminal."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import jwt
from flask.cli import AppGroup
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError

from intake.admin.schemas import Adjustment, ProductIn, StockCount, WarehouseIn
from intake.admin.stock import adjust_on_shelf, count_on_shelf
from intake.auth import decode, expires_at
from intake.problems import from_validation_error
from intake.runtime import runtime
from intake.tokens import admin_token, minutes_option, role_option, subject_option
from models.services.catalogue import create_warehouse, upsert_product
from models.services.import_stock import ImportRejected
from models.services.import_stock import import_stock as import_stock_file
from models.services.inventory_errors import InventoryError
from models.services.stock_admin import ShelfRef, StockChange
from models.store.revocations import revoke

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class DatabaseGroup(AppGroup):
    """Commands that report an unreachable database in one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            reason = (str(exc.orig) or type(exc.orig).__name__).splitlines()[0]
            raise click.ClickException(f"database unavailable: {reason}") from None


admin_cli = DatabaseGroup("admin", help="Administer warehouses, products and stock.")


def actor() -> str:
    """Who runs the command, as recorded with a change: `cli:` and the login name."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in a bare container
        return "cli:unknown"


def _valid(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = from_validation_error(exc).errors
        raise click.ClickException(
            "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        ) from None


def _refused(error: InventoryError | ImportRejected) -> click.ClickException:
    prefix = "nothing imported: " if isinstance(error, ImportRejected) else ""
    return click.ClickException(f"{prefix}{error}")


@admin_cli.command("token")
@subject_option
@minutes_option
@role_option
def token(subject: str, minutes: int | None, roles: tuple[str, ...]) -> None:
    """Print an API token (`python -m intake.tokens` needs no database)."""
    click.echo(admin_token(runtime().settings, subject, minutes, roles))


@admin_cli.command("revoke")
@click.argument("token_to_revoke", metavar="TOKEN")
def revoke_token(token_to_revoke: str) -> None:
    """Refuse TOKEN from now on, though it has not expired (an expired one is refused anyway)."""
    rt = runtime()
    try:
        claims = decode(rt.settings, token_to_revoke, verify_exp=False)
    except jwt.InvalidTokenError as exc:
        raise click.ClickException(f"not a token of ours: {exc}") from None
    with rt.work() as session:
        fresh = revoke(
            session,
            claims["jti"],
            subject=str(claims["sub"]),
            expires_at=expires_at(claims),
            by=actor(),
        )
    click.echo(f"revoked {claims['jti']}" if fresh else f"{claims['jti']} was revoked already")


@admin_cli.group("warehouse")
def warehouse() -> None:
    """Warehouses."""


@warehouse.command("add")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--country", required=True, help="ISO 3166-1 alpha-2, e.g. SE.")
@click.option("--postal-code", required=True)
@click.option(
    "--lat", "latitude", type=float, help="Latitude; located from the postal code if left out."
)
@click.option("--lon", "longitude", type=float, help="Longitude; give it with --lat.")
@click.option("--self-service/--no-self-service", "allows_self_service", default=True)
@click.option("--address", "address_line1", help="Street address pickup customers are given.")
@click.option("--city", help="City of the street address.")
@click.option("--opening-hours", help='When pickups are handed out, e.g. "Mon-Fri 9-18".')
def add_warehouse(**values: Any) -> None:
    """Open a warehouse."""
    body = _valid(WarehouseIn, values)
    try:
        with runtime().sessions() as session, session.begin():
            created = create_warehouse(session, **body.model_dump())
    except InventoryError as exc:
        raise _refused(exc) from None
    click.echo(f"warehouse {created.code} at {created.latitude:.4f}, {created.longitude:.4f}")


@admin_cli.group("product")
def product() -> None:
    """Products."""


@product.command("set")
@click.argument("article_number")
@click.option("--name", required=True)
@click.option("--price", required=True, type=int, help="In minor units: 29900 is 299.00.")
@click.option("--currency", help="ISO 4217; the shop's CURRENCY by default.")
def set_product(article_number: str, name: str, price: int, currency: str | None) -> None:
    """Create a product or change its name and price."""
    body = _valid(ProductIn, {"name": name, "price": price, "currency": currency})
    rt = runtime()
    try:
        with rt.sessions() as session, session.begin():
            saved, created = upsert_product(
                session,
                article_number=article_number,
                name=body.name,
                price=body.price,
                currency=body.currency or rt.settings.currency,
            )
    except InventoryError as exc:
        raise _refused(exc) from None
    click.echo(f"{'created' if created else 'updated'} {saved.article_number} {saved.name}")


@admin_cli.group("stock")
def stock() -> None:
    """Stock: counts, adjustments and imports, each recorded with your login name."""


def _refusing(change: Callable[[], T]) -> T:
    """Make the change, or say why not the way the command line does."""
    try:
        return change()
    except (InventoryError, ImportRejected) as exc:
        raise _refused(exc) from None


def _report(change: StockChange) -> None:
    s = change.stock
    click.echo(f"on hand {s.on_hand}, reserved {s.reserved}, sellable {change.sellable}")


@stock.command("set")
@click.argument("warehouse_code")
@click.argument("article_number")
@click.argument("on_hand", type=int)
@click.option("--reason", required=True, help="Why, e.g. 'cycle count'.")
@click.option("--threshold", type=click.IntRange(min=0), help="Low-stock threshold for this row.")
def set_stock_command(
    warehouse_code: str, article_number: str, on_hand: int, reason: str, threshold: int | None
) -> None:
    """Set the units on hand after a count."""
    values: dict[str, Any] = {"on_hand": on_hand, "reason": reason}
    if threshold is not None:
        values["low_stock_threshold"] = threshold
    shelf = ShelfRef(warehouse_code, article_number, code_field="warehouse")
    body = _valid(StockCount, values)
    _report(_refusing(lambda: count_on_shelf(shelf, body, actor())))


# Unknown options pass as arguments so that a negative CHANGE like -3 is not taken for one.
@stock.command("adjust", context_settings={"ignore_unknown_options": True})
@click.argument("warehouse_code")
@click.argument("article_number")
@click.argument("change", type=int)
@click.option("--reason", required=True, help="Why, e.g. 'delivery' or 'damaged'.")
def adjust_stock_command(
    warehouse_code: str, article_number: str, change: int, reason: str
) -> None:
    """Add (positive CHANGE) or take away (negative CHANGE) units."""
    shelf = ShelfRef(warehouse_code, article_number, code_field="warehouse")
    body = _valid(Adjustment, {"change": change, "reason": reason})
    _report(_refusing(lambda: adjust_on_shelf(shelf, body, actor())))


@stock.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_stock(file: Path) -> None:
    """Set stock from CSV rows warehouse_code,article_number,on_hand[,low_stock_threshold]."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from None
    rt = runtime()
    changes = _refusing(
        lambda: import_stock_file(
            rt.work,
            text,
            actor=actor(),
            default_threshold=rt.settings.low_stock_threshold,
            reason=f"import {file.name}",
        )
    )
    click.echo(f"imported {len(changes)} rows")
