"""Lists as an integrator walks them: every page full unless the list is exhausted, the last page's
cursor null (never a cursor to nothing), filters on text without regard to case, and a query parameter
an operation does not take refused by name (checked over every operation of the OpenAPI document)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.support.api_document import NEVER_ISSUED, operations
from tests.support.client import ApiClient


def walk(client: ApiClient, path: str, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Every page of a list, as its items, following next_cursor to its end."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        response = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the list does not end"


def assert_full_pages(pages: list[list[dict[str, Any]]], limit: int, total: int) -> None:
    assert [len(page) for page in pages[:-1]] == [limit] * (len(pages) - 1), [len(p) for p in pages]
    assert 0 < len(pages[-1]) <= limit or (total == 0 and pages == [[]])
    ids = [item["id"] for page in pages for item in page]
    assert len(ids) == len(set(ids)) == total


def test_a_sparse_filter_gives_full_pages_and_no_cursor_to_nothing(client: ApiClient) -> None:
    """Before: due_before over mostly undated activities walked 34 empty pages, each with a cursor."""
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    batch = [{"type": "note", "subject": f"Undated {n}"} for n in range(60)]
    batch[7] = {"type": "task", "subject": "Due a", "due_at": soon}
    batch[31] = {"type": "task", "subject": "Due b", "due_at": soon}
    batch[44] = {"type": "task", "subject": "Due c", "due_at": soon}
    batch[58] = {"type": "task", "subject": "Due d", "due_at": soon}
    response = client.post("/v1/activities/batch/create", {"inputs": batch})
    assert response.status_code == 200, response.text
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    pages = walk(client, "/v1/activities", {"due_before": later, "limit": 3})
    assert_full_pages(pages, 3, 4)
    assert len(pages) == 2


def test_a_list_exactly_one_page_long_has_no_cursor(client: ApiClient) -> None:
    for n in range(4):
        client.create("companies", {"name": f"Exact {n}"})
    response = client.get("/v1/companies", params={"limit": 4})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 4
    assert response.json()["next_cursor"] is None


def test_type_ahead_with_a_filter_is_one_page_when_one_matches(client: ApiClient) -> None:
    """Before: contacts?tag=vip&q=m answered 1 item and a cursor to nothing."""
    for n in range(30):
        client.create("contacts", {"first_name": f"Mia{n}", "email": f"mia{n}@pages.example"})
    client.create("contacts", {"first_name": "Mona", "email": "mona@pages.example", "tags": ["vip"]})
    pages = walk(client, "/v1/contacts", {"tag": "vip", "q": "m", "limit": 5})
    assert [[c["first_name"] for c in page] for page in pages] == [["Mona"]]
    pages = walk(client, "/v1/contacts", {"q": "mia", "limit": 7})
    assert_full_pages(pages, 7, 30)


def test_text_filters_ignore_case(client: ApiClient) -> None:
    owner = client.user_id
    for name, industry in (("Upper", "Software"), ("Lower", "software"), ("Other", "Retail")):
        client.create("companies", {"name": name, "industry": industry, "owner_id": owner})
    for params in ({"industry": "SOFTWARE"}, {"industry": "software", "owner_id": owner}):
        names = sorted(c["name"] for page in walk(client, "/v1/companies", params) for c in page)
        assert names == ["Lower", "Upper"], params


def test_a_target_for_no_event_type_is_refused(client: ApiClient) -> None:
    body = {"type": "webhook", "url": "http://127.0.0.1:9/x", "secret": "s" * 20}
    typo = client.post("/v1/event-targets", {**body, "event_types": ["contact.create"]})
    assert typo.status_code == 422
    assert [e["field"] for e in typo.json()["errors"]] == ["event_types[0]"]
    assert "contact.create" in typo.json()["errors"][0]["message"]
    # planned types (docs/events.md) may be subscribed to before anything emits them
    for fine in (["contact.created"], ["deal.*"], ["*"], ["user.created"]):
        assert client.post("/v1/event-targets", {**body, "event_types": fine}).status_code == 201, fine
    assert client.post("/v1/event-targets", {**body, "event_types": ["invoice.*"]}).status_code == 422


@pytest.mark.parametrize("op", [op for op in operations() if op.method == "GET"], ids=str)
def test_an_unknown_query_parameter_is_refused_by_name(client: ApiClient, op: Any) -> None:
    """Before: ?sort=... and ?format=csv were silently ignored."""
    path = op.path
    # a well-formed value of each path parameter: an id, a batch action, a property's object and name
    values = {"action": "create", "object": "contacts", "name": "never_defined"}
    for name in op.path_parameters:
        path = path.replace(f"{{{name}}}", values.get(name, NEVER_ISSUED))
    response: requests.Response = client.get(path, params={"frmat": "csv"})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["frmat"]


def test_sorting_by_each_field_a_list_offers(client: ApiClient) -> None:
    pipeline = client.get("/v1/pipelines").json()["items"][0]["id"]
    deals = [
        ("Bravo", "300.50", "2030-03-01"),
        ("alpha", "1200", "2030-01-15"),
        ("Charlie", "99.99", None),
        ("Échelle", "5000", "2030-02-01"),
    ]
    for name, amount, close in deals:
        body = {"name": name, "amount": amount, "pipeline_id": pipeline}
        client.create("deals", {**body, **({"close_date": close} if close else {})})

    def names(sort: str, **params: Any) -> list[str]:
        return [
            d["name"]
            for page in walk(client, "/v1/deals", {"sort": sort, "limit": 3, **params})
            for d in page
        ]

    assert names("name") == ["alpha", "Bravo", "Charlie", "Échelle"]  # without regard to case or accents
    assert names("-name") == ["Échelle", "Charlie", "Bravo", "alpha"]
    assert names("amount") == ["Charlie", "Bravo", "alpha", "Échelle"]  # as numbers, not as text
    assert names("-amount") == ["Échelle", "alpha", "Bravo", "Charlie"]
    assert names("close_date") == ["alpha", "Échelle", "Bravo", "Charlie"]  # none last
    assert names("created_at") == ["Bravo", "alpha", "Charlie", "Échelle"]
    assert names("-created_at") == ["Échelle", "Charlie", "alpha", "Bravo"]
    assert names("close_date", close_before="2030-02-15") == ["alpha", "Échelle"]
    client.patch(
        f"/v1/deals/{client.get('/v1/deals', params={'q': 'bravo'}).json()['items'][0]['id']}",
        {"amount": "1"},
    )
    assert names("-updated_at")[0] == "Bravo"

    refused = client.get("/v1/deals", params={"sort": "stage"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "sort"
    assert "close_date" in refused.json()["errors"][0]["message"]
    assert client.get("/v1/contacts", params={"sort": "name", "q": "x"}).status_code == 422


def test_totals_follow_creates_archives_and_restores(client: ApiClient) -> None:
    def total(**params: Any) -> Any:
        response = client.get("/v1/companies", params={"limit": 1, **params})
        assert response.status_code == 200
        return response.json()["total"]

    assert total() == 0
    made = client.post("/v1/companies/batch/create", {"inputs": [{"name": f"T{n}"} for n in range(12)]})
    assert made.status_code == 200
    atomic = client.post(
        "/v1/companies/batch/create?all_or_none=true", {"inputs": [{"name": f"A{n}"} for n in range(9)]}
    )
    assert atomic.status_code == 200, atomic.text
    ids = [r["id"] for r in made.json()["results"]]
    assert total() == 21
    assert client.delete(f"/v1/companies/{ids[0]}").status_code == 204
    assert client.delete(f"/v1/companies/{ids[1]}").status_code == 204
    assert (total(), total(archived="true")) == (19, 2)
    assert client.post(f"/v1/companies/{ids[0]}/restore").status_code == 200
    assert (total(), total(archived="true")) == (20, 1)
    assert total(q="t") is None  # a filtered list has no total
    assert total(industry="x") is None


def test_expand_reads_related_records_inline(client: ApiClient, other: ApiClient) -> None:
    company = client.create("companies", {"name": "Inline Ltd"})
    ada = client.create("contacts", {"email": "ada@inline.example", "company_id": company["id"]})
    bob = client.create("contacts", {"email": "bob@inline.example"})
    deal = client.create(
        "deals", {"name": "Inline", "company_id": company["id"], "contact_ids": [ada["id"], bob["id"]]}
    )
    contacts = client.get("/v1/contacts", params={"expand": "company", "q": "ada@inline"}).json()["items"]
    assert contacts[0]["company"]["name"] == "Inline Ltd"
    listed = client.get("/v1/deals", params={"expand": "company,contacts", "q": "inline"}).json()["items"]
    assert listed[0]["company"]["id"] == company["id"]
    assert sorted(c["email"] for c in listed[0]["contacts"]) == ["ada@inline.example", "bob@inline.example"]
    one = client.get(f"/v1/deals/{deal['id']}", params={"expand": "contacts"}).json()
    assert len(one["contacts"]) == 2 and "company" not in one
    assert "company" not in client.get(f"/v1/contacts/{ada['id']}").json()
    refused = client.get("/v1/contacts", params={"expand": "deals"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "expand"
    # Another tenant's ids in a record cannot be stored, and expanding never reaches across tenants.
    foreign = other.get(f"/v1/deals/{deal['id']}", params={"expand": "contacts"})
    assert foreign.status_code == 404


def names_listed(client: ApiClient, path: str, params: dict[str, Any], field: str = "name") -> list[str]:
    return sorted(str(item[field]) for page in walk(client, path, {**params, "limit": 2}) for item in page)


def test_a_filter_answers_the_same_whichever_plan_serves_it(client: ApiClient) -> None:
    """A list is read through side entries, an index with a filter expression, or type-ahead entries
    matched in memory, depending on its other parameters (q, sort, another filter): the filter means the
    same on each. Tags without regard to case; a list field (a deal's contact_ids) by membership; a
    field's absence (an open activity) as the API shows it."""
    owner = client.user_id
    for name, tags in (("Plan Upper", ["VIP"]), ("Plan Lower", ["vip"]), ("Plan Mixed", ["Vip", "x"])):
        client.create("contacts", {"first_name": name, "tags": tags, "owner_id": owner})
    client.create("contacts", {"first_name": "Plan Other", "tags": ["partner"], "owner_id": owner})
    tagged = ["Plan Lower", "Plan Mixed", "Plan Upper"]
    for params in ({"tag": "VIP"}, {"tag": "vip", "q": "plan"}, {"tag": "VIP", "q": "Plan"}):
        assert names_listed(client, "/v1/contacts", params, "first_name") == tagged, params

    ada = client.create("contacts", {"first_name": "Ada"})["id"]
    bob = client.create("contacts", {"first_name": "Bob"})["id"]
    client.create("deals", {"name": "Plan both", "contact_ids": [bob, ada], "owner_id": owner})
    client.create("deals", {"name": "Plan ada", "contact_ids": [ada], "owner_id": owner})
    client.create("deals", {"name": "Plan bob", "contact_ids": [bob], "owner_id": owner})
    for params in (
        {"contact_id": ada},
        {"contact_id": ada, "q": "plan"},
        {"contact_id": ada, "owner_id": owner, "status": "open"},
    ):
        assert names_listed(client, "/v1/deals", params) == ["Plan ada", "Plan both"], params

    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for subject in ("Plan open", "Plan done"):
        client.create("activities", {"type": "task", "subject": subject, "due_at": soon, "owner_id": owner})
    done = client.get("/v1/activities", params={"q": "plan done"}).json()["items"][0]["id"]
    assert client.post(f"/v1/activities/{done}/complete").status_code == 200
    client.create("activities", {"type": "note", "subject": "Plan undated", "owner_id": owner})
    for params in (
        {"open": "true"},
        {"open": "true", "owner_id": owner},
        {"open": "true", "sort": "-due_at"},
        {"open": "true", "q": "plan"},
    ):
        assert names_listed(client, "/v1/activities", params, "subject") == ["Plan open", "Plan undated"], (
            params
        )
    for params in ({"open": "false"}, {"open": "false", "type": "task"}, {"open": "false", "sort": "due_at"}):
        assert names_listed(client, "/v1/activities", params, "subject") == ["Plan done"], params
