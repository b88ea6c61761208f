"""Batch endpoints (API.md section 2): `POST /v1/{object}/batch/{action}` with `{"inputs": [...]}`."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support.client import ApiClient

NEVER_ISSUED = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def batch(
    client: ApiClient, collection: str, action: str, inputs: list[Any], *, all_or_none: bool | None = None
) -> requests.Response:
    params = {"all_or_none": "true" if all_or_none else "false"} if all_or_none is not None else None
    return client.post(f"/v1/{collection}/batch/{action}", {"inputs": inputs}, params=params)


def results_of(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code in (200, 201, 207), response.text
    body = response.json()
    assert set(body) == {"results"}, body
    results: list[dict[str, Any]] = body["results"]
    return results


def ids(client: ApiClient, collection: str = "contacts", **params: str) -> set[str]:
    return {r["id"] for r in client.all_pages(f"/v1/{collection}", params)}


def fields_of(result: dict[str, Any]) -> set[str]:
    return {e["field"] for e in result["error"].get("errors", [])}


def assert_problem(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    return body


# ------------------------------------------------------------------------------------------------ create


def test_create_returns_results_in_input_order(client: ApiClient) -> None:
    inputs = [
        {"email": "b1@example.com", "first_name": "One"},
        {"properties": {"email": "b2@example.com", "first_name": "Two"}},
        {"email": "b3@example.com", "first_name": "Three", "tags": ["t"]},
    ]
    results = results_of(batch(client, "contacts", "create", inputs))
    assert [r["status"] for r in results] == [201, 201, 201]
    assert [r["record"]["email"] for r in results] == ["b1@example.com", "b2@example.com", "b3@example.com"]
    assert all(r["id"] == r["record"]["id"] for r in results)
    assert len({r["id"] for r in results}) == 3
    assert ids(client) == {r["id"] for r in results}
    for result in results:
        stored = client.get(f"/v1/contacts/{result['id']}").json()
        assert stored == result["record"]
        assert stored["version"] == 1 and stored["owner_id"] == client.user_id
    assert client.get(f"/v1/contacts/{results[2]['id']}").json()["tags"] == ["t"]


def test_create_companies(client: ApiClient) -> None:
    results = results_of(
        batch(
            client,
            "companies",
            "create",
            [{"name": "Alpha"}, {"name": "Beta", "domain": "https://www.Beta.io/"}],
        )
    )
    assert [r["status"] for r in results] == [201, 201]
    assert results[1]["record"]["domain"] == "beta.io"
    assert ids(client, "companies") == {r["id"] for r in results}


def test_mixed_valid_and_invalid_inputs_answer_per_item(client: ApiClient) -> None:
    inputs = [
        {"email": "ok1@example.com"},
        {"email": "not-an-email", "lifecycle_stage": "bogus", "shoe_size": 42},
        {"email": "ok2@example.com"},
        {"id": NEVER_ISSUED, "email": "withid@example.com"},
        {},
        {"email": "ok3@example.com", "version": 3},
        {"properties": {"email": "ok4@example.com", "tenant_id": NEVER_ISSUED}},
    ]
    results = results_of(batch(client, "contacts", "create", inputs))
    assert [r["status"] for r in results] == [201, 422, 201, 422, 422, 422, 422]
    assert fields_of(results[1]) == {"inputs[1].email", "inputs[1].lifecycle_stage", "inputs[1].shoe_size"}
    assert fields_of(results[3]) == {"inputs[3].id"}
    assert all(f.startswith("inputs[4]") for f in fields_of(results[4])) and fields_of(results[4])
    assert fields_of(results[5]) == {"inputs[5].version"}
    assert fields_of(results[6]) == {"inputs[6].tenant_id"}
    for result in results:
        if result["status"] != 201:
            error = result["error"]
            assert {"type", "title", "status", "detail"} <= set(error) and error["status"] == result["status"]
            assert "id" not in result or result["id"] is None
    assert ids(client) == {results[0]["id"], results[2]["id"]}
    emails = {c["email"] for c in client.all_pages("/v1/contacts")}
    assert emails == {"ok1@example.com", "ok2@example.com"}


def test_duplicate_email_in_a_batch_is_409_with_existing_id(client: ApiClient) -> None:
    existing = client.create("contacts", {"email": "there@example.com"})
    inputs = [
        {"email": "dup@example.com", "first_name": "First"},
        {"email": "DUP@example.com", "first_name": "Second"},
        {"email": "There@Example.com"},
    ]
    results = results_of(batch(client, "contacts", "create", inputs))
    assert [r["status"] for r in results] == [201, 409, 409]
    assert results[1]["error"]["existing_id"] == results[0]["id"]
    assert results[2]["error"]["existing_id"] == existing["id"]
    assert fields_of(results[1]) == {"inputs[1].email"}
    assert ids(client) == {existing["id"], results[0]["id"]}
    assert client.get(f"/v1/contacts/{results[0]['id']}").json()["first_name"] == "First"


def test_duplicate_domain_in_a_company_batch_is_409(client: ApiClient) -> None:
    results = results_of(
        batch(
            client,
            "companies",
            "create",
            [{"name": "A", "domain": "dup.io"}, {"name": "B", "domain": "www.DUP.io"}],
        )
    )
    assert [r["status"] for r in results] == [201, 409]
    assert results[1]["error"]["existing_id"] == results[0]["id"]


# ------------------------------------------------------------------------------------------- all_or_none


def test_all_or_none_with_one_invalid_input_creates_nothing(client: ApiClient) -> None:
    inputs = [
        {"email": "a1@example.com"},
        {"email": "a2@example.com"},
        {"email": "broken", "favourite": "x"},
        {"email": "a4@example.com", "phone": "?"},
    ]
    response = batch(client, "contacts", "create", inputs, all_or_none=True)
    body = assert_problem(response, 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"inputs[2].email", "inputs[2].favourite", "inputs[3].phone"}
    assert ids(client) == set()
    # Nothing was reserved either: the addresses are free.
    assert client.post("/v1/contacts", {"email": "a1@example.com"}).status_code == 201


def test_all_or_none_with_a_uniqueness_conflict_is_409_and_applies_nothing(client: ApiClient) -> None:
    existing = client.create("contacts", {"email": "taken@example.com"})
    inputs = [{"email": "new1@example.com"}, {"email": "TAKEN@example.com"}, {"email": "new2@example.com"}]
    response = batch(client, "contacts", "create", inputs, all_or_none=True)
    body = assert_problem(response, 409)
    assert body.get("existing_id") == existing["id"]
    assert any(e["field"] == "inputs[1].email" for e in body.get("errors", []))
    assert ids(client) == {existing["id"]}
    assert client.post("/v1/contacts", {"email": "new1@example.com"}).status_code == 201


def test_all_or_none_with_the_same_email_twice_applies_nothing(client: ApiClient) -> None:
    response = batch(
        client,
        "contacts",
        "create",
        [{"email": "twice@example.com"}, {"email": "Twice@example.com"}],
        all_or_none=True,
    )
    assert response.status_code in (409, 422), response.text
    assert any(e["field"] == "inputs[1].email" for e in response.json().get("errors", []))
    assert ids(client) == set()


def test_all_or_none_with_all_valid_creates_all(client: ApiClient) -> None:
    inputs = [{"email": f"all{n}@example.com", "first_name": f"All{n}"} for n in range(5)]
    results = results_of(batch(client, "contacts", "create", inputs, all_or_none=True))
    assert [r["status"] for r in results] == [201] * 5
    assert [r["record"]["email"] for r in results] == [i["email"] for i in inputs]
    assert ids(client) == {r["id"] for r in results}
    for result in results:
        assert client.get(f"/v1/contacts/{result['id']}").json()["version"] == 1


def test_all_or_none_update_with_one_missing_id_changes_nothing(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "atomic@example.com"})
    response = batch(
        client,
        "contacts",
        "update",
        [{"id": contact["id"], "title": "Changed"}, {"id": NEVER_ISSUED, "title": "Nope"}],
        all_or_none=True,
    )
    assert response.status_code in (404, 422), response.text
    assert client.get(f"/v1/contacts/{contact['id']}").json() == contact


# ------------------------------------------------------------------------------------------ read, update


def test_read_returns_records_in_input_order_and_404_for_unknown(client: ApiClient) -> None:
    made = [client.create("contacts", {"email": f"r{n}@example.com"}) for n in range(3)]
    archived = client.create("contacts", {"email": "archived@example.com"})
    client.delete(f"/v1/contacts/{archived['id']}")
    inputs = [
        {"id": made[2]["id"]},
        {"id": NEVER_ISSUED},
        {"id": made[0]["id"]},
        {"id": archived["id"]},
        {"id": made[1]["id"]},
    ]
    results = results_of(batch(client, "contacts", "read", inputs))
    assert [r["status"] for r in results] == [200, 404, 200, 404, 200]
    assert [r.get("id") for r in results if r["status"] == 200] == [
        made[2]["id"],
        made[0]["id"],
        made[1]["id"],
    ]
    assert results[0]["record"] == made[2] and results[2]["record"] == made[0]
    assert results[1]["error"]["status"] == 404 and "record" not in results[1]


def test_update_changes_the_fields(client: ApiClient) -> None:
    one = client.create("contacts", {"email": "u1@example.com", "title": "Old"})
    two = client.create("contacts", {"email": "u2@example.com", "tags": ["a"]})
    results = results_of(
        batch(
            client,
            "contacts",
            "update",
            [
                {"id": one["id"], "title": "New", "lifecycle_stage": "customer"},
                {"id": two["id"], "properties": {"tags": ["b", "c"], "email": "u2-new@example.com"}},
                {"id": NEVER_ISSUED, "title": "Ghost"},
                {"id": one["id"], "lifecycle_stage": "nonsense"},
                {"title": "No id"},
            ],
        )
    )
    assert [r["status"] for r in results] == [200, 200, 404, 422, 422]
    assert fields_of(results[3]) == {"inputs[3].lifecycle_stage"}
    assert fields_of(results[4]) == {"inputs[4].id"}
    first = client.get(f"/v1/contacts/{one['id']}").json()
    assert first["title"] == "New" and first["lifecycle_stage"] == "customer" and first["version"] == 2
    assert results[0]["record"] == first
    second = client.get(f"/v1/contacts/{two['id']}").json()
    assert second["tags"] == ["b", "c"] and second["email"] == "u2-new@example.com"
    assert client.post("/v1/contacts", {"email": "u2@example.com"}).status_code == 201  # old address freed


def test_update_into_an_existing_email_is_409(client: ApiClient) -> None:
    one = client.create("contacts", {"email": "keep1@example.com"})
    two = client.create("contacts", {"email": "keep2@example.com"})
    results = results_of(
        batch(client, "contacts", "update", [{"id": two["id"], "email": "KEEP1@example.com"}])
    )
    assert results[0]["status"] == 409 and results[0]["error"]["existing_id"] == one["id"]
    assert client.get(f"/v1/contacts/{two['id']}").json() == two


# ------------------------------------------------------------------------------------------------ upsert


def test_upsert_by_email_updates_existing_and_creates_new(client: ApiClient) -> None:
    existing = client.create("contacts", {"email": "Known@Example.com", "first_name": "Known"})
    results = results_of(
        batch(
            client,
            "contacts",
            "upsert",
            [
                {"email": "known@example.com", "title": "Updated"},
                {"email": "fresh@example.com", "first_name": "Fresh"},
                {"properties": {"email": "fresh2@example.com", "title": "Also new"}},
            ],
        )
    )
    assert [r["status"] for r in results] == [200, 201, 201]
    assert results[0]["id"] == existing["id"]
    updated = client.get(f"/v1/contacts/{existing['id']}").json()
    assert updated["title"] == "Updated" and updated["first_name"] == "Known" and updated["version"] == 2
    assert ids(client) == {existing["id"], results[1]["id"], results[2]["id"]}
    assert client.get(f"/v1/contacts/{results[1]['id']}").json()["first_name"] == "Fresh"
    # Upserting the same again changes nothing more and creates nothing.
    again = results_of(
        batch(client, "contacts", "upsert", [{"email": "fresh@example.com", "first_name": "Fresh"}])
    )
    assert again[0]["status"] == 200 and again[0]["id"] == results[1]["id"]
    assert len(ids(client)) == 3


def test_upsert_by_id_and_by_domain(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Upsert Co", "domain": "upsert.example"})
    results = results_of(
        batch(
            client,
            "companies",
            "upsert",
            [
                {"domain": "https://www.UPSERT.example/about", "industry": "Retail"},
                {"id": company["id"], "employees": 12},
                {"name": "Brand New", "domain": "brandnew.example"},
                {"domain": "nameless.example"},
            ],
        )
    )
    assert [r["status"] for r in results] == [200, 200, 201, 422]
    assert results[0]["id"] == results[1]["id"] == company["id"]
    assert fields_of(results[3]) == {"inputs[3].name"}
    stored = client.get(f"/v1/companies/{company['id']}").json()
    assert stored["industry"] == "Retail" and stored["employees"] == 12
    assert ids(client, "companies") == {company["id"], results[2]["id"]}


# ----------------------------------------------------------------------------------------------- archive


def test_archive_archives(client: ApiClient) -> None:
    made = [client.create("contacts", {"email": f"arch{n}@example.com"}) for n in range(3)]
    results = results_of(
        batch(
            client,
            "contacts",
            "archive",
            [{"id": made[0]["id"]}, {"id": made[2]["id"]}, {"id": NEVER_ISSUED}],
        )
    )
    assert [r["status"] for r in results[:2]] == [200, 200]
    assert results[2]["status"] == 404
    assert ids(client) == {made[1]["id"]}
    for record in (made[0], made[2]):
        assert client.get(f"/v1/contacts/{record['id']}").status_code == 404
        archived = client.get(f"/v1/contacts/{record['id']}", params={"archived": "true"}).json()
        assert archived["archived"] is True and archived["archived_at"]
    assert ids(client, archived="true") == {made[0]["id"], made[2]["id"]}
    again = results_of(batch(client, "contacts", "archive", [{"id": made[0]["id"]}]))
    assert again[0]["status"] == 404
    restored = client.post(f"/v1/contacts/{made[0]['id']}/restore")
    assert restored.status_code == 200 and restored.json()["archived"] is False


# --------------------------------------------------------------------------------------- request limits


@pytest.mark.parametrize("action", ["create", "update", "upsert", "read", "archive"])
def test_more_than_100_inputs_is_422(client: ApiClient, action: str) -> None:
    inputs: list[dict[str, Any]] = (
        [{"email": f"many{n}@example.com"} for n in range(101)]
        if action in ("create", "upsert")
        else [{"id": NEVER_ISSUED} for _ in range(101)]
    )
    body = assert_problem(batch(client, "contacts", action, inputs), 422)
    assert any(e["field"].startswith("inputs") for e in body["errors"])
    assert ids(client) == set()


def test_exactly_100_inputs_are_accepted(client: ApiClient) -> None:
    inputs = [{"id": NEVER_ISSUED} for _ in range(100)]
    results = results_of(batch(client, "contacts", "read", inputs))
    assert len(results) == 100 and {r["status"] for r in results} == {404}


@pytest.mark.parametrize("action", ["create", "update", "upsert", "read", "archive"])
def test_empty_inputs_is_422(client: ApiClient, action: str) -> None:
    body = assert_problem(batch(client, "contacts", action, []), 422)
    assert any(e["field"].startswith("inputs") for e in body["errors"])


@pytest.mark.parametrize(
    "body", [{}, {"inputs": "x"}, {"inputs": [{"email": "x@example.com"}], "extra": 1}, {"items": []}]
)
def test_malformed_batch_body_is_422(client: ApiClient, body: dict[str, Any]) -> None:
    assert_problem(client.post("/v1/contacts/batch/create", body), 422)
    assert ids(client) == set()


@pytest.mark.parametrize("action", ["delete", "merge", "CREATE", "restore"])
def test_unknown_action_is_404_or_422(client: ApiClient, action: str) -> None:
    contact = client.create("contacts", {"email": "action@example.com"})
    response = client.post(f"/v1/contacts/batch/{action}", {"inputs": [{"id": contact["id"]}]})
    assert response.status_code in (404, 422), response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert client.get(f"/v1/contacts/{contact['id']}").json() == contact


def test_an_atomic_batch_of_deals_in_one_stage_adds_up_on_the_board(client: ApiClient) -> None:
    """Every deal of the batch adds to the same board total: one transaction may name an item only once,
    so their additions are summed into one update (before: the batch failed)."""
    pipeline = client.get("/v1/pipelines").json()["items"][0]
    inputs = [{"name": f"Board {n}", "amount": "100", "pipeline_id": pipeline["id"]} for n in range(5)]
    response = client.post("/v1/deals/batch/create?all_or_none=true", {"inputs": inputs})
    assert response.status_code == 200, response.text
    board = client.get(f"/v1/pipelines/{pipeline['id']}/board").json()
    first = board["stages"][0]
    assert (first["count"], first["total"]["amount"]) == (5, "500.00")
