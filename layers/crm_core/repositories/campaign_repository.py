"""A campaign's sending in the table: its recipients' markers, its sharded counters, its fan-out's progress,
the campaigns sent to each contact, and the tenant's sending rate (docs/decisions/0018-campaigns.md)."""

from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from crm_core.repositories import keys
from crm_core.repositories.record_repository import get_items
from crm_core.repositories.table import (
    CampaignCounter,
    CampaignProgress,
    CampaignRecipientItem,
    CampaignRevenue,
    CampaignSentEntry,
    SendRateWindow,
    TableItem,
)
from crm_core.repositories.transaction import ChangeSet, WriteConflict

COUNT_SK = "#COUNT"
REVENUE_SK_PREFIX = "revenue#"
COUNTERS = (
    "claimed",
    "sent",
    "failed",
    "skipped",
    "delivered",
    "bounced",
    "opened",
    "clicked",
    "unsubscribed",
    "converted",
    "batches",
)


def recipient(
    tenant_id: str, campaign_id: str, contact_id: str, occasion: str | None = None, **values: Any
) -> CampaignRecipientItem:
    """The marker of a recipient (of an occasion: a birthday campaign's year), not read."""
    if occasion:
        values["occasion"] = occasion
    return CampaignRecipientItem(
        keys.campaign_recipient_pk(tenant_id, campaign_id, contact_id, occasion),
        keys.CAMPAIGN_RECIPIENT_SK,
        campaign_id=campaign_id,
        contact_id=contact_id,
        **values,
    )


def get_recipient(
    tenant_id: str, campaign_id: str, contact_id: str, occasion: str | None = None
) -> CampaignRecipientItem | None:
    try:
        return CampaignRecipientItem.get(
            keys.campaign_recipient_pk(tenant_id, campaign_id, contact_id, occasion),
            keys.CAMPAIGN_RECIPIENT_SK,
            consistent_read=True,
        )
    except DoesNotExist:
        return None


def counter(tenant_id: str, campaign_id: str, shard_key: str) -> CampaignCounter:
    """The counter shard that work named ``shard_key`` (a message, a contact) adds to."""
    shard = keys.campaign_counter_shard(shard_key)
    return CampaignCounter(keys.campaign_counter_pk(tenant_id, campaign_id, shard), COUNT_SK)


def revenue(tenant_id: str, campaign_id: str, currency: str) -> CampaignRevenue:
    """Won deals attributed to the campaign in one currency: beside its progress (deals are won far less
    often than emails are opened: no shards)."""
    pk = keys.campaign_progress_pk(tenant_id, campaign_id)
    return CampaignRevenue(pk, REVENUE_SK_PREFIX + currency)


def totals(tenant_id: str, campaign_id: str) -> dict[str, int]:
    """Every counter summed over its shards: one strongly consistent BatchGetItem (the sender decides
    from it that a campaign is done)."""
    wanted = [
        (keys.campaign_counter_pk(tenant_id, campaign_id, shard), COUNT_SK)
        for shard in range(keys.CAMPAIGN_COUNTER_SHARDS)
    ]
    counts = dict.fromkeys(COUNTERS, 0)
    for item in get_items(wanted, consistent=True):
        if isinstance(item, CampaignCounter):
            for name in COUNTERS:
                counts[name] += int(getattr(item, name) or 0)
    return counts


def progress_and_revenue(tenant_id: str, campaign_id: str) -> tuple[CampaignProgress | None, dict[str, int]]:
    """The fan-out's progress and the revenue units by currency: one Query of one partition."""
    found: CampaignProgress | None = None
    money: dict[str, int] = {}
    for item in TableItem.query(keys.campaign_progress_pk(tenant_id, campaign_id), consistent_read=True):
        if isinstance(item, CampaignProgress):
            found = item
        elif isinstance(item, CampaignRevenue):
            money[item.SK.removeprefix(REVENUE_SK_PREFIX)] = int(item.amount_units or 0)
    return found, money


def progress(tenant_id: str, campaign_id: str) -> CampaignProgress | None:
    try:
        return CampaignProgress.get(
            keys.campaign_progress_pk(tenant_id, campaign_id), keys.CAMPAIGN_PROGRESS_SK, consistent_read=True
        )
    except DoesNotExist:
        return None


def advance(
    tenant_id: str, campaign_id: str, page: int, cursor: str | None, members: int, batches: int
) -> bool:
    """The fan-out's page ``page`` counted (``members`` queued in ``batches`` messages) and the next one's
    ``cursor`` (None: it was the last), once: False when it was counted before (a message delivered again,
    or two at once)."""
    item = CampaignProgress(keys.campaign_progress_pk(tenant_id, campaign_id), keys.CAMPAIGN_PROGRESS_SK)
    condition = CampaignProgress.PK.does_not_exist() if page == 0 else CampaignProgress.page == page
    try:
        item.update(
            actions=[
                CampaignProgress.page.set(page + 1),
                CampaignProgress.cursor.set(cursor) if cursor else CampaignProgress.cursor.remove(),
                CampaignProgress.recipients.add(members),
                CampaignProgress.batches.add(batches),
                CampaignProgress.fanned_out.set(cursor is None),
                CampaignProgress.item_type.set(CampaignProgress),
            ],
            condition=condition,
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def sent_entry(
    tenant_id: str, contact_id: str, sent_at: str, campaign_id: str, occasion: str | None = None
) -> CampaignSentEntry:
    return CampaignSentEntry(
        keys.contact_campaigns_pk(tenant_id, contact_id),
        f"{sent_at}#{campaign_id}",
        campaign_id=campaign_id,
        occasion=occasion,
    )


def recipients_marked(
    tenant_id: str, campaign_id: str, contact_ids: list[str], occasion: str | None = None
) -> set[str]:
    """Which of ``contact_ids`` already have their marker in the campaign (for ``occasion``): BatchGetItems
    of 100 keys, eventually consistent (a hint to skip work; the claim itself is the guarantee)."""
    by_pk = {keys.campaign_recipient_pk(tenant_id, campaign_id, c, occasion): c for c in contact_ids}
    found: set[str] = set()
    pks = list(by_pk)
    for start in range(0, len(pks), 100):
        wanted = [(pk, keys.CAMPAIGN_RECIPIENT_SK) for pk in pks[start : start + 100]]
        found |= {by_pk[item.PK] for item in get_items(wanted) if isinstance(item, CampaignRecipientItem)}
    return found


def campaigns_sent_to(tenant_id: str, contact_id: str, since: str) -> list[CampaignSentEntry]:
    """The campaigns sent to a contact since ``since``, newest first: one Query (at most 20)."""
    return list(
        CampaignSentEntry.query(
            keys.contact_campaigns_pk(tenant_id, contact_id),
            since <= CampaignSentEntry.SK,
            scan_index_forward=False,
            limit=20,
        )
    )


def claim(changes_for: Any, labels: list[str]) -> set[str]:
    """Commit the change set ``changes_for(labels)`` makes for the labels still wanted, dropping each whose
    condition failed (a recipient claimed before) and trying again without it: the labels committed."""
    wanted = list(labels)
    while wanted:
        changes: ChangeSet = changes_for(wanted)
        try:
            changes.commit()
        except WriteConflict as conflict:
            lost = set(conflict.labels) & set(wanted)
            if not lost:
                raise
            wanted = [label for label in wanted if label not in lost]
            continue
        return set(wanted)
    return set()


def take_send_rate(tenant_id: str, emails: int, per_second: int) -> None:
    """Wait until the tenant may send ``emails`` more within its rate: a second's window item in the table
    (one UpdateItem ADD with a condition; shared by every worker), the next second's when this one is full."""
    while True:
        second = int(time.time())
        window = SendRateWindow(keys.send_rate_pk(tenant_id, second), "#RATE")
        try:
            window.update(
                actions=[
                    SendRateWindow.emails.add(emails),
                    SendRateWindow.expires_at.set(second + 120),
                    SendRateWindow.item_type.set(SendRateWindow),
                ],
                condition=SendRateWindow.emails.does_not_exist()
                | (SendRateWindow.emails <= per_second - emails),
            )
            return
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        time.sleep(max(0.0, second + 1 - time.time()) + 0.01)
