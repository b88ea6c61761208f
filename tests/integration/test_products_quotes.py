"""Products and quotes over HTTP on the local runtime: the catalogue (a SKU unique in the tenant, prices per
ISO 4217 currency, roles); quotes on deals with exact decimal totals checked against sums made here
independently, numbers gapless under concurrent creates, the PDF, the public page and its answers, expiry;
another tenant never sees a product, a quote, its PDF or its page."""

from __future__ import annotations

import io
import json
import random
import re
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import requests
from crm_core.auth import Role
from pypdf import PdfReader

from crm_local.runtime import LocalRuntime
from tests.integration.test_campaigns import html_of, sent_to
from tests.integration.test_tickets import deliver_twice, schedule_of
from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.waiting import eventually


def test_products_catalogue(client: ApiClient, other: ApiClient) -> None:
    product = client.create(
        "products",
        {
            "sku": "ENG-1",
            "name": "Engine",
            "prices": [{"currency": "EUR", "unit_price": 19.99}, {"currency": "JPY", "unit_price": "2500"}],
            "tax_rate": "0.19",
        },
    )
    assert product["prices"] == [
        {"currency": "EUR", "unit_price": "19.99"},
        {"currency": "JPY", "unit_price": "2500"},
    ]
    assert (product["tax_rate"], product["active"]) == ("0.19", True)
    # The SKU is unique in the tenant, without regard to case; another tenant may use it.
    taken = client.post("/v1/products", {"sku": "eng-1", "name": "Again"})
    assert taken.status_code == 409 and taken.json()["existing_id"] == product["id"], taken.text
    assert other.post("/v1/products", {"sku": "ENG-1", "name": "Theirs"}).status_code == 201
    # ISO 4217, one price per currency, a tax rate from 0 to 1: 422 naming the field, nothing written.
    for body, field in (
        ({"prices": [{"currency": "XYZ", "unit_price": "1"}]}, "prices[0].currency"),
        (
            {"prices": [{"currency": "EUR", "unit_price": "1"}, {"currency": "EUR", "unit_price": "2"}]},
            "prices",
        ),
        ({"tax_rate": "1.5"}, "tax_rate"),
        ({"prices": [{"currency": "EUR", "unit_price": "-1"}]}, "prices[0].unit_price"),
    ):
        bad = client.post("/v1/products", {"sku": "BAD-1", "name": "Bad", **body})
        assert bad.status_code == 422, bad.text
        assert field in [e["field"] for e in bad.json()["errors"]], (field, bad.text)
    assert client.get("/v1/products", params={"q": "bad"}).json()["items"] == []
    # Another tenant's product is not there.
    assert other.get(f"/v1/products/{product['id']}").status_code == 404
    assert other.patch(f"/v1/products/{product['id']}", {"name": "x"}).status_code == 404
    # Managers and admins manage the catalogue; reps and viewers read it.
    manager, rep = user_client(client, Role.MANAGER), user_client(client, Role.REP)
    assert manager.patch(f"/v1/products/{product['id']}", {"active": False}).status_code == 200
    assert rep.get(f"/v1/products/{product['id']}").json()["active"] is False
    assert rep.patch(f"/v1/products/{product['id']}", {"name": "x"}).status_code == 403
    assert rep.post("/v1/products", {"sku": "REP-1", "name": "Rep's"}).status_code == 403
    assert [p["sku"] for p in client.get("/v1/products", params={"q": "eng"}).json()["items"]] == ["ENG-1"]


# ------------------------------------------------------------------------------------------------ quotes

MINOR = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}  # ISO 4217 minor units, as this test knows them


def rounded(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal(10) ** -MINOR[currency], rounding=ROUND_HALF_EVEN)


def expected_line(quantity: str, price: str, discount: str, tax: str, currency: str) -> dict[str, str]:
    """A line's amounts computed here, independently of the CRM's code."""
    amount = rounded(Decimal(quantity) * Decimal(price), currency)
    off = rounded(amount * Decimal(discount), currency)
    tax_amount = rounded((amount - off) * Decimal(tax), currency)
    return {
        "amount": str(amount),
        "discount_amount": str(off),
        "tax_amount": str(tax_amount),
        "total": str(amount - off + tax_amount),
    }


def expected_totals(lines: list[dict[str, str]], currency: str) -> dict[str, str]:
    zero = rounded(Decimal(0), currency)
    sub = sum((Decimal(x["amount"]) for x in lines), zero)
    off = sum((Decimal(x["discount_amount"]) for x in lines), zero)
    tax = sum((Decimal(x["tax_amount"]) for x in lines), zero)
    return {
        "subtotal": str(sub),
        "discount_total": str(off),
        "tax_total": str(tax),
        "total": str(sub - off + tax),
    }


def amounts_of(line: dict[str, Any]) -> dict[str, str]:
    return {k: line[k] for k in ("amount", "discount_amount", "tax_amount", "total")}


def totals_of(quote: dict[str, Any]) -> dict[str, str]:
    return {k: quote[k] for k in ("subtotal", "discount_total", "tax_total", "total")}


def test_quote_arithmetic_is_exact_in_every_currency(client: ApiClient) -> None:
    deal = client.create("deals", {"name": "Engines"})
    product = client.create(
        "products",
        {
            "sku": "P-1",
            "name": "Gear",
            "prices": [
                {"currency": "EUR", "unit_price": "0.125"},
                {"currency": "JPY", "unit_price": "0.5"},
                {"currency": "KWD", "unit_price": "1.0005"},
            ],
            "tax_rate": "0.05",
        },
    )
    pid = product["id"]
    # (currency, lines sent, each line's (quantity, price, discount, tax) as this test expects them)
    cases = [
        (
            "EUR",
            [
                {"product_id": pid, "quantity": "1"},  # 0.125 -> 0.12 (half to even)
                {"product_id": pid, "quantity": "1", "unit_price": "0.135"},  # 0.135 -> 0.14
                {"description": "Service", "quantity": "3", "unit_price": "10.05", "discount": "0.1"},
                {"description": "Tax edge", "quantity": "1", "unit_price": "10.05", "tax_rate": "0.05"},
            ],
            [
                ("1", "0.125", "0", "0.05"),
                ("1", "0.135", "0", "0.05"),
                ("3", "10.05", "0.1", "0"),
                ("1", "10.05", "0", "0.05"),
            ],
        ),
        (
            "JPY",
            [{"product_id": pid, "quantity": "3"}, {"product_id": pid, "quantity": "5", "discount": "0.5"}],
            [("3", "0.5", "0", "0.05"), ("5", "0.5", "0.5", "0.05")],
        ),
        (
            "KWD",
            [
                {"product_id": pid, "quantity": "1"},
                {"product_id": pid, "quantity": "1", "unit_price": "1.0015"},
            ],
            [("1", "1.0005", "0", "0.05"), ("1", "1.0015", "0", "0.05")],
        ),
    ]
    for currency, lines, expected in cases:
        quote = client.create("quotes", {"deal_id": deal["id"], "currency": currency, "line_items": lines})
        want = [expected_line(*one, currency) for one in expected]
        assert [amounts_of(line) for line in quote["line_items"]] == want, (currency, quote["line_items"])
        assert totals_of(quote) == expected_totals(want, currency), currency
        assert quote["line_items"][0]["description"] == ("Gear" if "product_id" in lines[0] else "Service")
    assert quote["line_items"][0]["unit_price"] == "1.0005" and quote["line_items"][0]["tax_rate"] == "0.05"

    # 100 lines of every kind of value: the totals are the sums of the rounded lines.
    rng = random.Random(18)
    lines, expected = [], []
    for n in range(100):
        quantity = str(Decimal(rng.randint(1, 5000)) / Decimal(rng.choice((1, 10, 100))))
        price = str(Decimal(rng.randint(1, 10**7)) / Decimal(10**4))
        discount = rng.choice(("0", "0.05", "0.125", "0.333333"))
        tax = rng.choice(("0", "0.07", "0.19", "0.2"))
        lines.append(
            {
                "description": f"Line {n}",
                "quantity": quantity,
                "unit_price": price,
                "discount": discount,
                "tax_rate": tax,
            }
        )
        expected.append(expected_line(quantity, price, discount, tax, "USD"))
    big = client.create("quotes", {"deal_id": deal["id"], "currency": "USD", "line_items": lines})
    assert [amounts_of(line) for line in big["line_items"]] == expected
    assert totals_of(big) == expected_totals(expected, "USD")
    assert client.get(f"/v1/quotes/{big['id']}").json()["total"] == big["total"]

    # 422 naming the field, and no number taken: the next quote's number follows the last one made.
    before = client.get("/v1/quotes", params={"limit": 100}).json()["items"]
    for body, field in (
        ({"line_items": [*lines, lines[0]]}, "line_items"),
        (
            {
                "line_items": [{"quantity": "1", "unit_price": "1"}, {"product_id": pid, "quantity": "1"}],
                "currency": "USD",
            },
            "line_items[1].unit_price",
        ),
        ({"line_items": [{"quantity": "0", "unit_price": "1"}]}, "line_items[0].quantity"),
        ({"line_items": [{"quantity": 1.5, "unit_price": 2.25}], "currency": "XXY"}, "currency"),
    ):
        bad = client.post("/v1/quotes", {"deal_id": deal["id"], "currency": "EUR", **body})
        assert bad.status_code == 422, bad.text
        assert field in [e["field"] for e in bad.json()["errors"]], (field, bad.text)
    assert client.get("/v1/quotes", params={"limit": 100}).json()["items"] == before
    numbers = sorted(q["number"] for q in before)
    after = client.create("quotes", {"deal_id": deal["id"], "currency": "EUR"})
    year = datetime.now(UTC).year
    assert numbers == [f"Q-{year}-{n:04d}" for n in range(1, 5)]
    assert after["number"] == f"Q-{year}-0005" and after["total"] == "0.00"


def test_quote_numbers_are_gapless_under_concurrent_creates(client: ApiClient) -> None:
    """Over HTTP the local gateway runs one request of a function at a time (as one Lambda container
    would), so the races on the tenant's counter are made in process as well: 20 creates at once through
    the service, as 20 containers would make them."""
    from crm_core.auth import Principal
    from crm_core.context import RequestContext
    from crm_core.services.quotes import QUOTES

    deal = client.create("deals", {"name": "Rush"})
    body = {"deal_id": deal["id"], "currency": "EUR", "line_items": [{"quantity": "1", "unit_price": "5"}]}
    bad = {**body, "line_items": [{"quantity": "1"}]}  # no price: refused, and no number taken

    def over_http(n: int) -> requests.Response:
        return client.session.post(
            f"{client.base_url}/v1/quotes",
            json=bad if n % 4 == 3 else body,
            headers={"Authorization": f"Bearer {client.api_key}"},
            timeout=180,
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(over_http, range(12)))
    assert sorted(a.status_code for a in answers) == [201] * 9 + [422] * 3, [a.text for a in answers]

    ctx = RequestContext(Principal(client.tenant_id, client.user_id, Role.ADMIN, "api_key", "race"))

    def in_process(n: int) -> str:
        return str(QUOTES.create(RequestContext(ctx.principal), dict(body))["number"])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        raced = list(pool.map(in_process, range(20)))
    took = time.perf_counter() - started
    year = datetime.now(UTC).year
    numbers = sorted([a.json()["number"] for a in answers if a.status_code == 201] + raced)
    assert numbers == [f"Q-{year}-{n:04d}" for n in range(1, 30)], numbers
    listed = client.all_pages("/v1/quotes", {"limit": 100})
    assert sorted(q["number"] for q in listed) == numbers
    print(f"20 concurrent quote creates in process took {took:.2f} s")


def test_a_quotes_life(
    runtime: LocalRuntime, client: ApiClient, other: ApiClient, anonymous: ApiClient
) -> None:
    domain = f"{client.tenant_id.lower()}.example"
    contact = client.create("contacts", {"email": f"ada@{domain}", "first_name": "Ada"})
    deal = client.create("deals", {"name": "Engines", "contact_ids": [contact["id"]]})
    product = client.create(
        "products", {"sku": "ENG", "name": "Engine", "prices": [{"currency": "EUR", "unit_price": "1250"}]}
    )
    quote = client.create(
        "quotes",
        {
            "deal_id": deal["id"],
            "contact_id": contact["id"],
            "currency": "EUR",
            "title": "Three engines",
            "line_items": [
                {"product_id": product["id"], "quantity": "3", "discount": "0.1", "tax_rate": "0.2"}
            ],
        },
    )
    qid = quote["id"]
    assert (quote["status"], quote["total"]) == ("draft", "4050.00")
    # A draft changes; its totals follow.
    changed = client.patch(
        f"/v1/quotes/{qid}", {"line_items": [{"product_id": product["id"], "quantity": "2"}]}
    )
    assert changed.status_code == 200 and changed.json()["total"] == "2500.00", changed.text
    # The PDF: the number, the lines, the totals.
    pdf = client.get(f"/v1/quotes/{qid}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"].startswith("application/pdf"), pdf.text[
        :200
    ]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for words in (quote["number"], "Engine", "2500.00 EUR", "Acme"):
        assert words in text, (words, text)
    # Another tenant sees nothing of it.
    for call in (
        lambda: other.get(f"/v1/quotes/{qid}"),
        lambda: other.get(f"/v1/quotes/{qid}/pdf"),
        lambda: other.patch(f"/v1/quotes/{qid}", {"title": "Theirs"}),
        lambda: other.post(f"/v1/quotes/{qid}/send", {}),
    ):
        assert call().status_code == 404
    # A draft has no public page (its token is forged or not: 404).
    token = page_token_of(client.tenant_id, qid)
    assert anonymous.get(f"/q/{token}").status_code == 404

    sent = client.post(f"/v1/quotes/{qid}/send", {"message": "As discussed."})
    assert sent.status_code == 200 and sent.json()["status"] == "sent", sent.text
    assert client.post(f"/v1/quotes/{qid}/send", {}).status_code == 200  # the link again, no new event
    mails = eventually(lambda: sent_to(domain), timeout=10)
    link = re.search(r'href="https?://[^"]+/q/([A-Za-z0-9_.-]+)"', html_of(mails[0]))
    assert link and link.group(1) == token and len(mails) == 2
    assert client.patch(f"/v1/quotes/{qid}", {"title": "Late"}).status_code == 409  # only drafts change

    page = anonymous.get(f"/q/{token}")
    assert page.status_code == 200 and "2500.00 EUR" in page.text and "Accept" in page.text, page.text
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert anonymous.get(f"/q/{forged}").status_code == 404
    assert anonymous.get(f"/q/{page_token_of(other.tenant_id, qid)}").status_code == 404  # another tenant's
    accepted = anonymous.post(f"/q/{token}/accept")
    assert accepted.status_code == 200 and "accepted" in accepted.text, accepted.text
    # The same answer again is the same page; the other answer is too late.
    assert [anonymous.post(f"/q/{token}/{a}").status_code for a in ("accept", "decline")] == [200, 409]
    assert client.get(f"/v1/quotes/{qid}").json()["status"] == "accepted"
    assert eventually(lambda: client.get(f"/v1/deals/{deal['id']}").json()["status"] == "won", timeout=10)
    kinds = timeline_with(client, f"/v1/quotes/{qid}/timeline", "quote.accepted")
    assert sorted(kinds) == ["quote.accepted", "quote.created", "quote.sent", "quote.updated"]

    # Expiry: at the end of valid_until, once however often the schedule's message comes.
    later = client.create(
        "quotes",
        {
            "deal_id": deal["id"],
            "contact_id": contact["id"],
            "currency": "EUR",
            "valid_until": datetime.now(UTC).date().isoformat(),
            "line_items": [{"product_id": product["id"], "quantity": "1"}],
        },
    )
    assert client.post(f"/v1/quotes/{later['id']}/send", {}).status_code == 200
    schedule = eventually(lambda: schedule_of(runtime, f"quote-expiry-{later['id']}"), timeout=30)
    message = json.loads(schedule["Target"]["Input"])
    assert message["at"] == (datetime.now(UTC).date() + timedelta(days=1)).isoformat() + "T00:00:00.000Z"
    deliver_twice(message)
    assert client.get(f"/v1/quotes/{later['id']}").json()["status"] == "expired"
    expired = timeline_with(client, f"/v1/quotes/{later['id']}/timeline", "quote.expired")
    assert expired.count("quote.expired") == 1
    assert anonymous.post(f"/q/{page_token_of(client.tenant_id, later['id'])}/accept").status_code == 409

    bounce_suppresses(client, other, qid, contact["email"])

    # Roles: a rep makes quotes on deals, a viewer reads them.
    rep, viewer = user_client(client, Role.REP), user_client(client, Role.VIEWER)
    assert rep.post("/v1/quotes", {"deal_id": deal["id"], "currency": "EUR"}).status_code == 201
    assert viewer.post("/v1/quotes", {"deal_id": deal["id"], "currency": "EUR"}).status_code == 403
    assert viewer.get(f"/v1/quotes/{qid}/pdf").status_code == 200


def bounce_suppresses(client: ApiClient, other: ApiClient, quote_id: str, address: str) -> None:
    """SES's hard bounce of a quote's email, as the configuration set's topic delivers it (twice): the
    address is suppressed for the tenant's later emails, as a campaign's bounce would (not another's)."""
    import boto3
    from crm_core.definitions import EMAIL_NOTIFICATIONS_QUEUE
    from crm_core.repositories import suppression_repository

    tenant_id = client.tenant_id

    event = {
        "eventType": "Bounce",
        "mail": {
            "messageId": "q-1",
            "destination": [address],
            "tags": {"tenant_id": [tenant_id], "quote_id": [quote_id]},
        },
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": address}]},
    }
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=EMAIL_NOTIFICATIONS_QUEUE.name)["QueueUrl"]
    for _ in range(2):
        sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps({"Type": "Notification", "Message": json.dumps(event)})
        )
    assert eventually(lambda: suppression_repository.is_suppressed(tenant_id, address))
    assert not suppression_repository.is_suppressed(other.tenant_id, address)


def test_a_quote_pdf_prints_every_script(base_url: str, anonymous: ApiClient) -> None:
    """Issue 18: a Chinese tenant's quote, with Polish, Greek and Cyrillic names beside, printed in the
    embedded Noto faces (functions/revenue/fonts) rather than as '?', and read back exactly (fpdf2 writes
    each font's ToUnicode map); the public page shows the same names."""
    from tests.conftest import new_tenant_client

    client = new_tenant_client(base_url, "北京科技有限公司")
    domain = f"{client.tenant_id.lower()}.example"
    contact = client.create("contacts", {"email": f"l@{domain}", "first_name": "Łucja", "last_name": "Αθήνα"})
    deal = client.create("deals", {"name": "报价", "contact_ids": [contact["id"]]})
    names = ("报价单", "Москва", "Zażółć gęślą jaźń")
    products = [
        client.create(
            "products",
            {
                "sku": f"P{n}",
                "name": name,
                "description": name,
                "prices": [{"currency": "CNY", "unit_price": "9"}],
            },
        )
        for n, name in enumerate(names)
    ]
    quote = client.create(
        "quotes",
        {
            "deal_id": deal["id"],
            "contact_id": contact["id"],
            "currency": "CNY",
            "title": "报价单 Łódź",  # a line that starts in the CJK face, then the next in Noto Sans
            "notes": "Αθήνα — Москва — 北京",
            # The lines' descriptions are their products' names; one of its own, bold CJK among them.
            "line_items": [{"product_id": p["id"], "quantity": "1"} for p in products]
            + [{"product_id": products[0]["id"], "quantity": "2", "description": "北京 Łódź 2"}],
        },
    )
    pdf = client.get(f"/v1/quotes/{quote['id']}/pdf")
    assert pdf.status_code == 200, pdf.text[:200]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    lines = text.splitlines()
    assert lines[0] == "北京科技有限公司" and "报价单 Łódź" in lines, text
    assert "For: Łucja Αθήνα" in lines and "Currency: CNY" in lines, text  # after a CJK line, still Latin
    for words in (*names, "北京 Łódź 2", "Αθήνα — Москва — 北京", quote["number"], f"{quote['total']} CNY"):
        assert words in text, (words, text)
    assert "?" not in text, text
    # fpdf2 embeds the glyphs the document uses, not the 5 MB of faces.
    assert len(pdf.content) < 100_000, len(pdf.content)

    assert client.post(f"/v1/quotes/{quote['id']}/send", {}).status_code == 200
    page = anonymous.get(f"/q/{page_token_of(client.tenant_id, quote['id'])}")
    assert page.status_code == 200 and "charset=utf-8" in page.headers["Content-Type"].lower(), page.headers
    for words in ("北京科技有限公司", "报价单 Łódź", *names, "北京 Łódź 2", "Αθήνα — Москва — 北京"):
        assert words in page.text, (words, page.text)


def page_token_of(tenant_id: str, quote_id: str) -> str:
    from crm_core.services.quote_mail import page_token

    return page_token(tenant_id, quote_id)


def timeline_with(client: ApiClient, path: str, kind: str) -> list[str]:
    """The types of a timeline's entries, once ``kind`` is among them (the relay writes them)."""

    def kinds() -> list[str]:
        found = [entry["type"] for entry in client.get(path).json()["items"]]
        return found if kind in found else []

    return eventually(kinds, timeout=15)


def test_a_quote_pdf_in_arabic_hebrew_and_korean(client: ApiClient, anonymous: ApiClient) -> None:
    """Decision 0033, "Changed later": an Arabic contact, a Hebrew product and a Korean line of its own print
    in their Noto faces, the Arabic letters joined (fpdf2 shapes with uharfbuzz: contextual forms and the
    lam-alef ligature), each right-to-left run in visual order beside Latin words and digits, every glyph
    drawn one the embedded fonts have (none .notdef); a Latin quote of the same tenant embeds Noto Sans
    alone and is not shaped."""
    domain = f"{client.tenant_id.lower()}.example"
    arabic = client.create("contacts", {"email": f"l@{domain}", "first_name": "ليلى", "last_name": "حداد"})
    latin = client.create(
        "contacts", {"email": f"ada@{domain}", "first_name": "Ada", "last_name": "Lovelace"}
    )
    deal = client.create("deals", {"name": "Lamps", "contact_ids": [arabic["id"], latin["id"]]})
    hebrew, korean, notes = "מנורת LED 40 וואט", "엔진 서비스 계획 3년", "الدفع خلال 30 يوما"
    lamp, engine = (
        client.create(
            "products", {"sku": sku, "name": name, "prices": [{"currency": "ILS", "unit_price": "90"}]}
        )
        for sku, name in (("LED40", hebrew), ("ENG", "Engine service"))
    )
    quote = client.create(
        "quotes",
        {
            "deal_id": deal["id"],
            "contact_id": arabic["id"],
            "currency": "ILS",
            "title": "Lamps 2026",
            "notes": notes,
            "line_items": [
                {"product_id": lamp["id"], "quantity": "2"},
                {"product_id": engine["id"], "quantity": "1", "description": korean},
            ],
        },
    )
    pdf = client.get(f"/v1/quotes/{quote['id']}/pdf")
    assert pdf.status_code == 200, pdf.text[:200]
    reader = PdfReader(io.BytesIO(pdf.content))
    # pypdf reads a line's runs in the order they are drawn, left to right, and gives each right-to-left
    # run's letters back in logical order (from the fonts' ToUnicode maps: base letters, not presentation
    # forms; NFKC would fold any): a right-to-left line's words come out last to first.
    lines = unicodedata.normalize("NFKC", reader.pages[0].extract_text()).splitlines()
    assert "For: حداد ليلى" in lines, lines  # in a Latin line, the Arabic name's run right to left
    assert any(line.startswith("וואט LED 40 מנורת 2 90 ") for line in lines), lines  # Latin, digits inside
    assert any(line.startswith(f"{korean} 1 90 ") for line in lines), lines
    assert "يوما 30 خلال الدفع" in lines, lines  # the notes: an Arabic paragraph, its number inside
    assert f"Quote {quote['number']}" in lines and f"{quote['total']} ILS" in " ".join(lines), lines
    fonts = _embedded_fonts(pdf.content)
    assert set(fonts) == {"NotoSans", "NotoSansBold", "NotoSansArabic", "NotoSansHebrew", "NotoSansCJKKR"}, (
        fonts
    )
    # Shaped: an Arabic letter is drawn in more than one form (لـ initial and medial in ليلى, ـد final and
    # isolated in حداد), and لا (in خلال) as the one ligature glyph.
    arabic_glyphs = list(fonts["NotoSansArabic"].values())
    assert any(arabic_glyphs.count(letter) > 1 for letter in "لد"), arabic_glyphs
    assert "لا" in arabic_glyphs, arabic_glyphs
    assert {*korean} - {" ", "3"} == {*fonts["NotoSansCJKKR"].values()}, fonts["NotoSansCJKKR"]  # Hangul
    assert b" Tm" in _content(pdf.content)  # shaped text is placed glyph by glyph where it kerns
    # A text that starts right to left is aligned right in its place: the Arabic notes at the page's right,
    # the Hebrew line's description at its column's; the Korean one (left to right) where the column starts.
    starts = _text_starts(pdf.content)
    margin, column = starts["Currency: ILS"], 74 * 72 / 25.4  # the description column: 74 mm
    assert starts["الدفع"] > 595 / 2 and margin < starts["מנורת"] < margin + column, starts
    assert [x for run, x in starts.items() if run.startswith("엔진")] == [margin], starts
    # The public page: what people typed takes its direction from its own first letters.
    assert client.post(f"/v1/quotes/{quote['id']}/send", {}).status_code == 200
    page = anonymous.get(f"/q/{page_token_of(client.tenant_id, quote['id'])}")
    assert f'<p dir="auto">{notes}</p>' in page.text and f'<td dir="auto">{hebrew}</td>' in page.text, (
        page.text
    )

    other = client.create(
        "quotes",
        {
            "deal_id": deal["id"],
            "contact_id": latin["id"],
            "currency": "ILS",
            "valid_until": "2031-12-31",
            "title": "Valid engines",
            "line_items": [{"product_id": engine["id"], "quantity": "1"}],
        },
    )
    plain = client.get(f"/v1/quotes/{other['id']}/pdf")
    assert plain.status_code == 200, plain.text[:200]
    assert set(_embedded_fonts(plain.content)) == {"NotoSans", "NotoSansBold"}
    assert b" Tm" not in _content(plain.content)  # not shaped: "Valid until" would kern (V, a)
    assert "For: Ada Lovelace" in PdfReader(io.BytesIO(plain.content)).pages[0].extract_text()


def _text_starts(document: bytes) -> dict[str, float]:
    """Where each run of text on the first page starts, in points from the page's left edge."""
    starts: dict[str, float] = {}

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            starts.setdefault(unicodedata.normalize("NFKC", text.strip()), float(tm[4]))

    PdfReader(io.BytesIO(document)).pages[0].extract_text(visitor_text=visit)
    return starts


def _content(document: bytes) -> bytes:
    return b"".join(page.get_contents().get_data() for page in PdfReader(io.BytesIO(document)).pages)


def _embedded_fonts(document: bytes) -> dict[str, dict[int, str]]:
    """The fonts a PDF's pages draw with (fpdf2: Identity-H TrueType subsets), each as the text of every glyph
    it draws, by CID. Fails when a glyph drawn is .notdef, has no text, or is not in the embedded font file
    (or has no outline where its text is not a space)."""
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(document))
    fonts: dict[str, dict[int, str]] = {}
    for page in reader.pages:
        resources = {name: _Font(ref.get_object()) for name, ref in page["/Resources"]["/Font"].items()}
        current: _Font | None = None
        saved: list[_Font | None] = []  # the font is graphics state: q saves it, Q restores it
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                saved.append(current)
            elif operator == b"Q":
                current = saved.pop()
            elif operator == b"Tf":
                current = resources[operands[0]]
            elif operator in (b"Tj", b"TJ"):
                assert current is not None
                strings = operands[0] if operator == b"TJ" else [operands[0]]
                drawn = b"".join(s.original_bytes for s in strings if not isinstance(s, (int, float)))
                fonts.setdefault(current.name, {}).update(current.glyphs(drawn))
    return fonts


class _Font:
    """An embedded Type0 font: its CIDs' glyph ids (CIDToGIDMap), texts (ToUnicode) and outlines."""

    def __init__(self, font: Any) -> None:
        from fontTools.ttLib import TTFont

        self.name = str(font["/BaseFont"]).split("+", 1)[1]
        descendant = font["/DescendantFonts"][0].get_object()
        self.gids = descendant["/CIDToGIDMap"].get_object().get_data()
        data = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
        outlines = TTFont(io.BytesIO(data))
        self.order, self.glyf = outlines.getGlyphOrder(), outlines["glyf"]
        cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
        self.text = {
            int(cid, 16): bytes.fromhex(chars).decode("utf-16-be")
            for cid, chars in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]+)>", cmap)
        }

    def glyphs(self, drawn: bytes) -> dict[int, str]:
        found = {}
        for index in range(0, len(drawn), 2):
            cid = int.from_bytes(drawn[index : index + 2], "big")
            gid = int.from_bytes(self.gids[2 * cid : 2 * cid + 2], "big")
            assert cid and gid and gid < len(self.order), (self.name, cid, gid)  # 0 is .notdef
            assert self.text.get(cid), (self.name, cid)
            text = self.text[cid]
            assert text.isspace() or self.glyf[self.order[gid]].numberOfContours, (self.name, text)
            found[cid] = text
        return found
