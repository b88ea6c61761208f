"""Contracts and payments over HTTP on the local runtime: a plan that must sum to the value, gapless numbers
under concurrency, payments applied to the oldest instalments first (and never over what is outstanding,
even two at once), voiding, renewal, a company's receivables; the timers (renewal reminder, an instalment
falling overdue, expiry) once however often their message comes; roles and another tenant's ids."""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from crm_core.auth import Role

from crm_local.runtime import LocalRuntime
from tests.integration.test_products_quotes import page_token_of
from tests.integration.test_tickets import deliver_twice, notifications, schedule_of, types
from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.waiting import eventually


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def contract_body(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Engines support",
        "start_date": day(1),
        "end_date": day(365),
        "value": "1000.00",
        "currency": "EUR",
        "payment_plan": [
            {"due_date": day(30), "amount": "300.00"},
            {"due_date": day(90), "amount": "300"},
            {"due_date": day(60), "amount": "400.00"},
        ],
        **fields,
    }


def field_of(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


def test_a_contracts_payments(client: ApiClient, other: ApiClient) -> None:
    company = client.create("companies", {"name": "Analytical Engines"})
    refused_as_written(client)

    contract = client.create("contracts", contract_body(company_id=company["id"]))
    cid = contract["id"]
    year = datetime.now(UTC).year
    assert contract["number"] == f"C-{year}-0001" and contract["status"] == "draft"
    assert [i["due_date"] for i in contract["installments"]] == [day(30), day(60), day(90)]
    assert (contract["paid"], contract["outstanding"], contract["overdue"]) == ("0.00", "1000.00", "0.00")
    assert "overdue_notified" not in contract
    # A draft counts for nothing in its company's receivables; an active one does.
    assert client.get(f"/v1/companies/{company['id']}/receivables").json() == {"items": []}
    active = client.patch(f"/v1/contracts/{cid}", {"status": "active"}).json()
    assert active["status"] == "active"

    # A payment is applied to the oldest instalments first, in the contract's transaction.
    paid = client.post(
        "/v1/payments",
        {
            "contract_id": cid,
            "amount": "450",
            "currency": "EUR",
            "method": "bank_transfer",
            "reference": "INV-1",
        },
    )
    assert paid.status_code == 201, paid.text
    now = client.get(f"/v1/contracts/{cid}").json()
    assert (now["paid"], now["outstanding"]) == ("450.00", "550.00")
    assert [(i["paid"], i["status"]) for i in now["installments"]] == [
        ("300.00", "paid"),
        ("150.00", "open"),
        ("0.00", "open"),
    ]
    # Another currency, more than outstanding, a negative amount: 422 naming the field, nothing changed.
    assert field_of(client.post("/v1/payments", {"contract_id": cid, "amount": "1", "currency": "USD"})) == [
        "currency"
    ]
    too_much = {"contract_id": cid, "amount": "550.01", "currency": "EUR"}
    assert field_of(client.post("/v1/payments", too_much)) == ["amount"]
    assert field_of(client.post("/v1/payments", {**too_much, "amount": "-1"})) == ["amount"]
    assert client.get(f"/v1/contracts/{cid}").json()["paid"] == "450.00"
    assert field_of(client.patch(f"/v1/contracts/{cid}", {"value": "400.00", "payment_plan": None})) == [
        "value"
    ]

    # Two payments at once that each fit but not both: exactly one is taken.
    both = {"contract_id": cid, "amount": "300.00", "currency": "EUR"}
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: client.post("/v1/payments", both), range(2)))
    assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
    assert client.get(f"/v1/contracts/{cid}").json()["outstanding"] == "250.00"
    receivables = client.get(f"/v1/companies/{company['id']}/receivables").json()["items"]
    assert receivables == [
        {
            "currency": "EUR",
            "contracts": 1,
            "value": "1000.00",
            "paid": "750.00",
            "outstanding": "250.00",
            "overdue": "0.00",
        }
    ]

    # Voiding takes the amount off the contract; the payment shows among the voided ones.
    pid = paid.json()["id"]
    assert client.delete(f"/v1/payments/{pid}").status_code == 204
    assert client.get(f"/v1/contracts/{cid}").json()["paid"] == "300.00"
    voided = client.get("/v1/payments", params={"archived": "true", "contract_id": cid}).json()["items"]
    assert [p["id"] for p in voided] == [pid]
    assert len(client.get("/v1/payments", params={"contract_id": cid}).json()["items"]) == 1
    history = types(client, f"/v1/contracts/{cid}/timeline")
    assert history.count("payment.received") == 2 and history.count("payment.voided") == 1
    assert "contract.activated" in history and history[-1] == "contract.created"

    # The next term: a new contract linked both ways, once.
    renewed = client.post(f"/v1/contracts/{cid}/renew", {})
    assert renewed.status_code == 201, renewed.text
    second = renewed.json()
    assert second["renewed_from"] == cid and second["number"] == f"C-{year}-0002"
    assert (second["start_date"], second["value"], second["status"]) == (day(366), "1000.00", "active")
    assert [i["due_date"] for i in second["installments"]] == [day(395), day(425), day(455)]
    assert client.get(f"/v1/contracts/{cid}").json()["renewed_to"] == second["id"]
    assert client.post(f"/v1/contracts/{cid}/renew", {}).status_code == 409
    assert eventually(lambda: "contract.renewed" in types(client, f"/v1/contracts/{cid}/timeline"))

    unseen_by_another_tenant(client, other, cid, pid, company["id"])
    roles(client, cid)


def refused_as_written(client: ApiClient) -> None:
    """The plan must sum exactly to the value and fall within the term; a new contract is a draft or
    active; derived fields are not written. Nothing is made."""
    short = contract_body(payment_plan=[{"due_date": day(30), "amount": "999.99"}])
    assert field_of(client.post("/v1/contracts", short)) == ["payment_plan"]
    early = contract_body(payment_plan=[{"due_date": day(0), "amount": "1000.00"}])
    assert field_of(client.post("/v1/contracts", early)) == ["payment_plan[0].due_date"]
    assert field_of(client.post("/v1/contracts", contract_body(status="expired"))) == ["status"]
    assert field_of(client.post("/v1/contracts", contract_body(end_date=day(0)))) == ["end_date"]
    assert field_of(client.post("/v1/contracts", contract_body(paid="5.00"))) == ["paid"]
    assert client.get("/v1/contracts").json()["items"] == []


def unseen_by_another_tenant(
    client: ApiClient, other: ApiClient, cid: str, pid: str, company_id: str
) -> None:
    for path in (f"/v1/contracts/{cid}", f"/v1/payments/{pid}", f"/v1/companies/{company_id}/receivables"):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/v1/contracts/{cid}/renew", {}).status_code == 404
    assert other.get("/v1/contracts").json()["items"] == []
    assert other.get("/v1/payments", params={"archived": "true"}).json()["items"] == []
    mine = {"contract_id": cid, "amount": "1", "currency": "EUR"}
    assert field_of(other.post("/v1/payments", mine)) == ["contract_id"]
    assert client.get(f"/v1/contracts/{cid}").json()["paid"] == "300.00"


def roles(admin: ApiClient, cid: str) -> None:
    """A viewer reads; a rep records payments on its own contracts, not on the admin's."""
    viewer, rep = user_client(admin, Role.VIEWER), user_client(admin, Role.REP)
    assert viewer.get(f"/v1/contracts/{cid}").status_code == 200
    assert viewer.post("/v1/contracts", contract_body()).status_code == 403
    payment = {"contract_id": cid, "amount": "1", "currency": "EUR"}
    assert viewer.post("/v1/payments", payment).status_code == 403
    assert rep.post("/v1/payments", payment).status_code == 403
    own = rep.create("contracts", contract_body(status="active"))
    assert own["owner_id"] == rep.user_id
    assert rep.post("/v1/payments", {**payment, "contract_id": own["id"]}).status_code == 201


def test_numbers_are_gapless_under_concurrency(client: ApiClient) -> None:
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: client.post("/v1/contracts", contract_body()), range(8)))
    assert all(answer.status_code == 201 for answer in made), [a.text for a in made]
    year = datetime.now(UTC).year
    assert sorted(answer.json()["number"] for answer in made) == [f"C-{year}-{n:04d}" for n in range(1, 9)]


def test_timers_fire_once(runtime: LocalRuntime, client: ApiClient) -> None:
    # Started two months ago: the first instalment is already overdue when the contract is made, so its
    # timer fires at once (through the runtime); the next ones are scheduled.
    contract = client.create(
        "contracts",
        contract_body(
            start_date=day(-60),
            end_date=day(20),
            status="active",
            renewal_reminder_days=10,
            payment_plan=[
                {"due_date": day(-30), "amount": "250.00"},
                {"due_date": day(5), "amount": "250.00"},
                {"due_date": day(15), "amount": "500.00"},
            ],
        ),
    )
    cid = contract["id"]
    assert contract["overdue"] == "250.00" and contract["installments"][0]["status"] == "overdue"
    assert eventually(lambda: "installment.overdue" in types(client, f"/v1/contracts/{cid}/timeline"))
    names = {timer: f"contract-{cid}-{timer}" for timer in ("renewal", "expiry", "overdue")}
    found = {timer: eventually(lambda n=name: schedule_of(runtime, n)) for timer, name in names.items()}
    assert all(found.values()), found
    messages = {timer: json.loads(found[timer]["Target"]["Input"]) for timer in found}
    assert messages["overdue"] == {
        "tenant_id": client.tenant_id,
        "contract_id": cid,
        "timer": "overdue",
        "at": f"{day(6)}T00:00:00.000Z",
    }
    assert messages["renewal"]["at"] == f"{day(10)}T00:00:00.000Z"
    assert messages["expiry"]["at"] == f"{day(21)}T00:00:00.000Z"

    # Each message delivered twice (as SQS may): once each.
    for timer in ("renewal", "overdue"):
        deliver_twice(messages[timer])
    timeline = types(client, f"/v1/contracts/{cid}/timeline")
    assert timeline.count("installment.overdue") == 2, timeline
    titles = sorted(n["title"].split(":")[0] for n in notifications(client))
    assert titles == ["Instalment overdue", "Instalment overdue", "Renewal due"], titles
    overdue = client.get(f"/v1/contracts/{cid}/timeline").json()["items"]
    reported = [e for e in overdue if e["type"] == "installment.overdue"]
    assert reported[0]["actor"] == {"type": "system", "id": "contracts"}
    # Paying the last instalment's share moves nothing back; its timer goes once nothing unpaid is left.
    client.post("/v1/payments", {"contract_id": cid, "amount": "1000.00", "currency": "EUR"})
    assert eventually(lambda: schedule_of(runtime, names["overdue"]) is None)
    assert client.get(f"/v1/contracts/{cid}").json()["overdue"] == "0.00"

    deliver_twice(messages["expiry"])
    expired = client.get(f"/v1/contracts/{cid}").json()
    assert expired["status"] == "expired"
    assert types(client, f"/v1/contracts/{cid}/timeline").count("contract.expired") == 1
    assert eventually(lambda: schedule_of(runtime, names["renewal"]) is None)
    assert len(notifications(client)) == 3


def bucket(days_late: int) -> tuple[int, str]:
    for order, (limit, name) in enumerate(((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90"))):
        if days_late <= limit:
            return order, name
    return 4, "90+"


def expected_reports(contracts: list[dict[str, Any]], on: date) -> dict[str, list[tuple[Any, ...]]]:
    """The revenue reports' rows computed here from the contracts as the API answers them."""
    owed = [c for c in contracts if c["status"] != "draft"]
    bookings: dict[tuple[str, str, str], list[Decimal]] = defaultdict(list)
    renewals: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0), 0])
    aging: dict[tuple[int, str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    renewed = {c["renewed_from"] for c in contracts if c["renewed_from"]}
    for c in owed:
        bookings[(c["start_date"][:7], c["owner_id"], c["currency"])].append(Decimal(c["value"]))
        if c["status"] in ("active", "expired"):
            row = renewals[(c["end_date"][:7], c["currency"])]
            row[0] += 1
            row[1] += Decimal(c["value"])
            row[2] += c["id"] in renewed
        for one in c["installments"]:
            left = Decimal(one["amount"]) - Decimal(one["paid"])
            if left > 0:
                order, name = bucket((on - date.fromisoformat(one["due_date"])).days)
                aging[(order, name, c["currency"])][0] += 1
                aging[(order, name, c["currency"])][1] += left
    return {
        "bookings": [(*key, len(v), sum(v)) for key, v in sorted(bookings.items())],
        "renewals": [(*key, *v) for key, v in sorted(renewals.items())],
        "receivables-aging": [(name, cur, *v) for (_, name, cur), v in sorted(aging.items())],
    }


def reported_rows(client: ApiClient, **params: str) -> dict[str, list[tuple[Any, ...]]]:
    def rows(name: str, fields: tuple[str, ...], **extra: str) -> list[tuple[Any, ...]]:
        answer = client.get(f"/v1/reports/{name}", params=extra)
        assert answer.status_code == 200, answer.text
        return [
            tuple(Decimal(str(r[f])).quantize(Decimal("0.01")) if f in MONEY else r[f] for f in fields)
            for r in answer.json()["rows"]
        ]

    return {
        "bookings": rows("bookings", ("period", "owner_id", "currency", "contracts", "value")),
        "renewals": rows("renewals", ("period", "currency", "contracts", "value", "renewed")),
        "receivables-aging": rows(
            "receivables-aging", ("bucket", "currency", "installments", "outstanding"), **params
        ),
    }


MONEY = ("value", "outstanding")


def test_revenue_reports_answer_the_contracts_numbers(client: ApiClient) -> None:
    """Bookings, receivables aging and renewals, against what the test computes from the contracts."""
    rep = user_client(client, Role.REP)
    made = [
        client.create(
            "contracts",
            contract_body(
                start_date=day(-100),
                end_date=day(100),
                value="1200.00",
                status="active",
                payment_plan=[
                    {"due_date": day(-95), "amount": "400.00"},
                    {"due_date": day(-40), "amount": "400.00"},
                    {"due_date": day(10), "amount": "400.00"},
                ],
            ),
        ),
        rep.create(
            "contracts",
            contract_body(
                start_date=day(-200),
                end_date=day(30),
                value="300.00",
                currency="USD",
                status="active",
                payment_plan=[{"due_date": day(-150), "amount": "300.00"}],
            ),
        ),
        client.create("contracts", contract_body(value="999.00", payment_plan=None)),  # a draft: in none
    ]
    first = made[0]["id"]
    assert (
        client.post("/v1/payments", {"contract_id": first, "amount": "500", "currency": "EUR"}).status_code
        == 201
    )
    assert client.post(f"/v1/contracts/{first}/renew", {}).status_code == 201
    contracts = client.all_pages("/v1/contracts")
    assert len(contracts) == 4
    want = expected_reports(contracts, datetime.now(UTC).date())
    assert [r[:2] for r in want["receivables-aging"]] == [
        ("current", "EUR"),
        ("31-60", "EUR"),
        ("90+", "USD"),
    ]
    assert eventually(lambda: reported_rows(client) == want, timeout=90, every=0.5), (
        reported_rows(client),
        want,
    )
    # Aged to another day: the instalment due in 10 days is 10 days late in 20 days.
    later = expected_reports(contracts, datetime.now(UTC).date() + timedelta(days=20))
    assert reported_rows(client, to=day(20))["receivables-aging"] == later["receivables-aging"]
    assert ("1-30", "EUR", 1, Decimal("400.00")) in later["receivables-aging"]


def test_a_contract_from_an_accepted_quote(client: ApiClient, anonymous: ApiClient) -> None:
    """It takes the quote's total, currency, deal, contact and lines; a quote not accepted is refused."""
    contact = client.create("contacts", {"email": f"buyer@{client.tenant_id.lower()}.example"})
    deal = client.create("deals", {"name": "Engines", "contact_ids": [contact["id"]]})
    lines = [{"description": "Engine", "quantity": "3", "unit_price": "1250.00", "discount": "0.1"}]
    quote = client.create(
        "quotes", {"deal_id": deal["id"], "contact_id": contact["id"], "currency": "EUR", "line_items": lines}
    )
    term = {"start_date": day(1), "end_date": day(365), "quote_id": quote["id"]}
    assert field_of(client.post("/v1/contracts", term)) == ["quote_id"]  # a draft quote
    assert client.post(f"/v1/quotes/{quote['id']}/send", {}).status_code == 200
    assert anonymous.post(f"/q/{page_token_of(client.tenant_id, quote['id'])}/accept").status_code == 200
    assert field_of(client.post("/v1/contracts", {**term, "value": "1.00"})) == ["value"]
    assert field_of(client.post("/v1/contracts", {**term, "currency": "USD"})) == ["currency"]
    assert field_of(client.post("/v1/contracts", {k: v for k, v in term.items() if k != "quote_id"})) == [
        "value"
    ]
    contract = client.create("contracts", {**term, "value": "3375"})
    assert (contract["value"], contract["currency"]) == ("3375.00", "EUR") == (quote["total"], "EUR")
    assert (contract["deal_id"], contract["contact_id"]) == (deal["id"], contact["id"])
    assert contract["line_items"] == quote["line_items"]
    assert contract["installments"] == [
        {"due_date": day(1), "amount": "3375.00", "paid": "0.00", "status": "open"}
    ]


BUYERS: dict[str, tuple[str, str]] = {}


def accepted_quote(
    client: ApiClient,
    anonymous: ApiClient,
    currency: str,
    lines: list[dict[str, Any]],
    answer: str = "accept",
) -> dict[str, Any]:
    """A quote sent to a contact and answered on its public page (``answer``: accept, decline or none)."""
    if client.tenant_id not in BUYERS:  # one contact and deal a tenant carry its quotes
        contact = client.create("contacts", {"email": f"buyer@{client.tenant_id.lower()}.example"})
        deal = client.create("deals", {"name": "Engines", "contact_ids": [contact["id"]]})
        BUYERS[client.tenant_id] = (contact["id"], deal["id"])
    contact_id, deal_id = BUYERS[client.tenant_id]
    body = {"deal_id": deal_id, "contact_id": contact_id, "currency": currency, "line_items": lines}
    quote = client.create("quotes", {**body, "win_deal_on_accept": False})
    if answer != "none":
        assert client.post(f"/v1/quotes/{quote['id']}/send", {}).status_code == 200
        token = page_token_of(client.tenant_id, quote["id"])
        assert anonymous.post(f"/q/{token}/{answer}").status_code == 200
    return quote


def product_revenue(client: ApiClient, **params: str) -> list[tuple[Any, ...]]:
    answer = client.get("/v1/reports/product-revenue", params=params)
    assert answer.status_code == 200, answer.text
    return sorted(
        (
            r["product_id"],
            r["currency"],
            Decimal(str(r["quantity"])).quantize(Decimal("0.0001")),
            Decimal(str(r["revenue"])).quantize(Decimal("0.01")),
            r["quotes"],
        )
        for r in answer.json()["rows"]
    )


def test_product_revenue_answers_the_accepted_quotes_numbers(
    client: ApiClient, other: ApiClient, anonymous: ApiClient
) -> None:
    """Per product and currency: quantity, net revenue (after discount, before tax) and quotes, of the
    quotes accepted in the period only (not a declined one, not a draft, not a line without a product);
    another tenant's accepted quote is in its own report only."""
    prices = [{"currency": "EUR", "unit_price": "19.99"}, {"currency": "USD", "unit_price": "1250"}]
    engine = client.create("products", {"sku": "ENG", "name": "Engine", "prices": prices, "tax_rate": "0.2"})
    wheel = client.create("products", {"sku": "WHL", "name": "Wheel", "prices": prices[:1]})
    eng, whl = engine["id"], wheel["id"]
    accepted = [
        accepted_quote(
            client,
            anonymous,
            "EUR",
            [
                {"product_id": eng, "quantity": "3", "discount": "0.125"},
                {"product_id": whl, "quantity": "1.5", "unit_price": "0.33"},
                {"product_id": eng, "quantity": "2"},
            ],
        ),
        accepted_quote(
            client,
            anonymous,
            "USD",
            [
                {"product_id": eng, "quantity": "2", "discount": "0.1"},
                {"description": "Installation", "quantity": "1", "unit_price": "99"},
            ],
        ),
        accepted_quote(client, anonymous, "EUR", [{"product_id": eng, "quantity": "7"}]),
    ]
    accepted_quote(client, anonymous, "EUR", [{"product_id": whl, "quantity": "9"}], answer="decline")
    accepted_quote(client, anonymous, "EUR", [{"product_id": whl, "quantity": "11"}], answer="none")
    theirs = other.create("products", {"sku": "ENG", "name": "Engine", "prices": prices})
    accepted_quote(other, anonymous, "EUR", [{"product_id": theirs["id"], "quantity": "5"}])

    cent = Decimal("0.01")
    rows: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [Decimal(0), Decimal(0), set()])
    for quote in accepted:
        for line in quote["line_items"]:
            if not line["product_id"]:
                continue
            amount = (Decimal(line["quantity"]) * Decimal(line["unit_price"])).quantize(cent)
            net = amount - (amount * Decimal(line["discount"])).quantize(cent)  # half-even, as Decimal's
            row = rows[(line["product_id"], quote["currency"])]
            row[0] += Decimal(line["quantity"])
            row[1] += net
            row[2].add(quote["id"])
    want = sorted(
        (product, cur, q.quantize(Decimal("0.0001")), net, len(ids))
        for (product, cur), (q, net, ids) in rows.items()
    )
    # 3 x 19.99 = 59.97 less 7.50 (12.5 %, 7.49625 rounded) ; 0.495 -> 0.50 ; 2 x 19.99 ; 7 x 19.99
    eur = Decimal("52.47") + Decimal("39.98") + Decimal("139.93")
    assert (eng, "EUR", Decimal("12.0000"), eur, 2) in want
    assert (whl, "EUR", Decimal("1.5000"), Decimal("0.50"), 1) in want
    assert len(want) == 3
    assert eventually(lambda: product_revenue(client) == want, timeout=90, every=0.5), (
        product_revenue(client),
        want,
    )
    today = datetime.now(UTC).date()
    assert product_revenue(client, **{"from": today.isoformat(), "to": today.isoformat()}) == want
    assert product_revenue(client, **{"from": (today + timedelta(days=1)).isoformat()}) == []
    assert eventually(lambda: [r[0] for r in product_revenue(other)] == [theirs["id"]], timeout=90, every=0.5)


def test_a_contract_and_a_quote_at_the_calendars_end(client: ApiClient) -> None:
    """Dates up to 9999-12-31 are dates: a contract ending then has no expiry and its last instalment is
    never overdue (the day after does not exist: its timers' sync answered an overflow), its renewal is 409
    naming end_date unless given its dates (it was a 500), and a quote valid until then is sent and does
    not expire."""
    from crm_core.services.contract_timers import sync_timers

    contract = client.create(
        "contracts",
        contract_body(
            start_date="9999-12-01",
            end_date="9999-12-31",
            status="active",
            renewal_reminder_days=30,
            payment_plan=[{"due_date": "9999-12-31", "amount": "1000.00"}],
        ),
    )
    done = sync_timers(client.tenant_id, contract["id"])
    assert done["renewal"] in ("created", "updated"), done  # 30 days before the end: 9999-12-01
    assert done["expiry"] in ("none", "deleted") and done["overdue"] in ("none", "deleted"), done
    renewed = client.post(f"/v1/contracts/{contract['id']}/renew", {})
    assert renewed.status_code == 409, renewed.text
    assert [e["field"] for e in renewed.json()["errors"]] == ["end_date"], renewed.text
    assert client.get(f"/v1/contracts/{contract['id']}").json()["renewed_to"] is None

    deal = client.create("deals", {"name": "Forever"})
    quote = client.create(
        "quotes",
        {
            "deal_id": deal["id"],
            "contact_id": client.create("contacts", {"email": "forever@example.com"})["id"],
            "currency": "EUR",
            "valid_until": "9999-12-31",
            "line_items": [{"description": "Support", "quantity": "1", "unit_price": "10"}],
        },
    )
    sent = client.post(f"/v1/quotes/{quote['id']}/send", {})
    assert sent.status_code == 200 and sent.json()["status"] == "sent", sent.text
