"""A contact is found by its company's current name: renaming, archiving or restoring a company brings its
contacts' company token in step (a background consumer), without changing the contacts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from crm_core.auth import Principal
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.repositories import record_repository as repo
from crm_core.repositories.transaction import WriteConflict
from crm_core.services import company_contact_tokens
from crm_core.services.contacts import CONTACTS
from crm_core.services.records import writes

from crm_local.runtime import LocalRuntime
from tests.integration.test_events import BusTap
from tests.support.client import ApiClient
from tests.support.waiting import eventually


def found(client: ApiClient, q: str) -> set[str]:
    return {c["id"] for c in client.all_pages("/v1/contacts", {"q": q})}


def company_with_contacts(client: ApiClient, name: str, count: int) -> tuple[dict[str, Any], list[str]]:
    company = client.create("companies", {"name": name})
    ids = [
        client.create("contacts", {"first_name": f"Person{n}", "company_id": company["id"]})["id"]
        for n in range(count)
    ]
    return company, ids


@pytest.fixture
def tap(runtime: LocalRuntime, client: ApiClient) -> Iterator[BusTap]:
    yield BusTap(runtime, client.tenant_id)


def test_a_renamed_company_finds_its_contacts_by_the_new_name_only(
    client: ApiClient, other: ApiClient, tap: BusTap
) -> None:
    company, ids = company_with_contacts(client, "Zephyr Analytics", 3)
    client.create("contacts", {"first_name": "Unlinked"})
    # Another tenant with a company of the same name: nothing of it changes.
    theirs, their_ids = company_with_contacts(other, "Zephyr Analytics", 1)
    assert found(client, "zephyr") == set(ids)
    before = {i: client.get(f"/v1/contacts/{i}").json() for i in ids}

    renamed = client.patch(f"/v1/companies/{company['id']}", {"name": "Quokka Labs"})
    assert renamed.status_code == 200, renamed.text

    assert eventually(lambda: found(client, "quokka") == set(ids)), found(client, "quokka")
    assert found(client, "zephyr") == set()
    assert found(client, "Quokka Labs") == set(ids)
    # The contacts as the API shows them did not change: same version, same updated_at, same ETag.
    for contact_id, was in before.items():
        response = client.get(f"/v1/contacts/{contact_id}")
        now = response.json()
        assert (now["version"], now["updated_at"]) == (was["version"], was["updated_at"])
        assert now == was
        assert response.headers["ETag"] == f'"{was["version"]}"'
    # No contact event: only what the test did itself.
    events = tap.drain(expected=6)
    assert sorted(e["detail-type"] for e in events) == [
        "company.created",
        "company.updated",
        "contact.created",
        "contact.created",
        "contact.created",
        "contact.created",
    ]
    # The other tenant's search is untouched, and never sees this tenant's contacts.
    assert found(other, "quokka") == set()
    assert found(other, "zephyr") == set(their_ids)
    assert theirs["id"] != company["id"]


def test_an_archived_company_no_longer_finds_its_contacts_and_a_restored_one_does_again(
    client: ApiClient,
) -> None:
    company, ids = company_with_contacts(client, "Brightwater Mills", 2)
    assert found(client, "brightwater") == set(ids)

    assert client.delete(f"/v1/companies/{company['id']}").status_code == 204
    assert eventually(lambda: found(client, "brightwater") == set())
    # The contacts still name the company (and their own names still find them).
    assert client.get(f"/v1/contacts/{ids[0]}").json()["company_id"] == company["id"]
    assert set(ids) <= found(client, "person")

    assert client.post(f"/v1/companies/{company['id']}/restore").status_code == 200
    assert eventually(lambda: found(client, "brightwater") == set(ids))


def test_a_merge_moves_the_duplicates_contacts_to_the_survivors_name(client: ApiClient) -> None:
    survivor, kept = company_with_contacts(client, "Harbor Freight Co", 1)
    duplicate, moved = company_with_contacts(client, "Harbour Freight Company", 2)
    merged = client.post(f"/v1/companies/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    # The merge moves each contact with a recorded change, which resolves the survivor's name at once.
    assert found(client, "harbor freight co") == set(kept + moved)
    assert found(client, "harbour") == set()
    time.sleep(1.5)  # and the consumer of the duplicate's archiving changes nothing back
    assert found(client, "harbor freight co") == set(kept + moved)
    assert found(client, "harbour") == set()


def test_many_contacts_are_refreshed_in_bounded_continued_messages(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(company_contact_tokens, "PAGE_SIZE", 2)
    monkeypatch.setattr(company_contact_tokens, "CONTACTS_PER_MESSAGE", 3)
    continued: list[dict[str, Any]] = []
    send = company_contact_tokens._continue

    def spy(tenant_id: str, company_id: str, start: dict[str, str] | None) -> None:
        if tenant_id == client.tenant_id:
            continued.append({"company_id": company_id, "start": start})
        send(tenant_id, company_id, start)

    monkeypatch.setattr(company_contact_tokens, "_continue", spy)
    company, ids = company_with_contacts(client, "Lantern Works", 7)

    client.patch(f"/v1/companies/{company['id']}", {"name": "Meridian Works"})
    assert eventually(lambda: found(client, "meridian") == set(ids)), found(client, "meridian")
    assert found(client, "lantern") == set()
    # 7 contacts, 3 a message: the event's message and two continuations, each from where the last ended.
    assert [c["company_id"] for c in continued] == [company["id"]] * 2
    assert continued[0]["start"] != continued[1]["start"]

    # A repeated message re-checks the state and writes nothing.
    first_part = company_contact_tokens.refresh(client.tenant_id, company["id"])
    assert first_part == "0 of 3 contacts refreshed; the rest continues"
    monkeypatch.setattr(company_contact_tokens, "CONTACTS_PER_MESSAGE", 200)
    assert company_contact_tokens.refresh(client.tenant_id, company["id"]) == "0 of 7 contacts refreshed"


def test_a_company_event_that_does_not_change_the_name_is_ignored() -> None:
    event = {"detail": {"tenant_id": "T", "data": {"id": "C"}, "changes": {"industry": {"from": None}}}}
    assert company_contact_tokens.handle(event) == "nothing to do"


# --------------------------------------------------------- a refresh and a change of the contact at once


def _system(client: ApiClient) -> RequestContext:
    return RequestContext(Principal.system(client.tenant_id, "test"))


def test_a_change_read_before_a_refresh_is_retried_not_written_over_it(client: ApiClient) -> None:
    """The refresh keeps the version, so a change prepared before it must fail on the tokens it diffed
    from, or it would put back the old ones and leave the new entry behind."""
    company, (contact_id,) = company_with_contacts(client, "Old Name Ltd", 1)
    ctx = _system(client)
    prepared = CONTACTS.prepare_update(ctx, contact_id, {"title": "CFO"}, None)
    assert prepared is not None
    item = repo.get_record(client.tenant_id, "contact", contact_id, consistent=True)
    assert item is not None
    assert CONTACTS.refresh_related(item, {"company_name": "Fresh Name Ltd"})
    with pytest.raises(ProblemError) as stale:
        writes.commit(CONTACTS.spec, ctx, prepared)
    assert stale.value.status == 409
    assert found(client, "fresh name") == {contact_id}
    assert found(client, "old name") == set()

    # Through the API the change is simply retried on the refreshed item; If-Match on the unchanged
    # version still holds, since a refresh is not a new version.
    version = client.get(f"/v1/contacts/{contact_id}").json()["version"]
    assert version == item.version
    updated = client.patch(
        f"/v1/contacts/{contact_id}", {"title": "CFO"}, headers={"If-Match": f'"{version}"'}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == version + 1
    assert found(client, "fresh name") == {contact_id}
    assert company["id"]


def test_if_match_holds_when_a_refresh_lands_between_the_read_and_the_write(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (contact_id,) = company_with_contacts(client, "Between Co", 1)
    version = client.get(f"/v1/contacts/{contact_id}").json()["version"]
    prepare = CONTACTS.prepare_update
    calls: list[int] = []

    def prepare_then_refresh(*args: Any, **kwargs: Any) -> Any:
        prepared = prepare(*args, **kwargs)
        if not calls:
            item = repo.get_record(client.tenant_id, "contact", contact_id, consistent=True)
            assert item is not None and CONTACTS.refresh_related(item, {"company_name": "Racing Co"})
        calls.append(1)
        return prepared

    monkeypatch.setattr(CONTACTS, "prepare_update", prepare_then_refresh)
    updated = client.patch(
        f"/v1/contacts/{contact_id}", {"title": "CEO"}, headers={"If-Match": f'"{version}"'}
    )
    assert updated.status_code == 200, updated.text
    assert len(calls) == 2  # the first write was stale, the second was made on the refreshed item
    assert updated.json()["version"] == version + 1
    assert found(client, "racing") == {contact_id}
    assert found(client, "between") == set()


def test_a_refresh_from_a_stale_read_is_refused(client: ApiClient) -> None:
    _, (contact_id,) = company_with_contacts(client, "Stale Read Inc", 1)
    item = repo.get_record(client.tenant_id, "contact", contact_id, consistent=True)
    assert item is not None
    # Another refresh since (same version, other tokens): refused on the tokens.
    assert CONTACTS.refresh_related(item, {"company_name": "First Refresh"})
    with pytest.raises(WriteConflict):
        CONTACTS.refresh_related(item, {"company_name": "Second Refresh"})
    # A change since (new version): refused on the version.
    client.patch(f"/v1/contacts/{contact_id}", {"title": "CTO"})
    stale = repo.get_record(client.tenant_id, "contact", contact_id, consistent=True)
    assert stale is not None
    stale.version = (stale.version or 0) - 1
    with pytest.raises(WriteConflict):
        CONTACTS.refresh_related(stale, {"company_name": "Third Refresh"})
    assert found(client, "first refresh") == {contact_id}
    assert found(client, "second refresh") == found(client, "third refresh") == set()
