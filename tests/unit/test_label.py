"""The shipping label PDF: a well-formed file a viewer can open, carrying the parcel's text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from models.domain.label import fit, pdf_string, render_label, text_width

TRACKING = "9400111201080805483016"


def _label(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "tracking_number": TRACKING,
        "carrier": "usps",
        "ship_from": ["Northside Warehouse", "211 45 SE"],
        "ship_to": ["Anna Öberg (c/o Smith)", "Storgatan 1", "211 45 Malmö", "SE"],
        "order_id": "3f1c2a9e-0000-4000-8000-000000000001",
        "lines": ["2 x Kettle (A-100)", "1 x Back\\slash mug (B-7)"],
    }
    fields.update(overrides)
    return render_label(**fields)  # type: ignore[arg-type]


def _xref(pdf: bytes) -> tuple[int, list[int]]:
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))  # type: ignore[union-attr]
    header = re.match(rb"xref\n0 (\d+)\n", pdf[start:])
    assert header is not None
    count = int(header.group(1))
    table = pdf[start + header.end() : start + header.end() + 20 * count]
    entries = [table[i : i + 20] for i in range(0, len(table), 20)]
    assert entries[0] == b"0000000000 65535 f \n"
    assert all(re.fullmatch(rb"\d{10} 00000 n \n", entry) for entry in entries[1:])
    return count, [int(entry[:10]) for entry in entries[1:]]


def _content(pdf: bytes) -> bytes:
    match = re.search(rb"<< /Length (\d+) >>\nstream\n", pdf)
    assert match is not None
    stream = pdf[match.end() : match.end() + int(match.group(1))]
    # The declared length must end exactly where the stream does.
    assert pdf[match.end() + len(stream) :].startswith(b"\nendstream")
    return stream


def test_the_label_is_a_pdf_1_4_file_from_header_to_end_of_file_marker() -> None:
    pdf = _label()
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")


def test_every_cross_reference_offset_points_at_its_object() -> None:
    pdf = _label()
    count, offsets = _xref(pdf)
    assert count == len(offsets) + 1 == 7
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    assert re.search(rb"trailer\n<< /Size 7 /Root 1 0 R >>", pdf)


def test_the_page_is_four_by_six_inches_and_uses_winansi_helvetica() -> None:
    pdf = _label()
    assert b"/MediaBox [0 0 288 432]" in pdf
    assert b"/Count 1" in pdf
    assert b"/BaseFont /Helvetica /Encoding /WinAnsiEncoding" in pdf
    assert b"/BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding" in pdf


def test_the_content_carries_the_tracking_number_carrier_and_order() -> None:
    content = _content(_label())
    assert b"(" + TRACKING.encode() + b") Tj" in content
    assert b"(USPS) Tj" in content
    assert b"(3f1c2a9e-0000-4000-8000-000000000001) Tj" in content


def test_parentheses_and_backslashes_are_escaped_in_the_content() -> None:
    content = _content(_label())
    assert rb"(Anna \326berg \(c/o Smith\)) Tj" in content
    assert rb"(1 x Back\\slash mug \(B-7\))" in content


def test_non_ascii_text_survives_as_winansi_octal_escapes() -> None:
    content = _content(_label())
    assert rb"(211 45 Malm\366) Tj" in content
    assert content.isascii()
    assert pdf_string("Malmö") == r"(Malm\366)"


def test_characters_outside_winansi_lose_their_accent_or_become_a_question_mark() -> None:
    assert pdf_string("Łódź") == r"(?\363dz)"
    assert pdf_string("tab\there") == "(tab here)"


def test_a_long_address_line_is_cut_with_an_ellipsis_to_fit_the_label() -> None:
    long_line = "Department of Extremely Long Street Names and Associated Addresses, Floor 3"
    cut = fit(long_line, 12)
    assert cut.endswith("\u2026")
    assert text_width(cut, 12) <= 260
    assert rb"\205) Tj" in _content(_label(ship_to=[long_line]))


def test_a_long_tracking_number_shrinks_rather_than_being_cut() -> None:
    content = _content(_label(tracking_number="1Z8X4F2A0312345678" * 2))
    assert b"(" + b"1Z8X4F2A0312345678" * 2 + b") Tj" in content


def test_many_content_lines_are_summarised_on_the_last_line() -> None:
    content = _content(_label(lines=[f"1 x Item {i}" for i in range(30)]))
    assert b"(1 x Item 10) Tj" in content
    assert b"(1 x Item 11) Tj" not in content
    assert rb"(\205 and 19 more) Tj" in content


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_a_pdf_reader_extracts_the_label_text(tmp_path: Path) -> None:
    path = tmp_path / "label.pdf"
    path.write_bytes(_label())
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert TRACKING in text
    assert "Malmö" in text
    assert "Anna Öberg (c/o Smith)" in text
