"""Contacts over HTTP, as API.md describes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.support.client import ApiClient


def test_create_read_update_with_etag(client: ApiClient) -> None:
    created = client.create(
        "contacts", {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com"}
    )
    assert created["version"] == 1
    assert created["email"] == "Ada@Example.com"
    assert created["lifecycle_stage"] is None and created["tags"] == []

    read = client.get(f"/v1/contacts/{created['id']}")
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert read.json() == created

    changed = client.patch(
        f"/v1/contacts/{created['id']}", {"title": "Countess"}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Countess"
    assert changed.json()["version"] == 2
    assert changed.headers["ETag"] == '"2"'


def test_stale_if_match_is_412_and_changes_nothing(client: ApiClient) -> None:
    created = client.create("contacts", {"email": "stale@example.com"})
    client.patch(f"/v1/contacts/{created['id']}", {"title": "One"})
    stale = client.patch(f"/v1/contacts/{created['id']}", {"title": "Two"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["Content-Type"].startswith("application/problem+json")
    current = client.get(f"/v1/contacts/{created['id']}").json()
    assert current["title"] == "One" and current["version"] == 2
    stale_delete = client.delete(f"/v1/contacts/{created['id']}", headers={"If-Match": '"1"'})
    assert stale_delete.status_code == 412
    assert client.get(f"/v1/contacts/{created['id']}").status_code == 200


def test_email_is_unique_per_tenant_case_insensitive(client: ApiClient, other: ApiClient) -> None:
    first = client.create("contacts", {"email": "grace@navy.mil"})
    again = client.post("/v1/contacts", {"email": "GRACE@navy.mil", "first_name": "Grace"})
    assert again.status_code == 409
    problem = again.json()
    assert problem["existing_id"] == first["id"]
    assert problem["errors"][0]["field"] == "email"
    # Another tenant may have the same address.
    assert other.post("/v1/contacts", {"email": "grace@navy.mil"}).status_code == 201


def test_changing_email_frees_the_old_one(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "old@example.com"})
    assert client.patch(f"/v1/contacts/{contact['id']}", {"email": "new@example.com"}).status_code == 200
    assert client.post("/v1/contacts", {"email": "old@example.com"}).status_code == 201
    assert client.post("/v1/contacts", {"email": "new@example.com"}).json()["existing_id"] == contact["id"]


def test_archive_restore(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "gone@example.com", "first_name": "Gone"})
    assert client.delete(f"/v1/contacts/{contact['id']}").status_code == 204
    assert client.get(f"/v1/contacts/{contact['id']}").status_code == 404
    archived = client.get(f"/v1/contacts/{contact['id']}", params={"archived": "true"})
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert contact["id"] not in [c["id"] for c in client.all_pages("/v1/contacts")]
    assert contact["id"] in [c["id"] for c in client.all_pages("/v1/contacts", {"archived": "true"})]
    assert client.get("/v1/contacts", params={"q": "gone"}).json()["items"] == []

    restored = client.post(f"/v1/contacts/{contact['id']}/restore")
    assert restored.status_code == 200 and restored.json()["archived"] is False
    assert [c["id"] for c in client.get("/v1/contacts", params={"q": "gone"}).json()["items"]] == [
        contact["id"]
    ]


def test_paging_visits_every_contact_once(client: ApiClient) -> None:
    ids = {client.create("contacts", {"email": f"p{n}@example.com"})["id"] for n in range(7)}
    first = client.get("/v1/contacts", params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    seen = [c["id"] for c in client.all_pages("/v1/contacts", {"limit": 3})]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == ids


def test_type_ahead_over_name_email_phone_and_company(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Analytical Engines Ltd", "domain": "engines.example"})
    ada = client.create(
        "contacts",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@engines.example",
            "phone": "+44 20 7946 0018",
            "company_id": company["id"],
        },
    )
    client.create("contacts", {"first_name": "Charles", "last_name": "Babbage", "email": "cb@example.com"})

    def found(q: str) -> list[str]:
        response = client.get("/v1/contacts", params={"q": q})
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert found("lov") == [ada["id"]]
    assert found("ADA LOV") == [ada["id"]]
    assert found("ada@eng") == [ada["id"]]
    assert found("442079") == [ada["id"]]
    assert found("analytical") == [ada["id"]]
    assert found("zzz") == []


def test_filters(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Filters Inc"})
    lead = client.create(
        "contacts",
        {"email": "lead@f.example", "lifecycle_stage": "lead", "tags": ["Hot"], "company_id": company["id"]},
    )
    customer = client.create("contacts", {"email": "cust@f.example", "lifecycle_stage": "customer"})

    def ids(**params: str) -> set[str]:
        return {c["id"] for c in client.all_pages("/v1/contacts", params)}

    assert ids(lifecycle_stage="lead") == {lead["id"]}
    assert ids(lifecycle_stage="customer") == {customer["id"]}
    assert ids(tag="hot") == {lead["id"]}
    assert ids(company_id=company["id"]) == {lead["id"]}
    assert ids(owner_id=client.user_id) == {lead["id"], customer["id"]}
    assert ids(owner_id=client.user_id, lifecycle_stage="customer") == {customer["id"]}
    assert ids(updated_since=customer["updated_at"]) == {customer["id"]}
    # The same instant written with another offset is the same filter; a time that names no instant is 422.
    since = datetime.fromisoformat(customer["updated_at"].replace("Z", "+00:00")).astimezone(
        timezone(timedelta(hours=-5))
    )
    assert ids(updated_since=since.isoformat()) == {customer["id"]}
    for bad in ("notadate", "2026-01-01T00:00:00"):
        refused = client.get("/v1/contacts", params={"updated_since": bad})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "updated_since"
    company_contacts = client.get(f"/v1/companies/{company['id']}/contacts").json()["items"]
    assert [c["id"] for c in company_contacts] == [lead["id"]]


def test_unknown_company_or_owner_is_422(client: ApiClient) -> None:
    response = client.post(
        "/v1/contacts", {"email": "x@example.com", "company_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["company_id"]
    response = client.post(
        "/v1/contacts", {"email": "y@example.com", "owner_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["owner_id"]


def test_timeline_lists_changes_newest_first(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "t@example.com"})
    client.patch(f"/v1/contacts/{contact['id']}", {"title": "Engineer"})
    client.patch(f"/v1/contacts/{contact['id']}", {"lifecycle_stage": "lead"})
    page = client.get(f"/v1/contacts/{contact['id']}/timeline", params={"limit": 2}).json()
    assert [e["type"] for e in page["items"]] == ["contact.updated", "contact.updated"]
    assert page["items"][0]["changes"] == {"lifecycle_stage": {"from": None, "to": "lead"}}
    assert page["items"][0]["actor"]["id"] == client.user_id
    rest = client.get(f"/v1/contacts/{contact['id']}/timeline", params={"cursor": page["next_cursor"]}).json()
    assert [e["type"] for e in rest["items"]] == ["contact.created"]
    assert rest["next_cursor"] is None


def test_patch_that_changes_nothing_writes_nothing(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "same@example.com", "title": "CTO"})
    response = client.patch(f"/v1/contacts/{contact['id']}", {"title": "CTO"})
    assert response.status_code == 200 and response.json()["version"] == 1
    assert len(client.get(f"/v1/contacts/{contact['id']}/timeline").json()["items"]) == 1


def test_null_clears_a_field(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "clear@example.com", "title": "CTO"})
    response = client.patch(f"/v1/contacts/{contact['id']}", {"title": None})
    assert response.status_code == 200 and response.json()["title"] is None


def test_duplicates_and_merge(client: ApiClient) -> None:
    survivor = client.create(
        "contacts", {"first_name": "Alan", "last_name": "Turing", "email": "alan@bletchley.uk"}
    )
    duplicate = client.create(
        "contacts",
        {
            "first_name": "alan",
            "last_name": "TURING",
            "email": "at@example.com",
            "phone": "+44 1908 640404",
            "tags": ["enigma"],
        },
    )
    pairs = client.get("/v1/contacts/duplicates").json()["items"]
    assert [sorted(p["ids"]) for p in pairs] == [sorted([survivor["id"], duplicate["id"]])]
    assert pairs[0]["reason"] == "same_name"

    merged = client.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["email"] == "alan@bletchley.uk"  # the survivor keeps its values
    assert body["phone"] == "+44 1908 640404"  # and takes the duplicate's where it had none
    assert body["tags"] == ["enigma"]
    gone = client.get(f"/v1/contacts/{duplicate['id']}", params={"archived": "true"}).json()
    assert gone["archived"] is True and gone["merged_into"] == survivor["id"]
    assert client.get("/v1/contacts/duplicates").json()["items"] == []
    # The duplicate's address now leads to the survivor.
    assert client.post("/v1/contacts", {"email": "at@example.com"}).json()["existing_id"] == survivor["id"]
    assert client.post(f"/v1/contacts/{duplicate['id']}/restore").status_code in (404, 409)
    timeline = client.get(f"/v1/contacts/{survivor['id']}/timeline").json()["items"]
    assert timeline[0]["type"] == "contact.merged"


def test_merge_into_itself_is_422(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "self@example.com"})
    response = client.post(f"/v1/contacts/{contact['id']}/merge", {"duplicate_id": contact["id"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "duplicate_id"


def test_unknown_paths_are_problem_404s_with_a_request_id(client: ApiClient) -> None:
    for path in ("/v1/nothing-here", "/v1/contacts/not-an-id/whatever"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.headers["X-Request-Id"]
