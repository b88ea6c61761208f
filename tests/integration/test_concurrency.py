"""Optimistic locking: of concurrent changes made from the same version, exactly one wins."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from crm_core.auth import Principal, Role
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.repositories.transaction import WriteConflict
from crm_core.services.contacts import CONTACTS

from tests.support.client import ApiClient


@pytest.mark.parametrize(
    ("collection", "body", "change"),
    [("contacts", {"email": "race@example.com"}, "title"), ("deals", {"name": "Race"}, "name")],
)
def test_sixteen_parallel_patches_from_one_version_give_one_200(
    client: ApiClient, collection: str, body: dict[str, str], change: str
) -> None:
    record = client.create(collection, body)

    def patch(n: int) -> int:
        response = client.request(
            "PATCH",
            f"/v1/{collection}/{record['id']}",
            json_body={change: f"T{n}"},
            headers={"If-Match": '"1"'},
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = sorted(pool.map(patch, range(16)))
    assert statuses == [200] + [412] * 15
    final = client.get(f"/v1/{collection}/{record['id']}").json()
    assert final["version"] == 2
    assert len(client.get(f"/v1/{collection}/{record['id']}/timeline").json()["items"]) == 2


def test_a_write_that_raced_past_the_read_is_refused_by_the_transaction(client: ApiClient) -> None:
    """The version check on the read is not the only guard: the transaction itself carries the condition."""
    contact = client.create("contacts", {"email": "guard@example.com"})
    ctx = RequestContext(Principal(client.tenant_id, client.user_id, Role.ADMIN, "api_key", "test"))
    prepared = CONTACTS.prepare_update(ctx, contact["id"], {"title": "Slow"}, if_match=1)
    assert prepared is not None
    CONTACTS.update(ctx, contact["id"], {"title": "Fast"})
    with pytest.raises(WriteConflict) as conflict:
        prepared.changes.commit()
    assert conflict.value.label == "record"
    current = client.get(f"/v1/contacts/{contact['id']}").json()
    assert current["title"] == "Fast" and current["version"] == 2
    assert [e["type"] for e in client.get(f"/v1/contacts/{contact['id']}/timeline").json()["items"]] == [
        "contact.updated",
        "contact.created",
    ]


# The local gateway runs one request of a function at a time, as one Lambda environment does; the races
# of many environments are made below by calling the service from threads, against the same table.


def admin_context(client: ApiClient) -> RequestContext:
    return RequestContext(Principal(client.tenant_id, client.user_id, Role.ADMIN, "api_key", "test"))


def test_twenty_parallel_batch_upserts_of_the_same_emails_update_instead_of_409(client: ApiClient) -> None:
    """Whoever loses the race to create an email updates the record the winner made: no duplicates, and
    no input answers 409 (an upsert updates; a lost race is retried from a fresh read)."""
    ctx = admin_context(client)
    emails = [f"u{n}@race.example" for n in range(10)]

    def upsert(caller: int) -> list[int]:
        inputs = [{"email": email, "title": f"T{caller}"} for email in emails]
        got = CONTACTS.batch(ctx, "upsert", inputs, all_or_none=False)
        return [r.status for r in got]

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = [s for result in pool.map(upsert, range(20)) for s in result]
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    assert statuses.count(201) == 10
    contacts = client.all_pages("/v1/contacts")
    assert sorted(c["email"] for c in contacts) == sorted(emails)


def test_twenty_parallel_updates_without_if_match_all_apply(client: ApiClient) -> None:
    """Without If-Match, concurrent changes of one record are merged one after another: each writer reads
    the record again after a lost race, and none answers 409."""
    ctx = admin_context(client)
    contact = client.create("contacts", {"email": "many@race.example"})

    def change(n: int) -> int:
        try:
            CONTACTS.update(ctx, contact["id"], {"title": f"T{n}", "tags": [f"t{n}"]})
        except ProblemError as problem:
            return problem.status
        return 200

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(change, range(20)))
    assert statuses == [200] * 20
    final = client.get(f"/v1/contacts/{contact['id']}").json()
    assert final["version"] == 21
    assert len(client.all_pages(f"/v1/contacts/{contact['id']}/timeline")) == 21
