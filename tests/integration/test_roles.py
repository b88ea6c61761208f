"""Who may change what (API.md, "roles"): settings are an admin's alone, in the services, on every route;
a rep changes what it owns and takes an unowned record only by assigning it to itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.support.client import ApiClient

NOT_ADMINS = ["manager", "rep", "viewer"]


def member(base_url: str, admin: ApiClient, role: str) -> ApiClient:
    """A user of the admin's tenant with ``role``, and an API key of theirs."""
    from crm_core.auth import Role
    from crm_core.services.tenants import create_user, issue_api_key

    email = f"{role}-{admin.tenant_id.lower()}@roles.example"
    user_id = create_user(admin.tenant_id, email, Role(role))
    return ApiClient(base_url, issue_api_key(admin.tenant_id, user_id, Role(role)), admin.tenant_id, user_id)


@pytest.fixture
def settings(client: ApiClient) -> dict[str, Any]:
    """One of each setting, made by the admin."""
    pipeline = client.get("/v1/pipelines").json()["items"][0]
    webhook = client.create(
        "event-targets",
        {
            "type": "webhook",
            "event_types": ["contact.created"],
            "url": "http://127.0.0.1:9/hook",
            "secret": "s" * 32,
        },
    )
    source = client.create("event-sources", {"source": "partner.roles"})
    return {"pipeline": pipeline, "webhook": webhook, "source": source}


SettingWrite = Callable[[ApiClient, dict[str, Any]], requests.Response]

SETTING_WRITES: dict[str, SettingWrite] = {
    "create a pipeline": lambda c, s: c.post(
        "/v1/pipelines", {"name": "Mine", "stages": [{"name": "Open", "probability": 0.5, "kind": "open"}]}
    ),
    "rename a pipeline": lambda c, s: c.patch(f"/v1/pipelines/{s['pipeline']['id']}", {"name": "Mine"}),
    "archive a pipeline": lambda c, s: c.delete(f"/v1/pipelines/{s['pipeline']['id']}"),
    "create a webhook for every event": lambda c, s: c.post(
        "/v1/event-targets",
        {"type": "webhook", "event_types": ["*"], "url": "http://127.0.0.1:9/x", "secret": "t" * 32},
    ),
    "create an EventBridge target": lambda c, s: c.post(
        "/v1/event-targets",
        {
            "type": "eventbridge",
            "event_types": ["*"],
            "event_bus_arn": "arn:aws:events:us-east-1:111111111111:event-bus/outside",
        },
    ),
    "repoint the admin's webhook": lambda c, s: c.patch(
        f"/v1/event-targets/{s['webhook']['id']}", {"url": "http://127.0.0.1:9/stolen"}
    ),
    "archive the admin's webhook": lambda c, s: c.delete(f"/v1/event-targets/{s['webhook']['id']}"),
    "redeliver": lambda c, s: c.post(
        f"/v1/event-targets/{s['webhook']['id']}/redeliver", {"event_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}
    ),
    "register an event source": lambda c, s: c.post("/v1/event-sources", {"source": "partner.mine"}),
    "archive an event source": lambda c, s: c.delete(f"/v1/event-sources/{s['source']['id']}"),
    "change an event source": lambda c, s: c.patch(
        f"/v1/event-sources/{s['source']['id']}", {"account_id": "111111111111"}
    ),
}


@pytest.mark.parametrize("role", NOT_ADMINS)
@pytest.mark.parametrize("write", sorted(SETTING_WRITES))
def test_only_an_admin_changes_settings(
    base_url: str, client: ApiClient, settings: dict[str, Any], role: str, write: str
) -> None:
    caller = member(base_url, client, role)
    response = SETTING_WRITES[write](caller, settings)
    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    # ... and nothing changed: the admin's settings read as they were.
    for name, path in (("pipeline", "pipelines"), ("webhook", "event-targets"), ("source", "event-sources")):
        now = client.get(f"/v1/{path}/{settings[name]['id']}").json()
        assert now["version"] == settings[name]["version"], (name, now)
    assert len(client.get("/v1/pipelines").json()["items"]) == 1
    assert len(client.get("/v1/event-targets").json()["items"]) == 1
    assert len(client.get("/v1/event-sources").json()["items"]) == 1


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_every_role_reads_the_settings(
    base_url: str, client: ApiClient, settings: dict[str, Any], role: str
) -> None:
    caller = member(base_url, client, role)
    for path in ("pipelines", "event-targets", "event-sources"):
        assert caller.get(f"/v1/{path}").status_code == 200
    board = caller.get(f"/v1/pipelines/{settings['pipeline']['id']}/board")
    assert board.status_code == 200
    target = caller.get(f"/v1/event-targets/{settings['webhook']['id']}").json()
    assert "secret" not in target and target["has_secret"] is True


def test_the_admin_changes_settings(client: ApiClient, settings: dict[str, Any]) -> None:
    for write in ("rename a pipeline", "repoint the admin's webhook", "change an event source"):
        response = SETTING_WRITES[write](client, settings)
        assert response.status_code == 200, (write, response.text)


def test_a_rep_takes_an_unowned_record_only_by_assigning_it_to_itself(
    base_url: str, client: ApiClient
) -> None:
    rep = member(base_url, client, "rep")
    unowned = client.create("contacts", {"email": "nobody@roles.example", "owner_id": None})
    assert unowned["owner_id"] is None
    path = f"/v1/contacts/{unowned['id']}"

    assert rep.patch(path, {"title": "Mine now?"}).status_code == 403
    assert rep.delete(path).status_code == 403
    assert rep.patch(path, {"owner_id": client.user_id}).status_code == 403
    assert client.get(path).json()["version"] == 1

    taken = rep.patch(path, {"owner_id": rep.user_id, "title": "Mine"})
    assert taken.status_code == 200, taken.text
    assert taken.json()["owner_id"] == rep.user_id
    assert rep.patch(path, {"title": "Still mine"}).status_code == 200
    # ... and it cannot hand the record to someone else, nor change the admin's.
    assert rep.patch(path, {"owner_id": client.user_id}).status_code == 403
    admins = client.create("contacts", {"email": "admins@roles.example"})
    assert rep.patch(f"/v1/contacts/{admins['id']}", {"title": "x"}).status_code == 403


def test_a_viewer_changes_nothing(base_url: str, client: ApiClient) -> None:
    viewer = member(base_url, client, "viewer")
    contact = client.create("contacts", {"email": "seen@roles.example"})
    assert viewer.post("/v1/contacts", {"email": "new@roles.example"}).status_code == 403
    assert viewer.patch(f"/v1/contacts/{contact['id']}", {"title": "x"}).status_code == 403
    assert viewer.delete(f"/v1/contacts/{contact['id']}").status_code == 403
    batch = viewer.post("/v1/contacts/batch/create", {"inputs": [{"email": "b@roles.example"}]})
    assert batch.status_code == 200 and batch.json()["results"][0]["status"] == 403
    assert len(client.all_pages("/v1/contacts")) == 1
