"""Birthdays over the local runtime: each owner is told of its contacts' birthdays on the owner's own day
(its time zone), once however often the job runs; birthdays are dates or --MM-DD, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_core.auth import Role
from crm_core.consumers import send_continuation
from crm_core.definitions import BIRTHDAYS_QUEUE

from crm_local.runtime import LocalRuntime
from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.waiting import eventually

# Fourteen hours ahead of UTC and eleven behind: their days differ most of the time.
AHEAD, BEHIND = "Pacific/Kiritimati", "Pacific/Pago_Pago"


def told(client: ApiClient) -> list[str]:
    items = client.get("/v1/notifications", params={"limit": 100}).json()["items"]
    return sorted(n["record"]["id"] for n in items if n["kind"] == "birthday")


def test_owners_are_told_of_their_contacts_birthdays_on_their_own_day_once(
    client: ApiClient, runtime: LocalRuntime
) -> None:
    for wrong in ("1990-02-30", "12-10", "--13-01", "1990-1-5", "tomorrow"):
        refused = client.post("/v1/contacts", {"first_name": "B", "birthday": wrong})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "birthday", wrong
    assert client.patch(f"/v1/users/{client.user_id}", {"timezone": "Mars/Olympus"}).status_code == 422
    assert client.patch(f"/v1/users/{client.user_id}", {"timezone": AHEAD}).status_code == 200
    rep = user_client(client, Role.REP)
    assert client.patch(f"/v1/users/{rep.user_id}", {"timezone": BEHIND}).status_code == 200

    now = datetime.now(UTC)
    ahead, behind = now.astimezone(ZoneInfo(AHEAD)).date(), now.astimezone(ZoneInfo(BEHIND)).date()

    def contact(owner: ApiClient, birthday: str) -> str:
        return client.create(
            "contacts", {"first_name": "Born", "owner_id": owner.user_id, "birthday": birthday}
        )["id"]

    mine = [contact(client, f"--{ahead:%m-%d}"), contact(client, f"1990-{ahead:%m-%d}")]
    contact(client, f"--{ahead + timedelta(days=1):%m-%d}")  # tomorrow, for the admin
    theirs = [contact(rep, f"1985-{behind:%m-%d}")]
    if behind != ahead:
        contact(rep, f"--{ahead:%m-%d}")  # the admin's day, not the rep's
    archived = contact(client, f"--{ahead:%m-%d}")
    assert client.delete(f"/v1/contacts/{archived}").status_code == 204

    delivered = runtime.workers.delivered.get("birthdays", 0)
    for _ in range(2):  # the job runs again (the next hour, a redelivery): nobody is told twice
        send_continuation(BIRTHDAYS_QUEUE, {"tenant_id": client.tenant_id})
    assert eventually(lambda: told(client) == sorted(mine) and told(rep) == sorted(theirs), timeout=30)
    assert eventually(lambda: runtime.workers.delivered.get("birthdays", 0) >= delivered + 2, timeout=30)
    assert told(client) == sorted(mine)
    assert told(rep) == sorted(theirs)
    titles = [n["title"] for n in client.get("/v1/notifications").json()["items"] if n["kind"] == "birthday"]
    assert titles == ["Birthday today: Born"] * 2
