"""Re-subscribing over the local runtime: after an unsubscription the person (and only the person, through
the link of an email) can subscribe again; a bounced address stays suppressed whatever anyone does."""

from __future__ import annotations

from email.message import Message
from urllib.parse import urlparse

import requests

from tests.integration.test_campaigns import BODY, contacts, finished, notify, segment_of, sent_to
from tests.support.client import ApiClient
from tests.support.waiting import eventually


def test_an_unsubscribed_person_can_subscribe_again_but_a_bounced_address_stays_suppressed(
    client: ApiClient,
) -> None:
    from crm_core.repositories import suppression_repository

    domain = f"r{client.tenant_id.lower()}.example"
    stays, bounces = contacts(client, domain, ["granted", "granted"], "news")
    segment_id = segment_of(client, "news")
    base = client.base_url
    emails_seen = 0

    def send(name: str, expected: list[str]) -> tuple[str, list[Message]]:
        """A campaign to the segment, and its emails (to exactly ``expected``)."""
        nonlocal emails_seen
        body = {"name": name, "segment_id": segment_id, "subject": name, "from": f"n@{domain}", "body": BODY}
        campaign = client.create("campaigns", body)
        assert client.post(f"/v1/campaigns/{campaign['id']}/send").status_code == 200
        finished(client, campaign["id"])
        eventually(lambda: len(sent_to(domain)) >= emails_seen + len(expected))
        new = sent_to(domain)[emails_seen:]
        emails_seen += len(new)
        assert sorted(str(m["To"]) for m in new) == sorted(expected), name
        return str(campaign["id"]), new

    def link(message: Message, action: str) -> str:
        unsubscribe = base + urlparse(str(message["List-Unsubscribe"]).strip("<>")).path
        return unsubscribe + ("?action=resubscribe" if action == "resubscribe" else "")

    first_id, emails = send("First", [stays["email"], bounces["email"]])
    first = {str(m["To"]): m for m in emails}
    # One address bounces hard (suppressed); the other person unsubscribes through the page.
    notify("Bounce", client.tenant_id, first_id, bounces["id"], bounces["email"])
    assert eventually(lambda: suppression_repository.is_suppressed(client.tenant_id, bounces["email"]))
    confirmed = requests.post(link(first[stays["email"]], "unsubscribe"), timeout=10)
    offered = 'action="unsubscribe?action=resubscribe"'  # the confirmation offers to subscribe again
    assert confirmed.status_code == 200 and offered in confirmed.text, confirmed.text
    assert client.get(f"/v1/contacts/{stays['id']}").json()["consent"]["email"] == "denied"
    # The bounced person unsubscribes too: the suppression keeps its stronger reason.
    assert requests.post(link(first[bounces["email"]], "unsubscribe"), timeout=10).status_code == 200
    assert suppression_repository.suppression_reason(client.tenant_id, bounces["email"]) == "hard_bounce"

    # Nobody but the person lifts an unsubscription: a user granting consent again is 409, nothing changes.
    refused = client.patch(f"/v1/contacts/{stays['id']}", {"consent": {"email": "granted"}})
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "consent.email", (
        refused.text
    )
    assert client.get(f"/v1/contacts/{stays['id']}").json()["consent"]["email"] == "denied"
    send("Second", [])  # the next campaign reaches neither

    # The person subscribes again: the page's button (a GET alone changes nothing), then its POST.
    page = requests.get(link(first[stays["email"]], "resubscribe"), timeout=10)
    assert page.status_code == 200 and "<button" in page.text
    assert suppression_repository.is_suppressed(client.tenant_id, stays["email"]), "a GET changes nothing"
    for _ in range(2):  # asked twice: the same answer, one change
        again = requests.post(link(first[stays["email"]], "resubscribe"), timeout=10)
        assert again.status_code == 200 and "subscribed again" in again.text, again.text
    assert not suppression_repository.is_suppressed(client.tenant_id, stays["email"])
    assert client.get(f"/v1/contacts/{stays['id']}").json()["consent"]["email"] == "granted"

    def updates() -> int:
        timeline = client.get(f"/v1/contacts/{stays['id']}/timeline").json()["items"]
        return [e["type"] for e in timeline].count("contact.updated")

    assert eventually(lambda: updates() == 2), updates()  # denied, then granted: once each

    # A hard bounce is never lifted that way; a user may grant consent, and the address stays suppressed.
    kept = requests.post(link(first[bounces["email"]], "resubscribe"), timeout=10)
    assert kept.status_code == 200 and "cannot be subscribed again" in kept.text
    assert client.patch(f"/v1/contacts/{bounces['id']}", {"consent": {"email": "granted"}}).status_code == 200
    assert suppression_repository.suppression_reason(client.tenant_id, bounces["email"]) == "hard_bounce"
    forged = link(first[stays["email"]], "resubscribe").replace("/t/", "/t/x")
    assert requests.post(forged, timeout=10).status_code == 404

    send("Third", [stays["email"]])  # the campaign after reaches the one who subscribed again, only
