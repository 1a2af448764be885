"""The shipping label PDF: a file a reader opens, its text, and a barcode a scanner reads back."""

from __future__ import annotations

import io

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from models.domain.tracking import s10_tracking_number, ups_tracking_number, usps_tracking_number
from workers.adapters.label_pdf import (
    BARCODE_SPACE,
    QUIET_MODULES,
    REGULAR,
    TEXT_WIDTH,
    barcode,
    fit,
    render_label,
    winansi,
)

TRACKING = "9400111201080805483016"
ORDER_ID = "3f1c2a9e-0000-4000-8000-000000000001"
FORMATS = {
    "ups": ups_tracking_number("8X4F2A", "03", 1234567),
    "usps": usps_tracking_number("123456", 12345678, service="001"),
    "s10": s10_tracking_number("CP", 12345678, "SE"),
}


def _label(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "tracking_number": TRACKING,
        "carrier": "usps",
        "ship_from": ["Northside Warehouse", "211 45 SE"],
        "ship_to": ["Anna Öberg (c/o Smith)", "Storgatan 1", "211 45 Malmö", "SE"],
        "order_id": ORDER_ID,
        "lines": ["2 x Kettle (A-100)", "1 x Back\\slash mug (B-7)"],
    }
    fields.update(overrides)
    return render_label(**fields)  # type: ignore[arg-type]


def _text(pdf: bytes) -> list[str]:
    (page,) = PdfReader(io.BytesIO(pdf)).pages
    return page.extract_text().splitlines()


def _scanned(pdf: bytes) -> list[zxingcpp.Barcode]:
    # Three pixels a point is 216 dpi, about what a thermal label printer prints.
    page = pypdfium2.PdfDocument(pdf)[0]
    return zxingcpp.read_barcodes(page.render(scale=3).to_pil())


def test_the_label_is_one_four_by_six_inch_page_a_pdf_reader_opens() -> None:
    reader = PdfReader(io.BytesIO(_label()))

    assert len(reader.pages) == 1
    assert list(reader.pages[0].mediabox) == [0, 0, 288, 432]
    assert reader.metadata is not None
    assert reader.metadata.title == f"Shipping label {TRACKING}"


def test_the_text_carries_the_tracking_number_carrier_addresses_order_and_contents() -> None:
    text = _text(_label())

    for line in [
        TRACKING,
        "USPS",
        "Northside Warehouse",
        "211 45 SE",
        "Anna Öberg (c/o Smith)",
        "Storgatan 1",
        "211 45 Malmö",
        ORDER_ID,
        "2 x Kettle (A-100)",
        "1 x Back\\slash mug (B-7)",
    ]:
        assert line in text


@pytest.mark.parametrize("carrier", FORMATS)
def test_the_barcode_scans_back_to_the_tracking_number(carrier: str) -> None:
    number = FORMATS[carrier]

    (scanned,) = _scanned(_label(tracking_number=number, carrier=carrier))

    assert scanned.format == zxingcpp.BarcodeFormat.Code128
    assert scanned.text == number


def test_a_long_tracking_number_is_neither_cut_in_the_text_nor_in_the_barcode() -> None:
    number = "1Z8X4F2A0312345678" * 2
    pdf = _label(tracking_number=number)

    (scanned,) = _scanned(pdf)

    assert number in _text(pdf)
    assert scanned.text == number


@pytest.mark.parametrize("number", [*FORMATS.values(), "1Z8X4F2A0312345678" * 2])
def test_the_barcode_and_its_quiet_zones_fit_inside_the_frame(number: str) -> None:
    symbol = barcode(number)

    assert symbol.width + 2 * QUIET_MODULES * symbol.barWidth <= BARCODE_SPACE + 0.001


def test_characters_outside_winansi_lose_their_accent_or_become_a_question_mark() -> None:
    assert winansi("Łódź") == "?ódz"
    assert winansi("tab\there\nand there") == "tab here and there"
    assert "?ódz Street" in _text(_label(ship_to=["Łódź Street"]))


def test_a_long_address_line_is_cut_with_an_ellipsis_to_fit_the_label() -> None:
    long_line = "Department of Extremely Long Street Names and Associated Addresses, Floor 3"
    cut = fit(long_line, REGULAR, 12)

    assert cut.endswith("\u2026")
    assert stringWidth(cut, REGULAR, 12) <= TEXT_WIDTH
    assert any(line.endswith("\u2026") for line in _text(_label(ship_to=["Anna", long_line])))


def test_many_content_lines_are_summarised_on_the_last_line() -> None:
    text = _text(_label(lines=[f"1 x Item {i}" for i in range(30)]))

    assert "1 x Item 10" in text
    assert "1 x Item 11" not in text
    assert "\u2026 and 19 more" in text
