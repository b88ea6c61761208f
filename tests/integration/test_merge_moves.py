"""A merge whose duplicate has more linked records of a kind than one request moves: the survivor answers
at once (200) naming those kinds in ``pending_moves``, the duplicate is archived with ``merged_into``, and a
consumer of the merge's event moves the rest in bounded, continued messages, each record a change with its
own event."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from crm_core.auth import Principal
from crm_core.context import RequestContext
from crm_core.repositories import record_repository as repo
from crm_core.services import merge_moves
from crm_core.services.contacts import CONTACTS
from crm_core.services.records import merge as records_merge

from crm_local.runtime import LocalRuntime
from tests.integration.test_events import BusTap
from tests.support.client import ApiClient
from tests.support.waiting import eventually


@pytest.fixture
def tap(runtime: LocalRuntime, client: ApiClient) -> Iterator[BusTap]:
    yield BusTap(runtime, client.tenant_id)


@pytest.fixture
def continued(client: ApiClient, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A request moves at most 3 of a kind; a message moves 3, in pages of 2. The continuations this
    tenant's moves queued."""
    monkeypatch.setattr(records_merge, "MAX_MOVED_BY_MERGE", 3)
    monkeypatch.setattr(merge_moves, "PAGE_SIZE", 2)
    monkeypatch.setattr(merge_moves, "MOVES_PER_MESSAGE", 3)
    sent: list[dict[str, Any]] = []
    send = merge_moves._continue

    def spy(tenant_id: str, object_type: str, duplicate_id: str, kind: int, *rest: Any) -> None:
        if tenant_id == client.tenant_id:
            sent.append({"duplicate_id": duplicate_id, "kind": kind, "start": rest[0]})
        send(tenant_id, object_type, duplicate_id, kind, *rest)

    monkeypatch.setattr(merge_moves, "_continue", spy)
    return sent


def make(client: ApiClient, collection: str, count: int, **fields: Any) -> list[str]:
    """The ids of ``count`` new records with ``fields``; "{n}" in a text is the record's number."""
    return [
        client.create(collection, {k: v.format(n=n) if isinstance(v, str) else v for k, v in fields.items()})[
            "id"
        ]
        for n in range(count)
    ]


def ids(client: ApiClient, path: str, params: dict[str, Any] | None = None) -> set[str]:
    return {r["id"] for r in client.all_pages(path, params)}


def versions(client: ApiClient, collection: str, record_ids: list[str]) -> dict[str, int]:
    return {rid: client.get(f"/v1/{collection}/{rid}").json()["version"] for rid in record_ids}


def test_a_company_with_more_contacts_and_deals_than_a_request_moves_is_merged_at_once(
    client: ApiClient, other: ApiClient, tap: BusTap, continued: list[dict[str, Any]]
) -> None:
    survivor = client.create("companies", {"name": "Keep Holdings"})
    duplicate = client.create("companies", {"name": "Fold Holdings"})
    contacts = make(client, "contacts", 8, first_name="Staff{n}", company_id=duplicate["id"])
    deals = make(client, "deals", 5, name="Deal {n}", company_id=duplicate["id"])
    notes = make(client, "activities", 2, type="note", subject="Visit {n}", company_id=duplicate["id"])
    # Another tenant, with a company and a contact of the same names: nothing of it moves.
    theirs = other.create("companies", {"name": "Fold Holdings"})
    their_contact = other.create("contacts", {"first_name": "Staff0", "company_id": theirs["id"]})
    their_contact = other.get(f"/v1/contacts/{their_contact['id']}").json()
    assert len(tap.drain(expected=2 + 8 + 5 + 2)) == 17

    merged = client.post(f"/v1/companies/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})

    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["id"] == survivor["id"] and body["version"] == survivor["version"] + 1
    assert merged.headers["ETag"] == f'"{body["version"]}"'
    # 8 contacts and 5 deals are more than a request moves (3 here); the 2 activities moved in it.
    assert body["pending_moves"] == ["contacts", "deals"]
    assert {n: client.get(f"/v1/activities/{n}").json()["company_id"] for n in notes} == dict.fromkeys(
        notes, survivor["id"]
    )
    gone = client.get(f"/v1/companies/{duplicate['id']}", params={"archived": "true"}).json()
    assert gone["archived"] is True and gone["merged_into"] == survivor["id"]

    assert eventually(lambda: ids(client, f"/v1/companies/{survivor['id']}/contacts") == set(contacts))
    assert eventually(lambda: ids(client, f"/v1/companies/{survivor['id']}/deals") == set(deals))
    for collection, moved in (("contacts", contacts), ("deals", deals)):
        for record_id in moved:
            assert client.get(f"/v1/{collection}/{record_id}").json()["company_id"] == survivor["id"]
    assert ids(client, "/v1/deals", {"company_id": duplicate["id"]}) == set()
    # 13 moves, 3 a message: the event's message and four continuations, each from where the last ended.
    assert len(continued) == 4 and len({str(c["start"]) for c in continued}) == 4

    # Each moved record got exactly one change and one *.updated event, all traced to the merge request.
    events = tap.drain(expected=2 + 8 + 5 + 2, timeout=30)
    updated = Counter(e["detail"]["data"]["id"] for e in events if e["detail-type"].endswith(".updated"))
    assert updated == Counter(contacts + deals + notes)
    assert sorted(e["detail-type"] for e in events if not e["detail-type"].endswith(".updated")) == [
        "company.archived",
        "company.merged",
    ]
    assert {e["detail"]["correlation_id"] for e in events} == {merged.headers["X-Request-Id"]}
    background = [e for e in events if e["detail"]["data"]["id"] in contacts + deals]
    assert {e["detail"]["actor"]["type"] for e in background} == {"system"}
    assert all(
        e["detail"]["changes"] == {"company_id": {"from": duplicate["id"], "to": survivor["id"]}}
        for e in background
    )

    # A repeated message finds nothing left: it changes nothing and publishes nothing.
    (merge_event,) = [e for e in events if e["detail-type"] == "company.merged"]
    before = versions(client, "contacts", contacts) | versions(client, "deals", deals)
    assert merge_moves.handle(merge_event) == "0 of 0 records moved"
    assert versions(client, "contacts", contacts) | versions(client, "deals", deals) == before
    assert tap.drain(expected=0) == []

    # The other tenant's records stay as they were; a message naming its tenant finds no such merge.
    assert other.get(f"/v1/contacts/{their_contact['id']}").json() == their_contact
    assert ids(other, f"/v1/companies/{theirs['id']}/contacts") == {their_contact["id"]}
    assert ids(other, "/v1/contacts") == {their_contact["id"]}
    assert ids(other, "/v1/deals") == set()
    assert merge_moves.move(other.tenant_id, "company", duplicate["id"]).startswith("nothing to do")


def test_a_contact_with_many_activities_and_deals_is_merged_at_once(
    client: ApiClient, continued: list[dict[str, Any]]
) -> None:
    survivor = client.create("contacts", {"email": "keep@merge.example"})
    duplicate = client.create("contacts", {"email": "fold@merge.example"})
    colleague = client.create("contacts", {"email": "colleague@merge.example"})
    calls = make(client, "activities", 5, type="call", subject="Call {n}", contact_id=duplicate["id"])
    solo = make(client, "deals", 2, name="Solo {n}", contact_ids=[duplicate["id"]])
    shared = client.create("deals", {"name": "Shared", "contact_ids": [duplicate["id"], survivor["id"]]})
    team = client.create("deals", {"name": "Team", "contact_ids": [duplicate["id"], colleague["id"]]})

    merged = client.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})

    assert merged.status_code == 200, merged.text
    assert merged.json()["pending_moves"] == ["activities", "deals"]
    assert eventually(lambda: ids(client, "/v1/activities", {"contact_id": survivor["id"]}) == set(calls))
    assert eventually(lambda: ids(client, "/v1/deals", {"contact_id": duplicate["id"]}) == set())
    assert ids(client, "/v1/deals", {"contact_id": survivor["id"]}) == {*solo, shared["id"], team["id"]}
    for deal_id in solo:
        assert client.get(f"/v1/deals/{deal_id}").json()["contact_ids"] == [survivor["id"]]
    assert client.get(f"/v1/deals/{shared['id']}").json()["contact_ids"] == [survivor["id"]]
    assert client.get(f"/v1/deals/{team['id']}").json()["contact_ids"] == [survivor["id"], colleague["id"]]
    assert ids(client, "/v1/activities", {"contact_id": duplicate["id"]}) == set()
    assert continued  # 9 moves, 3 a message


def test_a_record_linked_to_the_duplicate_as_the_merge_commits_is_moved_by_the_next_message(
    client: ApiClient, runtime: LocalRuntime, continued: list[dict[str, Any]]
) -> None:
    survivor = client.create("companies", {"name": "Late Keep"})
    duplicate = client.create("companies", {"name": "Late Fold"})
    early = make(client, "contacts", 4, first_name="Early{n}", company_id=duplicate["id"])
    handled = runtime.workers.delivered.get("merge_moves", 0)
    merged = client.post(f"/v1/companies/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.json()["pending_moves"] == ["contacts"]
    assert eventually(lambda: ids(client, f"/v1/companies/{survivor['id']}/contacts") == set(early))
    # 4 contacts, 3 a message: the event's message and one continuation, both handled by now.
    assert eventually(lambda: runtime.workers.delivered.get("merge_moves", 0) >= handled + 2)

    # After the merge, the API refuses a new link to the merged company...
    refused = client.post("/v1/contacts", {"first_name": "New", "company_id": duplicate["id"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "company_id"
    # ...but a create that checked the company just before the merge can commit just after it.
    ctx = RequestContext(Principal.system(client.tenant_id, "test"))
    ctx.lookups[("company", duplicate["id"])] = repo.get_record(client.tenant_id, "company", duplicate["id"])
    late = CONTACTS.create(ctx, {"first_name": "Late", "company_id": duplicate["id"]})
    assert ids(client, f"/v1/companies/{duplicate['id']}/contacts") == {late["id"]}

    outcome = merge_moves.move(client.tenant_id, "company", duplicate["id"])
    assert outcome == "1 of 1 records moved"
    assert client.get(f"/v1/contacts/{late['id']}").json()["company_id"] == survivor["id"]
    assert ids(client, f"/v1/companies/{survivor['id']}/contacts") == {*early, late["id"]}


def test_a_record_whose_move_is_refused_is_passed_over_and_reported(
    client: ApiClient, continued: list[dict[str, Any]]
) -> None:
    survivor = client.create("contacts", {"email": "keep@refused.example"})
    duplicate = client.create("contacts", {"email": "fold@refused.example"})
    gone = client.create("contacts", {"email": "gone@refused.example"})
    stuck = client.create("deals", {"name": "Stuck", "contact_ids": [duplicate["id"], gone["id"]]})
    movable = make(client, "deals", 4, name="Fine {n}", contact_ids=[duplicate["id"]])
    assert client.delete(f"/v1/contacts/{gone['id']}").status_code == 204  # the stuck deal still names it

    merged = client.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200 and merged.json()["pending_moves"] == ["deals"]
    assert eventually(lambda: ids(client, "/v1/deals", {"contact_id": survivor["id"]}) == set(movable))
    # The deal whose change is refused (it names an archived contact) keeps the duplicate; the rest moved,
    # and a repeated message says why, without looping on it.
    assert client.get(f"/v1/deals/{stuck['id']}").json()["contact_ids"] == [duplicate["id"], gone["id"]]
    outcome = merge_moves.move(client.tenant_id, "contact", duplicate["id"])
    assert outcome.startswith(f"0 of 1 records moved; refused: deals {stuck['id']}: contact_ids[1]")


def test_a_deal_merge_moves_its_activities(client: ApiClient, continued: list[dict[str, Any]]) -> None:
    survivor = client.create("deals", {"name": "Keep"})
    duplicate = client.create("deals", {"name": "Fold"})
    few = client.create("deals", {"name": "Few"})
    notes = make(client, "activities", 2, type="note", subject="Note {n}", deal_id=few["id"])
    calls = make(client, "activities", 5, type="call", subject="Call {n}", deal_id=duplicate["id"])

    within = client.post(f"/v1/deals/{survivor['id']}/merge", {"duplicate_id": few["id"]})
    assert within.status_code == 200, within.text
    assert within.json()["pending_moves"] == []
    assert ids(client, "/v1/activities", {"deal_id": survivor["id"]}) == set(notes)

    merged = client.post(f"/v1/deals/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["pending_moves"] == ["activities"]
    assert eventually(lambda: ids(client, "/v1/activities", {"deal_id": survivor["id"]}) == {*notes, *calls})
    assert ids(client, "/v1/activities", {"deal_id": duplicate["id"]}) == set()


def test_a_reps_merge_moves_linked_records_that_are_not_the_reps(
    base_url: str, client: ApiClient, tap: BusTap
) -> None:
    """Merging needs the right to change the two records merged; what refers to the duplicate follows, moved
    by the CRM on the merge's behalf, in the request as in the background."""
    from crm_core.auth import Role
    from crm_core.services.tenants import create_user, issue_api_key

    rep_id = create_user(client.tenant_id, f"merger-{client.tenant_id.lower()}@example.com", Role.REP)
    rep = ApiClient(base_url, issue_api_key(client.tenant_id, rep_id, Role.REP), client.tenant_id, rep_id)
    survivor = rep.create("contacts", {"email": "rep-keep@merge.example"})
    duplicate = rep.create("contacts", {"email": "rep-fold@merge.example"})
    admins = client.create(
        "activities", {"type": "note", "subject": "Admin's", "contact_id": duplicate["id"]}
    )
    assert client.get(f"/v1/activities/{admins['id']}").json()["owner_id"] == client.user_id

    merged = rep.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["pending_moves"] == []
    assert client.get(f"/v1/activities/{admins['id']}").json()["contact_id"] == survivor["id"]
    request_id = merged.headers["X-Request-Id"]
    moved = [
        e
        for e in tap.drain(expected=5)
        if e["detail-type"] == "activity.updated" and e["detail"]["data"]["id"] == admins["id"]
    ]
    assert [(e["detail"]["actor"], e["detail"]["correlation_id"]) for e in moved] == [
        ({"type": "system", "id": "merge"}, request_id)
    ]
