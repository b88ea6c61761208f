"""Another tenant's record is indistinguishable from a missing one (API.md section 2), for contacts and
companies, on every route: it is never seen, never changed, and never betrays that it exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.support.client import ApiClient

NEVER_ISSUED = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
COLLECTIONS = ["contacts", "companies"]

Call = Callable[[ApiClient, str], requests.Response]


def sample(collection: str, n: int = 0) -> dict[str, Any]:
    """The same body in every tenant: same names, same email or domain."""
    if collection == "contacts":
        return {
            "first_name": "Shared",
            "last_name": f"Person{n}",
            "email": f"shared{n}@same.example",
            "phone": f"+1 555 010 {n:04d}",
            "lifecycle_stage": "lead",
            "tags": ["vip"],
        }
    return {
        "name": f"Shared Company {n}",
        "domain": f"shared{n}.example",
        "industry": "Software",
        "tags": ["vip"],
    }


def unique_field(collection: str) -> str:
    return "email" if collection == "contacts" else "domain"


def other_routes(collection: str, own_id: str) -> dict[str, Call]:
    """Every route that takes a record id, as the other tenant calls it with ``record_id``."""
    base = f"/v1/{collection}"
    routes: dict[str, Call] = {
        "GET": lambda c, rid: c.get(f"{base}/{rid}"),
        "GET archived": lambda c, rid: c.get(f"{base}/{rid}", params={"archived": "true"}),
        "PATCH": lambda c, rid: c.patch(f"{base}/{rid}", {"tags": ["stolen"]}),
        "PATCH If-Match": lambda c, rid: c.patch(
            f"{base}/{rid}", {"tags": ["stolen"]}, headers={"If-Match": '"1"'}
        ),
        "DELETE": lambda c, rid: c.delete(f"{base}/{rid}"),
        "DELETE If-Match": lambda c, rid: c.delete(f"{base}/{rid}", headers={"If-Match": '"1"'}),
        "restore": lambda c, rid: c.post(f"{base}/{rid}/restore"),
        "merge as survivor": lambda c, rid: c.post(f"{base}/{rid}/merge", {"duplicate_id": own_id}),
        "timeline": lambda c, rid: c.get(f"{base}/{rid}/timeline"),
    }
    if collection == "companies":
        routes["contacts of company"] = lambda c, rid: c.get(f"{base}/{rid}/contacts")
    return routes


def without_ids(body: dict[str, Any], *ids: str) -> dict[str, Any]:
    text = repr(body)
    for record_id in ids:
        text = text.replace(record_id, "<id>")
    return {"text": text}


def snapshot(client: ApiClient, collection: str, record_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/{collection}/{record_id}", params={"archived": "true"})
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


def timeline(client: ApiClient, collection: str, record_id: str) -> list[dict[str, Any]]:
    return client.all_pages(f"/v1/{collection}/{record_id}/timeline")


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_id_route_is_404_and_changes_nothing(
    client: ApiClient, other: ApiClient, collection: str
) -> None:
    mine = client.create(collection, sample(collection))
    theirs = other.create(collection, sample(collection, 1))
    before, before_timeline = (
        snapshot(client, collection, mine["id"]),
        timeline(client, collection, mine["id"]),
    )
    their_before = snapshot(other, collection, theirs["id"])

    for name, call in other_routes(collection, theirs["id"]).items():
        foreign = call(other, mine["id"])
        assert foreign.status_code == 404, (name, foreign.text)
        assert foreign.headers["Content-Type"].startswith("application/problem+json"), name
        missing = call(other, NEVER_ISSUED)
        assert missing.status_code == 404, (name, missing.text)
        # Identical to a record that never existed, apart from the id itself.
        assert without_ids(foreign.json(), mine["id"]) == without_ids(missing.json(), NEVER_ISSUED), name
        assert set(foreign.headers) - {"X-Request-Id"} == set(missing.headers) - {"X-Request-Id"}, name
        assert "ETag" not in foreign.headers

    assert snapshot(client, collection, mine["id"]) == before
    assert before["archived"] is False and before["version"] == 1
    assert timeline(client, collection, mine["id"]) == before_timeline
    assert snapshot(other, collection, theirs["id"]) == their_before


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_foreign_record_as_duplicate_id_changes_nothing(
    client: ApiClient, other: ApiClient, collection: str
) -> None:
    mine = client.create(collection, sample(collection))
    theirs = other.create(collection, sample(collection, 1))
    before, their_before = snapshot(client, collection, mine["id"]), snapshot(other, collection, theirs["id"])

    foreign = other.post(f"/v1/{collection}/{theirs['id']}/merge", {"duplicate_id": mine["id"]})
    missing = other.post(f"/v1/{collection}/{theirs['id']}/merge", {"duplicate_id": NEVER_ISSUED})
    assert foreign.status_code in (404, 422), foreign.text
    assert foreign.status_code == missing.status_code
    assert without_ids(foreign.json(), mine["id"]) == without_ids(missing.json(), NEVER_ISSUED)

    assert snapshot(client, collection, mine["id"]) == before
    assert snapshot(other, collection, theirs["id"]) == their_before
    assert client.get(f"/v1/{collection}/{mine['id']}").status_code == 200  # still active


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_archived_foreign_record_cannot_be_restored_or_seen(
    client: ApiClient, other: ApiClient, collection: str
) -> None:
    mine = client.create(collection, sample(collection))
    assert client.delete(f"/v1/{collection}/{mine['id']}").status_code == 204
    before = snapshot(client, collection, mine["id"])
    assert other.post(f"/v1/{collection}/{mine['id']}/restore").status_code == 404
    assert other.get(f"/v1/{collection}/{mine['id']}", params={"archived": "true"}).status_code == 404
    archived_ids = [r["id"] for r in other.all_pages(f"/v1/{collection}", {"archived": "true"})]
    assert mine["id"] not in archived_ids
    assert snapshot(client, collection, mine["id"]) == before


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_lists_search_and_filters_show_only_own_records(
    client: ApiClient, other: ApiClient, collection: str
) -> None:
    mine = {client.create(collection, sample(collection, n))["id"] for n in range(3)}
    their_records = [other.create(collection, sample(collection, n)) for n in range(2)]
    theirs = {r["id"] for r in their_records}
    base = f"/v1/{collection}"

    def ids(who: ApiClient, params: dict[str, Any]) -> set[str]:
        return {r["id"] for r in who.all_pages(base, params)}

    assert ids(other, {}) == theirs
    assert ids(client, {}) == mine
    assert ids(other, {"limit": 1}) == theirs
    assert ids(other, {"q": "shared"}) == theirs
    assert ids(client, {"q": "shared"}) == mine
    field = unique_field(collection)
    assert ids(other, {"q": sample(collection, 2)[field]}) == set()  # only the first tenant has #2
    assert ids(other, {"q": sample(collection, 0)[field]}) == {their_records[0]["id"]}
    assert ids(client, {"q": sample(collection, 2)[field]}) != set()
    assert ids(other, {"tag": "vip"}) == theirs
    assert ids(other, {"owner_id": client.user_id}) == set()
    assert ids(other, {"owner_id": other.user_id}) == theirs
    if collection == "contacts":
        assert ids(other, {"q": "+1 555 010 0002"}) == set()
        assert ids(other, {"lifecycle_stage": "lead"}) == theirs
    else:
        assert ids(other, {"industry": "Software"}) == theirs
    since = "2000-01-01T00:00:00Z"
    assert ids(other, {"updated_since": since}) == theirs


def test_contact_filter_by_foreign_company_is_like_a_missing_one(client: ApiClient, other: ApiClient) -> None:
    company = client.create("companies", sample("companies"))
    client.create("contacts", {**sample("contacts"), "company_id": company["id"]})
    foreign = other.get("/v1/contacts", params={"company_id": company["id"]})
    missing = other.get("/v1/contacts", params={"company_id": NEVER_ISSUED})
    assert foreign.status_code == missing.status_code
    if foreign.status_code == 200:
        assert foreign.json() == missing.json() == {"items": [], "next_cursor": None, "total": None}
    # And a contact in the other tenant cannot be linked to the first tenant's company.
    linked = other.post("/v1/contacts", {"email": "link@other.example", "company_id": company["id"]})
    assert linked.status_code == 422, linked.text
    assert [e["field"] for e in linked.json()["errors"]] == ["company_id"]
    assert other.all_pages("/v1/contacts") == []


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_duplicates_show_only_own_pairs(client: ApiClient, other: ApiClient, collection: str) -> None:
    def twin(n: int) -> dict[str, Any]:
        if collection == "contacts":
            return {"first_name": "Twin", "last_name": "Same", "email": f"twin{n}@same.example"}
        return {"name": "Twin Same Ltd", "domain": f"twin{n}.example"}

    mine = {client.create(collection, twin(n))["id"] for n in range(2)}
    # The other tenant has one record with the same name: no pair with the first tenant's.
    lone = other.create(collection, twin(0))
    assert other.get(f"/v1/{collection}/duplicates").json()["items"] == []
    theirs = {lone["id"], other.create(collection, twin(1))["id"]}
    their_pairs = other.get(f"/v1/{collection}/duplicates").json()["items"]
    assert [set(p["ids"]) for p in their_pairs] == [theirs]
    my_pairs = client.get(f"/v1/{collection}/duplicates").json()["items"]
    assert [set(p["ids"]) for p in my_pairs] == [mine]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_batch_read_update_archive_are_404_per_foreign_item(
    client: ApiClient, other: ApiClient, collection: str
) -> None:
    mine = [client.create(collection, sample(collection, n)) for n in range(2)]
    theirs = other.create(collection, sample(collection, 5))
    before = [snapshot(client, collection, r["id"]) for r in mine]
    base = f"/v1/{collection}/batch"

    read = other.post(
        f"{base}/read", {"inputs": [{"id": mine[0]["id"]}, {"id": theirs["id"]}, {"id": mine[1]["id"]}]}
    )
    assert read.status_code in (200, 207), read.text
    results = read.json()["results"]
    assert [r["status"] for r in results] == [404, 200, 404]
    assert results[1]["id"] == theirs["id"]
    assert "record" not in results[0] and "record" not in results[2]
    missing = other.post(f"{base}/read", {"inputs": [{"id": NEVER_ISSUED}]}).json()["results"][0]
    assert without_ids(results[0]["error"], mine[0]["id"]) == without_ids(missing["error"], NEVER_ISSUED)

    for action, extra in (
        ("update", {"tags": ["stolen"]}),
        ("upsert", {"tags": ["stolen"]}),
        ("archive", {}),
    ):
        for all_or_none in ("false", "true"):
            response = other.post(
                f"{base}/{action}",
                {"inputs": [{"id": r["id"], **extra} for r in mine]},
                params={"all_or_none": all_or_none},
            )
            if all_or_none == "true":
                assert response.status_code in (404, 422), (action, response.text)
            else:
                assert response.status_code in (200, 207), (action, response.text)
                assert [r["status"] for r in response.json()["results"]] == [404, 404], (
                    action,
                    response.text,
                )

    assert [snapshot(client, collection, r["id"]) for r in mine] == before
    assert {r["id"] for r in client.all_pages(f"/v1/{collection}")} == {r["id"] for r in mine}


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_same_unique_value_in_another_tenant_is_created_not_409(
    client: ApiClient, other: ApiClient, collection: str
) -> None:
    mine = client.create(collection, sample(collection))
    field = unique_field(collection)
    theirs = other.post(f"/v1/{collection}", sample(collection))
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != mine["id"]
    assert "existing_id" not in theirs.json()
    # Upsert by the unique value creates in the caller's tenant, never updates the first tenant's.
    upsert = other.post(
        f"/v1/{collection}/batch/upsert",
        {"inputs": [{field: sample(collection, 0)[field], "tags": ["upserted"]}, {**sample(collection, 7)}]},
    )
    assert upsert.status_code in (200, 207), upsert.text
    results = upsert.json()["results"]
    assert results[0]["status"] == 200 and results[0]["id"] == theirs.json()["id"]
    assert results[1]["status"] == 201
    assert snapshot(client, collection, mine["id"]) == mine
    # A change of the unique value to one the first tenant holds is no conflict either.
    changed = other.patch(f"/v1/{collection}/{results[1]['id']}", {field: sample(collection, 3)[field]})
    assert changed.status_code == 200, changed.text
    client.create(collection, sample(collection, 3))
    # Batch create in the other tenant is no conflict with the first tenant's values either.
    created = other.post(f"/v1/{collection}/batch/create", {"inputs": [sample(collection, 4)]})
    client_side = client.post(f"/v1/{collection}/batch/create", {"inputs": [sample(collection, 4)]})
    assert created.json()["results"][0]["status"] == 201
    assert client_side.json()["results"][0]["status"] == 201


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_foreign_404_body_is_identical_to_a_missing_ones(
    client: ApiClient, other: ApiClient, collection: str
) -> None:
    mine = client.create(collection, sample(collection))
    foreign = other.get(f"/v1/{collection}/{mine['id']}")
    missing = other.get(f"/v1/{collection}/{NEVER_ISSUED}")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == {
        **missing.json(),
        "detail": missing.json()["detail"].replace(NEVER_ISSUED, mine["id"]),
    }
    assert foreign.headers["Content-Type"] == missing.headers["Content-Type"]
    assert mine["id"] not in other.get(f"/v1/{collection}/{NEVER_ISSUED}").text
