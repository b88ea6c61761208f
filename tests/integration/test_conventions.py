"""The conventions every endpoint keeps (API.md section 2), checked over HTTP on contacts and companies."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

import pytest
import requests
from crm_core.auth import Role

from tests.support.client import ApiClient
from tests.support.credentials import second_key, user_client

PROBLEM = "application/problem+json"
READ_ONLY = ["id", "tenant_id", "version", "created_at", "updated_at"]
NEVER_ISSUED = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def assert_problem(response: requests.Response, status: int) -> dict[str, Any]:
    """Problem details (RFC 9457) with the expected status, and a request id like every response."""
    assert response.status_code == status, response.text
    assert response.headers.get("Content-Type", "").startswith(PROBLEM), response.headers
    assert response.headers.get("X-Request-Id"), response.headers
    body: dict[str, Any] = response.json()
    for key in ("type", "title", "status", "detail"):
        assert key in body, body
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def error_fields(response: requests.Response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def assert_names(response: requests.Response, *fields: str) -> None:
    """A 422 whose ``errors`` name each field (a nested location such as ``email.x`` counts)."""
    assert_problem(response, 422)
    found = error_fields(response)
    for name in fields:
        assert any(f == name or f.startswith(f"{name}.") for f in found), (name, response.text)


def contact_ids(client: ApiClient) -> set[str]:
    return {c["id"] for c in client.all_pages("/v1/contacts")}


# ------------------------------------------------------------------------------------------- credentials


def test_missing_authorization_is_401(anonymous: ApiClient, client: ApiClient) -> None:
    before = contact_ids(client)
    assert_problem(anonymous.get("/v1/contacts"), 401)
    assert_problem(anonymous.post("/v1/contacts", {"email": "anon@example.com"}), 401)
    assert_problem(anonymous.get(f"/v1/companies/{NEVER_ISSUED}"), 401)
    assert contact_ids(client) == before


def _forged_keys(tenant_id: str) -> list[str]:
    random_ulid = "".join(secrets.choice(ULID_ALPHABET) for _ in range(26))
    alphabet = string.ascii_letters + string.digits
    return [
        f"crm_{random_ulid}_{secrets.token_urlsafe(32)}",  # well-formed, unknown tenant
        f"crm_{tenant_id}_{secrets.token_urlsafe(32)}",  # a real tenant, a guessed secret
        f"crm_{tenant_id}_",  # a real tenant, no secret
        f"crm_{tenant_id}",
        "crm_",
        "".join(secrets.choice(alphabet) for _ in range(40)),  # garbage
        "not-a-key at all",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",  # a JWT nobody issued
    ]


def test_bad_or_forged_api_key_is_401(base_url: str, client: ApiClient) -> None:
    client.create("contacts", {"email": "kept@example.com"})
    before = contact_ids(client)
    for key in _forged_keys(client.tenant_id):
        forged = ApiClient(base_url, key)
        body = assert_problem(forged.get("/v1/contacts"), 401)
        assert "items" not in body
        # 401 comes before anything about the body.
        assert_problem(forged.post("/v1/contacts", {"email": "forged@example.com"}), 401)
        assert_problem(
            forged.post("/v1/contacts", data="{not json", headers={"Content-Type": "application/json"}), 401
        )
    assert contact_ids(client) == before


@pytest.mark.parametrize("scheme", ["Basic", "Token", ""])
def test_a_real_key_without_bearer_scheme_is_401(base_url: str, client: ApiClient, scheme: str) -> None:
    response = requests.get(
        f"{base_url}/v1/contacts",
        headers={"Authorization": f"{scheme} {client.api_key}".strip()},
        timeout=30,
    )
    assert_problem(response, 401)


# ---------------------------------------------------------------------------------------- request bodies


def test_malformed_json_is_400_and_creates_nothing(client: ApiClient) -> None:
    for raw in ['{"email": "a@example.com"', "{'email': 'a@example.com'}", "not json", '{"email": }']:
        assert_problem(
            client.post("/v1/contacts", data=raw, headers={"Content-Type": "application/json"}), 400
        )
    contact = client.create("contacts", {"email": "kept400@example.com", "title": "Before"})
    response = client.request(
        "PATCH",
        f"/v1/contacts/{contact['id']}",
        data='{"title": "After"',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 400)
    assert contact_ids(client) == {contact["id"]}
    assert client.get(f"/v1/contacts/{contact['id']}").json() == contact


def test_body_over_one_mib_is_413(client: ApiClient) -> None:
    big = json.dumps({"email": "big@example.com", "title": "x" * (1024 * 1024 + 10)})
    assert_problem(client.post("/v1/contacts", data=big, headers={"Content-Type": "application/json"}), 413)
    contact = client.create("contacts", {"email": "small@example.com"})
    response = client.request(
        "PATCH", f"/v1/contacts/{contact['id']}", data=big, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413)
    assert contact_ids(client) == {contact["id"]}
    assert client.get(f"/v1/contacts/{contact['id']}").json()["version"] == 1


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_body_without_json_content_type_is_415(client: ApiClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"email": "media@example.com"})
    response = client.request("POST", "/v1/contacts", data=body.encode(), headers=headers)
    assert_problem(response, 415)
    contact = client.create("companies", {"name": "Media Type Ltd"})
    response = client.request(
        "PATCH", f"/v1/companies/{contact['id']}", data=json.dumps({"industry": "x"}), headers=headers
    )
    assert_problem(response, 415)
    assert contact_ids(client) == set()
    assert client.get(f"/v1/companies/{contact['id']}").json()["industry"] is None


def test_json_content_type_with_charset_is_accepted(client: ApiClient) -> None:
    response = client.request(
        "POST",
        "/v1/contacts",
        data=json.dumps({"email": "charset@example.com"}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("collection", ["contacts", "companies"])
def test_unknown_field_is_422_naming_it(client: ApiClient, collection: str) -> None:
    body = {"email": "u@example.com"} if collection == "contacts" else {"name": "Unknown Field Co"}
    response = client.post(f"/v1/{collection}", {**body, "favourite_colour": "blue"})
    assert_names(response, "favourite_colour")
    assert client.all_pages(f"/v1/{collection}") == []
    record = client.create(collection, body)
    response = client.patch(f"/v1/{collection}/{record['id']}", {"is_admin": True})
    assert_names(response, "is_admin")
    assert client.get(f"/v1/{collection}/{record['id']}").json() == record


@pytest.mark.parametrize("field", READ_ONLY)
@pytest.mark.parametrize("collection", ["contacts", "companies"])
def test_read_only_field_in_post_is_422_naming_it(client: ApiClient, collection: str, field: str) -> None:
    body = {"email": "ro@example.com"} if collection == "contacts" else {"name": "Read Only Co"}
    value: Any = (
        7 if field == "version" else "2020-01-01T00:00:00Z" if field.endswith("_at") else NEVER_ISSUED
    )
    response = client.post(f"/v1/{collection}", {**body, field: value})
    assert_names(response, field)
    assert client.all_pages(f"/v1/{collection}") == []


@pytest.mark.parametrize("field", READ_ONLY)
@pytest.mark.parametrize("collection", ["contacts", "companies"])
def test_read_only_field_in_patch_is_422_naming_it(client: ApiClient, collection: str, field: str) -> None:
    body = {"email": "ro@example.com"} if collection == "contacts" else {"name": "Read Only Co"}
    record = client.create(collection, body)
    current = {
        "id": record["id"],
        "tenant_id": record["tenant_id"],
        "version": record["version"],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
    }
    # Even the value the record already has is refused: the field is not the caller's to send.
    for value in (current[field], 99 if field == "version" else "01BX5ZZKBKACTAV9WEVGEMMVRZ"):
        response = client.patch(f"/v1/{collection}/{record['id']}", {field: value, "tags": ["changed"]})
        assert_names(response, field)
    assert client.get(f"/v1/{collection}/{record['id']}").json() == record


def test_several_bad_fields_are_all_named(client: ApiClient) -> None:
    response = client.post(
        "/v1/contacts",
        {
            "email": "not-an-email",
            "lifecycle_stage": "prospect",
            "phone": "x",
            "tags": "not-a-list",
            "nickname": "Ada",
            "version": 3,
        },
    )
    assert_names(response, "email", "lifecycle_stage", "phone", "tags", "nickname", "version")
    assert contact_ids(client) == set()

    contact = client.create("contacts", {"email": "several@example.com"})
    response = client.patch(
        f"/v1/contacts/{contact['id']}",
        {"consent": {"email": "maybe"}, "company_id": "nope", "id": contact["id"], "colour": "red"},
    )
    assert_names(response, "consent", "company_id", "id", "colour")
    assert client.get(f"/v1/contacts/{contact['id']}").json() == contact


# ------------------------------------------------------------------------------------------------ lists


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc"])
def test_limit_out_of_range_is_422_naming_limit(client: ApiClient, limit: str) -> None:
    for path in ("/v1/contacts", "/v1/companies", "/v1/contacts/duplicates"):
        assert_names(client.get(path, params={"limit": limit}), "limit")


def test_limit_bounds_are_accepted(client: ApiClient) -> None:
    for n in range(3):
        client.create("contacts", {"email": f"bound{n}@example.com"})
    assert len(client.get("/v1/contacts", params={"limit": 1}).json()["items"]) == 1
    page = client.get("/v1/contacts", params={"limit": 100}).json()
    assert len(page["items"]) == 3 and page["next_cursor"] is None
    page = client.get("/v1/contacts").json()  # default 25
    assert len(page["items"]) == 3 and page["next_cursor"] is None


def _first_cursor(client: ApiClient, path: str, params: dict[str, Any] | None = None) -> str:
    response = client.get(path, params={**(params or {}), "limit": 1})
    assert response.status_code == 200, response.text
    cursor: str = response.json()["next_cursor"]
    assert cursor
    return cursor


def _tampered(cursor: str) -> list[str]:
    body, _, mac = cursor.partition(".")
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    return [
        "garbage",
        "x.y",
        "",
        cursor + "x",
        f"{flipped}.{mac}",
        f"{body}.{'A' * len(mac)}",
        f"{body}.",
        cursor[::-1],
    ]


def test_forged_cursor_is_400(client: ApiClient) -> None:
    for n in range(3):
        client.create("contacts", {"email": f"cursor{n}@example.com"})
    cursor = _first_cursor(client, "/v1/contacts")
    for forged in _tampered(cursor):
        if forged == "":
            continue  # an empty cursor means "from the start"
        response = client.get("/v1/contacts", params={"cursor": forged, "limit": 1})
        assert_problem(response, 400)
    # The genuine cursor still works.
    assert client.get("/v1/contacts", params={"cursor": cursor, "limit": 1}).status_code == 200


def test_another_tenants_cursor_is_400(client: ApiClient, other: ApiClient) -> None:
    for n in range(3):
        client.create("contacts", {"email": f"mine{n}@example.com"})
        other.create("contacts", {"email": f"theirs{n}@example.com"})
    theirs = _first_cursor(other, "/v1/contacts")
    response = client.get("/v1/contacts", params={"cursor": theirs, "limit": 1})
    body = assert_problem(response, 400)
    assert "theirs" not in json.dumps(body)
    mine = _first_cursor(client, "/v1/contacts")
    assert_problem(other.get("/v1/contacts", params={"cursor": mine}), 400)


def test_cursor_from_another_list_is_400(client: ApiClient) -> None:
    for n in range(3):
        contact = client.create(
            "contacts",
            {
                "email": f"list{n}@example.com",
                "first_name": f"Lister{n}",
                "lifecycle_stage": "lead",
                "tags": ["t"],
            },
        )
        client.create("companies", {"name": f"Lister {n} Ltd"})
        client.patch(f"/v1/contacts/{contact['id']}", {"title": f"v{n}"})
    contacts_cursor = _first_cursor(client, "/v1/contacts")
    companies_cursor = _first_cursor(client, "/v1/companies")
    lead_cursor = _first_cursor(client, "/v1/contacts", {"lifecycle_stage": "lead"})
    search_cursor = _first_cursor(client, "/v1/contacts", {"q": "lister"})
    timeline_cursor = _first_cursor(client, f"/v1/contacts/{contact['id']}/timeline")

    assert_problem(client.get("/v1/contacts", params={"cursor": companies_cursor}), 400)
    assert_problem(client.get("/v1/companies", params={"cursor": contacts_cursor}), 400)
    assert_problem(client.get("/v1/contacts", params={"cursor": lead_cursor}), 400)
    assert_problem(
        client.get("/v1/contacts", params={"cursor": contacts_cursor, "lifecycle_stage": "customer"}), 400
    )
    assert_problem(
        client.get("/v1/contacts", params={"cursor": lead_cursor, "lifecycle_stage": "customer"}), 400
    )
    assert_problem(client.get("/v1/contacts", params={"cursor": search_cursor, "q": "other"}), 400)
    assert_problem(client.get("/v1/contacts", params={"cursor": contacts_cursor, "archived": "true"}), 400)
    assert_problem(client.get("/v1/contacts", params={"cursor": timeline_cursor}), 400)
    assert_problem(client.get("/v1/contacts/duplicates", params={"cursor": contacts_cursor}), 400)
    # Each cursor still works on its own list.
    assert (
        client.get("/v1/contacts", params={"cursor": lead_cursor, "lifecycle_stage": "lead"}).status_code
        == 200
    )
    assert client.get("/v1/contacts", params={"cursor": search_cursor, "q": "lister"}).status_code == 200


# ---------------------------------------------------------------------------------------- request ids


def test_every_response_has_a_request_id(client: ApiClient, anonymous: ApiClient, base_url: str) -> None:
    contact = client.create("contacts", {"email": "rid@example.com"})
    responses = [
        client.get("/v1/contacts"),
        client.post("/v1/contacts", {"email": "rid2@example.com"}),
        client.get(f"/v1/contacts/{contact['id']}"),
        client.patch(f"/v1/contacts/{contact['id']}", {"title": "X"}),
        client.get(f"/v1/contacts/{NEVER_ISSUED}"),  # 404
        client.post("/v1/contacts", {"email": "rid@example.com"}),  # 409
        client.post("/v1/contacts", {"bogus": 1}),  # 422
        client.post("/v1/contacts", data="{", headers={"Content-Type": "application/json"}),  # 400
        client.patch(f"/v1/contacts/{contact['id']}", {"title": "Y"}, headers={"If-Match": '"1"'}),  # 412
        client.get("/v1/contacts/not/a/route"),  # 404 for no route
        client.delete(f"/v1/contacts/{contact['id']}"),  # 204
        anonymous.get("/v1/contacts"),  # 401 without a credential
        ApiClient(base_url, "crm_garbage").get("/v1/contacts"),  # 401 with a bad one
    ]
    ids = []
    for response in responses:
        request_id = response.headers.get("X-Request-Id")
        assert request_id, (response.status_code, response.request.method, response.request.url)
        ids.append(request_id)
    assert len(set(ids)) == len(ids), "every request has its own id"


def test_problem_details_shape(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "shape@example.com"})
    assert_problem(client.get(f"/v1/contacts/{NEVER_ISSUED}"), 404)
    conflict = assert_problem(client.post("/v1/contacts", {"email": "shape@example.com"}), 409)
    assert conflict["existing_id"] == contact["id"]
    invalid = assert_problem(client.post("/v1/contacts", {"email": "nope"}), 422)
    assert invalid["errors"] and all(set(e) >= {"field", "message"} for e in invalid["errors"])


# ----------------------------------------------------------------------------------------- idempotency


def test_idempotency_key_replays_the_first_response(client: ApiClient) -> None:
    key = secrets.token_hex(16)
    body = {"email": "once@example.com", "first_name": "Once"}
    first = client.post("/v1/contacts", body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    assert first.headers.get("Idempotent-Replayed") in (None, "false")
    second = client.post("/v1/contacts", body, headers={"Idempotency-Key": key})
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.headers.get("Location") == first.headers.get("Location")
    assert second.headers.get("ETag") == first.headers.get("ETag")
    assert second.headers.get("X-Request-Id")
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert second.content == first.content
    per_request = {"x-request-id", "idempotent-replayed", "date", "server"} | {
        name.lower() for name in [*first.headers, *second.headers] if name.lower().startswith("ratelimit-")
    }
    assert {k.lower(): v for k, v in second.headers.items() if k.lower() not in per_request} == {
        k.lower(): v for k, v in first.headers.items() if k.lower() not in per_request
    }
    assert contact_ids(client) == {first.json()["id"]}


def test_idempotency_key_with_another_body_is_422(client: ApiClient) -> None:
    key = secrets.token_hex(16)
    first = client.post("/v1/contacts", {"email": "k1@example.com"}, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    again = client.post("/v1/contacts", {"email": "k2@example.com"}, headers={"Idempotency-Key": key})
    assert_problem(again, 422)
    assert contact_ids(client) == {first.json()["id"]}
    assert client.post("/v1/contacts", {"email": "k2@example.com"}).status_code == 201  # k2 was never created


def test_different_idempotency_keys_create_two(client: ApiClient) -> None:
    body = {"first_name": "Twice"}
    one = client.post("/v1/contacts", body, headers={"Idempotency-Key": secrets.token_hex(16)})
    two = client.post("/v1/contacts", body, headers={"Idempotency-Key": secrets.token_hex(16)})
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]
    assert two.headers.get("Idempotent-Replayed") in (None, "false")
    assert contact_ids(client) == {one.json()["id"], two.json()["id"]}


def test_idempotency_key_is_scoped_to_the_tenant(client: ApiClient, other: ApiClient) -> None:
    key = secrets.token_hex(16)
    body = {"email": "scoped@example.com"}
    mine = client.post("/v1/contacts", body, headers={"Idempotency-Key": key})
    theirs = other.post("/v1/contacts", body, headers={"Idempotency-Key": key})
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert theirs.headers.get("Idempotent-Replayed") in (None, "false")
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["tenant_id"] == other.tenant_id
    assert contact_ids(other) == {theirs.json()["id"]}
    assert contact_ids(client) == {mine.json()["id"]}
    # The same key with another body in the other tenant is that tenant's business, not a 422 here.
    assert (
        other.post(
            "/v1/contacts", {"email": "x@example.com"}, headers={"Idempotency-Key": secrets.token_hex(8)}
        ).status_code
        == 201
    )


def test_idempotency_key_is_scoped_to_the_credential(client: ApiClient) -> None:
    """A key sent by another credential of the tenant is another request: a viewer is not answered with
    the admin's 201, another key of the same admin makes its own contact, and the admin's replay stays its
    own (not the viewer's 403)."""
    key = secrets.token_hex(16)
    body = {"first_name": "Shared", "last_name": "Key"}
    first = client.post("/v1/contacts", body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    viewer = user_client(client, Role.VIEWER)
    for _ in range(2):
        refused = viewer.post("/v1/contacts", body, headers={"Idempotency-Key": key})
        assert_problem(refused, 403)
        assert refused.headers.get("Idempotent-Replayed") in (None, "false")
    rep = user_client(client, Role.REP)
    reps = rep.post("/v1/contacts", body, headers={"Idempotency-Key": key})
    assert reps.status_code == 201, reps.text
    assert reps.headers.get("Idempotent-Replayed") in (None, "false")
    assert reps.json()["owner_id"] == rep.user_id
    other_key = second_key(client).post("/v1/contacts", body, headers={"Idempotency-Key": key})
    assert other_key.status_code == 201, other_key.text
    assert other_key.headers.get("Idempotent-Replayed") in (None, "false")
    again = client.post("/v1/contacts", body, headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert contact_ids(client) == {first.json()["id"], reps.json()["id"], other_key.json()["id"]}


def test_an_error_answer_is_not_kept_as_the_replay(client: ApiClient) -> None:
    """A 4xx leaves nothing behind: the next request with the key runs afresh, whether the caller fixed
    the body (not "used with a different body") or the record changed in between (not the old 404)."""
    key = secrets.token_hex(16)
    assert_names(client.post("/v1/contacts", {"email": "nope"}, headers={"Idempotency-Key": key}), "email")
    fixed = client.post("/v1/contacts", {"email": "fixed@example.com"}, headers={"Idempotency-Key": key})
    assert fixed.status_code == 201, fixed.text
    assert fixed.headers.get("Idempotent-Replayed") in (None, "false")

    viewer = user_client(client, Role.VIEWER)
    key = secrets.token_hex(16)
    assert_problem(viewer.post("/v1/contacts", {"first_name": "V"}, headers={"Idempotency-Key": key}), 403)
    theirs = viewer.post("/v1/contacts", {"first_name": "V"}, headers={"Idempotency-Key": key})
    assert_problem(theirs, 403)
    assert theirs.headers.get("Idempotent-Replayed") in (None, "false")

    contact = fixed.json()
    key = secrets.token_hex(16)
    restore = f"/v1/contacts/{contact['id']}/restore"
    assert_problem(client.post(restore, headers={"Idempotency-Key": key}), 404)  # not archived yet
    assert client.delete(f"/v1/contacts/{contact['id']}").status_code == 204
    restored = client.post(restore, headers={"Idempotency-Key": key})
    assert restored.status_code == 200, restored.text
    assert restored.headers.get("Idempotent-Replayed") in (None, "false")
    replayed = client.post(restore, headers={"Idempotency-Key": key})
    assert replayed.status_code == 200, replayed.text
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json() == restored.json()
    assert contact_ids(client) == {contact["id"]}


# ------------------------------------------------------------------------------------ concurrency, archive


@pytest.mark.parametrize("value", ["abc", '"abc"', '"1', "1.0", '"-1"', "W/abc"])
def test_malformed_if_match_is_400_and_changes_nothing(client: ApiClient, value: str) -> None:
    contact = client.create("contacts", {"email": "ifmatch@example.com"})
    assert_problem(
        client.patch(f"/v1/contacts/{contact['id']}", {"title": "X"}, headers={"If-Match": value}), 400
    )
    assert_problem(client.delete(f"/v1/contacts/{contact['id']}", headers={"If-Match": value}), 400)
    assert client.get(f"/v1/contacts/{contact['id']}").json() == contact


@pytest.mark.parametrize("collection", ["contacts", "companies"])
def test_patch_and_delete_on_archived_record_is_404(client: ApiClient, collection: str) -> None:
    body = {"email": "arch@example.com"} if collection == "contacts" else {"name": "Archived Co"}
    record = client.create(collection, body)
    assert client.delete(f"/v1/{collection}/{record['id']}").status_code == 204
    archived = client.get(f"/v1/{collection}/{record['id']}", params={"archived": "true"}).json()
    assert_problem(client.patch(f"/v1/{collection}/{record['id']}", {"tags": ["x"]}), 404)
    assert_problem(client.delete(f"/v1/{collection}/{record['id']}"), 404)
    assert_problem(
        client.patch(
            f"/v1/{collection}/{record['id']}",
            {"tags": ["x"]},
            headers={"If-Match": f'"{archived["version"]}"'},
        ),
        404,
    )
    after = client.get(f"/v1/{collection}/{record['id']}", params={"archived": "true"}).json()
    assert after == archived
