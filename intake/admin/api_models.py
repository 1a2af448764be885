"""What the admin API answers with, as pydantic models: the OpenAPI document's schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from intake.api_models import Closed, OrderView


class Open(BaseModel):
    """A record stored as JSON: these fields, and any an older version wrote."""

    model_config = ConfigDict(extra="allow")


class WarehouseOut(Closed):
    """A warehouse."""

    code: str
    name: str
    country: str
    postal_code: str
    address_line1: str | None = Field(description="street address pickup customers are given")
    city: str | None
    opening_hours: str | None
    latitude: float
    longitude: float
    active: bool
    allows_self_service: bool


class Warehouses(Closed):
    """Every warehouse, by code."""

    warehouses: list[WarehouseOut]


class ProductOut(Closed):
    """A product and its price in minor units."""

    article_number: str
    name: str
    price: int
    currency: str


class StockRow(Closed):
    """A product's stock in one warehouse."""

    warehouse: str = Field(description="the warehouse's code")
    article_number: str
    on_hand: int
    reserved: int
    sellable: int = Field(description="on hand and not reserved")
    low_stock_threshold: int | None = Field(description="its own threshold; null: the default")
    effective_threshold: int


class ProductWithStock(ProductOut):
    """A product with its stock in every warehouse that has a row for it."""

    stock: list[StockRow]


class Movement(Closed):
    """One recorded change to a stock row."""

    id: int
    change: int
    on_hand_after: int
    reason: str
    actor: str
    at: datetime


class Movements(Closed):
    """Changes to one stock row, newest first."""

    movements: list[Movement]


class Imported(Closed):
    """How many stock rows a file set."""

    imported: int


class Candidate(Open):
    """A warehouse the allocation considered."""

    rank: int
    warehouse: str
    distance_km: float
    available: dict[str, int]
    can_fill: bool
    abroad: bool = Field(False, description="outside the country shipped to")
    chosen: bool


class Pick(Open):
    """Units of one article taken from one warehouse."""

    warehouse_id: int
    article_number: str
    quantity: int


class Receipt(Closed):
    """One allocation attempt: every candidate weighed, what was picked, and why."""

    id: int
    outcome: str
    rule: str = Field(
        description="which rule decided: `whole`, `fewest_exact`, `fewest_budget`, "
        "`fewest_greedy` or `short`; empty on receipts written before rules were recorded"
    )
    reason: str
    candidates: list[Candidate]
    picks: list[Pick]
    at: datetime


class AdminOrder(OrderView):
    """The order as its customer sees it, with every allocation receipt, oldest first."""

    receipts: list[Receipt]
