"""Usage metering over HTTP on the local runtime (issue 16 item 4, docs/decisions/0026): each tenant's API
calls, DynamoDB units and events are counted from the requests' usage lines, which ``crm dev`` writes to the
analytics bucket in batches; each tenant sees exactly its own; /v1/usage and the ``usage`` report agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crm_core.auth import Role

from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.waiting import eventually


class Counted:
    """A tenant's client that counts the requests it sends (each one is an API call of the tenant)."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.sent = 0

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.sent += 1
        return self.client.request(method, path, **kwargs)

    def usage(self, **params: str) -> dict[str, Any]:
        answer = self.request("GET", "/v1/usage", params=params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def totals(body: dict[str, Any]) -> dict[str, float]:
    fields = ("api_calls", "read_units", "write_units", "events", "emails", "storage_bytes")
    return {name: sum(day[name] for day in body["items"]) for name in fields}


def settled(tenant: Counted, first: str, last: str) -> dict[str, Any]:
    """The tenant's usage once every request it sent before asking is counted (the asking request's own
    line is written after it answers, so it is never in its own answer)."""

    def counted() -> dict[str, Any] | None:
        before = tenant.sent
        body = tenant.usage(**{"from": first, "to": last})
        return body if totals(body)["api_calls"] == before else None

    body = eventually(counted, timeout=30, every=0.5)
    assert body, "every request the tenant made is counted"
    return body


def test_each_tenant_sees_exactly_its_own_use(client: ApiClient, other: ApiClient) -> None:
    today = datetime.now(UTC).date()
    first, last = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    a, b = Counted(client), Counted(other)
    contacts_a, contacts_b, reads_b = 4, 1, 7
    for n in range(contacts_a):
        assert a.request("POST", "/v1/contacts", json_body={"first_name": f"A{n}"}).status_code == 201
    assert a.request("GET", "/v1/contacts").status_code == 200
    assert b.request("POST", "/v1/contacts", json_body={"first_name": "B"}).status_code == 201
    for _ in range(reads_b):
        assert b.request("GET", "/v1/contacts").status_code == 200
    # A bad request is a call too (it is metered with its status).
    assert b.request("GET", "/v1/contacts", params={"nope": "1"}).status_code == 422

    usage_a, usage_b = settled(a, first, last), settled(b, first, last)
    ta, tb = totals(usage_a), totals(usage_b)
    assert ta["api_calls"] == a.sent - 1 and tb["api_calls"] == b.sent - 1  # all but the last asking
    assert ta["read_units"] > 0 and tb["read_units"] > 0
    assert ta["write_units"] > tb["write_units"] > 0  # A wrote four contacts, B one
    assert ta["emails"] == tb["emails"] == 0
    assert [d["date"] for d in usage_a["items"]] == [
        (today + timedelta(days=n)).isoformat() for n in range(-1, 2)
    ]
    assert usage_a["from"] == first and usage_a["to"] == last and usage_a["data_as_of"]

    # Events: both tenants were created alike (the same events each); then A made 4 contacts, B one.
    def events_apart() -> bool:
        ea = totals(a.usage(**{"from": first, "to": last}))["events"]
        eb = totals(b.usage(**{"from": first, "to": last}))["events"]
        return ea - eb == contacts_a - contacts_b and eb >= contacts_b

    assert eventually(events_apart, timeout=30, every=0.5), "each contact's event is counted for its tenant"

    # The usage report answers the same rows (its days with use) from the same SQL.
    def report_settled() -> list[dict[str, Any]] | None:
        before = a.sent
        report = a.request("GET", "/v1/reports/usage", params={"from": first, "to": last})
        assert report.status_code == 200, report.text
        rows: list[dict[str, Any]] = report.json()["rows"]
        return rows if sum(r["api_calls"] for r in rows) == before else None

    rows = eventually(report_settled, timeout=30, every=0.5)
    assert rows and all(set(r) == {"date", *totals(usage_a)} for r in rows)
    days = {d["date"]: d for d in settled(a, first, last)["items"]}
    for row in rows:  # the same day's numbers but for the two requests between them
        assert days[row["date"]]["events"] == row["events"] and row["read_units"] > 0

    # Bad dates and ranges are 422 naming the field; nothing else is metered but the call.
    for params, field in (
        ({"from": "2026-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2026-01-01", "to": "2026-12-31"}, "to"),
    ):
        refused = a.request("GET", "/v1/usage", params=params)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]

    # The tenant's bill is an admin's: a manager is refused, and its report list has no usage report.
    manager = user_client(client, Role.MANAGER)
    assert manager.get("/v1/usage").status_code == 403
    assert manager.get("/v1/reports/usage").status_code == 403
    listed = {r["name"] for r in manager.get("/v1/reports").json()["items"]}
    assert "usage" not in listed and "pipeline" in listed
    assert "usage" in {r["name"] for r in client.get("/v1/reports").json()["items"]}


def test_the_daily_job_compacts_and_measures_storage(client: ApiClient) -> None:
    """The compaction job (functions/analytics_compactor): a bounded run resumes after the tenant it ended
    with, and each tenant's storage is measured as a usage line: its records (from its analytics files)
    times the bytes a record keeps in the table, plus its files' bytes."""
    from crm_core import usage
    from crm_core.reports import store
    from crm_core.services import analytics_export

    for name in ("Ada", "Grace"):
        client.create("contacts", {"first_name": name})
    client.create("deals", {"name": "Engine", "amount": "100.00"})
    tenant = client.tenant_id
    want = {"contacts": 2, "companies": 0, "deals": 1, "activities": 0, "tickets": 0}
    measured = eventually(lambda: (m := analytics_export.measure_storage(tenant))["records"] == want and m)
    assert measured, "the records reached the analytics files"
    assert measured["table_bytes"] == 2 * usage.ITEM_BYTES["contacts"] + usage.ITEM_BYTES["deals"]
    assert measured["file_bytes"] > 0

    # A run of one tenant, starting just before this one (ids sort as the bucket's keys do).
    before = tenant[:-1] + chr(ord(tenant[-1]) - 1)
    done, more = analytics_export.compact_tenants(before, limit=1, today="9999-12-31")
    assert done == [tenant] and more in (tenant, None)
    if more:  # the next run starts after it
        assert next(store.tenants(after=more), None) != tenant
    files = [f for f in store.tenant_files(tenant) if f.object != "usage"]  # usage lines keep landing
    assert len(files) == len({(f.object, f.date) for f in files}), "one file per object and day"

    last = analytics_export.measure_storage(tenant)  # the day's last measure is the day's storage
    total = last["table_bytes"] + last["file_bytes"]

    def measured_today() -> bool:
        days = client.get("/v1/usage").json()["items"]
        return bool(days[-1]["storage_bytes"] == total)

    assert eventually(measured_today, timeout=20), client.get("/v1/usage").json()["items"][-1]


def test_a_public_page_is_metered_for_the_tenant_its_token_names(client: ApiClient, other: ApiClient) -> None:
    """A quote's public page, opened by the customer with no credential, is a call of the quote's tenant
    with the units it read; a forged token is nobody's."""
    import requests
    from crm_core.services.quote_mail import page_token

    today = datetime.now(UTC).date().isoformat()
    tenant, bystander = Counted(client), Counted(other)
    product = client.create(
        "products", {"sku": "USE-1", "name": "Use", "prices": [{"currency": "EUR", "unit_price": "5"}]}
    )
    deal = client.create("deals", {"name": "Metered"})
    contact = client.create("contacts", {"email": "buyer@metered.example"})
    quote = client.create(
        "quotes",
        {
            "deal_id": deal["id"],
            "contact_id": contact["id"],
            "currency": "EUR",
            "line_items": [{"product_id": product["id"], "quantity": "1"}],
        },
    )
    assert client.post(f"/v1/quotes/{quote['id']}/send", {}).status_code == 200
    tenant.sent += 5  # the five requests above, sent past the counter
    before = totals(settled(tenant, today, today))
    page = f"{client.base_url}/q/{page_token(client.tenant_id, quote['id'])}"
    for _ in range(2):
        assert requests.get(page, timeout=30).status_code == 200
    assert requests.get(page[:-3] + "xyz", timeout=30).status_code == 404  # forged: nobody's
    tenant.sent += 2
    # Settled: every call counted is one the tenant made or a page of its own (not the forged one).
    after = totals(settled(tenant, today, today))
    assert after["read_units"] > before["read_units"]
    assert totals(settled(bystander, today, today))["api_calls"] == bystander.sent - 1
