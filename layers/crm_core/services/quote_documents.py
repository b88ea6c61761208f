"""A quote as the customer sees it: a PDF document (fpdf2, docs/decisions/0029) and the public page's HTML,
both from the quote as the API answers it, with the tenant's name. Neither reads the table."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fpdf import FPDF

RecordBody = dict[str, Any]
COLUMNS = (("Description", 74), ("Qty", 16), ("Unit price", 26), ("Disc.", 14), ("Tax", 14), ("Total", 36))
# The lines' table, the totals under it, and a right-aligned title or notes end at the same place.
TABLE_WIDTH = sum(width for _, width in COLUMNS)

# The fonts the PDF embeds (docs/decisions/0033), files of the folder the caller names (the revenue function
# ships them: functions/revenue/fonts): Noto Sans for Latin, Greek and Cyrillic, and for what it lacks the
# fallback faces, tried in this order: Noto Sans Arabic and Noto Sans Hebrew, Noto Sans CJK KR (Hangul, a
# regular face only: bold Korean is drawn in it) and Noto Sans CJK SC (Chinese, kana, full-width forms).
# fpdf2 embeds the glyphs a document uses only.
FONT = "NotoSans"
ARABIC_FONT = "NotoSansArabic"
HEBREW_FONT = "NotoSansHebrew"
KOREAN_FONT = "NotoSansKR"
CJK_FONT = "NotoSansSC"
FALLBACK_FONTS = (ARABIC_FONT, HEBREW_FONT, KOREAN_FONT, CJK_FONT)
# Right-to-left scripts: a document with them is shaped (contextual forms, marks) and laid out in visual
# order (the Unicode bidirectional algorithm) by fpdf2's text shaping, which uses uharfbuzz.
SHAPED_FONTS = frozenset((ARABIC_FONT, HEBREW_FONT))
FONT_FILES = {
    (FONT, ""): "NotoSans-Regular.ttf",
    (FONT, "B"): "NotoSans-Bold.ttf",
    (ARABIC_FONT, ""): "NotoSansArabic-Regular.ttf",
    (ARABIC_FONT, "B"): "NotoSansArabic-Bold.ttf",
    (HEBREW_FONT, ""): "NotoSansHebrew-Regular.ttf",
    (HEBREW_FONT, "B"): "NotoSansHebrew-Bold.ttf",
    (KOREAN_FONT, ""): "NotoSansKR-Regular.ttf",
    (CJK_FONT, ""): "NotoSansSC-Regular.ttf",
    (CJK_FONT, "B"): "NotoSansSC-Bold.ttf",
}


def _text(value: Any) -> str:
    """``value`` as text in NFC: Hangul typed as conjoining jamo becomes its syllables (drawn without
    shaping), a letter and its combining accent the precomposed letter Noto Sans has."""
    return unicodedata.normalize("NFC", str(value if value is not None else ""))


def _right_to_left(text: str) -> bool:
    """``text``'s first strong character is of a right-to-left script (Unicode's rule P2 for a paragraph's
    direction): its paragraph or cell is aligned to the right, as the browser's ``dir="auto"`` does."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def _clip(text: str, pdf: FPDF, width: float) -> str:
    """``text`` cut (with an ellipsis) to what fits in ``width`` at the current font, whatever its script: the
    longest start that fits, found by halving (a shaped text's width is its joined forms', measured whole;
    each measure shapes it again)."""
    if pdf.get_string_width(text) <= width:
        return text
    fits, too_long = 0, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if pdf.get_string_width(text[:middle] + "…") <= width:
            fits = middle
        else:
            too_long = middle
    return text[:fits] + "…"


@cache
def _covered(font_file: Path) -> frozenset[int]:
    """The characters a font file has glyphs for (read once per file and container)."""
    from fontTools.ttLib import TTFont  # fpdf2's own dependency

    return frozenset(TTFont(font_file, lazy=True).getBestCmap())


@cache
def _document_class() -> type[FPDF]:
    from fpdf import FPDF  # the revenue function's own package: imported by the first PDF only

    class Document(FPDF):
        """fpdf2 (2.8.9) puts the page's font in a line that starts with a fallback glyph inside the line's
        own q ... Q and then takes it as set on the page: the next line in the same font is drawn without
        selecting it, in whatever font the page had (glyph ids of one font read in another). Setting the
        font on the page before a line whenever fpdf2 has not makes every line start from the right one."""

        def _render_styled_text_line(self, *args: Any, **kwargs: Any) -> Any:
            if self.page and self.current_font is not None and not self.current_font_is_set_on_page:
                self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
            return super()._render_styled_text_line(*args, **kwargs)

    return Document


def _document(fonts: Path, texts: Iterable[str]) -> FPDF:
    """A PDF with Noto Sans, and as its fallbacks the faces that ``texts`` (what it will print besides
    digits, dates and ISO codes) need for the characters Noto Sans lacks: reading a 2 MB face and subsetting
    it again costs more than the rest of the render, so a quote does without the faces it does not use, and
    shapes its text (uharfbuzz) only when it has Arabic or Hebrew."""
    pdf = _document_class()(format="A4")
    missing = {ord(char) for text in texts for char in text if not char.isspace()}
    missing -= _covered(fonts / FONT_FILES[FONT, ""])
    families = [FONT]
    for family in FALLBACK_FONTS:
        if not missing:
            break
        needed = missing & _covered(fonts / FONT_FILES[family, ""])
        if needed:
            families.append(family)
            missing -= needed
    for (family, style), name in FONT_FILES.items():
        if family in families:
            pdf.add_font(family, style, fonts / name)
    if len(families) > 1:
        # A character Noto Sans lacks is drawn in the first fallback face that has it, of the same weight
        # when there is one.
        pdf.set_fallback_fonts(families[1:], exact_match=False)
    if SHAPED_FONTS.intersection(families):
        pdf.set_text_shaping(True)
    return pdf


def _percent(fraction: Any) -> str:
    value = format(float(str(fraction or 0)) * 100, "g")
    return f"{value}%"


def render_pdf(quote: RecordBody, tenant_name: str, fonts: Path, customer: str = "") -> bytes:
    """The quote as a one-or-more-page A4 PDF: who offers it to whom (``customer``: the contact's name), its
    number and dates, its lines and totals, in any script (``fonts``: the folder holding FONT_FILES); a
    right-to-left run (Arabic, Hebrew) in visual order inside its line, its letters joined."""
    tenant_name, customer = _text(tenant_name), _text(customer)
    texts = [tenant_name, customer, _text(quote.get("title")), _text(quote.get("notes"))]
    texts += [_text(line.get("description")) for line in quote.get("line_items") or []]
    pdf = _document(fonts, texts)
    pdf.set_title(f"Quote {quote['number']}")
    pdf.set_author(tenant_name)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, tenant_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 8, f"Quote {quote['number']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    if quote.get("title"):
        title = _text(quote["title"])
        pdf.cell(
            TABLE_WIDTH, 6, title, align="R" if _right_to_left(title) else "L", new_x="LMARGIN", new_y="NEXT"
        )
    if customer:
        pdf.cell(0, 6, f"For: {customer}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Date: {str(quote['created_at'])[:10]}", new_x="LMARGIN", new_y="NEXT")
    if quote.get("valid_until"):
        pdf.cell(0, 6, f"Valid until: {quote['valid_until']}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Currency: {quote['currency']}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "B", 9)
    for title, width in COLUMNS:
        pdf.cell(width, 7, title, border="B", align="L" if title == "Description" else "R")
    pdf.ln()
    pdf.set_font(FONT, "", 9)
    for line in quote.get("line_items") or []:
        values = (
            _clip(_text(line.get("description")), pdf, COLUMNS[0][1] - 2),
            line["quantity"],
            line["unit_price"],
            _percent(line["discount"]),
            _percent(line["tax_rate"]),
            line["total"],
        )
        description_align = "R" if _right_to_left(values[0]) else "L"
        for (title, width), value in zip(COLUMNS, values, strict=True):
            pdf.cell(width, 6, str(value), align=description_align if title == "Description" else "R")
        pdf.ln()
    pdf.ln(3)
    for label, name in (
        ("Subtotal", "subtotal"),
        ("Discount", "discount_total"),
        ("Tax", "tax_total"),
        ("Total", "total"),
    ):
        pdf.set_font(FONT, "B" if name == "total" else "", 10)
        pdf.cell(TABLE_WIDTH - COLUMNS[-1][1], 6, label, align="R")
        pdf.cell(
            COLUMNS[-1][1], 6, f"{quote[name]} {quote['currency']}", align="R", new_x="LMARGIN", new_y="NEXT"
        )
    if quote.get("notes"):
        pdf.ln(4)
        pdf.set_font(FONT, "", 9)
        notes = _text(quote["notes"])
        pdf.multi_cell(TABLE_WIDTH, 5, notes, align="R" if _right_to_left(notes) else "L")
    return bytes(pdf.output())


PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
    "table{border-collapse:collapse;width:100%}th,td{padding:.4rem;border-bottom:1px solid #ddd}"
    "td.n,th.n{text-align:right}form{display:inline-block;margin-right:1rem}"
    "button{font-size:1rem;padding:.6rem 1.4rem;border-radius:.3rem;border:1px solid #555;cursor:pointer}"
    "button.accept{background:#1b5e20;color:#fff}.state{font-weight:bold}"
    "@media (max-width:600px){table{font-size:.8rem}}"
)


def render_page(quote: RecordBody, tenant_name: str, token: str, notice: str | None = None) -> str:
    """The public page: the quote's lines and totals, and Accept / Decline while it is open to an answer."""
    rows = "".join(
        '<tr><td dir="auto">{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>'
        "<td class=n>{}</td><td class=n>{}</td></tr>".format(
            escape(str(line.get("description") or "")),
            escape(str(line["quantity"])),
            escape(str(line["unit_price"])),
            escape(_percent(line["discount"])),
            escape(_percent(line["tax_rate"])),
            escape(str(line["total"])),
        )
        for line in quote.get("line_items") or []
    )
    currency = escape(str(quote["currency"]))
    sums = "".join(
        f"<tr><th colspan=5 class=n>{label}</th><td class=n>{escape(str(quote[name]))} {currency}</td></tr>"
        for label, name in (
            ("Subtotal", "subtotal"),
            ("Discount", "discount_total"),
            ("Tax", "tax_total"),
            ("Total", "total"),
        )
    )
    status = str(quote["status"])
    if status == "sent":
        actions = (
            f'<form method="post" action="/q/{escape(token)}/accept">'
            '<button class="accept" type="submit">Accept</button></form>'
            f'<form method="post" action="/q/{escape(token)}/decline">'
            '<button type="submit">Decline</button></form>'
        )
    else:
        actions = f'<p class="state">This quote is {escape(status)}.</p>'
    valid = f"<p>Valid until {escape(str(quote['valid_until']))}</p>" if quote.get("valid_until") else ""
    said = f'<p role="status" class="state">{escape(notice)}</p>' if notice else ""
    number = escape(str(quote["number"]))
    # What people typed takes its direction from its own first letters (an Arabic or Hebrew text right to
    # left, aligned right), whatever the page's.
    notes = f'<p dir="auto">{escape(str(quote["notes"]))}</p>' if quote.get("notes") else ""
    title = f'<p dir="auto">{escape(str(quote["title"]))}</p>' if quote.get("title") else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Quote {number}</title><style>{PAGE_STYLE}</style></head><body><main>"
        f'<h1 dir="auto">{escape(tenant_name)}</h1><h2>Quote {number}</h2>{title}{valid}{said}'
        "<table><thead><tr><th>Description</th><th class=n>Quantity</th><th class=n>Unit price</th>"
        "<th class=n>Discount</th><th class=n>Tax</th><th class=n>Total</th></tr></thead>"
        f"<tbody>{rows}</tbody><tfoot>{sums}</tfoot></table>{notes}{actions}</main></body></html>"
    )
