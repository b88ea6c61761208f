"""A merge is all or nothing: one that fails moves nothing, and of concurrent merges of one record exactly
one wins, with every record linked to the duplicate ending on the winner."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from crm_core.auth import Principal, Role
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.services.contacts import CONTACTS

from tests.support.client import ApiClient
from tests.support.properties import define_properties
from tests.support.waiting import eventually


def linked_to(client: ApiClient, contact_id: str) -> tuple[set[str], set[str]]:
    activities = {a["id"] for a in client.all_pages("/v1/activities", {"contact_id": contact_id})}
    deals = {d["id"] for d in client.all_pages("/v1/deals") if contact_id in d["contact_ids"]}
    return activities, deals


def test_a_merge_that_fails_moves_nothing(client: ApiClient) -> None:
    """The survivor would take the duplicate's custom properties and outgrow a record's size: the merge is
    refused before anything is written, and the duplicate keeps its activity and its deal."""
    define_properties(client, "contacts", {name: "string" for name in ["a", *(f"b{n}" for n in range(6))]})
    survivor = client.create("contacts", {"email": "keep@atomic.example", "custom": {"a": "x" * 9_900}})
    duplicate = client.create(
        "contacts",
        {"email": "fold@atomic.example", "custom": {f"b{n}": "y" * 9_900 for n in range(6)}},
    )
    note = client.create("activities", {"type": "note", "subject": "Hers", "contact_id": duplicate["id"]})
    deal = client.create("deals", {"name": "Hers", "contact_ids": [duplicate["id"]]})

    response = client.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert response.status_code == 422, response.text[:300]
    assert linked_to(client, duplicate["id"]) == ({note["id"]}, {deal["id"]})
    assert client.get(f"/v1/activities/{note['id']}").json()["version"] == 1
    for record in (survivor, duplicate):
        now = client.get(f"/v1/contacts/{record['id']}").json()
        assert now["version"] == 1 and now["merged_into"] is None


@pytest.mark.parametrize("trial", range(3))
def test_of_concurrent_merges_of_one_duplicate_exactly_one_wins(client: ApiClient, trial: int) -> None:
    survivors = [client.create("contacts", {"email": f"s{n}-{trial}@atomic.example"}) for n in range(4)]
    duplicate = client.create("contacts", {"email": f"dup-{trial}@atomic.example", "first_name": "Dup"})
    notes = {
        client.create("activities", {"type": "note", "subject": f"n{n}", "contact_id": duplicate["id"]})["id"]
        for n in range(2)
    }
    deal = client.create("deals", {"name": "Shared", "contact_ids": [duplicate["id"]]})

    # The local gateway serves one request of a function at a time (one Lambda environment); the race of
    # several environments is made by calling the service from threads, against the same table.
    ctx = RequestContext(Principal(client.tenant_id, client.user_id, Role.ADMIN, "api_key", "test"))

    def merge(survivor: dict[str, Any]) -> int:
        try:
            CONTACTS.merge(ctx, survivor["id"], duplicate["id"])
        except ProblemError as problem:
            return problem.status
        return 200

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(merge, survivors))
    assert sorted(statuses) == [200, 409, 409, 409], statuses
    winner = survivors[statuses.index(200)]["id"]
    merged = client.get(f"/v1/contacts/{duplicate['id']}", params={"archived": "true"}).json()
    assert merged["merged_into"] == winner
    assert eventually(lambda: linked_to(client, winner) == (notes, {deal["id"]}))
    assert linked_to(client, duplicate["id"]) == (set(), set())
    for loser in survivors:
        if loser["id"] != winner:
            assert linked_to(client, loser["id"]) == (set(), set())
            assert client.get(f"/v1/contacts/{loser['id']}").json()["version"] == 1


def test_a_merge_takes_the_duplicates_email_when_the_survivor_has_none(client: ApiClient) -> None:
    survivor = client.create("contacts", {"first_name": "Ada", "last_name": "Lovelace"})
    duplicate = client.create("contacts", {"email": "ada@atomic.example"})
    response = client.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "ada@atomic.example"
    again = client.post("/v1/contacts", {"email": "ADA@atomic.example"})
    assert again.status_code == 409 and again.json()["existing_id"] == survivor["id"]
