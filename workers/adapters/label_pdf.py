"""The 4x6 inch shipping label as a one-page PDF, with the tracking number as a Code 128 barcode."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence

from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

WIDTH, HEIGHT = 288, 432  # 4 x 6 inches in points
FRAME_INSET = 6
MARGIN = 14
TEXT_WIDTH = WIDTH - 2 * MARGIN
REGULAR, BOLD = "Helvetica", "Helvetica-Bold"
MAX_CONTENT_LINES = 12
ELLIPSIS = "\u2026"

# 20 mils: wide bars scan best; longer numbers get narrower ones so the whole symbol fits.
WIDEST_BAR = 1.44
BARCODE_HEIGHT = 58
# Code 128 wants ten bar widths of white either side, and the frame's line must not eat into it.
QUIET_MODULES = 10
BARCODE_SPACE = WIDTH - 2 * (FRAME_INSET + 2)


def winansi(text: str) -> str:
    """`text` in what the standard fonts can draw: accents dropped where needed, else `?`."""
    # The standard fonts speak WinAnsi (cp1252); anything else would print as a black box.
    out = []
    for original in text:
        char = " " if unicodedata.category(original) in {"Cc", "Zl", "Zp"} else original
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("cp1252", errors="ignore")
            char = base.decode("cp1252") or "?"
        out.append(char)
    return "".join(out)


def fit(text: str, font: str, size: float, width: float = TEXT_WIDTH) -> str:
    """`text`, cut short with an ellipsis if it would run past `width` points."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + ELLIPSIS, font, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def contents(lines: Sequence[str]) -> list[str]:
    """The parcel's lines, the last shown one summarising whatever does not fit."""
    if len(lines) <= MAX_CONTENT_LINES:
        return list(lines)
    shown = MAX_CONTENT_LINES - 1
    return [*lines[:shown], f"{ELLIPSIS} and {len(lines) - shown} more"]


def barcode(tracking_number: str) -> Code128:
    """The tracking number's Code 128 symbol, its bars as wide as the label lets them be."""
    # A symbol with one-point bars has a width equal to its count of modules.
    modules = Code128(tracking_number, barWidth=1, quiet=0).width
    bar = min(WIDEST_BAR, BARCODE_SPACE / (modules + 2 * QUIET_MODULES))
    return Code128(tracking_number, barWidth=bar, barHeight=BARCODE_HEIGHT, quiet=0)


class _Label:
    """One label being drawn, top to bottom, on its canvas."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas

    def text(self, x: float, y: float, font: str, size: float, text: str) -> None:
        self.canvas.setFont(font, size)
        self.canvas.drawString(x, y, text)

    def rule(self, y: float) -> None:
        self.canvas.setLineWidth(0.8)
        self.canvas.line(MARGIN, y, WIDTH - MARGIN, y)

    def block(
        self, y: float, heading: str, lines: Sequence[str], size: float, leading: float
    ) -> None:
        self.text(MARGIN, y, BOLD, 7, heading)
        for i, line in enumerate(lines):
            font = BOLD if i == 0 and size > 10 else REGULAR  # the addressee's name stands out
            self.text(MARGIN, y - 12 - i * leading, font, size, fit(line, font, size))

    def carrier(self, name: str) -> None:
        size = 20
        name = fit(name.upper(), BOLD, size, 110)
        self.text(WIDTH - MARGIN - stringWidth(name, BOLD, size), 392, BOLD, size, name)

    def tracking(self, number: str) -> None:
        self.text(MARGIN, 248, BOLD, 7, "TRACKING #")
        symbol = barcode(number)
        symbol.drawOn(self.canvas, (WIDTH - symbol.width) / 2, 182)
        # The number under the bars is never cut: it shrinks until all of it fits on one line.
        size = min(16.0, TEXT_WIDTH / stringWidth(number, BOLD, 1))
        self.canvas.setFont(BOLD, size)
        self.canvas.drawCentredString(WIDTH / 2, 166, number)


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
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(WIDTH, HEIGHT), pageCompression=1)
    canvas.setTitle(f"Shipping label {tracking_number}")
    canvas.setSubject(f"Order {order_id}")
    canvas.setAuthor("fulfillment")
    canvas.setCreator("fulfillment")
    label = _Label(canvas)
    canvas.setLineWidth(1)
    canvas.rect(FRAME_INSET, FRAME_INSET, WIDTH - 2 * FRAME_INSET, HEIGHT - 2 * FRAME_INSET)
    label.block(410, "FROM", [fit(winansi(s), REGULAR, 8, 150) for s in ship_from[:4]], 8, 9)
    label.carrier(winansi(carrier))
    label.rule(366)
    label.block(354, "SHIP TO", [winansi(line) for line in ship_to[:6]], 12, 14)
    label.rule(260)
    label.tracking(winansi(tracking_number))
    label.rule(158)
    label.text(MARGIN, 146, BOLD, 7, "ORDER")
    label.text(MARGIN + 34, 146, REGULAR, 8, fit(winansi(order_id), REGULAR, 8, TEXT_WIDTH - 34))
    label.block(132, "CONTENTS", [winansi(line) for line in contents(lines)], 8, 9)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
