"""A birthday campaign over the local runtime: active from /send until /cancel, it greets the consenting
contacts of its segment whose birthday it is, once a year each, however often the birthdays' schedule fires
and the sender's messages are delivered; another tenant cannot see it, a viewer cannot make or send one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm_core.auth import Role
from crm_core.consumers import send_continuation
from crm_core.definitions import BIRTHDAYS_QUEUE

from crm_local.runtime import LocalRuntime
from tests.integration.test_campaigns import html_of, redelivered, segment_of, sent_to
from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.waiting import eventually

__all__ = ["redelivered"]  # the fixture: each send message handled twice at once, then delivered again


def test_a_birthday_campaign_greets_consenting_contacts_on_the_day_once_a_year(
    client: ApiClient, other: ApiClient, runtime: LocalRuntime, redelivered: dict[str, int]
) -> None:
    from crm_core.services import birthday_campaigns, birthdays

    domain = f"b{client.tenant_id.lower()}.example"
    assert client.patch(f"/v1/users/{client.user_id}", {"timezone": "UTC"}).status_code == 200
    today = datetime.now(UTC).date()
    tomorrow = today + timedelta(days=1)

    def contact(name: str, birthday: str, consent: str, tag: str = "fans") -> str:
        body = {
            "first_name": name,
            "email": f"{name.lower()}@{domain}",
            "birthday": birthday,
            "tags": [tag],
            "consent": {"email": consent},
        }
        return str(client.create("contacts", body)["id"])

    contact("Ann", f"--{today:%m-%d}", "granted")
    contact("Bob", f"1990-{today:%m-%d}", "granted")
    contact("Cid", f"--{today:%m-%d}", "unknown")  # no consent: skipped, never sent to
    contact("Dee", f"--{tomorrow:%m-%d}", "granted")  # tomorrow
    contact("Eve", f"--{today:%m-%d}", "granted", tag="others")  # not in the campaign's segment
    segment_id = segment_of(client, "fans")

    body = {
        "name": "Birthdays",
        "trigger": "birthday",
        "segment_id": segment_id,
        "subject": "Happy birthday",
        "from": f"hello@{domain}",
        "body": "<p>Happy birthday, {{ first_name }}!</p>",
    }
    cid = made_active(client, other, body)

    # The schedule fires twice (the next hour, a second sweep); each send message is delivered twice.
    delivered = runtime.workers.delivered.get("birthdays", 0)
    for _ in range(2):
        send_continuation(BIRTHDAYS_QUEUE, {"tenant_id": client.tenant_id})
    assert eventually(lambda: runtime.workers.delivered.get("birthdays", 0) >= delivered + 2, timeout=30)
    assert eventually(lambda: len(sent_to(domain)) >= 2, timeout=30)
    assert eventually(lambda: redelivered and set(redelivered.values()) == {2}, timeout=30), redelivered

    def counted(sent: int, skipped: int) -> dict[str, object] | None:
        stats: dict[str, object] = client.get(f"/v1/campaigns/{cid}/stats").json()
        return stats if stats["sent"] == sent and stats["skipped"] == skipped else None

    stats = eventually(lambda: counted(2, 1))
    assert stats and stats["recipients"] == 3 and stats["status"] == "sending", stats
    messages = sent_to(domain)
    assert sorted(str(m["To"]).split("@")[0] for m in messages) == ["ann", "bob"]  # each once
    assert all(m["Subject"] == "Happy birthday" for m in messages)
    assert "Happy birthday, Ann!" in html_of(next(m for m in messages if str(m["To"]).startswith("ann")))
    # Active until cancelled: still sending once everyone of the day is accounted for.
    assert client.get(f"/v1/campaigns/{cid}").json()["status"] == "sending"

    # A year later the same day greets them again, once (the claim's key holds the year).
    next_year = datetime.now(UTC).replace(year=today.year + 1)
    for _ in range(2):
        birthdays.notify_tenant(client.tenant_id, now=next_year)
    assert eventually(lambda: counted(4, 2), timeout=30), client.get(f"/v1/campaigns/{cid}/stats").text
    assert sorted(str(m["To"]).split("@")[0] for m in sent_to(domain)) == ["ann", "ann", "bob", "bob"]

    # Cancelled, it greets nobody any more.
    assert client.post(f"/v1/campaigns/{cid}/cancel").json()["status"] == "cancelled"
    assert birthday_campaigns.active_birthday_campaigns(client.tenant_id) == []


def made_active(client: ApiClient, other: ApiClient, body: dict[str, object]) -> str:
    """The birthday campaign made and sent (active), with what is refused on the way: a viewer's create and
    send, another tenant's reads and moves (404), a schedule (409 naming trigger), a second send, an edit."""
    viewer = user_client(client, Role.VIEWER)
    assert viewer.post("/v1/campaigns", body).status_code == 403
    campaign = client.create("campaigns", body)
    assert campaign["trigger"] == "birthday" and campaign["status"] == "draft"
    cid = campaign["id"]
    assert viewer.post(f"/v1/campaigns/{cid}/send").status_code == 403
    assert other.get(f"/v1/campaigns/{cid}").status_code == 404
    assert other.post(f"/v1/campaigns/{cid}/send").status_code == 404
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = client.post(f"/v1/campaigns/{cid}/schedule", {"send_at": later})
    assert scheduled.status_code == 409 and scheduled.json()["errors"][0]["field"] == "trigger", (
        scheduled.text
    )
    active = client.post(f"/v1/campaigns/{cid}/send")
    assert active.status_code == 200 and active.json()["status"] == "sending", active.text
    assert client.post(f"/v1/campaigns/{cid}/send").status_code == 409
    assert client.patch(f"/v1/campaigns/{cid}", {"trigger": "once"}).status_code == 409  # not a draft
    assert other.get(f"/v1/campaigns/{cid}/stats").status_code == 404
    assert other.post(f"/v1/campaigns/{cid}/cancel").status_code == 404
    # Its segment is optional (everyone with a birthday and consent): active at once, cancelled here.
    everyone = client.create("campaigns", {**body, "segment_id": None, "name": "Everyone"})
    assert client.post(f"/v1/campaigns/{everyone['id']}/send").json()["status"] == "sending"
    assert client.post(f"/v1/campaigns/{everyone['id']}/cancel").json()["status"] == "cancelled"
    return str(cid)
