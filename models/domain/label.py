"""A 4x6 inch shipping label as a one-page PDF 1.4, written by hand with the standard library."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

WIDTH, HEIGHT = 288, 432  # 4 x 6 inches in points
MARGIN = 14
TEXT_WIDTH = WIDTH - 2 * MARGIN
REGULAR, BOLD = "F1", "F2"
MAX_CONTENT_LINES = 12

# Helvetica(-Bold) advance widths in ems, rounded up to the widest of each kind of character
# in either face, so text cut to fit by this estimate never overruns the label.
_WIDTHS = {**dict.fromkeys(" !',.:;I[]\\ijl|", 0.28), **dict.fromkeys("()*-/frt{}", 0.4)}
_WIDTHS |= {**dict.fromkeys("%MWmw\u2026", 1.0), "@": 1.02}


def _cp1252(text: str) -> bytes:
    # The standard fonts speak WinAnsi (cp1252): keep what it has, fall back to the letter
    # without its accent (Ł has none, so it becomes ?), and never let a control character in.
    out = bytearray()
    for original in text:
        char = " " if unicodedata.category(original) in {"Cc", "Zl", "Zp"} else original
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("cp1252", errors="ignore")
            out += base or b"?"
    return bytes(out)


def pdf_string(text: str) -> str:
    """A PDF literal string: WinAnsi bytes, `( ) \\` escaped, all but printable ASCII in octal."""
    parts = []
    for byte in _cp1252(text):
        if byte in b"()\\":
            parts.append("\\" + chr(byte))
        elif 32 <= byte < 127:
            parts.append(chr(byte))
        else:
            parts.append(f"\\{byte:03o}")
    return "(" + "".join(parts) + ")"


def text_width(text: str, size: float) -> float:
    """A slight over-estimate of the width of `text` in points at `size`."""
    return size * sum(_WIDTHS.get(c, 0.78 if c.isupper() or c == "&" else 0.62) for c in text)


def fit(text: str, size: float, width: float = TEXT_WIDTH) -> str:
    """`text`, cut short with an ellipsis if it would run past `width` points."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "\u2026", size) > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def _text(x: float, y: float, font: str, size: float, text: str) -> str:
    return f"BT /{font} {size:g} Tf {x:g} {y:g} Td {pdf_string(text)} Tj ET"


def _rule(y: float) -> str:
    return f"0.8 w {MARGIN} {y} m {WIDTH - MARGIN} {y} l S"


def _block(y: float, heading: str, lines: Sequence[str], size: float, leading: float) -> list[str]:
    ops = [_text(MARGIN, y, BOLD, 7, heading)]
    for i, line in enumerate(lines):
        font = BOLD if i == 0 and size > 10 else REGULAR  # the addressee's name stands out
        ops.append(_text(MARGIN, y - 12 - i * leading, font, size, fit(line, size)))
    return ops


def _contents(lines: Sequence[str]) -> list[str]:
    # Whatever does not fit is summarised rather than drawn off the bottom of the label.
    if len(lines) <= MAX_CONTENT_LINES:
        return list(lines)
    shown = MAX_CONTENT_LINES - 1
    return [*lines[:shown], f"\u2026 and {len(lines) - shown} more"]


def _content_stream(
    *,
    tracking_number: str,
    carrier: str,
    ship_from: Sequence[str],
    ship_to: Sequence[str],
    order_id: str,
    lines: Sequence[str],
) -> bytes:
    carrier_size = 20
    carrier_name = fit(carrier.upper(), carrier_size, 110)
    carrier_x = WIDTH - MARGIN - text_width(carrier_name, carrier_size)
    # The tracking number is never cut: it shrinks until the whole number fits on one line.
    tracking_size = min(22.0, TEXT_WIDTH / text_width(tracking_number, 1))
    ops = [
        f"1 w 6 6 {WIDTH - 12} {HEIGHT - 12} re S",
        *_block(404, "FROM", [fit(line, 8, 150) for line in ship_from[:4]], 8, 10),
        _text(carrier_x, 392, BOLD, carrier_size, carrier_name),
        _rule(350),
        *_block(336, "SHIP TO", ship_to[:6], 12, 14),
        _rule(230),
        _text(MARGIN, 216, BOLD, 7, "TRACKING #"),
        _text(MARGIN, 194, BOLD, tracking_size, tracking_number),
        _rule(182),
        _text(MARGIN, 168, BOLD, 7, "ORDER"),
        _text(MARGIN + 34, 168, REGULAR, 8, fit(order_id, 8, TEXT_WIDTH - 34)),
        *_block(152, "CONTENTS", _contents(lines), 8, 10),
    ]
    return "\n".join(ops).encode("ascii")


def _assemble(objects: Sequence[bytes]) -> bytes:
    """Objects numbered from 1, the cross-reference table with their offsets, the trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # high bytes mark the file as binary
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)  # 20 bytes per entry
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _font(name: str) -> bytes:
    return b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % (
        name.encode("ascii")
    )


def render_label(
    *,
    tracking_number: str,
    carrier: str,
    ship_from: Sequence[str],
    ship_to: Sequence[str],
    order_id: str,
    lines: Sequence[str],
) -> bytes:
    """The shipping label as the bytes of a single-page 288x432 pt PDF."""
    stream = _content_stream(
        tracking_number=tracking_number,
        carrier=carrier,
        ship_from=ship_from,
        ship_to=ship_to,
        order_id=order_id,
        lines=lines,
    )
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /Font << /%s 4 0 R /%s 5 0 R >> >> /Contents 6 0 R >>"
        % (WIDTH, HEIGHT, REGULAR.encode(), BOLD.encode())
    )
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            _font("Helvetica"),
            _font("Helvetica-Bold"),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        ]
    )
