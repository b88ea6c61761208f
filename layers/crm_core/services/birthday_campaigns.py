"""Birthday campaigns (docs/decisions/0018-campaigns.md, "Birthday campaigns"): a campaign whose ``trigger``
is ``birthday`` is active while its status is ``sending`` (POST /send) until it is cancelled. The
birthdays' worker (services/birthdays.py), which finds each day's birthdays for the owners, hands the
contacts it found to ``greet``: for each of the tenant's active birthday campaigns, those its segment (if it
names one) selects and not greeted yet this year are queued to the campaign sender in messages of
``SEND_BATCH``, with the year as the message's ``occasion``. The sender does the rest as for any campaign:
the consent rule (``consent.emailable``), the claim of the recipient's marker, which for a birthday campaign
is keyed by the contact and the year (one email per contact, campaign and year however often a message is
delivered or the schedule fires), the template, SES, the events and the stats.

DynamoDB calls: one Query of the tenant's sending campaigns and one BatchGetItem of them per run that found
birthdays; per campaign, the segment's filter (one GetItem, and its companies' BatchGetItem when it names
company fields) and one BatchGetItem of the recipients' markers per 100 contacts, so that a second run of
the day queues only whom the first did not reach.
"""

from __future__ import annotations

import json
from typing import Any

from crm_core import aws, metrics
from crm_core.definitions import CAMPAIGN_SENDS_QUEUE
from crm_core.repositories import campaign_repository as campaigns_repo
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.services import campaigns
from crm_core.services.contacts import CONTACTS
from crm_core.services.records import record_data, represent

MAX_CAMPAIGNS = 100  # a tenant's sending campaigns read per run (birthday ones are a handful)


def active_birthday_campaigns(tenant_id: str) -> list[RecordItem]:
    """The tenant's birthday campaigns that are active (status sending): one Query of the sending campaigns'
    index partition and one BatchGetItem of them (consistent: a campaign cancelled a moment ago greets no
    one)."""
    pk = keys.attribute_pk(tenant_id, "campaign", "active", "category", "sending")
    ids, _ = repo.ids_after(pk, index="GSI5", after=None, limit=MAX_CAMPAIGNS)
    if not ids:
        return []
    found = repo.batch_get_records(tenant_id, "campaign", ids, consistent=True)
    return [
        item
        for item in found.values()
        if record_data(item).get("status") == "sending" and campaigns.is_birthday(record_data(item))
    ]


def greet(tenant_id: str, born_today: dict[int, list[RecordItem]]) -> int:
    """Queue the greetings of the contacts whose birthday it is (by the year of their day) for each active
    birthday campaign of the tenant: how many greetings were queued (a contact already greeted this year,
    or claimed by an earlier run, is not queued again)."""
    if not any(born_today.values()):
        return 0
    from crm_core.services.campaign_sends import SEND_BATCH
    from crm_core.services.segments import members_among

    active = active_birthday_campaigns(tenant_id)
    if not active:
        return 0
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=CAMPAIGN_SENDS_QUEUE.name)["QueueUrl"]
    queued = 0
    for campaign in active:
        segment_id = record_data(campaign).get("segment_id")
        for year, items in born_today.items():
            contacts = [represent(CONTACTS.spec, item) for item in items]
            if segment_id:
                contacts = members_among(tenant_id, str(segment_id), contacts)
            ids = [str(c["id"]) for c in contacts]
            done = campaigns_repo.recipients_marked(tenant_id, campaign.id, ids, str(year))
            ids = [one for one in ids if one not in done]
            messages = [
                _message(tenant_id, campaign.id, str(year), ids[start : start + SEND_BATCH], start)
                for start in range(0, len(ids), SEND_BATCH)
            ]
            for start in range(0, len(messages), 10):
                answer = sqs.send_message_batch(QueueUrl=url, Entries=messages[start : start + 10])
                if answer.get("Failed"):
                    raise RuntimeError(f"the send queue refused {len(answer['Failed'])} messages")
            queued += len(ids)
    metrics.count("BirthdayGreetingsQueued", queued)
    return queued


def _message(
    tenant_id: str, campaign_id: str, year: str, contact_ids: list[str], start: int
) -> dict[str, Any]:
    body = {
        "tenant_id": tenant_id,
        "campaign_id": campaign_id,
        # The batch names the counter shard its counts go to, spread by the batch's first contact.
        "batch": f"birthday-{year}-{contact_ids[0]}",
        "contact_ids": contact_ids,
        "occasion": year,
    }
    return {"Id": str(start), "MessageBody": json.dumps(body)}
