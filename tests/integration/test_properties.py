"""Custom properties (issue 14, docs/decisions/0012): definitions under /v1/properties/{object}, and every
write of a contact, company or deal validated against the definitions in force."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from crm_core.auth import Role
from crm_core.repositories import property_schema_repository

from tests.support.client import ApiClient
from tests.support.roles import clients_by_role
from tests.support.waiting import eventually

TIER = {
    "name": "tier",
    "label": "Tier",
    "type": "enum",
    "options": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
}


def define(client: ApiClient, object_name: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v1/properties/{object_name}", body)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def fields_named(response: requests.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


_serial = iter(range(1_000_000))


def new_contact(client: ApiClient, custom: dict[str, Any] | None = None) -> requests.Response:
    body: dict[str, Any] = {"email": f"person{next(_serial)}@props.example"}
    if custom is not None:
        body["custom"] = custom
    return client.post("/v1/contacts", body)


# ------------------------------------------------------------------------------------------- definitions


def test_a_definition_is_listed_read_changed_archived_and_restored(client: ApiClient) -> None:
    tier = define(client, "contacts", {**TIER, "description": "Support tier"})
    assert {k: tier[k] for k in ("object", "name", "type", "required")} == {
        "object": "contacts",
        "name": "tier",
        "type": "enum",
        "required": False,
    }
    read = client.get("/v1/properties/contacts/tier")
    assert read.status_code == 200 and read.json() == tier
    assert read.headers["ETag"] == f'"{tier["version"]}"'
    assert [p["name"] for p in client.get("/v1/properties/contacts").json()["items"]] == ["tier"]
    assert client.get("/v1/properties/companies").json()["items"] == []  # per object

    stale = client.patch("/v1/properties/contacts/tier", {"label": "Old"}, headers={"If-Match": '"9"'})
    assert stale.status_code == 412
    changed = client.patch(
        "/v1/properties/contacts/tier",
        {"label": "Support tier"},
        headers={"If-Match": f'"{tier["version"]}"'},
    )
    assert changed.status_code == 200 and changed.json()["label"] == "Support tier"

    assert client.delete("/v1/properties/contacts/tier").status_code == 204
    assert client.get("/v1/properties/contacts/tier").status_code == 404
    assert client.get("/v1/properties/contacts/tier", params={"archived": "true"}).json()["archived"]
    assert [
        p["name"] for p in client.get("/v1/properties/contacts", params={"archived": "true"}).json()["items"]
    ] == ["tier"]
    restored = client.post("/v1/properties/contacts/tier/restore")
    assert restored.status_code == 200 and restored.json()["archived"] is False

    def audited() -> set[str]:
        trail = client.get("/v1/audit-events", params={"object_id": tier["id"]}).json()["items"]
        actions = {item["action"] for item in trail}
        wanted = {"property.created", "property.updated", "property.archived", "property.restored"}
        return actions if wanted <= actions else set()

    assert eventually(audited), "the audit trail names each change of the setting"


def test_the_rules_of_a_definition(client: ApiClient) -> None:
    define(client, "deals", {"name": "region", "label": "Region", "type": "string"})
    taken = client.post("/v1/properties/deals", {"name": "region", "label": "Again", "type": "number"})
    assert taken.status_code == 409 and taken.json()["existing_id"]
    # the same name of another object is another property
    define(client, "companies", {"name": "region", "label": "Region", "type": "string"})
    for body, field in (
        ({"name": "Region", "label": "x", "type": "string"}, "name"),
        ({"name": "1st", "label": "x", "type": "string"}, "name"),
        ({"name": "a" * 41, "label": "x", "type": "string"}, "name"),
        ({"name": "ok", "label": "x", "type": "colour"}, "type"),
        ({"name": "ok", "label": "x", "type": "enum", "options": []}, "options"),
        ({"name": "ok", "label": "x", "type": "enum"}, "options"),
        (
            {"name": "ok", "label": "x", "type": "string", "options": [{"value": "a", "label": "A"}]},
            "options",
        ),
    ):
        refused = client.post("/v1/properties/deals", body)
        assert refused.status_code == 422, (body, refused.text)
        assert any(e["field"].startswith(field) for e in refused.json()["errors"]), (body, refused.text)
    assert (
        client.post("/v1/properties/campaigns", {"name": "x", "label": "x", "type": "string"}).status_code
        == 422
    )
    for fixed in ({"type": "number"}, {"name": "area"}):
        refused = client.patch("/v1/properties/deals/region", fixed)
        assert fields_named(refused) == list(fixed), refused.text
    refused = client.patch("/v1/properties/deals/region", {"options": [{"value": "a", "label": "A"}]})
    assert fields_named(refused) == ["options"]
    define(client, "deals", {**TIER})
    assert fields_named(client.patch("/v1/properties/deals/tier", {"options": []})) == ["options"]


def test_concurrent_definitions_of_one_name_make_one(client: ApiClient) -> None:
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def attempt(n: int) -> None:
        barrier.wait()
        body = {"name": "score", "label": f"Score {n}", "type": "number"}
        statuses.append(client.post("/v1/properties/contacts", body).status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5, statuses
    assert [p["name"] for p in client.get("/v1/properties/contacts").json()["items"]] == ["score"]


# ----------------------------------------------------------------------------------------- validation

TYPES = [
    ("string", ["text", ""], [1, True, ["a"]]),
    ("number", [1, 2.5, -3], ["1", True, [1]]),
    ("boolean", [True, False], ["true", 0, 1]),
    ("date", ["2026-11-27"], ["2026-13-01", "27/11/2026", "2026-02-30", 20261127]),
    ("enum", ["gold"], ["iron", ["gold"], 1]),
    ("multi_enum", [["gold"], ["gold", "silver"], []], ["gold", ["iron"], ["gold", "gold"]]),
]


@pytest.mark.parametrize(("kind", "valid", "invalid"), TYPES, ids=[t[0] for t in TYPES])
def test_each_type_takes_its_values_and_refuses_others(
    client: ApiClient, kind: str, valid: list[Any], invalid: list[Any]
) -> None:
    body: dict[str, Any] = {"name": "value", "label": "Value", "type": kind}
    if kind in ("enum", "multi_enum"):
        body["options"] = TIER["options"]
    define(client, "contacts", body)
    for value in valid:
        created = new_contact(client, {"value": value})
        assert created.status_code == 201, (value, created.text)
        stored = created.json()["custom"]
        assert stored == {"value": value}, stored
    contact = new_contact(client).json()
    for value in invalid:
        # (a value no custom property can hold, as [1], is refused by the body's model: named as one of
        # the shapes it is not, under custom.value)
        refused = new_contact(client, {"value": value})
        assert fields_named(refused) and all(f.startswith("custom.value") for f in fields_named(refused)), (
            value
        )
        refused = client.patch(f"/v1/contacts/{contact['id']}", {"custom": {"value": value}})
        assert fields_named(refused) and all(f.startswith("custom.value") for f in fields_named(refused)), (
            value
        )
    assert client.get(f"/v1/contacts/{contact['id']}").json()["version"] == contact["version"]


def test_undefined_and_required_properties(client: ApiClient) -> None:
    before = new_contact(client, {}).json()  # made before the property is required
    undefined = new_contact(client, {"nickname": "Bo"})
    assert fields_named(undefined) == ["custom.nickname"]
    define(client, "contacts", {"name": "segment", "label": "Segment", "type": "string", "required": True})
    assert fields_named(new_contact(client)) == ["custom.segment"]
    assert fields_named(new_contact(client, {"segment": None})) == ["custom.segment"]
    created = new_contact(client, {"segment": "smb"})
    assert created.status_code == 201
    record = created.json()
    for clearing in ({"custom": {"segment": None}}, {"custom": None}):
        refused = client.patch(f"/v1/contacts/{record['id']}", clearing)
        assert fields_named(refused) == ["custom.segment"], clearing
    # a change that leaves it alone is fine, and so is a record made before it was required
    assert client.patch(f"/v1/contacts/{record['id']}", {"title": "CEO"}).status_code == 200
    assert client.patch(f"/v1/contacts/{before['id']}", {"title": "CFO"}).status_code == 200
    # null removes an undefined key that is not there: nothing to validate
    assert client.patch(f"/v1/contacts/{before['id']}", {"custom": {"nickname": None}}).status_code == 200


def test_a_lead_is_taken_without_the_required_properties_it_cannot_know(client: ApiClient) -> None:
    define(client, "contacts", {"name": "region", "label": "Region", "type": "string", "required": True})
    assert fields_named(new_contact(client)) == ["custom.region"]  # a user's write must carry it
    lead = client.post("/v1/inbound/leads", {"email": "form-lead@props.example", "first_name": "Lee"})
    assert lead.status_code == 201, lead.text
    contact = lead.json()["contact"]
    assert "region" not in (contact.get("custom") or {})
    again = client.post("/v1/inbound/leads", {"email": "form-lead@props.example", "last_name": "Ray"})
    assert again.status_code == 200, again.text
    # the contact's next change by a user is held to the rule only for what it changes
    assert client.patch(f"/v1/contacts/{contact['id']}", {"title": "CTO"}).status_code == 200


def test_patch_merges_custom_key_by_key(client: ApiClient) -> None:
    for name, kind in (("a", "string"), ("b", "number"), ("c", "boolean")):
        define(client, "companies", {"name": name, "label": name, "type": kind})
    company = client.create("companies", {"name": "Acme", "custom": {"a": "x", "b": 1}})
    path = f"/v1/companies/{company['id']}"
    assert client.patch(path, {"custom": {"c": True}}).json()["custom"] == {"a": "x", "b": 1, "c": True}
    assert client.patch(path, {"custom": {"b": None, "a": "y"}}).json()["custom"] == {"a": "y", "c": True}
    assert client.patch(path, {"custom": {}}).status_code == 200
    assert client.get(path).json()["custom"] == {"a": "y", "c": True}
    assert client.patch(path, {"custom": None}).json()["custom"] == {}


def test_a_property_just_created_is_enforced_on_the_next_write(client: ApiClient) -> None:
    for n in range(3):
        name = f"p{n}"
        assert fields_named(new_contact(client, {name: 5})) == [f"custom.{name}"]
        define(client, "contacts", {"name": name, "label": name, "type": "string"})
        assert fields_named(new_contact(client, {name: 5})) == [f"custom.{name}"]  # a number, not a string
        assert new_contact(client, {name: "five"}).status_code == 201


def test_changed_or_archived_definitions_leave_stored_values(client: ApiClient) -> None:
    define(client, "contacts", TIER)
    define(client, "contacts", {"name": "notes", "label": "Notes", "type": "string"})
    contact = new_contact(client, {"tier": "silver", "notes": "keep"}).json()
    path = f"/v1/contacts/{contact['id']}"
    client.patch("/v1/properties/contacts/tier", {"options": [TIER["options"][0]]})
    assert client.delete("/v1/properties/contacts/notes").status_code == 204
    assert client.get(path).json()["custom"] == {"tier": "silver", "notes": "keep"}
    # other changes keep them; sending them anew is validated against the definitions now in force
    assert client.patch(path, {"title": "CTO"}).json()["custom"] == {"tier": "silver", "notes": "keep"}
    assert fields_named(client.patch(path, {"custom": {"notes": "new"}})) == ["custom.notes"]
    assert fields_named(new_contact(client, {"tier": "silver"})) == ["custom.tier"]
    # an archived name is still taken, and its property can be restored
    assert (
        client.post("/v1/properties/contacts", {"name": "notes", "label": "x", "type": "number"}).status_code
        == 409
    )
    assert client.post("/v1/properties/contacts/notes/restore").status_code == 200
    assert client.patch(path, {"custom": {"notes": "new"}}).json()["custom"]["notes"] == "new"


def test_batches_and_merges_are_validated(client: ApiClient) -> None:
    define(client, "deals", {"name": "source", "label": "Source", "type": "enum", "options": TIER["options"]})
    pipeline = client.get("/v1/pipelines").json()["items"][0]
    deal = {"name": "Deal", "pipeline_id": pipeline["id"], "stage_id": pipeline["stages"][0]["id"]}
    answer = client.post(
        "/v1/deals/batch/create",
        {"inputs": [{**deal, "custom": {"source": "gold"}}, {**deal, "custom": {"source": "iron"}}]},
    )
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [201, 422]
    assert [e["field"] for e in results[1]["error"]["errors"]] == ["inputs[1].custom.source"]
    atomic = client.post(
        "/v1/deals/batch/create",
        {"inputs": [{**deal, "custom": {"source": "gold"}}, {**deal, "custom": {"nope": 1}}]},
        params={"all_or_none": "true"},
    )
    assert fields_named(atomic) == ["inputs[1].custom.nope"]
    many = client.post(
        "/v1/deals/batch/create",
        {"inputs": [{**deal, "custom": {"source": "silver"}}] * 3},
        params={"all_or_none": "true"},
    )
    assert many.status_code == 200, many.text  # one condition check of the schema for all of them

    define(client, "contacts", TIER)
    survivor = new_contact(client).json()
    duplicate = new_contact(client, {"tier": "silver"}).json()
    merged = client.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200 and merged.json()["custom"] == {"tier": "silver"}
    # a value no longer defined is refused when a merge would give it to the survivor
    other = new_contact(client, {"tier": "gold"}).json()
    survivor = new_contact(client).json()
    client.patch("/v1/properties/contacts/tier", {"options": [TIER["options"][1]]})
    merged = client.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": other["id"]})
    assert fields_named(merged) == ["custom.tier"]


def test_definitions_changed_at_once_are_all_kept(client: ApiClient) -> None:
    """Each definition's write conditions the object's schema item on the revision it read: of concurrent
    changes, the ones that lose are prepared again from a fresh read, none lost (every one is enforced)."""
    define(client, "contacts", TIER)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def change(n: int) -> None:
        barrier.wait()
        if n == 0:
            response = client.patch("/v1/properties/contacts/tier", {"options": [TIER["options"][0]]})
        else:
            body = {"name": f"at_once_{n}", "label": f"At once {n}", "type": "number"}
            response = client.post("/v1/properties/contacts", body)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=change, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 201, 201, 201, 201, 201], statuses
    schema = property_schema_repository.read_schema(client.tenant_id, "contacts")
    assert schema.revision == 7  # the first definition, then six changes, each its own revision
    assert sorted(schema.active()) == [
        "at_once_1",
        "at_once_2",
        "at_once_3",
        "at_once_4",
        "at_once_5",
        "tier",
    ]
    sent = {f"at_once_{n}": "many" for n in range(1, 6)}
    refused = new_contact(client, {**sent, "tier": "silver"})
    assert fields_named(refused) == sorted(f"custom.{name}" for name in [*sent, "tier"])
    sent = {f"at_once_{n}": n for n in range(1, 6)}
    assert new_contact(client, {**sent, "tier": "gold"}).status_code == 201


# ----------------------------------------------------------------------------------- tenants and roles


def test_another_tenant_cannot_read_change_or_detect_properties(client: ApiClient, other: ApiClient) -> None:
    define(client, "contacts", TIER)
    for method, path, body in (
        ("GET", "/v1/properties/contacts/{}", None),
        ("PATCH", "/v1/properties/contacts/{}", {"label": "Mine"}),
        ("DELETE", "/v1/properties/contacts/{}", None),
        ("POST", "/v1/properties/contacts/{}/restore", None),
    ):
        kwargs = {"json_body": body} if body is not None else {}
        foreign = other.request(method, path.format("tier"), **kwargs)
        missing = other.request(method, path.format("never"), **kwargs)
        assert foreign.status_code == 404, (method, foreign.text)
        assert foreign.json()["detail"].replace("tier", "<n>") == missing.json()["detail"].replace(
            "never", "<n>"
        )
        assert "ETag" not in foreign.headers
    assert other.get("/v1/properties/contacts").json()["items"] == []
    # its definitions do not validate the other tenant's writes, nor are they validated by the other's
    assert fields_named(new_contact(other, {"tier": "gold"})) == ["custom.tier"]
    define(other, "contacts", {"name": "tier", "label": "Tier", "type": "number"})
    assert new_contact(other, {"tier": 3}).status_code == 201
    assert new_contact(client, {"tier": "gold"}).status_code == 201
    assert client.get("/v1/properties/contacts/tier").json()["label"] == "Tier"
    assert client.get("/v1/properties/contacts/tier").json()["type"] == "enum"


def test_only_an_admin_changes_properties_and_every_role_reads_them(client: ApiClient) -> None:
    define(client, "contacts", TIER)
    users = clients_by_role(client)
    for role, caller in users.items():
        assert caller.get("/v1/properties/contacts").status_code == 200, role
        assert caller.get("/v1/properties/contacts/tier").status_code == 200, role
        if role is Role.ADMIN:
            continue
        body = {"name": f"by_{role.value}", "label": "x", "type": "string"}
        refused = caller.post("/v1/properties/contacts", body)
        assert refused.status_code == 403, role
        assert refused.json()["detail"] == "Only an admin can change properties.", role
        assert caller.patch("/v1/properties/contacts/tier", {"label": "x"}).status_code == 403, role
        assert caller.delete("/v1/properties/contacts/tier").status_code == 403, role
        assert caller.post("/v1/properties/contacts/tier/restore").status_code == 403, role
    assert [p["name"] for p in client.get("/v1/properties/contacts").json()["items"]] == ["tier"]
    assert client.get("/v1/properties/contacts/tier").json()["version"] == 1


# ------------------------------------------------------------------------------------------- filters


def test_lists_filter_by_custom_properties(client: ApiClient, other: ApiClient) -> None:
    define(client, "contacts", TIER)
    define(client, "contacts", {"name": "score", "label": "Score", "type": "number"})
    define(client, "contacts", {"name": "vip", "label": "VIP", "type": "boolean"})
    define(client, "contacts", {**TIER, "name": "regions", "type": "multi_enum"})
    made = [
        new_contact(client, custom).json()["id"]
        for custom in (
            {"tier": "gold", "score": 3, "vip": True, "regions": ["gold", "silver"]},
            {"tier": "silver", "score": 3.5, "vip": False, "regions": ["silver"]},
            {"tier": "gold", "score": 7},
            {},
        )
    ]

    def listed(**query: str) -> list[str]:
        return [c["id"] for c in client.all_pages("/v1/contacts", {"limit": 1, **query})]

    assert listed(**{"custom.tier": "gold"}) == [made[0], made[2]]
    assert listed(**{"custom.score": "3"}) == [made[0]]
    assert listed(**{"custom.score": "3.5"}) == [made[1]]
    assert listed(**{"custom.vip": "false"}) == [made[1]]
    assert listed(**{"custom.regions": "silver"}) == [made[0], made[1]]
    assert listed(**{"custom.tier": "gold", "custom.score": "7"}) == [made[2]]
    page = client.get("/v1/contacts", params={"custom.tier": "gold"}).json()
    assert page["total"] is None  # a filtered list has no total
    for query, field in (
        ({"custom.nope": "x"}, "custom.nope"),
        ({"custom.tier": "iron"}, "custom.tier"),
        ({"custom.score": "many"}, "custom.score"),
        ({"custom.vip": "yes"}, "custom.vip"),
    ):
        assert fields_named(client.get("/v1/contacts", params=query)) == [field], query
    # a list of records without custom properties takes no such filter
    assert fields_named(client.get("/v1/activities", params={"custom.tier": "gold"})) == ["custom.tier"]
    # another tenant's definitions are not its own: the name is undefined there, as a never-defined one
    foreign = other.get("/v1/contacts", params={"custom.tier": "gold"})
    never = other.get("/v1/contacts", params={"custom.never": "gold"})
    assert fields_named(foreign) == ["custom.tier"]
    assert foreign.json()["errors"][0]["message"] == never.json()["errors"][0]["message"]
