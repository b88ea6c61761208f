"""Campaigns end to end on the local runtime: the send through the bus, the fan-out, the send queue and SES
(moto), each recipient once with the sender's messages delivered twice; the tracking links; the stats."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import requests
from moto.ses.models import ses_backends

from crm_local.runtime import LocalRuntime
from tests.support.client import ApiClient
from tests.support.waiting import eventually

ACCOUNT, REGION = "123456789012", "us-east-1"
LINK = "https://acme.example/spring?utm=news&x=1"
BODY = f'<p>Hello {{{{ first_name }}}},</p><p><a href="{LINK}">Read more</a></p>'


def sent_to(domain: str) -> list[Message]:
    """Every email SES (moto) took for addresses at ``domain``, parsed."""
    raw = [m for m in ses_backends[ACCOUNT][REGION].sent_messages if hasattr(m, "raw_data")]
    found = [email.message_from_string(m.raw_data) for m in raw]
    return [m for m in found if str(m["To"]).endswith(f"@{domain}")]


def html_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no HTML part")


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fan-out reads its segment three members at a time and queues them two to a message: a few
    contacts make several pages, several messages, and a page that ends within a batch."""
    from crm_core.services import campaign_sends

    monkeypatch.setattr(campaign_sends, "PAGE_SIZE", 3)
    monkeypatch.setattr(campaign_sends, "SEND_BATCH", 2)


def segment_of(client: ApiClient, tag: str) -> str:
    """A segment of the contacts tagged ``tag``."""
    rule = {"property": "tags", "operator": "contains", "value": tag}
    return str(client.create("segments", {"name": tag, "filter": {"any": [{"all": [rule]}]}})["id"])


@pytest.fixture
def redelivered(runtime: LocalRuntime) -> Iterator[dict[str, int]]:
    """Every message of the send queue is handled by two workers at once (SQS delivers at least once), then
    reported failed, so that SQS delivers it again after the local retry second, and it is handled twice
    more: the deliveries of each message, by message id."""
    from crm_core.definitions import CONSUMERS

    from crm_local.gateway import load_handler

    handlers = runtime.workers._handlers
    name = "campaign_sender"
    definition = next(c.function for c in CONSUMERS if c.function.name == name)
    real = handlers.get(name) or load_handler(definition)
    seen: dict[str, int] = {}

    def twice(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(lambda _: real(event, context), range(2)))
        failed = [f for answer in answers for f in answer.get("batchItemFailures", [])]
        for record in event["Records"]:
            seen[record["messageId"]] = seen.get(record["messageId"], 0) + 1
            if seen[record["messageId"]] == 1:
                failed.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failed}

    handlers[name] = twice
    yield seen
    handlers[name] = real


def contacts(client: ApiClient, domain: str, consents: list[str], tag: str) -> list[dict[str, Any]]:
    inputs = [
        {
            "tags": [tag],
            "email": f"person{n}@{domain}",
            "first_name": f"<b>P{n}</b>" if n == 0 else f"P{n}",
            "consent": {"email": consent},
        }
        for n, consent in enumerate(consents)
    ]
    answer = client.post("/v1/contacts/batch/create", {"inputs": inputs})
    assert answer.status_code == 200, answer.text
    ids = [r["id"] for r in answer.json()["results"]]
    return [{**body, "id": the_id} for body, the_id in zip(inputs, ids, strict=True)]


def finished(client: ApiClient, campaign_id: str) -> dict[str, Any]:
    def sent() -> dict[str, Any] | None:
        campaign: dict[str, Any] = client.get(f"/v1/campaigns/{campaign_id}").json()
        return campaign if campaign["status"] == "sent" else None

    done = eventually(sent, timeout=60)
    assert done, client.get(f"/v1/campaigns/{campaign_id}/stats").text
    return done


def test_a_campaign_reaches_each_consenting_member_once_and_tracks_them(
    client: ApiClient,
    other: ApiClient,
    small_pages: None,
    redelivered: dict[str, int],
) -> None:
    domain = f"t{client.tenant_id.lower()}.example"
    consents = ["granted", "granted", "denied", "unknown", "granted", "granted", "denied", "granted"]
    people = contacts(client, domain, consents, "spring")
    # One who consents but whose address is suppressed (an earlier unsubscription, a bounce): never sent to.
    from crm_core.ids import utc_now
    from crm_core.repositories import suppression_repository

    suppression_repository.suppression_item(
        client.tenant_id, people[7]["email"], reason="hard_bounce", suppressed_at=utc_now()
    ).save()
    segment_id = segment_of(client, "spring")

    # The template's fields are checked when it is saved; only a draft is edited.
    bad = client.post("/v1/campaigns", {"name": "x", "body": "Hi {{ nickname }}"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body", bad.text
    campaign = client.create(
        "campaigns",
        {
            "name": "Spring",
            "segment_id": segment_id,
            "subject": "Spring news",
            "from": f"news@{domain}",
            "body": BODY,
        },
    )
    assert campaign["status"] == "draft" and campaign["from"] == f"news@{domain}"
    assert client.patch(f"/v1/campaigns/{campaign['id']}", {"status": "sent"}).status_code == 422

    answer = client.post(f"/v1/campaigns/{campaign['id']}/send")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "sending"
    again = client.post(f"/v1/campaigns/{campaign['id']}/send")
    assert again.status_code == 409, again.text
    assert again.json()["status"] == 409 and again.json()["campaign_status"] in ("sending", "sent"), (
        again.text
    )
    assert client.patch(f"/v1/campaigns/{campaign['id']}", {"subject": "Other"}).status_code == 409
    assert other.post(f"/v1/campaigns/{campaign['id']}/send").status_code == 404

    done = finished(client, campaign["id"])
    assert done["sent_at"] and done["sending_at"]
    consenting = {p["email"] for p, c in zip(people[:7], consents, strict=False) if c == "granted"}
    # Claimed recipients count as accounted for: the last emails may still be on their way to SES.
    eventually(lambda: len(sent_to(domain)) >= len(consenting))
    assert eventually(lambda: redelivered and set(redelivered.values()) == {2}), redelivered
    messages = sent_to(domain)
    assert sorted(str(m["To"]) for m in messages) == sorted(consenting)  # each once, however delivered

    stats = client.get(f"/v1/campaigns/{campaign['id']}/stats").json()
    assert stats["recipients"] == len(people) and stats["sent"] == len(consenting)
    assert stats["skipped"] == len(people) - len(consenting)
    assert other.get(f"/v1/campaigns/{campaign['id']}/stats").status_code == 404

    first = next(m for m in messages if str(m["To"]) == people[0]["email"])
    follow_the_links(client, first, people[0]["id"])

    stats = eventually(
        lambda: (s := client.get(f"/v1/campaigns/{campaign['id']}/stats").json())["unsubscribed"] == 1 and s
    )
    assert stats and stats["opened"] == 1 and stats["clicked"] == 1 and stats["unsubscribed"] == 1

    # The next campaign to the same segment does not reach the one who unsubscribed.
    second = client.create(
        "campaigns",
        {
            "name": "Summer",
            "segment_id": segment_id,
            "subject": "Summer",
            "from": f"news@{domain}",
            "body": BODY,
        },
    )
    assert client.post(f"/v1/campaigns/{second['id']}/send").status_code == 200
    finished(client, second["id"])
    expected = consenting - {people[0]["email"]}
    eventually(lambda: len(sent_to(domain)) >= len(messages) + len(expected))
    now_sent = sent_to(domain)[len(messages) :]
    assert sorted(str(m["To"]) for m in now_sent) == sorted(expected)


def follow_the_links(client: ApiClient, first: Message, contact_id: str) -> None:
    """The tracking links of one email: the open pixel and a click (twice each), a link not in the body, a
    forged token, and the unsubscribe page and its confirmation."""
    page = html_of(first)
    assert "&lt;b&gt;P0&lt;/b&gt;" in page and "<b>P0</b>" not in page  # fields are escaped
    unsubscribe_url = str(first["List-Unsubscribe"]).strip("<>")
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    open_url = re.search(r'<img src="([^"]+/open)"', page)
    click_url = re.search(r'href="([^"]+/click\?u=[^"]+)"', page)
    assert open_url and click_url
    base = client.base_url

    def local(url: str) -> str:
        return base + urlparse(url).path + (f"?{urlparse(url).query}" if urlparse(url).query else "")

    # Opens and clicks count once per recipient; the click goes only to the body's own links.
    for _ in range(2):
        pixel = requests.get(local(open_url.group(1)), timeout=10)
        assert pixel.status_code == 200 and pixel.headers["Content-Type"] == "image/gif"
        hop = requests.get(local(click_url.group(1).replace("&amp;", "&")), allow_redirects=False, timeout=10)
        assert hop.status_code == 302 and hop.headers["Location"] == LINK
    assert unquote(parse_qs(urlparse(click_url.group(1).replace("&amp;", "&")).query)["u"][0]) == LINK
    token_path = urlparse(open_url.group(1)).path.rsplit("/", 1)[0]
    elsewhere = requests.get(f"{base}{token_path}/click", params={"u": "https://evil.example/"}, timeout=10)
    assert elsewhere.status_code == 404, "no open redirect"
    forged = token_path[:-3] + ("AAA" if not token_path.endswith("AAA") else "BBB")
    assert requests.get(f"{base}{forged}/open", timeout=10).status_code == 404

    # The unsubscribe page is a page with a button; its POST suppresses the address and denies consent.
    shown = requests.get(local(unsubscribe_url), timeout=10)
    assert (
        shown.status_code == 200 and "<button" in shown.text and "text/html" in shown.headers["Content-Type"]
    )
    confirmed = requests.post(local(unsubscribe_url), timeout=10)
    assert confirmed.status_code == 200 and "unsubscribed" in confirmed.text
    contact = client.get(f"/v1/contacts/{contact_id}").json()
    assert contact["consent"]["email"] == "denied"


def notify(kind: str, tenant_id: str, campaign_id: str, contact_id: str, address: str) -> None:
    """An SES event of the configuration set, as its SNS topic delivers it to the notifications queue."""
    import json

    import boto3
    from crm_core.definitions import EMAIL_NOTIFICATIONS_QUEUE

    tags = {"tenant_id": [tenant_id], "campaign_id": [campaign_id], "contact_id": [contact_id]}
    event: dict[str, Any] = {
        "eventType": kind,
        "mail": {"messageId": "m-1", "destination": [address], "tags": tags},
    }
    if kind == "Bounce":
        event["bounce"] = {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": address}]}
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=EMAIL_NOTIFICATIONS_QUEUE.name)["QueueUrl"]
    envelope = {"Type": "Notification", "Message": json.dumps(event)}
    for _ in range(2):  # SNS and SQS deliver at least once
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope))


def test_a_scheduled_campaign_goes_at_its_time_and_counts_what_comes_back(client: ApiClient) -> None:
    from datetime import UTC, datetime, timedelta

    from crm_core.repositories import suppression_repository

    domain = f"s{client.tenant_id.lower()}.example"
    people = contacts(client, domain, ["granted", "granted", "granted"], "later")
    segment_id = segment_of(client, "later")
    body = {"name": "Later", "subject": "Hi", "from": f"Acme <news@{domain}>", "body": BODY}
    campaign = client.create("campaigns", body)

    def soon() -> str:
        return (datetime.now(UTC) + timedelta(seconds=4)).isoformat()

    no_segment = client.post(f"/v1/campaigns/{campaign['id']}/schedule", {"send_at": soon()})
    assert no_segment.status_code == 422 and no_segment.json()["errors"][0]["field"] == "segment_id"
    client.patch(f"/v1/campaigns/{campaign['id']}", {"segment_id": segment_id})
    past = client.post(f"/v1/campaigns/{campaign['id']}/schedule", {"send_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "send_at"
    scheduled = client.post(f"/v1/campaigns/{campaign['id']}/schedule", {"send_at": soon()})
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled", scheduled.text

    # A cancelled campaign never goes; a cancelled one cannot be sent.
    dropped = client.create("campaigns", {**body, "name": "Dropped", "segment_id": segment_id})
    client.post(f"/v1/campaigns/{dropped['id']}/schedule", {"send_at": soon()})
    assert client.post(f"/v1/campaigns/{dropped['id']}/cancel").json()["status"] == "cancelled"
    assert client.post(f"/v1/campaigns/{dropped['id']}/send").status_code == 409

    done = finished(client, campaign["id"])
    assert done["sending_at"] >= done["send_at"]  # never early
    eventually(lambda: len(sent_to(domain)) >= 3)
    assert sorted(str(m["To"]) for m in sent_to(domain)) == sorted(p["email"] for p in people)
    events = [e["type"] for e in client.get(f"/v1/campaigns/{campaign['id']}/timeline").json()["items"]]
    assert events[:3] == ["campaign.sent", "campaign.sending", "campaign.scheduled"], events
    assert client.get(f"/v1/campaigns/{dropped['id']}").json()["status"] == "cancelled"

    # SES's events: a delivery, a hard bounce (suppressed from then on), each counted once.
    notify("Delivery", client.tenant_id, campaign["id"], people[0]["id"], people[0]["email"])
    notify("Bounce", client.tenant_id, campaign["id"], people[1]["id"], people[1]["email"])
    # A deal won by a recipient within the attribution window is the campaign's conversion and revenue.
    pipeline = client.get("/v1/pipelines").json()["items"][0]
    won = next(s["id"] for s in pipeline["stages"] if s["kind"] == "won")
    deal = client.create("deals", {"name": "Big one", "amount": "1200.50", "contact_ids": [people[2]["id"]]})
    assert client.patch(f"/v1/deals/{deal['id']}", {"stage_id": won}).status_code == 200

    def counted() -> dict[str, Any] | None:
        stats: dict[str, Any] = client.get(f"/v1/campaigns/{campaign['id']}/stats").json()
        return stats if stats["delivered"] and stats["bounced"] and stats["converted"] else None

    stats = eventually(counted)
    assert stats, client.get(f"/v1/campaigns/{campaign['id']}/stats").text
    assert (stats["delivered"], stats["bounced"], stats["converted"]) == (1, 1, 1)
    assert stats["revenue"] == [{"amount": "1200.50", "currency": pipeline.get("currency") or "EUR"}]
    assert suppression_repository.is_suppressed(client.tenant_id, people[1]["email"])
    assert not suppression_repository.is_suppressed(client.tenant_id, people[0]["email"])
