"""What `make run` prints at the start: the table of components and the note on kept data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from devstack.banner import Row, banner, parse_start_table, start_table
from devstack.datadir import DataDir, restart_note
from devstack.demo import parse_args

ROWS = [
    Row("API", "http://127.0.0.1:8000", 101, "app", "gunicorn"),
    Row("API docs", "http://127.0.0.1:8000/docs/", None, "app", "OpenAPI 3.1"),
    Row("worker", "", 102, "app", "queues allocation,shipping"),
    Row("PostgreSQL", "postgresql://db.internal:5432/shop", None, "external", ""),
    Row("payment sandbox", "http://127.0.0.1:12111", 103, "embedded", "port 12111 was taken"),
]
DATA = DataDir(Path("/srv/stack"))


def test_the_start_table_reads_back_as_the_rows_it_was_made_from() -> None:
    printed = start_table(ROWS) + "\n\n"
    assert parse_start_table(printed) == {row.component: row for row in ROWS}


def test_a_table_whose_last_rows_have_not_arrived_yet_reads_as_none() -> None:
    assert parse_start_table(start_table(ROWS)) == {}
    assert parse_start_table("\n".join(start_table(ROWS).splitlines()[:4])) == {}


def test_the_start_table_is_found_inside_the_whole_banner() -> None:
    printed = "devstack: redis answers at redis://x\n" + banner(
        ROWS, "fresh start", "http://a", False
    )
    assert list(parse_start_table(printed)) == [row.component for row in ROWS]


def test_a_cell_with_a_wide_gap_cannot_split_its_row() -> None:
    wide = Row("SMTP", "127.0.0.1:1025", 7, "embedded", "sink   on  loopback")
    assert parse_start_table(start_table([wide]) + "\n\n")["SMTP"].notes == "sink on loopback"


def test_the_columns_line_up_under_the_header() -> None:
    lines = start_table(ROWS).splitlines()
    address_column = lines[0].index("address")
    assert all(line[address_column - 2 : address_column] == "  " for line in lines)
    assert lines[3][address_column:].startswith("http://127.0.0.1:8000/docs/")


def test_a_fresh_start_says_so_and_how_data_is_kept() -> None:
    note = restart_note(None, 0, 0, DATA)
    assert note.startswith("fresh start: no orders, no mails")
    assert "/srv/stack" in note


def test_kept_data_is_counted_with_the_day_it_was_started() -> None:
    since = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    note = restart_note(since, 12, 31, DATA)
    assert note.startswith("data kept from 2026-11-30 09:15 UTC: 12 orders, 31 mails")
    assert "FRESH=1" in note


def test_the_demo_names_no_api_of_its_own_unless_given_one() -> None:
    assert parse_args([]).base_url is None
    assert parse_args(["--base-url", "http://127.0.0.1:8123/"]).base_url == "http://127.0.0.1:8123"
