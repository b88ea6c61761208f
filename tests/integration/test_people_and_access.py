"""Users, teams and API keys through the API, as a tenant's admin manages them (API.md "users", "teams",
"api keys", "roles"), and access that takes effect on the very next request (docs/decisions/0009)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import ApiKeyUse

from crm_local.runtime import LocalRuntime
from tests.integration.test_events import BusTap
from tests.support.client import ApiClient

_serial = iter(range(1, 1_000_000))


def add_user(admin: ApiClient, role: str, **fields: Any) -> ApiClient:
    """A user made by the admin over the API, and a key the admin issues it: the user's own client."""
    user = admin.create(
        "users",
        {"email": f"{role}{next(_serial)}@people.example", "name": f"A {role}", "role": role, **fields},
    )
    issued = admin.create("api-keys", {"user_id": user["id"], "name": f"{role} key"})
    return ApiClient(admin.base_url, issued["key"], admin.tenant_id, user["id"])


def test_a_user_gets_a_key_that_is_shown_once_and_acts_as_them(client: ApiClient) -> None:
    rep_user = client.create("users", {"email": "Rita.Rep@People.example", "name": "Rita", "role": "rep"})
    assert rep_user["email"] == "rita.rep@people.example" and rep_user["active"] is True
    again = client.post("/v1/users", {"email": "rita.rep@people.example"})
    assert again.status_code == 409 and again.json()["existing_id"] == rep_user["id"], again.text

    issued = client.create("api-keys", {"user_id": rep_user["id"], "name": "Rita's laptop"})
    assert issued["key"].startswith(issued["prefix"]) and issued["key"] != issued["prefix"]
    assert issued["user_id"] == rep_user["id"] and issued["last_used_at"] is None
    assert "key" not in client.get(f"/v1/api-keys/{issued['id']}").json()
    listed = client.all_pages("/v1/api-keys")
    assert len({key["prefix"] for key in listed}) == len(listed) == 2  # the admin's and Rita's
    assert all("key" not in key and "key_hash" not in key for key in listed)

    rita = ApiClient(client.base_url, issued["key"], client.tenant_id, rep_user["id"])
    me = rita.get("/v1/me").json()
    assert me["user"]["id"] == rep_user["id"] and me["role"] == "rep"
    assert me["credential"] == {"type": "api_key", "id": issued["id"]}
    assert me["tenant"]["id"] == client.tenant_id and me["tenant"]["seats"]["used"] == 2
    contact = rita.create("contacts", {"email": "c@people.example"})
    assert contact["owner_id"] == rep_user["id"]
    assert client.get(f"/v1/api-keys/{issued['id']}").json()["last_used_at"] is not None


def test_a_revoked_key_a_deactivated_user_and_a_demoted_manager_fail_on_their_next_call(
    client: ApiClient,
) -> None:
    rep = add_user(client, "rep")
    assert rep.get("/v1/contacts").status_code == 200
    second = client.create("api-keys", {"user_id": rep.user_id})
    assert client.delete(f"/v1/api-keys/{second['id']}").status_code == 204
    assert ApiClient(client.base_url, second["key"]).get("/v1/contacts").status_code == 401
    assert rep.get("/v1/contacts").status_code == 200  # the user's other key still works

    deactivated = client.delete(f"/v1/users/{rep.user_id}")
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False, deactivated.text
    assert rep.get("/v1/contacts").status_code == 401
    assert client.patch(f"/v1/users/{rep.user_id}", {"active": True}).status_code == 200
    assert rep.get("/v1/contacts").status_code == 200

    manager = add_user(client, "manager")
    unowned = client.create("contacts", {"email": "unowned@people.example", "owner_id": None})
    assert manager.patch(f"/v1/contacts/{unowned['id']}", {"title": "CEO"}).status_code == 200
    assert client.patch(f"/v1/users/{manager.user_id}", {"role": "viewer"}).status_code == 200
    refused = manager.patch(f"/v1/contacts/{unowned['id']}", {"title": "CFO"})
    assert refused.status_code == 403, refused.text
    assert client.get(f"/v1/contacts/{unowned['id']}").json()["title"] == "CEO"


def test_a_key_restricted_below_its_user_and_one_that_expires(client: ApiClient) -> None:
    viewer_key = client.create("api-keys", {"role": "viewer", "name": "read-only export"})
    assert viewer_key["role"] == "viewer" and viewer_key["user_id"] == client.user_id
    read_only = ApiClient(client.base_url, viewer_key["key"])
    assert read_only.get("/v1/me").json()["role"] == "viewer"
    assert read_only.get("/v1/contacts").status_code == 200
    assert read_only.post("/v1/contacts", {"email": "x@people.example"}).status_code == 403

    rep = add_user(client, "rep")
    above = client.post("/v1/api-keys", {"user_id": rep.user_id, "role": "admin"})
    assert above.status_code == 422 and above.json()["errors"][0]["field"] == "role", above.text
    past = client.post("/v1/api-keys", {"expires_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "expires_at", past.text
    nobody = client.post("/v1/api-keys", {"user_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"})
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "user_id", nobody.text

    soon = datetime.now(UTC) + timedelta(seconds=2)
    expiring = client.create("api-keys", {"expires_at": soon.isoformat()})
    assert ApiClient(client.base_url, expiring["key"]).get("/v1/me").status_code == 200
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
    assert ApiClient(client.base_url, expiring["key"]).get("/v1/me").status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id = client.get("/v1/me").json()["credential"]["id"]
    use_key = (keys.api_key_use_pk(client.tenant_id, key_id), keys.RECORD_SK)
    first = [item for item in repo.get_items([use_key]) if isinstance(item, ApiKeyUse)]
    assert first, "the key's use was not kept"
    read: list[tuple[str, str]] = []
    get_items = repo.get_items

    def reading(item_keys: list[tuple[str, str]], *args: Any, **kwargs: Any) -> Any:
        read.extend(item_keys)
        return get_items(item_keys, *args, **kwargs)

    monkeypatch.setattr(repo, "get_items", reading)
    for _ in range(5):
        assert client.get("/v1/me").status_code == 200
    monkeypatch.undo()
    again = [item for item in repo.get_items([use_key]) if isinstance(item, ApiKeyUse)]
    assert again[0].last_used_at == first[0].last_used_at  # no write within the minute
    # ...and no read of it either: the authorizer's container remembers its last write.
    assert read, "the authorizer read the key's user and tenant"
    assert use_key not in read, read


def test_the_last_admin_stays_one(client: ApiClient) -> None:
    refused = client.delete(f"/v1/users/{client.user_id}")
    assert refused.status_code == 409, refused.text
    demoted = client.patch(f"/v1/users/{client.user_id}", {"role": "rep"})
    assert demoted.status_code == 409 and demoted.json()["errors"][0]["field"] == "role", demoted.text
    second = client.create("users", {"email": "second.admin@people.example", "role": "admin"})
    assert client.patch(f"/v1/users/{second['id']}", {"role": "manager"}).status_code == 200


def test_two_admins_demoting_each_other_at_once_leave_one(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each admin's request reads two admins before either commits: the race is made certain by handing
    the second request the count from before the first one's commit. The admins' count is kept at one or
    more by the write's own condition, so the second is prepared again and refused."""
    from crm_core.services import users

    other_admin = add_user(client, "admin")
    assert client.patch(f"/v1/users/{other_admin.user_id}", {"role": "rep"}).status_code == 200
    read_counts = users.active_users_by_role
    stale = iter([{"admin": 2}])
    monkeypatch.setattr(
        users, "active_users_by_role", lambda tenant: next(stale, None) or read_counts(tenant)
    )
    refused = client.patch(f"/v1/users/{client.user_id}", {"role": "manager"})
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "role", refused.text
    assert next(stale, None) is None, "the stale count was read"
    assert client.get(f"/v1/users/{client.user_id}").json()["role"] == "admin"
    assert users.active_users_by_role(client.tenant_id).get("admin") == 1


def test_only_an_admin_manages_users_teams_and_keys(client: ApiClient) -> None:
    for role in ("manager", "rep", "viewer"):
        someone = add_user(client, role)
        assert someone.get("/v1/users").status_code == 200  # everyone reads who can own a record
        assert someone.post("/v1/users", {"email": f"x-{role}@people.example"}).status_code == 403
        assert someone.post("/v1/teams", {"name": "Mine"}).status_code == 403
        assert someone.post("/v1/api-keys", {}).status_code == 403
        assert someone.patch(f"/v1/users/{someone.user_id}", {"role": "admin"}).status_code == 403
        assert someone.get("/v1/me").json()["user"]["role"] == role


def test_a_manager_changes_what_its_team_owns_and_a_reassignment_tells_both_owners(client: ApiClient) -> None:
    team = client.create("teams", {"name": "Enterprise"})
    manager = add_user(client, "manager", team_id=team["id"])
    assert client.patch(f"/v1/teams/{team['id']}", {"manager_id": manager.user_id}).status_code == 200
    member = add_user(client, "rep", team_id=team["id"])
    colleague = add_user(client, "rep", team_id=team["id"])
    outsider = add_user(client, "rep")

    theirs = member.create("contacts", {"email": "member@people.example"})
    others = outsider.create("contacts", {"email": "outsider@people.example"})
    assert manager.patch(f"/v1/contacts/{theirs['id']}", {"title": "VP"}).status_code == 200
    refused = manager.patch(f"/v1/contacts/{others['id']}", {"title": "VP"})
    assert refused.status_code == 403, refused.text
    assert client.get(f"/v1/contacts/{others['id']}").json()["version"] == others["version"]
    to_outsider = manager.patch(f"/v1/contacts/{theirs['id']}", {"owner_id": outsider.user_id})
    assert to_outsider.status_code == 403, to_outsider.text

    moved = manager.patch(f"/v1/contacts/{theirs['id']}", {"owner_id": colleague.user_id})
    assert moved.status_code == 200, moved.text
    titles = {
        who.user_id: [n["title"] for n in who.get("/v1/notifications").json()["items"]]
        for who in (member, colleague)
    }
    assert any(t.startswith("Reassigned to someone else") for t in titles[member.user_id]), titles
    assert any(t.startswith("Assigned to you") for t in titles[colleague.user_id]), titles

    # Lists by owner and by team, the caller's own as "me".
    assert [c["id"] for c in colleague.get("/v1/contacts", params={"owner_id": "me"}).json()["items"]] == [
        theirs["id"]
    ]
    team_list = client.get("/v1/contacts", params={"team_id": team["id"]}).json()["items"]
    assert [c["id"] for c in team_list] == [theirs["id"]]
    assert client.get("/v1/users", params={"team_id": team["id"]}).json()["items"][0]["team_id"] == team["id"]
    busy = client.delete(f"/v1/teams/{team['id']}")
    assert busy.status_code == 409, busy.text


def test_people_events_are_published(runtime: LocalRuntime, client: ApiClient) -> None:
    tap = BusTap(runtime, client.tenant_id)
    user = client.create("users", {"email": "evented@people.example", "role": "viewer"})
    issued = client.create("api-keys", {"user_id": user["id"]})
    assert client.delete(f"/v1/api-keys/{issued['id']}").status_code == 204
    assert client.delete(f"/v1/users/{user['id']}").status_code == 200
    events = tap.drain(expected=4)
    kinds = [(e["detail-type"], e["detail"]["data"]["id"]) for e in events]
    assert kinds == [
        ("user.created", user["id"]),
        ("api_key.created", issued["id"]),
        ("api_key.revoked", issued["id"]),
        ("user.deactivated", user["id"]),
    ]
    assert all("key" not in e["detail"]["data"] and "key_hash" not in e["detail"]["data"] for e in events)


@pytest.mark.parametrize("collection", ["users", "teams", "api-keys"])
def test_another_tenant_finds_nothing(client: ApiClient, other: ApiClient, collection: str) -> None:
    mine = {
        "users": lambda: client.create("users", {"email": "private@people.example"}),
        "teams": lambda: client.create("teams", {"name": "Private"}),
        "api-keys": lambda: client.create("api-keys", {"name": "private"}),
    }[collection]()
    assert other.get(f"/v1/{collection}/{mine['id']}").status_code == 404
    assert other.delete(f"/v1/{collection}/{mine['id']}").status_code == 404
    assert mine["id"] not in [one["id"] for one in other.all_pages(f"/v1/{collection}")]
    if collection == "api-keys":
        assert other.post("/v1/api-keys", {"user_id": client.user_id}).status_code == 422
