"""Optimistic locking: of concurrent changes made from the same version, exactly one wins."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from crm_core.auth import Principal, Role
from crm_core.repositories.transaction import WriteConflict
from crm_core.services.contacts import CONTACTS
from crm_core.services.records import RequestContext

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
