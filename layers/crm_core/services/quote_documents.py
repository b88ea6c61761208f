"""A quote as the customer sees it: a PDF document (fpdf2, docs/decisions/0024) and the public page's HTML,
both from the quote as the API answers it, with the tenant's name. Neither reads the table."""

from __future__ import annotations

from html import escape
from typing import Any

RecordBody = dict[str, Any]
COLUMNS = (("Description", 74), ("Qty", 16), ("Unit price", 26), ("Disc.", 14), ("Tax", 14), ("Total", 36))


def _latin(text: Any) -> str:
    """The PDF's core fonts are Latin-1: what they cannot show becomes '?' rather than an error."""
    return str(text if text is not None else "").encode("latin-1", "replace").decode("latin-1")


def _percent(fraction: Any) -> str:
    value = format(float(str(fraction or 0)) * 100, "g")
    return f"{value}%"


def render_pdf(quote: RecordBody, tenant_name: str) -> bytes:
    """The quote as a one-or-more-page A4 PDF: who offers it, its number and dates, its lines and totals."""
    from fpdf import FPDF  # the revenue function's own package: imported by the first PDF only

    pdf = FPDF(format="A4")
    pdf.set_title(f"Quote {quote['number']}")
    pdf.set_author(_latin(tenant_name))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin(tenant_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, f"Quote {quote['number']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    if quote.get("title"):
        pdf.cell(0, 6, _latin(quote["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Date: {str(quote['created_at'])[:10]}", new_x="LMARGIN", new_y="NEXT")
    if quote.get("valid_until"):
        pdf.cell(0, 6, f"Valid until: {quote['valid_until']}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Currency: {quote['currency']}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 9)
    for title, width in COLUMNS:
        pdf.cell(width, 7, title, border="B", align="L" if title == "Description" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for line in quote.get("line_items") or []:
        values = (
            _latin(line.get("description"))[:48],
            line["quantity"],
            line["unit_price"],
            _percent(line["discount"]),
            _percent(line["tax_rate"]),
            line["total"],
        )
        for (title, width), value in zip(COLUMNS, values, strict=True):
            pdf.cell(width, 6, str(value), align="L" if title == "Description" else "R")
        pdf.ln()
    pdf.ln(3)
    for label, name in (
        ("Subtotal", "subtotal"),
        ("Discount", "discount_total"),
        ("Tax", "tax_total"),
        ("Total", "total"),
    ):
        pdf.set_font("Helvetica", "B" if name == "total" else "", 10)
        pdf.cell(144, 6, label, align="R")
        pdf.cell(36, 6, f"{quote[name]} {quote['currency']}", align="R", new_x="LMARGIN", new_y="NEXT")
    if quote.get("notes"):
        pdf.ln(4)
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(0, 5, _latin(quote["notes"]))
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
        "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>"
        "<td class=n>{}</td></tr>".format(
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
    notes = f"<p>{escape(str(quote['notes']))}</p>" if quote.get("notes") else ""
    title = f"<p>{escape(str(quote['title']))}</p>" if quote.get("title") else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Quote {number}</title><style>{PAGE_STYLE}</style></head><body><main>"
        f"<h1>{escape(tenant_name)}</h1><h2>Quote {number}</h2>{title}{valid}{said}"
        "<table><thead><tr><th>Description</th><th class=n>Quantity</th><th class=n>Unit price</th>"
        "<th class=n>Discount</th><th class=n>Tax</th><th class=n>Total</th></tr></thead>"
        f"<tbody>{rows}</tbody><tfoot>{sums}</tfoot></table>{notes}{actions}</main></body></html>"
    )
