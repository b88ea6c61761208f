"""The contracts pages as a rep uses them: from the company's page, a new contract with a two-instalment plan
(the difference to the value shown as it is typed, an instalment before the start refused at its date); on the
contract's page a payment over what is outstanding is refused at its amount, one that fits makes outstanding
fall and pays the first instalment; voiding a payment someone changed meanwhile says so (412), voiding it
again puts its amount back; the company's receivables follow; renewal opens the next term; no serious axe
violation."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_phone import scrolls_sideways
from tests.support.client import ApiClient

Found = dict[str, object]


def new_contract(page: Page, base_url: str, client: ApiClient, company_id: str, found: Found) -> str:
    sign_in(page, base_url, client, f"/companies/{company_id}")
    section = page.get_by_role("region", name="Contracts")
    expect(section.get_by_text("No active contracts with this company.")).to_be_visible()
    section.get_by_role("link", name="New contract").click()

    # The plan's difference is shown as it is typed; a second instalment before the start is refused there.
    form = page.get_by_role("region", name="Contract")
    expect(form.get_by_label("Company")).to_have_value("Engines Ltd")
    form.get_by_label("Deal").select_option(label="Engines renewal")
    form.get_by_label("Value").fill("1000")
    form.get_by_label("Start date").fill("2027-01-01")
    form.get_by_label("End date").fill("2027-12-31")
    form.get_by_role("button", name="Add instalment").click()
    form.get_by_role("button", name="Add instalment").click()
    form.get_by_label("Instalment 1 due date").fill("2027-01-01")
    form.get_by_label("Instalment 1 amount").fill("600")
    form.get_by_label("Instalment 2 due date").fill("2026-06-30")
    form.get_by_label("Instalment 2 amount").fill("300")
    difference = page.get_by_test_id("plan-difference")
    expect(difference).to_have_text("100.00 EUR of the value is not in the plan yet.")
    form.get_by_label("Instalment 2 amount").fill("400.0001")
    expect(difference).to_have_text("The instalments are 0.0001 EUR over the value.")
    form.get_by_label("Instalment 2 amount").fill("400")
    expect(difference).to_have_text("The instalments sum to the value.")
    found["/contracts/new"] = serious_violations(page)
    form.get_by_role("button", name="Create contract").click()
    due = form.get_by_label("Instalment 2 due date")
    expect(due).to_have_attribute("aria-invalid", "true")
    assert client.get("/v1/contracts").json()["items"] == []
    due.fill("2027-07-01")
    form.get_by_role("button", name="Create contract").click()
    expect(page).to_have_url(re.compile(rf"{base_url}/contracts/[0-9A-Z]{{26}}$"))
    contract_id = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_test_id("contract-outstanding")).to_have_text("1000.00 EUR")
    expect(page.get_by_test_id("installment")).to_have_count(2)
    return contract_id


def pay_and_void(page: Page, client: ApiClient, contract_id: str, found: Found) -> None:
    # A payment over what is outstanding is refused at its amount; one that fits pays the oldest first.
    payment_form = page.get_by_role("region", name="Record a payment")
    payment_form.get_by_label("Amount").fill("1000.01")
    payment_form.get_by_role("button", name="Record payment").click()
    expect(payment_form.get_by_label("Amount")).to_have_attribute("aria-invalid", "true")
    payment_form.get_by_label("Amount").fill("700")
    payment_form.get_by_label("Reference").fill("INV-1")
    found["/contracts/{id} (payment)"] = serious_violations(page)
    payment_form.get_by_role("button", name="Record payment").click()
    expect(page.get_by_test_id("contract-outstanding")).to_have_text("300.00 EUR")
    expect(page.get_by_test_id("installment").first).to_contain_text("paid")
    expect(page.get_by_test_id("installment").nth(1)).to_contain_text("100.00 EUR")
    payments = client.get("/v1/payments", params={"contract_id": contract_id}).json()["items"]
    assert [(p["amount"], p["reference"]) for p in payments] == [("700", "INV-1")]

    # Voiding at a version someone else changed meanwhile: nothing voided, said so; again: its amount is back.
    payment_id = payments[0]["id"]
    changed = client.patch(f"/v1/payments/{payment_id}", {"reference": "INV-1b"})
    assert changed.status_code == 200, changed.text
    page.get_by_role("button", name="Void the payment of 700 EUR").click()
    page.get_by_role("button", name="Void 700").click()
    expect(page.get_by_role("alert")).to_contain_text("changed since the page loaded")
    expect(page.get_by_test_id("payment-row")).to_contain_text("INV-1b")
    assert client.get(f"/v1/contracts/{contract_id}").json()["outstanding"] == "300.00"
    page.get_by_role("button", name="Void the payment of 700 EUR").click()
    page.get_by_role("button", name="Void 700").click()
    expect(page.get_by_test_id("contract-outstanding")).to_have_text("1000.00 EUR")
    expect(page.get_by_text("No payments yet.")).to_be_visible()
    payment_form.get_by_label("Amount").fill("250")
    payment_form.get_by_role("button", name="Record payment").click()
    expect(page.get_by_test_id("contract-outstanding")).to_have_text("750.00 EUR")
    found["/contracts/{id}"] = serious_violations(page)


def test_a_contract_from_plan_to_payment(page: Page, base_url: str, client: ApiClient) -> None:
    found: Found = {}
    company = client.create("companies", {"name": "Engines Ltd", "domain": "engines.example"})
    client.create("deals", {"name": "Engines renewal", "currency": "EUR", "company_id": company["id"]})
    contract_id = new_contract(page, base_url, client, company["id"], found)
    pay_and_void(page, client, contract_id, found)

    # The company's page and the list agree with the contract.
    page.goto(f"{base_url}/companies/{company['id']}")
    expect(page.get_by_test_id("receivables-outstanding-EUR")).to_have_text("750.00 EUR")
    found["/companies/{id} (contracts)"] = serious_violations(page)
    page.get_by_role("link", name="The company's contracts").click()
    expect(page.get_by_test_id("contract-row")).to_contain_text("750.00 EUR")
    found["/contracts"] = serious_violations(page)

    # Renewal opens the next term's contract, linked back.
    page.get_by_test_id("contract-row").get_by_role("link").click()
    page.get_by_role("button", name="Renew for another term").click()
    expect(page).not_to_have_url(re.compile(contract_id))
    expect(page.get_by_role("link", name="the previous term's contract")).to_be_visible()
    renewal_id = page.url.rsplit("/", 1)[-1]
    assert client.get(f"/v1/contracts/{contract_id}").json()["renewed_to"] == renewal_id
    # Its status moves as chosen; terminated is final (no moves offered).
    page.get_by_label("Status").select_option("terminated")
    expect(page.get_by_test_id("contract-status")).to_have_text("terminated")
    expect(page.get_by_label("Status")).to_be_disabled()
    assert client.get(f"/v1/contracts/{renewal_id}").json()["status"] == "terminated"
    assert not any(found.values()), {path: v for path, v in found.items() if v}


def test_a_contract_at_phone_width(phone: Page, base_url: str, client: ApiClient) -> None:
    plan = [{"due_date": "2026-01-01", "amount": "600"}, {"due_date": "2099-01-01", "amount": "400.1234"}]
    body = {"value": "1000.1234", "currency": "JPY", "start_date": "2026-01-01", "end_date": "2099-12-31"}
    contract = client.create("contracts", {**body, "payment_plan": plan, "status": "active"})
    client.create("payments", {"contract_id": contract["id"], "amount": "100", "currency": "JPY"})
    sign_in(phone, base_url, client, f"/contracts/{contract['id']}")
    expect(phone.get_by_test_id("payment-row")).to_be_visible()
    expect(phone.get_by_test_id("installment").first).to_contain_text("overdue")
    assert not scrolls_sideways(phone)
    phone.goto(f"{base_url}/contracts")
    expect(phone.get_by_test_id("contract-row")).to_contain_text("900.1234 JPY")
    assert not scrolls_sideways(phone)
