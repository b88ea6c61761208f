"""The single table, as pynamodb models. Key layouts are documented in docs/data-model.md.

Every partition key, on the table and on every index, starts with ``T#<tenant_id>``.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from crm_core import tenant_access, usage
from crm_core.config import MAX_POOL_CONNECTIONS, settings

# Before any DynamoDB client exists: each request's units are counted (crm_core.usage).
usage.install()


class GSI1(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI1"
        projection = KeysOnlyProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class GSI2(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI2"
        projection = KeysOnlyProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class GSI3(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI3"
        projection = KeysOnlyProjection()

    GSI3PK = UnicodeAttribute(hash_key=True)
    GSI3SK = UnicodeAttribute(range_key=True)


class GSI4(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI4"
        projection = KeysOnlyProjection()

    GSI4PK = UnicodeAttribute(hash_key=True)
    GSI4SK = UnicodeAttribute(range_key=True)


class GSI5(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI5"
        projection = KeysOnlyProjection()

    GSI5PK = UnicodeAttribute(hash_key=True)
    GSI5SK = UnicodeAttribute(range_key=True)


class GSI6(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI6"
        projection = KeysOnlyProjection()

    GSI6PK = UnicodeAttribute(hash_key=True)
    GSI6SK = UnicodeAttribute(range_key=True)


class GSI7(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI7"
        projection = KeysOnlyProjection()

    GSI7PK = UnicodeAttribute(hash_key=True)
    GSI7SK = UnicodeAttribute(range_key=True)


class GSI8(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI8"
        projection = KeysOnlyProjection()

    GSI8PK = UnicodeAttribute(hash_key=True)
    GSI8SK = UnicodeAttribute(range_key=True)


class TableItem(Model):
    class Meta:
        table_name = settings().table_name
        region = settings().region
        max_pool_connections = MAX_POOL_CONNECTIONS

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    item_type = DiscriminatorAttribute(attr_name="type")
    expires_at = NumberAttribute(null=True)  # TTL, epoch seconds

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    GSI4PK = UnicodeAttribute(null=True)
    GSI4SK = UnicodeAttribute(null=True)
    GSI5PK = UnicodeAttribute(null=True)
    GSI5SK = UnicodeAttribute(null=True)
    GSI6PK = UnicodeAttribute(null=True)
    GSI6SK = UnicodeAttribute(null=True)
    GSI7PK = UnicodeAttribute(null=True)
    GSI7SK = UnicodeAttribute(null=True)
    GSI8PK = UnicodeAttribute(null=True)
    GSI8SK = UnicodeAttribute(null=True)

    gsi1 = GSI1()
    gsi2 = GSI2()
    gsi3 = GSI3()
    gsi4 = GSI4()
    gsi5 = GSI5()
    gsi6 = GSI6()
    gsi7 = GSI7()
    gsi8 = GSI8()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """pynamodb's connection of the model, or while a tenant's request is served the tenant's
        (crm_core.tenant_access): the services and repositories do not know which."""
        return tenant_access.table_connection(super()._get_connection())


class RecordItem(TableItem, discriminator="record"):
    """A CRM record (contact, company, ...). API fields live in ``data``; the rest is bookkeeping."""

    object_type = UnicodeAttribute()
    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    version = VersionAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    archived_at = UnicodeAttribute(null=True)
    merged_into = UnicodeAttribute(null=True)
    data = MapAttribute[str, Any]()
    # What this record last wrote beside itself, so an update knows what to remove.
    search_tokens = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    dedupe_keys = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    related = MapAttribute[str, Any](null=True)  # facts of other records its tokens use (a company's name)
    # The last change's envelope, what its events and its audit item need beside the record itself
    # (crm_core.outbox builds them from the table's stream): {"version", "events": [{"id", "type"}],
    # "occurred_at", "actor", "correlation_id", "source_ip", "changes"}. A write that keeps the version
    # (a refresh of the search tokens) keeps it too, and publishes nothing.
    change = MapAttribute[str, Any](null=True)


class UniqueMarker(TableItem, discriminator="unique"):
    """Guards a unique value (contact email, company domain); written in the record's transaction."""

    record_id = UnicodeAttribute()


class PropertySchemaItem(TableItem, discriminator="property_schema"):
    """The custom property definitions of one object (contacts, companies or deals) of a tenant, written in
    each definition's transaction: what a record's write validates ``custom`` against, in one consistent
    GetItem (docs/decisions/0012). ``revision`` moves with every definition's change; a write that read
    it conditions on it, so a definition changed meanwhile makes the write read again."""

    revision = NumberAttribute()
    # JSON {name: {"id", "type", "options": [values], "required", "archived"}}: one string, read whole
    definitions = UnicodeAttribute()


class IndexEntry(TableItem, discriminator="entry"):
    """A type-ahead prefix, tag or duplicate-key entry pointing at a record."""

    record_id = UnicodeAttribute()


class DuplicatePair(TableItem, discriminator="duplicate_pair"):
    record_ids = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    reason = UnicodeAttribute()
    found_at = UnicodeAttribute()


class EventItem(TableItem, discriminator="event"):
    """An event of something that happened to a record without changing it (a reminder falling due), in
    the record's partition (so it is in its timeline too); before decision 0008, every change's outbox.

    The table's stream carries new event items to the bus; ``detail`` is exactly what is published.
    """

    event_type = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    detail = MapAttribute[str, Any]()


class BoardTotal(TableItem, discriminator="board_total"):
    """The open deals of one pipeline stage in one currency: kept in each deal's transaction, so a board
    is one Query for its totals however many deals there are."""

    deals = NumberAttribute(default=0)
    amount_units = NumberAttribute(default=0)  # the amounts' sum in ten-thousandths (exact integers)


class SequenceItem(TableItem, discriminator="sequence"):
    """The last number a tenant's gapless sequence gave in a period (quote numbers per year): written, on
    the number read, in the transaction of the record that takes the next (services/numbering.py)."""

    last = NumberAttribute()


class UserCount(TableItem, discriminator="user_count"):
    """How many active users of one role a tenant has (keys.user_count_pk)."""

    users = NumberAttribute(default=0)


class ApiKeyUse(TableItem, discriminator="api_key_use"):
    """When an API key last authorized a request, to the minute (keys.api_key_use_pk)."""

    last_used_at = UnicodeAttribute()


class RecordCount(TableItem, discriminator="record_count"):
    """One shard of how many records of a type a tenant has in one state (SK ``<state>#<shard>``): kept in
    each record's transaction, so a list's total is one Query of a few items, never a count of records."""

    records = NumberAttribute(default=0)


class TimelineEntryItem(TableItem, discriminator="timeline_entry"):
    """Before decision 0008: a copy of another record's whole event in this record's timeline. Still read
    (the timeline shows it as it shows an ``entry``), no longer written."""

    event_type = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    detail = MapAttribute[str, Any]()


class TimelineItem(TableItem, discriminator="timeline"):
    """One entry of a record's timeline (SK ``EVT#<event id>``), as the API shows it: the record's own
    events, and those of the records linked to it (an activity on a contact's). Written right after the
    change commits; the relay puts it again if the request did not live to."""

    entry = MapAttribute[str, Any]()


class AuditItem(TableItem, discriminator="audit"):
    """One write in a tenant's audit trail (SK ``<occurred_at>#<id>`` in the partition of the object it
    changed; GSI1: the tenant's, GSI3: the actor's, both in time order). A record's is derived from its
    committed change and written after it with its timeline entries (services/records/derived.py); it
    expires with the TTL after the tenant's retention. ``changes`` holds each changed field's value before
    and after, except a personal field's, which is only named."""

    id = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    actor = MapAttribute[str, Any]()  # {"type", "id", "via", "credential_id"}, as an event's actor
    actions = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]  # its event types
    object = MapAttribute[str, Any]()  # {"type", "id"}
    changes = MapAttribute[str, Any]()  # {field: {"before", "after"}} or {field: {"personal": true}}
    request_id = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)


class ReplyItem(TableItem, discriminator="ticket_reply"):
    """A ticket's reply or internal note, in the ticket's partition (SK ``REPLY#<id>``, in time order),
    written in the transaction of the ticket's change that it is (its ``ticket.replied`` event)."""

    id = UnicodeAttribute()
    body = UnicodeAttribute()
    public = BooleanAttribute()
    author = UnicodeAttribute()  # agent | customer
    author_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class NotificationItem(TableItem, discriminator="notification"):
    """One of a user's notifications (a reminder falling due), newest first in the user's partition."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    record = MapAttribute[str, Any]()  # {"type": "activity", "id": ...}
    created_at = UnicodeAttribute()
    read_at = UnicodeAttribute(null=True)


class DeliveryAttemptItem(TableItem, discriminator="delivery_attempt"):
    """One try at delivering an event to a webhook target, in the target's partition (its delivery log)."""

    delivery_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    attempt = NumberAttribute()
    outcome = UnicodeAttribute()  # succeeded | retrying | gave_up
    status_code = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    duration_ms = NumberAttribute()
    attempted_at = UnicodeAttribute()
    event = MapAttribute[str, Any]()  # what was sent, so that it can be sent again


class DeliveryClaimItem(TableItem, discriminator="delivery_claim"):
    """Which queue message makes a given try of a webhook delivery (another message for it: a duplicate)."""

    message_id = UnicodeAttribute()
    claimed_at = NumberAttribute()  # epoch seconds


class EventTargetStatusItem(TableItem, discriminator="event_target_status"):
    """How an event target's routing stands, beside its record (SK ``#STATUS``) and written apart from it,
    so that it never changes the record's version nor is lost to a change of the record."""

    routed_version = NumberAttribute(null=True)  # the record version whose routing is in place
    routed_at = UnicodeAttribute(null=True)
    failing_since = UnicodeAttribute(null=True)  # deliveries given up since, and none succeeded
    last_failure_at = UnicodeAttribute(null=True)
    failure = UnicodeAttribute(null=True)  # why the last one was given up (not shown yet)


class EventSourceStatusItem(TableItem, discriminator="event_source_status"):
    """What became of a partner event source's refused events, beside its record (SK ``#STATUS``) and
    written apart from it (one UpdateItem a refusal), as an event target's status is."""

    refused_count = NumberAttribute(default=0)
    last_refused_at = UnicodeAttribute(null=True)
    last_refused_reason = UnicodeAttribute(null=True)
    last_refused_event_id = UnicodeAttribute(null=True)  # a repeat of the same event is not counted twice


class TenantItem(TableItem, discriminator="tenant"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    default_pipeline_id = UnicodeAttribute(null=True)
    plan = UnicodeAttribute(default="free")
    rate_limit_per_minute = NumberAttribute(null=True)  # the operator's override of the plan's limit
    # The operator's overrides of the plan's other quotas (a custom plan sets all four; crm_core/plans.py)
    seat_limit = NumberAttribute(null=True)
    contact_limit = NumberAttribute(null=True)
    email_limit = NumberAttribute(null=True)  # emails a calendar month (UTC)
    # active, suspended (every credential refused with 403), or deleting (being removed: refused too)
    status = UnicodeAttribute(default="active")
    status_changed_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class RateWindowItem(TableItem, discriminator="rate_window"):
    """A tenant's requests in one minute, summed from every function container (expires with the TTL)."""

    requests = NumberAttribute(default=0)


class UserItem(TableItem, discriminator="user"):
    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    created_at = UnicodeAttribute()
    active = BooleanAttribute(default=True)


class ApiKeyItem(TableItem, discriminator="api_key"):
    """An API key, stored only as the SHA-256 of the secret (the key is shown once, at creation)."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    role = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    prefix = UnicodeAttribute()  # the first characters, to tell keys apart in a list
    created_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)


class ImportJobItem(TableItem, discriminator="import_job"):
    """A CSV import (crm_core.services.imports): what it was asked to do and its counters, which each
    chunk adds to once, in the transaction that writes the chunk's ``ImportChunkItem``."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    object = UnicodeAttribute()  # the API path's name: contacts, companies
    on_duplicate = UnicodeAttribute()
    mapping = MapAttribute[str, Any](null=True)  # CSV header -> field; guessed from the header when unset
    mapping_given = BooleanAttribute(default=False)
    status = UnicodeAttribute()  # pending, processing, completed, failed
    error = UnicodeAttribute(null=True)  # why a file could not be read (status failed)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)
    total = NumberAttribute(default=0)
    chunks = NumberAttribute(default=0)
    chunks_done = NumberAttribute(default=0)
    processed = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)


class ImportChunkItem(TableItem, discriminator="import_chunk"):
    """A chunk of an import whose rows are written and counted: its counters are on the import once."""

    done_at = UnicodeAttribute()


class ExportJobItem(TableItem, discriminator="export_job"):
    """A tenant export (crm_core.services.exports): its state, what it counted and what it wrote so far."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    status = UnicodeAttribute()  # pending, running, completed, failed
    error = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    actor = MapAttribute[str, Any]()  # who asked for it: the actor of its event
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    attempts = NumberAttribute(default=0)  # runs begun: a run that keeps dying fails the export
    started_at = UnicodeAttribute(null=True)  # set once, by the first run: the manifest's exported_at
    completed_at = UnicodeAttribute(null=True)
    objects = MapAttribute[str, Any](null=True)  # collection -> records it has (counted at the start)
    processed = MapAttribute[str, Any](null=True)  # collection -> records written to the zip so far
    size_bytes = NumberAttribute(null=True)  # the zip's, once completed
    # An export longer than one run: where the last run stopped (JSON: the open multipart upload, its
    # parts, the zip's members, the cursor, the counts, the run's number). Removed at completion.
    resume = UnicodeAttribute(null=True)
    runs = NumberAttribute(default=0)  # runs that ended having written something (suspended or completed)
    lease_until = NumberAttribute(null=True)  # epoch seconds: a run is writing the zip until then
    expired_at = UnicodeAttribute(null=True)  # its zip deleted before its time (a person erased since)


class SuppressionItem(TableItem, discriminator="suppression"):
    """An address no email is sent to any more (keys.suppression_pk): an erased person's, kept after the
    person is erased. Holds no address, only its hash (suppression_repository)."""

    reason = UnicodeAttribute()  # erased
    suppressed_at = UnicodeAttribute()


class ErasureScrubItem(TableItem, discriminator="erasure_scrub"):
    """What the scrub of an erased contact's copies needs of the words its tombstone no longer holds
    (keys.erasure_scrub_pk): the address, phone, full name, to find the idempotency records and delivery
    logs that hold them. Written in the tombstone's transaction, deleted when the scrub completes, and
    expiring with the TTL a day after (docs/decisions/0016-erasure.md, "The scrub of copies")."""

    contact_id = UnicodeAttribute()
    needles = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    erased_at = UnicodeAttribute()


class CampaignRecipientItem(TableItem, discriminator="campaign_recipient"):
    """One member of a campaign's segment (keys.campaign_recipient_pk): claimed by a conditional put before
    its email is sent (at most one email however often a message comes), then what became of it. Each
    ``*_at`` is set once, with its counter and its event, in one transaction."""

    campaign_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    occasion = UnicodeAttribute(null=True)  # a birthday campaign's: the year (one email per contact a year)
    state = UnicodeAttribute()  # claimed | sent | failed | skipped
    reason = UnicodeAttribute(null=True)  # skipped or failed: why
    message_id = UnicodeAttribute(null=True)
    claimed_at = UnicodeAttribute()
    sent_at = UnicodeAttribute(null=True)
    delivered_at = UnicodeAttribute(null=True)
    bounced_at = UnicodeAttribute(null=True)
    opened_at = UnicodeAttribute(null=True)
    clicked_at = UnicodeAttribute(null=True)
    unsubscribed_at = UnicodeAttribute(null=True)
    converted_at = UnicodeAttribute(null=True)


class SurveyItem(TableItem, discriminator="survey"):
    """One survey sent to one contact (keys.survey_pk, SK ``#SURVEY``): a ticket's CSAT survey, claimed by a
    conditional put before its email goes (one email per resolution however often its event comes), or an
    NPS survey of a campaign's recipient (written when first answered: the campaign's recipient marker is
    its claim). The latest answer replaces the one before (services/surveys.py)."""

    survey_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # csat | nps
    contact_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute(null=True)  # csat
    campaign_id = UnicodeAttribute(null=True)  # nps
    state = UnicodeAttribute()  # claimed | sent | failed | skipped
    reason = UnicodeAttribute(null=True)  # skipped or failed: why
    message_id = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    score = NumberAttribute(null=True)
    comment = UnicodeAttribute(null=True)
    answered_at = UnicodeAttribute(null=True)
    answers = NumberAttribute(null=True)  # how often it was answered (the last answer stands)


class CampaignCounter(TableItem, discriminator="campaign_counter"):
    """One shard of a campaign's counters (keys.campaign_counter_pk, SK ``#COUNT``), added to in batches."""

    claimed = NumberAttribute(default=0)
    sent = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    delivered = NumberAttribute(default=0)
    bounced = NumberAttribute(default=0)
    opened = NumberAttribute(default=0)
    clicked = NumberAttribute(default=0)
    unsubscribed = NumberAttribute(default=0)
    converted = NumberAttribute(default=0)
    batches = NumberAttribute(default=0)  # send messages done (each once: its marker)


class CampaignRevenue(TableItem, discriminator="campaign_revenue"):
    """Won deals attributed to a campaign, in one currency (SK ``revenue#<currency>``), in ten-thousandths."""

    amount_units = NumberAttribute(default=0)


class CampaignProgress(TableItem, discriminator="campaign_progress"):
    """A campaign's fan-out (keys.campaign_progress_pk): the next page of its segment, the members queued."""

    page = NumberAttribute(default=0)
    cursor = UnicodeAttribute(null=True)  # the segment's cursor of that page
    recipients = NumberAttribute(default=0)
    batches = NumberAttribute(default=0)  # send messages queued
    fanned_out = BooleanAttribute(default=False)


class CampaignSentEntry(TableItem, discriminator="campaign_sent"):
    """A campaign sent to a contact (keys.contact_campaigns_pk, SK ``<sent_at>#<campaign_id>``)."""

    campaign_id = UnicodeAttribute()
    occasion = UnicodeAttribute(null=True)  # its recipient marker's (a birthday campaign's year)


class EmailMonth(TableItem, discriminator="email_month"):
    """Campaign emails a tenant was claimed to send in one calendar month (keys.email_month_pk): ``ADD`` in
    each send batch's claim transaction, read once a batch against the plan's emails a month."""

    emails = NumberAttribute(default=0)


class SendRateWindow(TableItem, discriminator="send_rate"):
    """Emails a tenant sent in one second (keys.send_rate_pk), expiring soon after."""

    emails = NumberAttribute(default=0)


class ReceivablesTotal(TableItem, discriminator="receivables_total"):
    """A company's contracts in one currency (keys.receivables_pk, SK the currency): kept in each contract's
    transaction (services/contracts.py), so a company's receivables are one Query."""

    contracts = NumberAttribute(default=0)
    value_units = NumberAttribute(default=0)  # ten-thousandths, exact integers
    paid_units = NumberAttribute(default=0)
    outstanding_units = NumberAttribute(default=0)
    overdue_units = NumberAttribute(default=0)


class IdempotencyRecord(TableItem, discriminator="idempotency"):
    """Declared so that pynamodb can read the table whole; written by Powertools' idempotency utility."""


_connection: Connection | None = None


def connection() -> Connection:
    """The connection pynamodb's models use, for transactions (the tenant's while its request is served)."""
    global _connection
    if _connection is None:
        _connection = Connection(region=settings().region, max_pool_connections=MAX_POOL_CONNECTIONS)
    return tenant_access.connection(_connection)
