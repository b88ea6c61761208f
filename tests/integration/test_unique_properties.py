"""Unique custom properties (issue 14 item 1, docs/decisions/0012 "Unique"): a property created with
``unique: true`` is guarded by a marker per value, claimed and released in the record's own transaction;
a taken value is 409 naming ``custom.<name>`` with ``existing_id``, and nothing is written."""

from __future__ import annotations

import threading
from typing import Any

import requests

from tests.support.client import ApiClient

MEMBER = {"name": "member_no", "label": "Member number", "type": "string", "unique": True}
SCORE = {"name": "score", "label": "Score", "type": "number", "unique": True}

_serial = iter(range(1_000_000))


def define(client: ApiClient, body: dict[str, Any], object_name: str = "contacts") -> dict[str, Any]:
    response = client.post(f"/v1/properties/{object_name}", body)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def contact(client: ApiClient, **custom: Any) -> requests.Response:
    return client.post("/v1/contacts", {"email": f"u{next(_serial)}@unique.example", "custom": custom})


def taken(response: requests.Response, field: str, existing_id: str) -> None:
    """A 409 naming ``field`` and the record that holds the value."""
    assert response.status_code == 409, response.text
    body = response.json()
    assert [error["field"] for error in body["errors"]] == [field], body
    assert body["existing_id"] == existing_id, body


def named(response: requests.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


def contact_count(client: ApiClient) -> int:
    return len(client.all_pages("/v1/contacts"))


def test_a_taken_value_is_refused_case_insensitively_and_freed_by_a_change(
    client: ApiClient, other: ApiClient
) -> None:
    assert define(client, MEMBER)["unique"] is True
    define(client, SCORE)
    assert define(client, {"name": "note", "label": "Note", "type": "string"})["unique"] is False
    first = contact(client, member_no="AB-1", score=10).json()
    count = contact_count(client)

    # create: the value trimmed and in another case, the number as another decimal of the same value
    taken(contact(client, member_no="  ab-1 "), "custom.member_no", first["id"])
    taken(contact(client, score=10.0), "custom.score", first["id"])
    # nothing of the refused creates was written: no record, no email marker (the address is free)
    refused = client.post("/v1/contacts", {"email": "kept.free@unique.example", "custom": {"score": 1e1}})
    taken(refused, "custom.score", first["id"])
    assert contact_count(client) == count
    second = client.post(
        "/v1/contacts", {"email": "kept.free@unique.example", "custom": {"member_no": "AB-2"}}
    )
    assert second.status_code == 201, second.text
    second_id = second.json()["id"]

    # patch: refused, the record unchanged (its version, its value, its own marker still its own)
    before = client.get(f"/v1/contacts/{second_id}").json()
    taken(
        client.patch(f"/v1/contacts/{second_id}", {"custom": {"member_no": "Ab-1"}}),
        "custom.member_no",
        first["id"],
    )
    assert client.get(f"/v1/contacts/{second_id}").json() == before
    taken(contact(client, member_no="ab-2"), "custom.member_no", second_id)

    # a value freed by a change (or removed) can be taken by another record
    moved = client.patch(f"/v1/contacts/{first['id']}", {"custom": {"member_no": "AB-3", "score": None}})
    assert moved.status_code == 200, moved.text
    assert client.patch(f"/v1/contacts/{second_id}", {"custom": {"member_no": "ab-1"}}).status_code == 200
    assert contact(client, member_no="AB-2", score=10).status_code == 201
    taken(contact(client, member_no="ab-3"), "custom.member_no", first["id"])
    # a PATCH of other fields (and a value kept as it is) claims nothing again
    assert client.patch(f"/v1/contacts/{first['id']}", {"title": "CTO"}).status_code == 200
    assert client.patch(f"/v1/contacts/{first['id']}", {"custom": {"member_no": "AB-3"}}).status_code == 200
    # a non-unique property's values may repeat
    assert contact(client, note="same").status_code == 201
    assert contact(client, note="same").status_code == 201

    # another tenant's records are its own: the same value is free there
    define(other, MEMBER)
    assert contact(other, member_no="AB-1").status_code == 201

    # one all-or-none batch cannot claim a value twice; one that is not gives each input its answer
    inputs = [{"email": f"b{n}@unique.example", "custom": {"member_no": "batch-1"}} for n in range(2)]
    atomic = client.post("/v1/contacts/batch/create", {"inputs": inputs}, params={"all_or_none": "true"})
    assert "inputs[1].custom.member_no" in named(atomic)
    one_by_one = client.post("/v1/contacts/batch/create", {"inputs": inputs}).json()["results"]
    assert sorted(result["status"] for result in one_by_one) == [201, 409], one_by_one
    # an upsert whose unique custom value is taken is refused, never turned into an update of its holder
    upsert = {"email": "upsert@unique.example", "custom": {"member_no": "AB-3"}}
    result = client.post("/v1/contacts/batch/upsert", {"inputs": [upsert]}).json()["results"][0]
    assert result["status"] == 409 and result["error"]["existing_id"] == first["id"], result
    assert client.get(f"/v1/contacts/{first['id']}").json()["email"] != "upsert@unique.example"


def test_unique_is_set_at_creation_for_scalar_types_and_may_be_turned_off(client: ApiClient) -> None:
    for kind, extra in (("boolean", {}), ("enum", {"options": [{"value": "a", "label": "A"}]})):
        body = {"name": f"u_{kind}", "label": kind, "type": kind, "unique": True, **extra}
        assert named(client.post("/v1/properties/contacts", body)) == ["unique"], kind
    define(client, {"name": "code", "label": "Code", "type": "date", "unique": True}, "companies")
    define(client, {"name": "later", "label": "Later", "type": "string"})
    refused = client.patch("/v1/properties/contacts/later", {"unique": True})
    assert named(refused) == ["unique"]
    assert "existing records may already share values" in refused.json()["errors"][0]["message"]

    # companies' unique dates
    first = client.post("/v1/companies", {"name": "One", "custom": {"code": "2026-01-02"}})
    assert first.status_code == 201, first.text
    taken(
        client.post("/v1/companies", {"name": "Two", "custom": {"code": "2026-01-02"}}),
        "custom.code",
        first.json()["id"],
    )

    # turned off: values may repeat from then on; turning it on again is refused
    define(client, MEMBER)
    holder = contact(client, member_no="X-1").json()
    assert client.patch("/v1/properties/contacts/member_no", {"unique": True}).status_code == 200  # as it is
    off = client.patch("/v1/properties/contacts/member_no", {"unique": False})
    assert off.status_code == 200 and off.json()["unique"] is False
    assert contact(client, member_no="x-1").status_code == 201
    assert named(client.patch("/v1/properties/contacts/member_no", {"unique": True})) == ["unique"]
    # the holder's value changes freely (its marker deleted on the way), and is erased
    assert client.patch(f"/v1/contacts/{holder['id']}", {"custom": {"member_no": "X-2"}}).status_code == 200
    assert client.post(f"/v1/privacy/contacts/{holder['id']}/erase").status_code == 200


def test_twenty_concurrent_creates_of_one_value_make_one(client: ApiClient) -> None:
    define(client, MEMBER)
    statuses: list[int] = []
    ids: list[str] = []
    barrier = threading.Barrier(20)

    def attempt(n: int) -> None:
        barrier.wait()
        response = contact(client, member_no=f"Race-{'X' if n % 2 else 'x'}")
        statuses.append(response.status_code)
        ids.append(response.json().get("id") or response.json().get("existing_id"))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 19, statuses
    assert len(set(ids)) == 1  # every 409 names the one that was made
    holders = [c for c in client.all_pages("/v1/contacts") if (c.get("custom") or {}).get("member_no")]
    assert [c["id"] for c in holders] == ids[:1]


def test_archive_keeps_merge_moves_and_erasure_releases_the_values(client: ApiClient) -> None:
    define(client, MEMBER)
    # archived: the value stays taken (restorable), as an archived contact's email
    archived = contact(client, member_no="A-1").json()
    assert client.delete(f"/v1/contacts/{archived['id']}").status_code == 204
    taken(contact(client, member_no="a-1"), "custom.member_no", archived["id"])

    # merge: the survivor without a value takes the duplicate's, and the value leads to it
    survivor = contact(client).json()
    duplicate = contact(client, member_no="M-1").json()
    merged = client.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["custom"]["member_no"] == "M-1"
    taken(contact(client, member_no="m-1"), "custom.member_no", survivor["id"])
    # the merged duplicate's erasure leaves what is the survivor's now (its email's marker too)
    assert client.post(f"/v1/privacy/contacts/{duplicate['id']}/erase").status_code == 200
    taken(contact(client, member_no="m-1"), "custom.member_no", survivor["id"])
    taken(client.post("/v1/contacts", {"email": duplicate["email"]}), "email", survivor["id"])
    # ... and gives it up as its own when it changes it
    assert client.patch(f"/v1/contacts/{survivor['id']}", {"custom": {"member_no": "M-9"}}).status_code == 200
    assert contact(client, member_no="m-1").status_code == 201

    # a survivor with its own value keeps it; the duplicate's then leads to the survivor too
    keeper = contact(client, member_no="K-1").json()
    other_dup = contact(client, member_no="K-2").json()
    merged = client.post(f"/v1/contacts/{keeper['id']}/merge", {"duplicate_id": other_dup["id"]})
    assert merged.status_code == 200 and merged.json()["custom"]["member_no"] == "K-1", merged.text
    taken(contact(client, member_no="k-2"), "custom.member_no", keeper["id"])
    taken(contact(client, member_no="k-1"), "custom.member_no", keeper["id"])

    # erasure releases the person's values
    erased = contact(client, member_no="E-1").json()
    assert client.post(f"/v1/privacy/contacts/{erased['id']}/erase").status_code == 200
    assert contact(client, member_no="e-1").status_code == 201
