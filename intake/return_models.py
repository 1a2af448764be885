"""Returns in the API: what a customer or staff send to open or receive one, and the return
document every answer carries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from models.domain.returns import MAX_NOTE, RMA_PATTERN


class Closed(BaseModel):
    """An answer with exactly these fields (as intake/api_models.py's, which imports these)."""

    model_config = ConfigDict(extra="forbid")


Reason = Literal[
    "damaged", "defective", "wrong_item", "not_as_described", "no_longer_needed", "other"
]
LineNo = Annotated[
    int, Field(strict=True, ge=1, le=10_000, description="the order line's number, from 1")
]
Units = Annotated[int, Field(strict=True, ge=0, le=10_000)]


class AskedLine(BaseModel):
    """Units of one order line to send back."""

    model_config = ConfigDict(extra="forbid")

    line_no: LineNo
    quantity: Annotated[int, Field(strict=True, ge=1, le=10_000)]


class ReturnRequest(BaseModel):
    """A return: which lines, how many units, and why."""

    model_config = ConfigDict(extra="forbid")

    lines: list[AskedLine] = Field(min_length=1, max_length=100)
    reason: Reason = Field(
        description="`damaged` and `defective` units are quarantined, the others restocked"
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_NOTE)] | None = (
        None
    )


class CountedLine(BaseModel):
    """What staff counted of one line of the return."""

    model_config = ConfigDict(extra="forbid")

    line_no: LineNo
    received: Units
    accepted: Units = Field(description="of the received units, those taken back and refunded")


class ReceiveRequest(BaseModel):
    """What came back. Without `lines`, every unit asked for came back and is accepted; a line
    of the return left out of `lines` came back empty."""

    model_config = ConfigDict(extra="forbid")

    lines: list[CountedLine] | None = Field(None, max_length=100)


class ReturnLabel(Closed):
    """The label the parcel travels back under."""

    carrier: str
    tracking_number: str
    tracking_url: str


class ReturnLineOut(Closed):
    """Units of one order line in the return."""

    line_no: int
    article_number: str
    quantity: int = Field(description="units asked to return")
    received: int
    accepted: int
    disposition: Literal["restock", "quarantine"] | None = Field(
        description="where accepted units went; null until some are accepted"
    )


class ReturnView(Closed):
    """A return of the order and what became of it."""

    rma_number: str = Field(pattern=RMA_PATTERN)
    status: Literal["open", "received", "partially_received", "refused"]
    reason: Reason
    note: str | None
    warehouse: str = Field(description="the code of the warehouse the parcel goes back to")
    label: ReturnLabel | None = Field(description="null until the carrier has booked it")
    lines: list[ReturnLineOut]
    refunded: int = Field(description="minor units refunded or on their way back for it")
    currency: str
    created_at: datetime
    received_at: datetime | None


class ReturnOpened(ReturnView):
    """A return just opened (201), or the one an Idempotency-Key replays."""


class ReturnReceived(ReturnView):
    """A return after its receipt."""

    already_received: bool = Field(description="true if it was received before: nothing changed")


class ReturnList(Closed):
    """The order's returns, oldest first."""

    order_id: str
    returns: list[ReturnView]
