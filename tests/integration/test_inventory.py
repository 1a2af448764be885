"""Stock changes, imports and low-stock alerts against real PostgreSQL and SMTP."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.stock import increased
from models.services.alert import send_low_stock_alert
from models.services.catalogue import create_warehouse
from models.services.import_stock import ImportRejected, import_stock_csv
from models.services.inventory_errors import InventoryError
from models.services.stock_admin import adjust_stock, set_stock
from models.store.alerts import check_low_stock
from models.store.unit_of_work import Work
from models.tables.catalog import Stock, StockAlert
from settings import Settings
from tests.admin_support import Shelf, movements_of, new_shelf
from tests.factories import stock_of
from tests.infra import Mailbox
from workers.adapters.smtp import SmtpMailer

THRESHOLD = 5


def adjust(sessions: sessionmaker[Session], shelf: Shelf, change: int) -> list[int]:
    """Adjust the shelf and check its alert in one transaction, as the admin API does."""
    with sessions() as session, session.begin():
        adjust_stock(
            session,
            warehouse_id=shelf.warehouse_id,
            article_number=shelf.article_number,
            change=change,
            reason="test",
            actor="tester",
        )
        return check_low_stock(session, [(shelf.warehouse_id, shelf.article_number)], THRESHOLD)


def open_alerts(sessions: sessionmaker[Session], shelf: Shelf) -> list[StockAlert]:
    with sessions() as session:
        return list(
            session.scalars(
                select(StockAlert).where(
                    StockAlert.warehouse_id == shelf.warehouse_id,
                    StockAlert.article_number == shelf.article_number,
                    StockAlert.cleared_at.is_(None),
                )
            )
        )


def test_setting_stock_creates_the_row_and_records_who_and_why(
    sessions: sessionmaker[Session],
) -> None:
    shelf = new_shelf(sessions)

    with sessions() as session, session.begin():
        change = set_stock(
            session,
            warehouse_id=shelf.warehouse_id,
            article_number=shelf.article_number,
            on_hand=12,
            reason="cycle count",
            actor="alice",
            low_stock_threshold=3,
        )

    assert change.increased
    assert stock_of(sessions, shelf.warehouse_id, shelf.article_number) == (12, 0)
    [movement] = movements_of(sessions, shelf)
    assert (movement.change, movement.on_hand_after) == (12, 12)
    assert (movement.actor, movement.reason) == ("alice", "cycle count")


def test_an_adjustment_records_the_change_and_the_stock_after_it(
    sessions: sessionmaker[Session],
) -> None:
    shelf = new_shelf(sessions, on_hand=10)

    adjust(sessions, shelf, -4)

    [movement] = movements_of(sessions, shelf)
    assert (movement.change, movement.on_hand_after, movement.actor) == (-4, 6, "tester")
    assert stock_of(sessions, shelf.warehouse_id, shelf.article_number) == (6, 0)


def test_stock_reserved_for_orders_cannot_be_taken_away(sessions: sessionmaker[Session]) -> None:
    shelf = new_shelf(sessions, on_hand=10, reserved=7)

    with pytest.raises(InventoryError) as adjusting:
        adjust(sessions, shelf, -4)
    with pytest.raises(InventoryError) as counting, sessions() as session, session.begin():
        set_stock(
            session,
            warehouse_id=shelf.warehouse_id,
            article_number=shelf.article_number,
            on_hand=6,
            reason="count",
            actor="alice",
        )

    assert adjusting.value.field == "change"
    assert "3 units are not reserved" in adjusting.value.reason
    assert counting.value.field == "on_hand"
    assert stock_of(sessions, shelf.warehouse_id, shelf.article_number) == (10, 7)
    assert movements_of(sessions, shelf) == []


def test_a_warehouse_is_opened_only_in_a_country_iso_assigned(
    sessions: sessionmaker[Session],
) -> None:
    def open_in(session: Session, country: str) -> str:
        return create_warehouse(
            session,
            code=f"W-{uuid.uuid4().hex[:8]}",
            name="London",
            country=country,
            postal_code="SW1A 1AA",
            latitude=51.5,
            longitude=-0.14,
        ).country

    with sessions() as session, session.begin():
        opened = open_in(session, "gb")
        with pytest.raises(InventoryError) as refused:
            open_in(session, "UK")

    assert opened == "GB"
    assert refused.value.field == "country"


def test_sellable_stock_counts_as_increased_only_when_it_grows() -> None:
    assert increased(0, 3)
    assert not increased(3, 3)
    assert not increased(5, 2)


def test_a_stock_file_with_bad_rows_names_every_one_and_imports_nothing(
    sessions: sessionmaker[Session],
) -> None:
    shelf = new_shelf(sessions, on_hand=4)
    text = (
        "warehouse_code,article_number,on_hand\n"
        f"{shelf.warehouse_code},{shelf.article_number},20\n"
        f"NOWHERE,{shelf.article_number},5\n"
        f"{shelf.warehouse_code},{shelf.article_number[:-1]}9x,-1\n"
    )

    with pytest.raises(ImportRejected) as rejected, sessions() as session, session.begin():
        import_stock_csv(session, text, actor="alice")

    fields = [field for field, _ in rejected.value.errors]
    assert fields == ["line 3.warehouse_code", "line 4.article_number", "line 4.on_hand"]
    assert stock_of(sessions, shelf.warehouse_id, shelf.article_number) == (4, 0)
    assert movements_of(sessions, shelf) == []


def test_a_good_stock_file_sets_every_row_and_records_each_change(
    sessions: sessionmaker[Session],
) -> None:
    first, second = new_shelf(sessions, on_hand=4), new_shelf(sessions)
    text = (
        f"{first.warehouse_code},{first.article_number},9\n"
        f"{second.warehouse_code},{second.article_number},30,8\n"
    )

    with sessions() as session, session.begin():
        result = import_stock_csv(session, text, actor="alice", reason="import spring.csv")

    assert result.imported == 2
    assert stock_of(sessions, first.warehouse_id, first.article_number) == (9, 0)
    with sessions() as session:
        row = session.get(Stock, (second.warehouse_id, second.article_number))
        assert row is not None
        assert (row.on_hand, row.low_stock_threshold) == (30, 8)
    [moved] = movements_of(sessions, first)
    assert (moved.change, moved.reason, moved.actor) == (5, "import spring.csv", "alice")


def test_a_low_stock_alert_fires_once_clears_on_restock_and_fires_again(
    sessions: sessionmaker[Session],
) -> None:
    shelf = new_shelf(sessions, on_hand=6)

    assert adjust(sessions, shelf, -1) == []  # 5 left: not below the threshold
    [first] = adjust(sessions, shelf, -1)  # 4 left
    assert adjust(sessions, shelf, -1) == []  # 3 left: still the same alert
    assert adjust(sessions, shelf, -1) == []
    assert [a.id for a in open_alerts(sessions, shelf)] == [first]

    assert adjust(sessions, shelf, 10) == []  # 12 left: cleared
    assert open_alerts(sessions, shelf) == []
    [second] = adjust(sessions, shelf, -9)  # 3 left: a new alert

    assert second != first
    assert [(a.id, a.sellable, a.threshold) for a in open_alerts(sessions, shelf)] == [
        (second, 3, THRESHOLD)
    ]


def test_the_stock_rows_own_threshold_wins_over_the_default(
    sessions: sessionmaker[Session],
) -> None:
    shelf = new_shelf(sessions, on_hand=30)
    with sessions() as session, session.begin():
        row = session.get(Stock, (shelf.warehouse_id, shelf.article_number))
        assert row is not None
        row.low_stock_threshold = 25

    assert len(adjust(sessions, shelf, -6)) == 1


def test_operations_get_one_low_stock_email_even_when_two_workers_send_it_at_once(
    sessions: sessionmaker[Session], settings: Settings, mailbox: Mailbox
) -> None:
    shelf = new_shelf(sessions, on_hand=6)
    [alert_id] = adjust(sessions, shelf, -4)
    mailer = SmtpMailer(settings)
    results: list[bool] = []

    def send() -> None:
        results.append(send_low_stock_alert(Work(sessions), mailer, settings, alert_id))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    subject = f"Low stock: {shelf.article_number} at {shelf.warehouse_code}: 2 left (threshold 5)"
    received = [m for m in mailbox.messages if m["Subject"] == subject]
    assert sorted(results) == [False, True]
    assert len(received) == 1
    assert received[0]["To"] == settings.operations_email
    assert received[0]["Message-ID"].startswith(f"<low-stock.{alert_id}@")
    assert f"Test {shelf.article_number}" in str(received[0].get_payload())
    assert send_low_stock_alert(Work(sessions), mailer, settings, alert_id) is False
