"""Segments over HTTP: members as an independent reading of the same data selects them, validation that
names the bad part of a filter, tenant isolation, and reads that never Scan and grow with the tenant's own
contacts (docs/decisions/0019-segment-evaluation.md)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from crm_core.services.records import normalize_text

from crm_local import moto_speed
from tests.support.client import ApiClient

STAGES = ["subscriber", "lead", "mql", "customer"]
TAGS = ["vip", "newsletter", "partner"]


@dataclass
class Reads:
    """The DynamoDB calls made for one tenant while counting, and the items (keys or records) they read."""

    tenant_id: str
    calls: dict[str, int] = field(default_factory=dict)
    items: int = 0


@contextmanager
def reads_of(tenant_id: str) -> Iterator[Reads]:
    """Counts the DynamoDB calls the in-process handlers make for ``tenant_id``, through any client (a
    request's are its tenant's own: crm_core.tenant_access)."""
    counted = Reads(tenant_id)
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        answer = original(client, operation, params)
        if client.meta.service_model.service_name == "dynamodb" and tenant_id in json.dumps(
            params, default=str
        ):
            with lock:
                counted.calls[operation] = counted.calls.get(operation, 0) + 1
                if operation in ("Query", "Scan"):
                    counted.items += len(answer.get("Items", []))
                elif operation == "BatchGetItem":
                    counted.items += sum(len(items) for items in answer.get("Responses", {}).values())
        return answer

    scans = sum(n for (_, kind), n in moto_speed.reads.items() if kind.startswith("scan"))
    BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
        counted.calls["moto scans"] = (
            sum(n for (_, kind), n in moto_speed.reads.items() if kind.startswith("scan")) - scans
        )


def define(client: ApiClient) -> None:
    for body in (
        {
            "name": "tier",
            "label": "Tier",
            "type": "enum",
            "options": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
        },
        {"name": "score", "label": "Score", "type": "number"},
        {"name": "since", "label": "Customer since", "type": "date"},
    ):
        response = client.post("/v1/properties/contacts", body)
        assert response.status_code == 201, response.text


def mixed_contacts(
    client: ApiClient, companies: list[dict[str, Any]], n: int, batch: int = 0
) -> list[dict[str, Any]]:
    chance = random.Random(15 + batch)
    inputs = []
    for i in range(n):
        custom: dict[str, Any] = {}
        if chance.random() < 0.6:
            custom["tier"] = chance.choice(["gold", "silver"])
        if chance.random() < 0.7:
            custom["score"] = chance.choice([10, 49.5, 50, 51, 80])
        if chance.random() < 0.5:
            custom["since"] = chance.choice(["2024-01-05", "2025-06-30", "2026-02-01"])
        body: dict[str, Any] = {
            "email": f"p{batch}-{i}@{chance.choice(['example.com', 'Example.org', 'mail.test'])}",
            "first_name": chance.choice(["Ada", "Émile", "grace", None]),
            "lifecycle_stage": chance.choice([*STAGES, None]),
            "tags": chance.sample(TAGS, chance.randint(0, 2)),
            "consent": {"email": chance.choice(["granted", "denied", "unknown"])},
            "custom": custom,
        }
        company = chance.choice([*companies, None])
        if company is not None:
            body["company_id"] = company["id"]
        inputs.append({k: v for k, v in body.items() if v is not None})
    response = client.post("/v1/contacts/batch/create", {"inputs": inputs})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all(result["status"] == 201 for result in results), results
    return [result["record"] for result in results]


def members(client: ApiClient, segment_id: str, limit: int) -> list[dict[str, Any]]:
    return client.all_pages(f"/v1/segments/{segment_id}/members", {"limit": limit})


def test_members_are_exactly_what_the_filter_selects_and_reads_stay_in_the_tenant(
    client: ApiClient, other: ApiClient
) -> None:
    define(client)
    companies = [
        client.create("companies", {"name": "Engines", "industry": "Manufacturing", "employees": 500}),
        client.create("companies", {"name": "Shop", "industry": "Retail", "employees": 20}),
    ]
    contacts = mixed_contacts(client, companies, 60)
    archived = contacts.pop(0)
    assert client.delete(f"/v1/contacts/{archived['id']}").status_code == 204
    industry = {c["id"]: c["industry"] for c in companies}

    def tier(c: dict[str, Any]) -> Any:
        return c["custom"].get("tier")

    def score(c: dict[str, Any]) -> Any:
        return c["custom"].get("score")

    cases: list[tuple[dict[str, Any], Any]] = [
        (  # OR of ANDs over a stage (indexed), a company field, custom properties and tags (indexed)
            {
                "any": [
                    {
                        "all": [
                            {"property": "lifecycle_stage", "operator": "in", "value": ["lead", "customer"]},
                            {"property": "company.industry", "operator": "eq", "value": "manufacturing"},
                            {"property": "custom.tier", "operator": "neq", "value": "silver"},
                        ]
                    },
                    {
                        "all": [
                            {"property": "tags", "operator": "contains", "value": "VIP"},
                            {"property": "custom.score", "operator": "gt", "value": 50},
                        ]
                    },
                ]
            },
            lambda c: (
                (
                    c["lifecycle_stage"] in ("lead", "customer")
                    and industry.get(c["company_id"]) == "Manufacturing"
                    and tier(c) != "silver"
                )
                or ("vip" in c["tags"] and score(c) is not None and score(c) > 50)
            ),
        ),
        (  # no indexed condition: the tenant's list, filtered in code
            {
                "any": [
                    {
                        "all": [
                            {"property": "email", "operator": "contains", "value": "EXAMPLE"},
                            {"property": "consent.email", "operator": "eq", "value": "granted"},
                            {"property": "custom.since", "operator": "before", "value": "2026-01-01"},
                        ]
                    },
                    {
                        "all": [
                            {"property": "first_name", "operator": "eq", "value": "emile"},
                            {"property": "custom.score", "operator": "lt", "value": 50},
                            {"property": "company.employees", "operator": "exists", "value": False},
                        ]
                    },
                ]
            },
            lambda c: (
                (
                    "example" in c["email"].lower()
                    and c["consent"]["email"] == "granted"
                    and (c["custom"].get("since") or "9999") < "2026-01-01"
                )
                or (
                    normalize_text(c["first_name"] or "") == "emile"
                    and score(c) is not None
                    and score(c) < 50
                    and not c.get("company_id")
                )
            ),
        ),
        (  # the owner's index, and a tag's absence
            {
                "any": [
                    {
                        "all": [
                            {"property": "owner_id", "operator": "eq", "value": client.user_id},
                            {"property": "tags", "operator": "neq", "value": "newsletter"},
                            {"property": "custom.tier", "operator": "in", "value": ["gold"]},
                        ]
                    }
                ]
            },
            lambda c: "newsletter" not in c["tags"] and tier(c) == "gold",
        ),
    ]
    define(other)
    for batch in range(3):  # noise: another tenant's contacts, which no evaluation may read
        mixed_contacts(other, [], 30, batch)
    first = ""
    for number, (raw_filter, selects) in enumerate(cases):
        segment = client.create("segments", {"name": f"Case {number}", "filter": raw_filter})
        expected = sorted(c["id"] for c in contacts if selects(c))
        assert expected, f"case {number} selects nobody: make the data select someone"
        with reads_of(client.tenant_id) as reads:
            found = members(client, segment["id"], 7)
        ids = [one["id"] for one in found]
        assert ids == expected, (number, sorted(set(ids) ^ set(expected)))
        assert archived["id"] not in ids
        assert found[0] == next(c for c in contacts if c["id"] == ids[0])  # contacts as the API shows them
        # No Scan, and what was read grows with this tenant's contacts (60, plus 2 companies), not the table's
        assert reads.calls.get("Query", 0) > 0 and reads.items > 0, reads.calls  # the counting sees them
        assert reads.calls.get("Scan", 0) == 0 and reads.calls["moto scans"] == 0, reads.calls
        pages = -(-len(expected) // 7) + 1
        assert reads.items <= 3 * (len(contacts) + 2) + 10 * pages, (number, reads.items, reads.calls)
        counted = client.get(f"/v1/segments/{segment['id']}/members", params={"count": "true", "limit": 1})
        assert counted.json()["total"] == len(expected)
        preview = client.post("/v1/segments/preview", {"filter": raw_filter, "limit": 3}).json()
        assert preview["count"] == len(expected) and [m["id"] for m in preview["items"]] == expected[:3]
        # a cursor of another segment's members is refused
        page = client.get(f"/v1/segments/{segment['id']}/members", params={"limit": 1}).json()
        if number:
            foreign = client.get(f"/v1/segments/{first}/members", params={"cursor": page["next_cursor"]})
            assert foreign.status_code == 400, foreign.text
        first = first if number else segment["id"]
        # another tenant's ids are 404 everywhere
        assert other.get(f"/v1/segments/{segment['id']}").status_code == 404
        assert other.get(f"/v1/segments/{segment['id']}/members").status_code == 404
        assert other.patch(f"/v1/segments/{segment['id']}", {"name": "x"}).status_code == 404
    assert client.delete(f"/v1/segments/{first}").status_code == 204  # archived: its members are not listed
    assert client.get(f"/v1/segments/{first}/members").status_code == 404


def test_a_filter_is_checked_against_the_properties_and_named_where_it_is_wrong(client: ApiClient) -> None:
    define(client)

    def refused(raw_filter: Any) -> list[str]:
        response = client.post("/v1/segments", {"name": "Bad", "filter": raw_filter})
        assert response.status_code == 422, response.text
        return [error["field"] for error in response.json()["errors"]]

    def group(*conditions: tuple[str, str, Any]) -> dict[str, Any]:
        return {"all": [{"property": p, "operator": o, "value": v} for p, o, v in conditions]}

    ok = ("lifecycle_stage", "eq", "lead")
    assert refused({"any": [group(ok, ("custom.score", "gt", "ten"))]}) == ["filter.any[0].all[1].value"]
    bronze = ("custom.tier", "eq", "bronze")
    assert refused({"any": [group(ok), group(bronze)]}) == ["filter.any[1].all[0].value"]
    assert refused({"any": [group(("custom.nope", "eq", "x"))]}) == ["filter.any[0].all[0].property"]
    assert refused({"any": [group(("tags", "gt", 3))]}) == ["filter.any[0].all[0].operator"]
    assert refused({"any": [group(("lifecycle_stage", "in", "lead"))]}) == ["filter.any[0].all[0].value"]
    assert refused({"any": [group(("created_at", "after", "yesterday"))]}) == ["filter.any[0].all[0].value"]
    assert refused({"any": [group(("owner_id", "eq", "me"))]}) == ["filter.any[0].all[0].value"]
    assert refused({"any": [group(ok)] * 6}) == ["filter.any"]
    assert refused({"any": [group(*[ok] * 11)]}) == ["filter.any[0].all"]
    assert refused({"any": [group(("email", "like", "x"))]}) == ["filter.any[0].all[0].operator"]
    assert client.get("/v1/segments").json()["items"] == []  # nothing was written

    segment = client.create("segments", {"name": "Leads", "filter": {"any": [group(ok)]}})
    changed = {"filter": {"any": [group(("custom.score", "eq", True))]}}
    bad = client.patch(f"/v1/segments/{segment['id']}", changed)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "filter.any[0].all[0].value"
    properties = {p["property"]: p for p in client.get("/v1/segments/properties").json()["items"]}
    assert properties["custom.tier"]["options"] == ["gold", "silver"]
    assert properties["custom.score"]["operators"] == ["eq", "neq", "gt", "lt", "in", "exists"]
    assert properties["company.industry"]["type"] == "string"
