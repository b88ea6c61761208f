"""The audit trail (/v1/audit-events, decision 0010): every write of a record or setting, with its actor,
credential, changed fields (personal ones named, never copied), request id, source address and time;
filtered, paged, admins only, per tenant; written by the relay when a request died after its commit."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import requests
from crm_core.auth import Role
from crm_core.config import settings
from crm_core.repositories import keys
from crm_core.repositories.table import AuditItem

from tests.integration.test_derived_repair import requests_die_after_commit  # noqa: F401  (a fixture)
from tests.integration.test_webhooks import SECRET, Receiver, add_webhook, receiver  # noqa: F401
from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.waiting import eventually

TRAIL = "/v1/audit-events"
PERSONAL = {"before": None, "after": None, "personal": True, "hidden": False}


def shown(before: Any, after: Any) -> dict[str, Any]:
    """A changed field as the trail shows one that is neither personal nor hidden."""
    return {"before": before, "after": after, "personal": False, "hidden": False}


def _trail(client: ApiClient, **params: Any) -> list[dict[str, Any]]:
    return client.all_pages(TRAIL, params)


def _request_id(response: requests.Response) -> str:
    assert response.status_code in (200, 201, 204), response.text
    return str(response.headers["X-Request-Id"])


def test_a_contacts_writes_are_audited_with_personal_fields_named_only(client: ApiClient) -> None:
    created = client.post(
        "/v1/contacts",
        {"first_name": "Rosalind", "last_name": "Quist", "email": "rq@example.com", "tags": ["vip"]},
    )
    contact = created.json()
    patched = client.patch(
        f"/v1/contacts/{contact['id']}", {"first_name": "Ros", "lifecycle_stage": "lead", "tags": ["gold"]}
    )
    archived = client.delete(f"/v1/contacts/{contact['id']}")

    trail = _trail(client, object_id=contact["id"])
    assert [e["action"] for e in trail] == ["contact.archived", "contact.updated", "contact.created"]
    assert [e["request_id"] for e in trail] == [_request_id(r) for r in (archived, patched, created)]
    timeline = client.get(f"/v1/contacts/{contact['id']}/timeline").json()["items"]
    assert [e["id"] for e in trail] == [e["id"] for e in timeline]  # a change's first event names it
    actor = timeline[0]["actor"]
    assert actor["type"] == "user" and actor["id"] == client.user_id and actor["via"] == "api_key"
    assert actor["credential_id"]
    for event in trail:
        assert event["actor"] == actor
        assert event["object"] == {"type": "contact", "id": contact["id"]}
        assert event["source_ip"] == "127.0.0.1"
    archive, update, creation = trail
    assert creation["changes"] == {
        "first_name": PERSONAL,
        "last_name": PERSONAL,
        "email": PERSONAL,
        "tags": shown(None, ["vip"]),
        "owner_id": shown(None, client.user_id),  # the creator's
    }
    assert update["changes"] == {
        "first_name": PERSONAL,
        "lifecycle_stage": shown(None, "lead"),
        "tags": shown(["vip"], ["gold"]),
    }
    assert archive["changes"]["archived"] == shown(False, True)
    assert archive["changes"]["archived_at"]["after"] is not None
    stored = json.dumps(trail)
    for value in ("Rosalind", 'Ros"', "Quist", "rq@example.com"):
        assert value not in stored, f"a personal value was copied: {value}"


def test_a_setting_is_audited_with_its_values(client: ApiClient) -> None:
    stages = [
        {"name": "Open", "probability": 0.5},
        {"name": "Won", "kind": "won"},
        {"name": "Lost", "kind": "lost"},
    ]
    created = client.post("/v1/pipelines", {"name": "Renewals", "stages": stages})
    assert created.status_code == 201, created.text
    pipeline = created.json()
    renamed = client.patch(f"/v1/pipelines/{pipeline['id']}", {"name": "Renewals 2027"})
    archived = client.delete(f"/v1/pipelines/{pipeline['id']}")

    trail = _trail(client, object_id=pipeline["id"])
    assert [(e["action"], e["request_id"]) for e in trail] == [
        ("pipeline.archived", _request_id(archived)),
        ("pipeline.updated", _request_id(renamed)),
        ("pipeline.created", _request_id(created)),
    ]
    assert trail[1]["changes"] == {"name": shown("Renewals", "Renewals 2027")}
    assert trail[2]["changes"]["name"] == shown(None, "Renewals")
    assert [s["name"] for s in trail[2]["changes"]["stages"]["after"]] == ["Open", "Won", "Lost"]


def test_an_audit_item_expires_after_the_retention(client: ApiClient) -> None:
    contact = client.create("contacts", {"first_name": "Ttl", "email": "ttl@example.com"})
    (event,) = _trail(client, object_id=contact["id"])
    item = AuditItem.get(
        keys.audit_pk(client.tenant_id, contact["id"]), keys.audit_sk(event["occurred_at"], event["id"])
    )
    written = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp()
    assert item.expires_at == int(written) + settings().audit_retention_days * 86_400
    assert settings().audit_retention_days == 400


def test_the_filters_narrow_the_trail(client: ApiClient) -> None:
    colleague = user_client(client, Role.ADMIN)
    mine = client.create("contacts", {"first_name": "Mine", "email": "mine@example.com"})
    theirs = colleague.create("contacts", {"first_name": "Theirs", "email": "theirs@example.com"})
    assert client.patch(f"/v1/contacts/{mine['id']}", {"lifecycle_stage": "lead"}).status_code == 200
    assert colleague.patch(f"/v1/contacts/{mine['id']}", {"title": "CTO"}).status_code == 200

    everything = _trail(client)
    ids = {(e["object"]["id"], e["action"]) for e in everything}
    assert {(mine["id"], "contact.created"), (theirs["id"], "contact.created")} <= ids
    assert [e["occurred_at"] for e in everything] == sorted(
        (e["occurred_at"] for e in everything), reverse=True
    )
    assert any(e["action"] == "pipeline.created" and e["actor"]["type"] == "system" for e in everything), (
        "the tenant's default pipeline, set up by the CRM itself"
    )
    assert all(e["source_ip"] is None for e in everything if e["actor"]["type"] == "system")

    by_colleague = _trail(client, actor_id=colleague.user_id)
    assert [(e["object"]["id"], e["action"]) for e in by_colleague] == [
        (mine["id"], "contact.updated"),
        (theirs["id"], "contact.created"),
    ]
    updates = _trail(client, action="contact.updated")
    assert [e["changes"] for e in updates] == [
        {"title": shown(None, "CTO")},
        {"lifecycle_stage": shown(None, "lead")},
    ]
    both = _trail(client, object_id=mine["id"], actor_id=colleague.user_id)
    assert [e["action"] for e in both] == ["contact.updated"]
    assert _trail(client, object_id=mine["id"], action="contact.archived") == []

    first, second = _trail(client, object_id=mine["id"])[::-1][:2]
    assert [
        e["id"] for e in _trail(client, **{"from": first["occurred_at"], "to": first["occurred_at"]})
    ] == [first["id"]]
    after_first = _trail(client, object_id=mine["id"], **{"from": second["occurred_at"]})
    assert first["id"] not in [e["id"] for e in after_first] and second["id"] in [
        e["id"] for e in after_first
    ]
    until_first = _trail(client, to=first["occurred_at"], action="contact.created")
    assert mine["id"] in [e["object"]["id"] for e in until_first]
    assert theirs["id"] not in [e["object"]["id"] for e in until_first]


def test_pages_and_bad_filters(client: ApiClient) -> None:
    contact = client.create("contacts", {"first_name": "Paged", "email": "paged@example.com"})
    for stage in ("lead", "customer"):
        assert client.patch(f"/v1/contacts/{contact['id']}", {"lifecycle_stage": stage}).status_code == 200
    whole = _trail(client, object_id=contact["id"])
    first = client.get(TRAIL, params={"object_id": contact["id"], "limit": 2}).json()
    assert [e["id"] for e in first["items"]] == [e["id"] for e in whole[:2]]
    rest = client.get(TRAIL, params={"object_id": contact["id"], "limit": 2, "cursor": first["next_cursor"]})
    assert [e["id"] for e in rest.json()["items"]] == [whole[2]["id"]]
    assert rest.json()["next_cursor"] is None
    other_list = client.get(TRAIL, params={"limit": 2, "cursor": first["next_cursor"]})
    assert other_list.status_code == 400, other_list.text

    for params, field in (
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-11-27T10:00:00"}, "to"),  # no offset: no instant
        ({"from": "2026-11-27T10:00:00Z", "to": "2026-11-26T10:00:00Z"}, "from"),
        ({"object_id": "not-an-id"}, "object_id"),
        ({"action": "Contact Updated"}, "action"),
        ({"owner_id": contact["id"]}, "owner_id"),
    ):
        response = client.get(TRAIL, params=params)
        assert response.status_code == 422, (params, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (params, response.text)


def test_only_an_admin_reads_the_trail(client: ApiClient) -> None:
    for role in (Role.MANAGER, Role.REP, Role.VIEWER):
        response = user_client(client, role).get(TRAIL)
        assert response.status_code == 403, (role, response.text)
    assert client.get(TRAIL).status_code == 200


def test_another_tenant_sees_none_of_it(client: ApiClient, other: ApiClient) -> None:
    contact = client.create("contacts", {"first_name": "Secret", "email": "secret@example.com"})
    assert _trail(client, object_id=contact["id"])
    assert _trail(other, object_id=contact["id"]) == []
    assert _trail(other, actor_id=client.user_id) == []
    theirs = _trail(other)
    assert theirs, "the other tenant's own trail (its default pipeline)"
    assert contact["id"] not in {e["object"]["id"] for e in theirs}
    assert client.user_id not in {e["actor"]["id"] for e in theirs}


def test_a_change_whose_request_died_after_its_commit_is_audited_by_the_relay(
    client: ApiClient,
    requests_die_after_commit: list[int],  # noqa: F811
) -> None:
    created = client.post("/v1/contacts", {"first_name": "Lazarus", "email": "lazarus@example.com"})
    contact = created.json()
    assert requests_die_after_commit, "no request lost its writes: the fault was never injected"
    trail = eventually(lambda: _trail(client, object_id=contact["id"]))
    assert [(e["action"], e["request_id"], e["source_ip"]) for e in trail] == [
        ("contact.created", _request_id(created), "127.0.0.1")
    ]
    assert trail[0]["changes"]["email"] == PERSONAL


def test_an_event_targets_secret_is_named_never_copied_and_a_redelivery_is_audited(
    client: ApiClient,
    receiver: Receiver,  # noqa: F811
) -> None:
    target = add_webhook(client, receiver.url, ["contact.created"])
    (creation,) = _trail(client, object_id=target["id"])
    assert creation["changes"]["has_secret"] == shown(None, True)
    assert "secret" not in creation["changes"] and SECRET not in json.dumps(creation)

    client.create("contacts", {"first_name": "Hooked", "email": "hooked@example.com"})
    assert eventually(lambda: receiver.accepted)
    event_id = receiver.accepted[0]["id"]
    redelivered = client.post(f"/v1/event-targets/{target['id']}/redeliver", {"event_id": event_id})
    assert redelivered.status_code == 202, redelivered.text

    latest = _trail(client, object_id=target["id"])[0]
    assert latest["action"] == "event_target.redelivered"
    assert latest["id"] == redelivered.json()["delivery_id"]
    assert latest["changes"] == {"event_id": shown(None, event_id)}
    assert latest["request_id"] == redelivered.headers["X-Request-Id"]
    assert latest["actor"]["id"] == client.user_id and latest["source_ip"] == "127.0.0.1"

    # The secret rotated (last: the receiver checks signatures with the first one)
    rotated = client.patch(f"/v1/event-targets/{target['id']}", {"secret": "another-long-secret-for-tests"})
    assert rotated.status_code == 200, rotated.text
    rotation = _trail(client, object_id=target["id"])[0]
    assert rotation["action"] == "event_target.updated"
    assert rotation["changes"] == {"secret": {**shown(None, None), "hidden": True}}  # named, never copied
    timeline = client.get(f"/v1/event-targets/{target['id']}/timeline").json()["items"]
    assert timeline[0]["changes"] == {}, "the published event names no secret"
