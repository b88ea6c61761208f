"""Companies over HTTP, as API.md describes them (section 3: `name`, `domain` unique per tenant, ...)."""

from __future__ import annotations

import pytest

from tests.support.client import ApiClient

NEVER_ISSUED = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def error_fields(response_json: dict[str, object]) -> list[str]:
    errors = response_json.get("errors") or []
    assert isinstance(errors, list)
    return [e["field"] for e in errors]


def test_create_read_update_delete_with_etag(client: ApiClient) -> None:
    response = client.post(
        "/v1/companies",
        {
            "name": "Initech",
            "domain": "initech.example",
            "industry": "Software",
            "employees": 120,
            "tags": ["b2b"],
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"/v1/companies/{created['id']}")
    assert created["name"] == "Initech" and created["domain"] == "initech.example"
    assert created["employees"] == 120 and created["tags"] == ["b2b"] and created["custom"] == {}
    assert created["owner_id"] == client.user_id
    assert created["tenant_id"] == client.tenant_id
    assert created["version"] == 1 and created["archived"] is False
    assert created["created_at"].endswith("Z") and created["updated_at"] == created["created_at"]

    read = client.get(f"/v1/companies/{created['id']}")
    assert read.status_code == 200 and read.json() == created
    assert read.headers["ETag"] == '"1"'

    changed = client.patch(f"/v1/companies/{created['id']}", {"employees": 150}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["employees"] == 150 and changed.json()["version"] == 2
    assert changed.headers["ETag"] == '"2"'
    assert changed.json()["updated_at"] >= created["updated_at"]

    stale = client.patch(f"/v1/companies/{created['id']}", {"employees": 1}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["Content-Type"].startswith("application/problem+json")
    assert client.get(f"/v1/companies/{created['id']}").json()["employees"] == 150

    assert client.delete(f"/v1/companies/{created['id']}", headers={"If-Match": '"1"'}).status_code == 412
    assert client.get(f"/v1/companies/{created['id']}").status_code == 200
    assert client.delete(f"/v1/companies/{created['id']}", headers={"If-Match": '"2"'}).status_code == 204
    assert client.get(f"/v1/companies/{created['id']}").status_code == 404


def test_null_clears_an_optional_field(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Clearable", "industry": "Retail", "employees": 3})
    response = client.patch(f"/v1/companies/{company['id']}", {"industry": None, "employees": None})
    assert response.status_code == 200, response.text
    assert response.json()["industry"] is None and response.json()["employees"] is None


@pytest.mark.parametrize(
    "raw",
    [
        "https://www.Example.com/x",
        "http://EXAMPLE.com",
        "www.example.com",
        "Example.COM",
        "example.com/about",
    ],
)
def test_domain_is_normalized_and_unique(client: ApiClient, raw: str) -> None:
    first = client.create("companies", {"name": "Example One", "domain": raw})
    assert first["domain"] == "example.com"
    again = client.post("/v1/companies", {"name": "Example Two", "domain": "example.com"})
    assert again.status_code == 409, again.text
    problem = again.json()
    assert again.headers["Content-Type"].startswith("application/problem+json")
    assert problem["existing_id"] == first["id"]
    assert error_fields(problem) == ["domain"]
    assert [c["id"] for c in client.all_pages("/v1/companies")] == [first["id"]]


def test_url_domain_collides_with_bare_domain(client: ApiClient, other: ApiClient) -> None:
    first = client.create("companies", {"name": "Bare", "domain": "example.com"})
    again = client.post("/v1/companies", {"name": "Url", "domain": "https://www.Example.com/x"})
    assert again.status_code == 409 and again.json()["existing_id"] == first["id"]
    # Another tenant may have the same domain.
    assert (
        other.post("/v1/companies", {"name": "Theirs", "domain": "https://www.Example.com/x"}).status_code
        == 201
    )


def test_changing_domain_to_a_taken_one_is_409(client: ApiClient) -> None:
    first = client.create("companies", {"name": "First", "domain": "first.example"})
    second = client.create("companies", {"name": "Second", "domain": "second.example"})
    response = client.patch(f"/v1/companies/{second['id']}", {"domain": "https://FIRST.example"})
    assert response.status_code == 409, response.text
    assert response.json()["existing_id"] == first["id"]
    assert error_fields(response.json()) == ["domain"]
    assert client.get(f"/v1/companies/{second['id']}").json() == second


def test_changing_domain_frees_the_old_one(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Mover", "domain": "old.example"})
    moved = client.patch(f"/v1/companies/{company['id']}", {"domain": "new.example"})
    assert moved.status_code == 200 and moved.json()["domain"] == "new.example"
    assert client.post("/v1/companies", {"name": "Taker", "domain": "old.example"}).status_code == 201
    assert (
        client.post("/v1/companies", {"name": "X", "domain": "new.example"}).json()["existing_id"]
        == company["id"]
    )
    cleared = client.patch(f"/v1/companies/{company['id']}", {"domain": None})
    assert cleared.status_code == 200 and cleared.json()["domain"] is None
    assert client.post("/v1/companies", {"name": "Y", "domain": "new.example"}).status_code == 201


@pytest.mark.parametrize("domain", ["not a domain", "localhost", "http://", "exa mple.com", "-bad-.com"])
def test_invalid_domain_is_422(client: ApiClient, domain: str) -> None:
    response = client.post("/v1/companies", {"name": "Bad Domain", "domain": domain})
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == ["domain"]


@pytest.mark.parametrize(
    "body", [{}, {"domain": "noname.example"}, {"name": ""}, {"name": "   "}, {"name": None}]
)
def test_name_is_required_on_create(client: ApiClient, body: dict[str, object]) -> None:
    response = client.post("/v1/companies", body)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "name" in error_fields(response.json())
    assert client.all_pages("/v1/companies") == []


def test_name_and_other_bad_fields_are_named_together(client: ApiClient) -> None:
    response = client.post("/v1/companies", {"domain": "bad domain", "employees": -1, "tags": "x"})
    assert response.status_code == 422
    assert set(error_fields(response.json())) >= {"name", "domain", "employees", "tags"}


@pytest.mark.parametrize("value", [None, "", "  "])
def test_name_cannot_be_cleared(client: ApiClient, value: str | None) -> None:
    company = client.create("companies", {"name": "Keeps Its Name"})
    response = client.patch(f"/v1/companies/{company['id']}", {"name": value})
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == ["name"]
    assert client.get(f"/v1/companies/{company['id']}").json() == company


def test_type_ahead_over_name_and_domain(client: ApiClient) -> None:
    globex = client.create("companies", {"name": "Globex Corporation", "domain": "globex.example"})
    hooli = client.create("companies", {"name": "Hooli", "domain": "hooli.io"})
    client.create("companies", {"name": "Umbrella", "domain": "umbrella.example"})

    def found(q: str) -> list[str]:
        response = client.get("/v1/companies", params={"q": q})
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert found("glo") == [globex["id"]]
    assert found("GLOBEX CORP") == [globex["id"]]
    assert found("corporation") == [globex["id"]]
    assert found("hooli.i") == [hooli["id"]]
    assert found("globex.ex") == [globex["id"]]
    assert found("zzz") == []
    assert client.delete(f"/v1/companies/{hooli['id']}").status_code == 204
    assert found("hoo") == []


def test_filters(client: ApiClient, base_url: str) -> None:
    software = client.create(
        "companies", {"name": "Soft One", "industry": "Software", "tags": ["Enterprise"]}
    )
    retail = client.create("companies", {"name": "Shop Two", "industry": "Retail", "tags": ["smb"]})
    both = client.create("companies", {"name": "Soft Three", "industry": "Software"})

    def ids(**params: str) -> set[str]:
        return {c["id"] for c in client.all_pages("/v1/companies", params)}

    assert ids() == {software["id"], retail["id"], both["id"]}
    assert ids(industry="Software") == {software["id"], both["id"]}
    assert ids(industry="Retail") == {retail["id"]}
    assert ids(industry="Mining") == set()
    assert ids(tag="enterprise") == {software["id"]}
    assert ids(tag="smb") == {retail["id"]}
    assert ids(owner_id=client.user_id) == {software["id"], retail["id"], both["id"]}
    assert ids(owner_id=NEVER_ISSUED) == set()
    assert ids(owner_id=client.user_id, industry="Retail") == {retail["id"]}
    assert ids(tag="enterprise", industry="Retail") == set()
    changed = client.patch(f"/v1/companies/{retail['id']}", {"employees": 5}).json()
    assert ids(updated_since=changed["updated_at"]) == {retail["id"]}
    # Paging visits each once.
    seen = [c["id"] for c in client.all_pages("/v1/companies", {"limit": 1})]
    assert sorted(seen) == sorted({software["id"], retail["id"], both["id"]})


def test_unknown_owner_is_422(client: ApiClient) -> None:
    response = client.post("/v1/companies", {"name": "Ownerless", "owner_id": NEVER_ISSUED})
    assert response.status_code == 422
    assert error_fields(response.json()) == ["owner_id"]


def test_archive_restore(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Phoenix Ltd", "domain": "phoenix.example"})
    assert client.delete(f"/v1/companies/{company['id']}").status_code == 204
    assert client.get(f"/v1/companies/{company['id']}").status_code == 404
    archived = client.get(f"/v1/companies/{company['id']}", params={"archived": "true"})
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert archived.json()["archived_at"]
    assert company["id"] not in [c["id"] for c in client.all_pages("/v1/companies")]
    assert company["id"] in [c["id"] for c in client.all_pages("/v1/companies", {"archived": "true"})]
    assert client.get("/v1/companies", params={"q": "phoenix"}).json()["items"] == []
    assert client.get(f"/v1/companies/{company['id']}/contacts").status_code == 404
    # An archived company keeps its domain: no second company takes it meanwhile.
    assert client.post("/v1/companies", {"name": "Other", "domain": "phoenix.example"}).status_code == 409

    restored = client.post(f"/v1/companies/{company['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["archived"] is False and restored.json()["archived_at"] is None
    assert [c["id"] for c in client.get("/v1/companies", params={"q": "phoenix"}).json()["items"]] == [
        company["id"]
    ]
    assert client.post(f"/v1/companies/{company['id']}/restore").status_code == 404  # not archived


def test_timeline_lists_changes_newest_first(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Chronicle"})
    client.patch(f"/v1/companies/{company['id']}", {"industry": "Media"})
    client.delete(f"/v1/companies/{company['id']}")
    client.post(f"/v1/companies/{company['id']}/restore")
    page = client.get(f"/v1/companies/{company['id']}/timeline").json()
    assert [e["type"] for e in page["items"]] == [
        "company.restored",
        "company.archived",
        "company.updated",
        "company.created",
    ]
    assert page["items"][2]["changes"] == {"industry": {"from": None, "to": "Media"}}
    assert page["items"][0]["actor"]["id"] == client.user_id
    first = client.get(f"/v1/companies/{company['id']}/timeline", params={"limit": 3}).json()
    rest = client.get(
        f"/v1/companies/{company['id']}/timeline", params={"cursor": first["next_cursor"]}
    ).json()
    assert [e["type"] for e in rest["items"]] == ["company.created"] and rest["next_cursor"] is None
    assert client.get(f"/v1/companies/{NEVER_ISSUED}/timeline").status_code == 404


def test_company_contacts(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Staffed"})
    staff = {
        client.create("contacts", {"email": f"s{n}@staffed.example", "company_id": company["id"]})["id"]
        for n in range(3)
    }
    client.create("contacts", {"email": "outsider@example.com"})
    listed = {c["id"] for c in client.all_pages(f"/v1/companies/{company['id']}/contacts", {"limit": 2})}
    assert listed == staff
    assert client.get(f"/v1/companies/{NEVER_ISSUED}/contacts").status_code == 404


def test_duplicates_by_same_name(client: ApiClient) -> None:
    one = client.create("companies", {"name": "Stark Industries", "domain": "stark.example"})
    two = client.create("companies", {"name": "stark  INDUSTRIES", "domain": "starkindustries.example"})
    client.create("companies", {"name": "Wayne Enterprises"})
    pairs = client.get("/v1/companies/duplicates").json()["items"]
    assert [sorted(p["ids"]) for p in pairs] == [sorted([one["id"], two["id"]])]
    assert pairs[0]["reason"] == "same_name"
    client.delete(f"/v1/companies/{two['id']}")
    assert client.get("/v1/companies/duplicates").json()["items"] == []


def test_merge(client: ApiClient) -> None:
    survivor = client.create(
        "companies", {"name": "Cyberdyne", "domain": "cyberdyne.example", "tags": ["ai"]}
    )
    duplicate = client.create(
        "companies",
        {
            "name": "CYBERDYNE",
            "domain": "cyberdyne-systems.example",
            "industry": "Robotics",
            "employees": 900,
            "tags": ["defense"],
        },
    )
    merged = client.post(f"/v1/companies/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["id"] == survivor["id"]
    assert body["name"] == "Cyberdyne" and body["domain"] == "cyberdyne.example"  # the survivor's values stay
    assert body["industry"] == "Robotics" and body["employees"] == 900  # and it takes the duplicate's
    assert body["tags"] == ["ai", "defense"]
    assert body["version"] == survivor["version"] + 1
    assert body["pending_moves"] == []  # nothing left to move in the background
    assert merged.headers["ETag"] == f'"{body["version"]}"'

    gone = client.get(f"/v1/companies/{duplicate['id']}", params={"archived": "true"}).json()
    assert gone["archived"] is True and gone["merged_into"] == survivor["id"]
    assert client.get(f"/v1/companies/{duplicate['id']}").status_code == 404
    assert [c["id"] for c in client.all_pages("/v1/companies")] == [survivor["id"]]
    assert client.get("/v1/companies/duplicates").json()["items"] == []
    # The duplicate's domain now leads to the survivor.
    taken = client.post("/v1/companies", {"name": "Again", "domain": "cyberdyne-systems.example"})
    assert taken.status_code == 409 and taken.json()["existing_id"] == survivor["id"]
    assert client.post(f"/v1/companies/{duplicate['id']}/restore").status_code in (404, 409)
    assert (
        client.get(f"/v1/companies/{survivor['id']}/timeline").json()["items"][0]["type"] == "company.merged"
    )


def test_merge_moves_the_duplicates_contacts(client: ApiClient) -> None:
    survivor = client.create("companies", {"name": "Survivor Co"})
    duplicate = client.create("companies", {"name": "Duplicate Co"})
    member = client.create("contacts", {"email": "member@dup.example", "company_id": duplicate["id"]})
    merged = client.post(f"/v1/companies/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["pending_moves"] == []  # moved within the request
    listed = [c["id"] for c in client.all_pages(f"/v1/companies/{survivor['id']}/contacts")]
    assert listed == [member["id"]]
    assert client.get(f"/v1/contacts/{member['id']}").json()["company_id"] == survivor["id"]


def test_merge_errors(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Solo"})
    itself = client.post(f"/v1/companies/{company['id']}/merge", {"duplicate_id": company["id"]})
    assert itself.status_code == 422 and error_fields(itself.json()) == ["duplicate_id"]
    missing = client.post(f"/v1/companies/{company['id']}/merge", {"duplicate_id": NEVER_ISSUED})
    assert missing.status_code in (404, 422)
    assert (
        client.post(f"/v1/companies/{NEVER_ISSUED}/merge", {"duplicate_id": company["id"]}).status_code == 404
    )
    assert client.post(f"/v1/companies/{company['id']}/merge", {}).status_code == 422
    assert client.get(f"/v1/companies/{company['id']}").json() == company
