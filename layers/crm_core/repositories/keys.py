"""Key layouts of the single table (docs/data-model.md). All keys start with ``T#<tenant_id>``."""

from __future__ import annotations

import hashlib

from crm_core.tenant_access import tenant_prefix

RECORD_SK = "#RECORD"
UNIQUE_SK = "#UNIQUE"


def record_pk(tenant_id: str, object_type: str, record_id: str) -> str:
    return f"{tenant_prefix(tenant_id)}#{object_type}#{record_id}"


def unique_pk(tenant_id: str, object_type: str, field: str, value: str) -> str:
    return f"{tenant_prefix(tenant_id)}#{object_type}#{field}#{value}"


def sequence_pk(tenant_id: str, sequence: str) -> str:
    """A gapless numbering of the tenant's (``quote``), one item per period (SK: the year)."""
    return f"{tenant_prefix(tenant_id)}#sequence#{sequence}"


def list_pk(tenant_id: str, object_type: str, state: str) -> str:
    """GSI1: a type's records in one state (``active``/``archived``), in id order."""
    return f"{tenant_prefix(tenant_id)}#{object_type}#{state}"


def changes_pk(tenant_id: str, object_type: str) -> str:
    """GSI2: a type's records in order of last change, archived ones included (for sync)."""
    return f"{tenant_prefix(tenant_id)}#{object_type}"


def attribute_pk(tenant_id: str, object_type: str, state: str, attribute: str, value: str) -> str:
    """GSI3-5 and tag entries: the records of one state with one value of an attribute."""
    return f"{tenant_prefix(tenant_id)}#{object_type}#{state}#{attribute}#{value}"


def search_pk(tenant_id: str, object_type: str, token: str) -> str:
    # Bucketed by the first character so one tenant's type-ahead is spread over several partitions.
    return f"{tenant_prefix(tenant_id)}#{object_type}#search#{token[0]}"


def duplicates_pk(tenant_id: str, object_type: str) -> str:
    return f"{tenant_prefix(tenant_id)}#{object_type}#duplicates"


def audit_pk(tenant_id: str, object_id: str) -> str:
    """The audit trail of one object (any type: ids are unique in a tenant), SK ``audit_sk``."""
    return f"{tenant_prefix(tenant_id)}#audit#{object_id}"


def audit_trail_pk(tenant_id: str) -> str:
    """GSI1: the tenant's whole audit trail, SK ``audit_sk`` (time order)."""
    return f"{tenant_prefix(tenant_id)}#audit"


def audit_actor_pk(tenant_id: str, actor_id: str) -> str:
    """GSI3: what one user (or the CRM itself, by what it was doing) wrote, SK ``audit_sk``."""
    return f"{tenant_prefix(tenant_id)}#audit#actor#{actor_id}"


def audit_sk(occurred_at: str, audit_id: str) -> str:
    return f"{occurred_at}#{audit_id}"


# GSI1 of the tenant items (``#TENANT``): the operator's directory of tenants, in creation order. The one
# key of the table that does not start with a tenant: no tenant's request reads it, only the operator's
# ``crm tenant list``.
TENANTS_PK = "#TENANTS"


def tenant_pk(tenant_id: str) -> str:
    return tenant_prefix(tenant_id)


def user_sk(user_id: str) -> str:
    return f"USER#{user_id}"


def api_key_sk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def user_count_pk(tenant_id: str) -> str:
    """The tenant's active users by role: one item per role (SK the role), kept in each user's transaction,
    so its seats are one Query and its admins one GetItem."""
    return f"{tenant_prefix(tenant_id)}#users"


def api_key_use_pk(tenant_id: str, key_id: str) -> str:
    """When an API key was last used: kept apart from the key's record, so its writes (at most one a minute)
    are no change of the record, with no version and no event."""
    return f"{tenant_prefix(tenant_id)}#api_key#{key_id}#used"


def board_pk(tenant_id: str, pipeline_id: str) -> str:
    """A pipeline's board totals: one item per stage and currency (SK ``<stage_id>#<currency>``)."""
    return f"{tenant_prefix(tenant_id)}#pipeline#{pipeline_id}#board"


def notifications_pk(tenant_id: str, user_id: str) -> str:
    return f"{tenant_prefix(tenant_id)}#user#{user_id}#notifications"


def reminder_sent_pk(tenant_id: str, activity_id: str, remind_at: str) -> str:
    """Marks one reminder as sent: its notification and event are written once however often it fires."""
    return f"{tenant_prefix(tenant_id)}#activity#{activity_id}#reminder#{remind_at}"


REPLY_SK_PREFIX = "REPLY#"  # a ticket's replies, in its own partition (SK REPLY#<reply id>)


def sla_timer_sent_pk(tenant_id: str, ticket_id: str, timer: str, at: str) -> str:
    """Marks one SLA timer (``first_response.warning``, ...) for one due time as fired: once however often
    its message arrives."""
    return f"{tenant_prefix(tenant_id)}#ticket#{ticket_id}#sla#{timer}#{at}"


def contract_timer_sent_pk(tenant_id: str, contract_id: str, timer: str, at: str) -> str:
    """Marks one of a contract's timers (its renewal reminder, an instalment falling overdue) as fired for
    one due time: its notification and event are written once however often its message arrives."""
    return f"{tenant_prefix(tenant_id)}#contract#{contract_id}#timer#{timer}#{at}"


def receivables_pk(tenant_id: str, company_id: str) -> str:
    """A company's receivables, one item per currency (SK the currency)."""
    return f"{tenant_prefix(tenant_id)}#company#{company_id}#receivables"


COUNT_SHARDS = 8  # a type's count by state is spread over this many items: concurrent writers rarely meet


def count_pk(tenant_id: str, object_type: str) -> str:
    return f"{tenant_prefix(tenant_id)}#{object_type}#count"


def count_shard(record_id: str) -> int:
    """The count shard a record's creation, archive and restore add to (stable for the record)."""
    return int(hashlib.sha256(record_id.encode()).hexdigest()[:8], 16) % COUNT_SHARDS


def property_schema_pk(tenant_id: str) -> str:
    """A tenant's custom property definitions, one item per object (SK: the collection, "contacts")."""
    return f"{tenant_prefix(tenant_id)}#properties"


SUPPRESSED_SK = "#SUPPRESSED"
ERASURE_SCRUB_SK = "#SCRUB"


def erasure_scrub_pk(tenant_id: str, contact_id: str) -> str:
    """An erased contact's pending scrub of copies (services/privacy.py): the words it looks for."""
    return f"{tenant_prefix(tenant_id)}#erasure#{contact_id}"


def suppression_pk(tenant_id: str, email_hash: str) -> str:
    """An address no email may be sent to (an erased person's), by the hash of its normalized form."""
    return f"{tenant_prefix(tenant_id)}#suppression#{email_hash}"


def idempotency_pk(tenant_id: str) -> str:
    """The tenant's Idempotency-Key records (http/idempotency.py, written by Powertools): kept 24 hours."""
    return f"{tenant_prefix(tenant_id)}#idempotency"


# ------------------------------------------------------------------------------------------- campaigns
CAMPAIGN_RECIPIENT_SK = "#RECIPIENT"
CAMPAIGN_PROGRESS_SK = "#PROGRESS"
CAMPAIGN_COUNTER_SHARDS = 10  # a campaign's counters are spread over this many partitions (no hot key)


def campaign_recipient_pk(
    tenant_id: str, campaign_id: str, contact_id: str, occasion: str | None = None
) -> str:
    """One recipient of one campaign: the marker that it is sent at most once, and what it did after (opened,
    clicked...): a partition of its own, so a campaign's many recipients never meet on one key. A campaign
    that greets a contact again on each occasion (a birthday campaign: the year) has one per occasion."""
    occasion_part = f"#{occasion}" if occasion else ""
    return f"{tenant_prefix(tenant_id)}#campaign#{campaign_id}#recipient#{contact_id}{occasion_part}"


def campaign_counter_pk(tenant_id: str, campaign_id: str, shard: int) -> str:
    """One shard of a campaign's counters (SK ``#COUNT``)."""
    return f"{tenant_prefix(tenant_id)}#campaign#{campaign_id}#stats#{shard}"


def campaign_counter_shard(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % CAMPAIGN_COUNTER_SHARDS


def campaign_progress_pk(tenant_id: str, campaign_id: str) -> str:
    """How far a campaign's fan-out has come: the pages of its segment queued, the members counted."""
    return f"{tenant_prefix(tenant_id)}#campaign#{campaign_id}#progress"


def contact_campaigns_pk(tenant_id: str, contact_id: str) -> str:
    """The campaigns sent to a contact (SK ``<sent_at>#<campaign_id>``): what a won deal is attributed to."""
    return f"{tenant_prefix(tenant_id)}#contact#{contact_id}#campaigns"


def rate_window_pk(tenant_id: str) -> str:
    """The tenant's request-rate windows (crm_core.rate_limits), one item per minute under it."""
    return f"{tenant_prefix(tenant_id)}#ratelimit"


def busy_pk(tenant_id: str) -> str:
    """The tenant's busy-time windows (crm_core.concurrency), one item per window under it."""
    return f"{tenant_prefix(tenant_id)}#busy"


def send_rate_pk(tenant_id: str, second: int) -> str:
    """The emails a tenant sent in one second (epoch seconds): its sending rate, across workers."""
    return f"{tenant_prefix(tenant_id)}#send_rate#{second}"


# --------------------------------------------------------------------------------------------- surveys
SURVEY_SK = "#SURVEY"


def survey_pk(tenant_id: str, survey_id: str) -> str:
    """One survey sent to one contact (a ticket's CSAT survey of one resolution, a campaign's NPS survey to
    one recipient): its claim, and its latest answer."""
    return f"{tenant_prefix(tenant_id)}#survey#{survey_id}"


# ------------------------------------------------------------------------------------------- plans
def email_month_pk(tenant_id: str, month: str) -> str:
    """The tenant's campaign emails in one month (``YYYY-MM``, UTC): counted per send batch (plans.py)."""
    return f"{tenant_prefix(tenant_id)}#emails#{month}"
