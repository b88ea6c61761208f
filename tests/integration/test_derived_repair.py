"""A request that dies between its change's commit and the writes that follow from it (side entries,
duplicate pairs, timeline entries: services/records/derived.py) loses none of them: the relay, which
sees the committed change on the table's stream, writes them (docs/decisions/0008). And an entry left
over never lists a record that no longer matches it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.services.records import derived

from crm_local.runtime import LocalRuntime
from tests.integration.test_events import BusTap
from tests.support.client import ApiClient
from tests.support.waiting import eventually


@pytest.fixture
def requests_die_after_commit(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every request's writes after its commit are lost, as if its process were killed right after the
    commit; the relay's own writes (its thread) go through. Yields the number of writes lost."""
    lost: list[int] = []
    write = derived.DerivedWrites.write

    def dies(self: derived.DerivedWrites) -> None:
        if threading.current_thread().name == "outbox-relay":
            write(self)
        else:
            lost.append(len(self))
            raise ConnectionError("the request's process died after its commit (injected)")

    monkeypatch.setattr(derived.DerivedWrites, "write", dies)
    yield lost


def _timeline_types(client: ApiClient, collection: str, record_id: str) -> list[str]:
    response = client.get(f"/v1/{collection}/{record_id}/timeline")
    return (
        [entry["type"] for entry in response.json().get("items", [])] if response.status_code == 200 else []
    )


def _listed(client: ApiClient, params: dict[str, Any]) -> list[str]:
    return [c["id"] for c in client.get("/v1/contacts", params=params).json()["items"]]


def test_the_relay_writes_what_a_request_died_before_writing(
    client: ApiClient, requests_die_after_commit: list[int]
) -> None:
    contact = client.create(
        "contacts",
        {"first_name": "Rosalind", "last_name": "Quist", "email": "rq@example.com", "tags": ["vip"]},
    )
    activity = client.create(
        "activities", {"type": "call", "subject": "Kick-off call", "contact_id": contact["id"]}
    )
    assert requests_die_after_commit, "no request lost its writes: the fault was never injected"

    assert eventually(lambda: _listed(client, {"q": "quist"}) == [contact["id"]]), "type-ahead not repaired"
    assert _listed(client, {"tag": "vip"}) == [contact["id"]]
    assert eventually(
        lambda: _timeline_types(client, "contacts", contact["id"]) == ["activity.created", "contact.created"]
    ), _timeline_types(client, "contacts", contact["id"])
    entries = client.get(f"/v1/contacts/{contact['id']}/timeline").json()["items"]
    assert entries[0]["record"] == {"type": "activity", "id": activity["id"], "title": "Kick-off call"}

    # A later change, also cut short: the record's entries follow it (the old tag's entry is gone).
    changed = client.patch(
        f"/v1/contacts/{contact['id']}",
        {"tags": ["partner"]},
        headers={"If-Match": f'"{contact["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert eventually(lambda: _listed(client, {"tag": "partner"}) == [contact["id"]])
    tenant = client.tenant_id
    vip_entry = (keys.attribute_pk(tenant, "contact", "active", "tag", "vip"), contact["id"])
    assert eventually(lambda: vip_entry not in repo.existing_keys([vip_entry])), (
        "the removed tag's entry stayed"
    )
    assert _listed(client, {"tag": "vip"}) == []


def _relayed(tap: BusTap, detail_type: str) -> None:
    """Waits until the relay has passed the change that published `detail_type`: it repairs a change's
    entries before it publishes its event, so an entry written after this is not undone by a late repair."""
    seen: list[str] = []
    for _ in range(6):
        seen += [e["detail-type"] for e in tap.drain(expected=1, timeout=5)]
        if detail_type in seen:
            return
    raise AssertionError(f"{detail_type} was never relayed (saw {seen})")


def test_an_entry_left_over_lists_no_record(runtime: LocalRuntime, client: ApiClient) -> None:
    """An entry the record no longer has (a repair racing a later change can leave one) is checked against
    the record it names: the list skips it."""
    tap = BusTap(runtime, client.tenant_id)
    contact = client.create(
        "contacts", {"first_name": "Olwen", "email": "olwen@example.com", "tags": ["gold"]}
    )
    changed = client.patch(f"/v1/contacts/{contact['id']}", {"tags": []})
    assert changed.status_code == 200, changed.text
    _relayed(tap, "contact.updated")
    tenant = client.tenant_id
    repo.write_batch(
        [
            repo.entry(
                keys.attribute_pk(tenant, "contact", "active", "tag", "gold"), contact["id"], contact["id"]
            )
        ],
        [],
    )
    gold_entry = (keys.attribute_pk(tenant, "contact", "active", "tag", "gold"), contact["id"])
    assert repo.existing_keys([gold_entry]) == {gold_entry}
    assert _listed(client, {"tag": "gold"}) == []
    assert _listed(client, {"q": "olwen"}) == [contact["id"]]
    archived = client.delete(f"/v1/contacts/{contact['id']}")
    assert archived.status_code in (200, 204), archived.text
    _relayed(tap, "contact.archived")
    token_entry = repo.entry(
        keys.search_pk(tenant, "contact", "olwen"), f"olwen#{contact['id']}", contact["id"]
    )
    repo.write_batch([token_entry], [])
    assert _listed(client, {"q": "olwen"}) == []


def test_a_refresh_of_search_tokens_publishes_no_event(runtime: LocalRuntime, client: ApiClient) -> None:
    """A company renamed refreshes its contacts' type-ahead tokens: the contacts' items are rewritten
    with the version (and the last change's envelope) they had, and the relay publishes nothing for it."""
    tap = BusTap(runtime, client.tenant_id)
    company = client.create("companies", {"name": "Old Name Ltd", "domain": "oldname.example"})
    contact = client.create(
        "contacts", {"first_name": "Tamsin", "email": "tamsin@oldname.example", "company_id": company["id"]}
    )
    # The creations' own events are relayed asynchronously: take them first, so that what follows the
    # rename is only what the rename published.
    created = tap.drain(expected=2, timeout=10)
    assert sorted(e["detail-type"] for e in created) == ["company.created", "contact.created"]
    renamed = client.patch(f"/v1/companies/{company['id']}", {"name": "Brand New Co"})
    assert renamed.status_code == 200, renamed.text
    assert eventually(lambda: _listed(client, {"q": "brand new"}) == [contact["id"]]), "tokens not refreshed"
    events = tap.drain(expected=1, timeout=10)
    assert [(e["detail-type"], e["detail"]["data"]["id"]) for e in events] == [
        ("company.updated", company["id"])
    ]
    assert client.get(f"/v1/contacts/{contact['id']}").json()["version"] == contact["version"]
