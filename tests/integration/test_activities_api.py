"""Activities over HTTP, and the timelines they appear in."""

from __future__ import annotations

from tests.support.client import ApiClient


def test_activity_in_every_linked_timeline_with_the_records_own_changes(client: ApiClient) -> None:
    company = client.create("companies", {"name": "Linked Ltd"})
    contact = client.create("contacts", {"email": "linked@example.com", "company_id": company["id"]})
    deal = client.create("deals", {"name": "Linked deal", "company_id": company["id"]})
    client.patch(f"/v1/contacts/{contact['id']}", {"title": "Buyer"})
    call = client.create(
        "activities",
        {
            "type": "call",
            "subject": "Discovery call",
            "contact_id": contact["id"],
            "company_id": company["id"],
            "deal_id": deal["id"],
            "due_at": "2026-12-01T10:00:00+01:00",
        },
    )
    assert call["due_at"] == "2026-12-01T09:00:00.000Z" and call["completed_at"] is None
    done = client.post(f"/v1/activities/{call['id']}/complete")
    assert done.status_code == 200 and done.json()["completed_at"]
    again = client.post(f"/v1/activities/{call['id']}/complete")
    assert again.json()["version"] == done.json()["version"]  # completing twice changes nothing

    contact_timeline = [
        (e["type"], e["record"]) for e in client.get(f"/v1/contacts/{contact['id']}/timeline").json()["items"]
    ]
    # Each entry names what it is about, so the timeline reads without another request.
    the_call = {"type": "activity", "id": call["id"], "title": "Discovery call"}
    the_contact = {"type": "contact", "id": contact["id"], "title": "linked@example.com"}
    assert contact_timeline == [
        ("activity.completed", the_call),
        ("activity.created", the_call),
        ("contact.updated", the_contact),
        ("contact.created", the_contact),
    ]
    deal_timeline = [e["type"] for e in client.get(f"/v1/deals/{deal['id']}/timeline").json()["items"]]
    assert deal_timeline == ["activity.completed", "activity.created", "deal.created"]
    company_timeline = client.get(f"/v1/companies/{company['id']}/timeline", params={"limit": 2}).json()
    assert [e["type"] for e in company_timeline["items"]] == ["activity.completed", "activity.created"]
    rest = client.get(
        f"/v1/companies/{company['id']}/timeline", params={"cursor": company_timeline["next_cursor"]}
    )
    assert [e["type"] for e in rest.json()["items"]] == ["company.created"]


def test_filters(client: ApiClient) -> None:
    task = client.create(
        "activities", {"type": "task", "subject": "Send quote", "due_at": "2026-01-10T00:00:00Z"}
    )
    note = client.create("activities", {"type": "note", "subject": "Met at fair"})
    later = client.create(
        "activities", {"type": "task", "subject": "Follow up", "due_at": "2026-06-10T00:00:00Z"}
    )
    client.post(f"/v1/activities/{later['id']}/complete")

    def ids(**params: str) -> set[str]:
        return {a["id"] for a in client.all_pages("/v1/activities", params)}

    assert ids(type="task") == {task["id"], later["id"]}
    assert ids(open="true") == {task["id"], note["id"]}
    assert ids(open="false") == {later["id"]}
    assert ids(due_before="2026-03-01T00:00:00Z") == {task["id"]}
    assert ids(owner_id=client.user_id, type="note") == {note["id"]}
    assert ids(q="send") == {task["id"]}


def test_bad_activities_and_isolation(client: ApiClient, other: ApiClient) -> None:
    foreign = other.create("contacts", {"email": "theirs@example.com"})
    for body, field in (
        ({"subject": "no type"}, "type"),
        ({"type": "fax"}, "type"),
        ({"type": "call", "due_at": "tomorrow"}, "due_at"),
        ({"type": "call", "due_at": "2026-12-01T10:00:00"}, "due_at"),  # a time needs its zone
        ({"type": "call", "contact_id": foreign["id"]}, "contact_id"),
    ):
        response = client.post("/v1/activities", body)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]]
    mine = client.create("activities", {"type": "note", "subject": "private"})
    assert other.get(f"/v1/activities/{mine['id']}").status_code == 404
    assert other.post(f"/v1/activities/{mine['id']}/complete").status_code == 404
    assert other.get("/v1/activities").json()["items"] == []
    assert client.get(f"/v1/activities/{mine['id']}").json()["completed_at"] is None


def test_merging_contacts_moves_activities_and_deals(client: ApiClient) -> None:
    survivor = client.create("contacts", {"email": "keep@example.com"})
    duplicate = client.create("contacts", {"email": "fold@example.com"})
    call = client.create("activities", {"type": "call", "subject": "Intro", "contact_id": duplicate["id"]})
    deal = client.create("deals", {"name": "Shared", "contact_ids": [duplicate["id"], survivor["id"]]})
    solo = client.create("deals", {"name": "Solo", "contact_ids": [duplicate["id"]]})
    assert {d["id"] for d in client.all_pages("/v1/deals", {"contact_id": duplicate["id"]})} == {
        deal["id"],
        solo["id"],
    }

    merged = client.post(f"/v1/contacts/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    assert client.get(f"/v1/activities/{call['id']}").json()["contact_id"] == survivor["id"]
    assert client.get(f"/v1/deals/{deal['id']}").json()["contact_ids"] == [survivor["id"]]
    assert client.get(f"/v1/deals/{solo['id']}").json()["contact_ids"] == [survivor["id"]]
    assert client.all_pages("/v1/deals", {"contact_id": duplicate["id"]}) == []
    assert [a["id"] for a in client.all_pages("/v1/activities", {"contact_id": survivor["id"]})] == [
        call["id"]
    ]


def test_merging_companies_moves_contacts_deals_and_activities(client: ApiClient) -> None:
    survivor = client.create("companies", {"name": "Keep Co"})
    duplicate = client.create("companies", {"name": "Fold Co"})
    contact = client.create("contacts", {"email": "staff@fold.example", "company_id": duplicate["id"]})
    deal = client.create("deals", {"name": "Fold deal", "company_id": duplicate["id"]})
    note = client.create("activities", {"type": "note", "subject": "Visit", "company_id": duplicate["id"]})
    assert (
        client.post(f"/v1/companies/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]}).status_code
        == 200
    )
    assert client.get(f"/v1/contacts/{contact['id']}").json()["company_id"] == survivor["id"]
    assert client.get(f"/v1/deals/{deal['id']}").json()["company_id"] == survivor["id"]
    assert client.get(f"/v1/activities/{note['id']}").json()["company_id"] == survivor["id"]
    assert [d["id"] for d in client.get(f"/v1/companies/{survivor['id']}/deals").json()["items"]] == [
        deal["id"]
    ]
