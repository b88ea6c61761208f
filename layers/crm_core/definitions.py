"""The deployable resources, described once.

The CDK constructs (``infra/``) and the local runtime (``crm_local``) both build from these
definitions, so there is no second, hand-kept copy of the table, the bus or the routes for local mode.
Plain data only: importing this module must stay free (the Lambdas import it too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crm_core.record_types import RECORD_TYPES

# Logical names; the deployed physical names come in through environment variables (see config.py).
TABLE_LOGICAL_NAME = "crm"
EVENT_BUS_NAME = "crm"
EVENT_SOURCE = "crm"
CURSOR_SECRET_NAME = "crm/cursor-signing-key"


@dataclass(frozen=True)
class IndexDefinition:
    name: str
    partition_key: str
    sort_key: str
    # KEYS_ONLY: an entry is its keys (1 write unit), written only when they change; a page of an index is
    # one Query and one BatchGetItem of the records it names (docs/decisions/0008).
    projection: str = "KEYS_ONLY"


@dataclass(frozen=True)
class TableDefinition:
    partition_key: str
    sort_key: str
    indexes: tuple[IndexDefinition, ...]
    ttl_attribute: str
    stream_view: str  # what the outbox relay needs to see of a new item


# Eight generic, sparse global secondary indexes. Every key on every index starts with the tenant:
#   GSI1 - a type's records in id order, by state   (T#<tenant>#contact#active        / <id>)
#   GSI2 - a type's records by last change         (T#<tenant>#contact               / <updated_at>#<id>)
#   GSI3 - by owner                                 (T#<tenant>#contact#active#owner#<owner_id> / <id>)
#   GSI4 - by parent record (a contact's company)   (T#<tenant>#contact#active#company#<company_id> / <id>)
#   GSI5 - by a per-type category (lifecycle stage) (T#<tenant>#contact#active#stage#<stage> / <id>)
#   GSI6..GSI8 - a type's records in the order of one of its fields (name; a deal's close date or an
#               activity's due time; a deal's amount)  (T#<tenant>#deal#active / <sort value>#<id>)
# See docs/data-model.md for every access pattern and the one operation that serves it.
TABLE = TableDefinition(
    partition_key="PK",
    sort_key="SK",
    indexes=tuple(IndexDefinition(f"GSI{n}", f"GSI{n}PK", f"GSI{n}SK") for n in range(1, 9)),
    ttl_attribute="expires_at",
    stream_view="NEW_AND_OLD_IMAGES",
)


@dataclass(frozen=True)
class UserPoolDefinition:
    """Web users sign in with the tenant's user pool; their ID token names their tenant and user."""

    custom_attributes: tuple[str, ...]  # immutable string attributes, read as ``custom:<name>`` claims
    # The groups are the roles of crm_core.auth.Role.


USER_POOL = UserPoolDefinition(custom_attributes=("tenant_id", "user_id"))


FUNCTIONS_PACKAGE = "functions"


@dataclass(frozen=True)
class FunctionDefinition:
    """A function: its name (which is also its package's), and for an API function the HTTP API routes
    that reach it."""

    name: str
    routes: tuple[str, ...]  # HTTP API route keys (method + path); the function routes inside itself
    memory_mb: int = 1024
    timeout_s: int = 15
    needs_layer: bool = True
    environment: dict[str, str] = field(default_factory=dict)
    # Third-party packages it alone imports, shipped in its own code (not the shared layer): the versions
    # requirements.lock pins (an extra of pyproject.toml), for the Lambda runtime (infra/bundling.py).
    packages: tuple[str, ...] = ()
    # Its routes are reached with no credential, not behind the authorizer (the tracking links of emails):
    # the function checks what it is given itself (a signed token).
    public: bool = False

    @property
    def handler(self) -> str:
        """Its handler(event, context), importable from the repository root: every function is the package
        named as it is, with a ``handler`` module (so the core names no function's module)."""
        return ".".join((FUNCTIONS_PACKAGE, self.name, "handler", "handler"))


AUTHORIZER = FunctionDefinition(
    name="authorizer",
    routes=(),
    memory_mb=512,
    timeout_s=5,
)


def _resource_routes(function: str, *others: str) -> tuple[str, ...]:
    """The routes of the record types ``function`` serves (crm_core.record_types), and of ``others``."""
    routes: list[str] = []
    for prefix in [t.path for t in RECORD_TYPES if t.function == function] + list(others):
        routes += [f"ANY {prefix}", f"ANY {prefix}/{{proxy+}}"]
    return tuple(routes)


API_FUNCTIONS: tuple[FunctionDefinition, ...] = (
    FunctionDefinition(
        name="contacts",
        routes=_resource_routes("contacts", "/v1/inbound", "/v1/imports", "/v1/privacy"),
    ),
    FunctionDefinition(
        name="integrations",
        routes=_resource_routes("integrations"),
    ),
    FunctionDefinition(
        name="deals",
        routes=_resource_routes("deals", "/v1/notifications"),
    ),
    FunctionDefinition(
        name="access",
        routes=_resource_routes("access", "/v1/me", "/v1/audit-events"),
    ),
    FunctionDefinition(
        name="campaigns",
        routes=_resource_routes("campaigns"),
    ),
    FunctionDefinition(
        name="reports",
        routes=_resource_routes("reports", "/v1/exports", "/v1/reports", "/v1/usage"),
    ),
    FunctionDefinition(
        name="service",
        routes=_resource_routes("service"),
    ),
    FunctionDefinition(
        name="revenue",
        routes=_resource_routes("revenue"),
        # Renders quotes as PDF (the quotes extra) with what fpdf2 needs at run time (the bundle installs
        # exactly these, --no-deps), uharfbuzz for its text shaping (Arabic, Hebrew); the layer stays
        # without them.
        packages=("fpdf2", "pillow", "fonttools", "defusedxml", "uharfbuzz"),
    ),
    # The tracking links of campaign emails: an open pixel, a click redirect, an unsubscribe page, each named
    # by a signed token (crm_core.services.campaign_tracking).
    FunctionDefinition(
        name="tracking",
        routes=(
            "GET /t/{token}/open",
            "GET /t/{token}/click",
            "GET /t/{token}/unsubscribe",
            "POST /t/{token}/unsubscribe",
            # The surveys' page (services/surveys.py): a ticket's CSAT, a campaign's NPS.
            "GET /s/{token}",
            "POST /s/{token}",
        ),
        memory_mb=512,
        timeout_s=10,
        public=True,
    ),
    # The public page of a sent quote: its lines and totals, Accept and Decline, named by a signed token
    # (crm_core.services.quotes).
    FunctionDefinition(
        name="quote_pages",
        routes=(
            "GET /q/{token}",
            "POST /q/{token}/accept",
            "POST /q/{token}/decline",
        ),
        memory_mb=512,
        timeout_s=10,
        public=True,
    ),
)

# CDK context setting how many days the audit trail is kept (crm_core.config's CRM_AUDIT_RETENTION_DAYS,
# given to every function); without it, the default of crm_core.config.
AUDIT_RETENTION_CONTEXT = "crm:auditRetentionDays"

# Authorizer results are not cached: access takes effect on the very next request (docs/decisions/0009).
AUTHORIZER_CACHE_SECONDS = 0
# CloudFront adds this header, with a secret value, to every request it forwards to the API (infra/web.py).
# It is one of the authorizer's identity sources, so API Gateway answers 401 to a request without it before
# any function runs (one sent to the API's own execute-api address, around the web ACL), and the authorizer
# refuses one whose value is not the secret (docs/decisions/0036).
ORIGIN_HEADER = "X-Crm-Origin"


# ------------------------------------------------------------------------------ queues, rules, consumers


@dataclass(frozen=True)
class QueueDefinition:
    """An SQS queue with its dead-letter queue (after ``max_receives`` failed deliveries)."""

    name: str
    visibility_timeout_s: int = 60
    max_receives: int = 5

    @property
    def dead_letter_name(self) -> str:
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class RuleDefinition:
    """A rule on the crm bus that delivers matching events to a queue."""

    name: str
    event_pattern: dict[str, list[Any]]  # values: strings, or {"prefix": ...} as in EventBridge patterns
    queue: QueueDefinition


@dataclass(frozen=True)
class ConsumerDefinition:
    """A function fed by a queue, reporting partial batch failures."""

    function: FunctionDefinition
    queue: QueueDefinition
    batch_size: int = 10
    # Its work may be split over several messages: it queues the rest to its own queue (and to no other).
    continues: bool = False
    # Batches handled at once by the local runtime's workers (crm_local/workers.py). In AWS, Lambda runs
    # as many at once as the queue holds, up to the account's concurrency: this is not deployed.
    local_concurrency: int = 1
    # Seconds Lambda may wait to fill a batch (SQS batches above 10 need one): the local runtime does not.
    batch_window_s: int = 0


# Reminders: activity events keep one EventBridge Scheduler at() schedule per reminder in step with the
# activity; a due schedule sends its message to the reminders queue, whose worker notifies the owner.
SCHEDULE_GROUP_NAME = "crm-reminders"
ACTIVITY_SCHEDULES_QUEUE = QueueDefinition("crm-activity-schedules")
REMINDERS_QUEUE = QueueDefinition("crm-reminders")
# Webhooks: a tenant's events reach the fan-out once it has a webhook target (a rule of its own on the crm
# bus, put by the event target rules consumer: docs/decisions/0038); the fan-out queues one delivery per
# matching target, and the delivery worker posts it, queuing the next try with a growing delay when the
# receiver fails.
WEBHOOK_EVENTS_QUEUE = QueueDefinition("crm-webhook-events")
WEBHOOK_DELIVERIES_QUEUE = QueueDefinition("crm-webhook-deliveries", visibility_timeout_s=120)
WEBHOOK_RETRY_DELAYS_S = (10, 60, 300, 900, 900)  # after tries 1..5; the 6th failure gives up
WEBHOOK_TIMEOUT_S = 5
# EventBridge targets: a change to an event target brings its rule on the crm bus (tenant and types, to
# the partner's bus) in step with it; what the partner's bus refuses ends in the partner DLQ.
EVENT_TARGET_RULES_QUEUE = QueueDefinition("crm-event-target-rules")
PARTNER_DELIVERIES_QUEUE = QueueDefinition("crm-partner-deliveries")  # only its dead-letter queue is used
PARTNER_RULE_PREFIX = "crm-target-"
# A tenant's rule to the webhook fan-out: under the partner rules' prefix (the same rights, the same removal
# with the tenant), named for the tenant; no target id (a ULID) starts so.
WEBHOOK_RULE_PREFIX = f"{PARTNER_RULE_PREFIX}webhooks-"
# Inbound partner events: events a partner puts on the crm bus with source "partner.<id>"; accepted only
# when the tenant the event names has registered that source, from the AWS account the registration names.
INBOUND_EVENTS_QUEUE = QueueDefinition("crm-inbound-events")
PARTNER_SOURCE_PREFIX = "partner."
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"  # an AWS account id
# CDK context listing the AWS accounts whose partners may put partner.* events on the bus (infra/events.py).
PARTNER_ACCOUNTS_CONTEXT = "crm:partnerAccounts"
# CDK context for a customer-managed KMS key on the tenants' data (the table and its stream, the imports and
# analytics buckets, Athena's results; infra/data.py, docs/decisions/0037): ``create`` makes one in the
# stack (yearly rotation), a key ARN uses an existing one; without it, AWS-owned and S3-managed keys.
DATA_KEY_CONTEXT = "crm:kmsKey"
# Contacts are found by their company's name: a company renamed, archived or restored brings the company
# token of its active contacts in step; a company with many contacts continues in later messages of the
# same queue, each a bounded number of contacts.
COMPANY_CONTACT_TOKENS_QUEUE = QueueDefinition("crm-company-contact-tokens", visibility_timeout_s=120)
# Merges: what refers to a merged duplicate and was too much to move within the merge request (a company's
# thousands of contacts) is moved to the survivor after the merge's event, in later messages of the same
# queue, each a bounded number of records.
MERGE_MOVES_QUEUE = QueueDefinition("crm-merge-moves", visibility_timeout_s=120)
# Erasure: the scrub of an erased contact's copies (timelines, audit, activities' text, notifications,
# delivery logs, idempotency records) after its contact.erased event (crm_core.services.privacy).
ERASURE_SCRUB_QUEUE = QueueDefinition("crm-erasure-scrub", visibility_timeout_s=360)
# CSV imports: an uploaded file's notification reaches the splitter, which queues its rows in chunks; each
# chunk's worker writes its rows and counts them on the import (crm_core.services.imports).
IMPORT_UPLOADS_QUEUE = QueueDefinition("crm-import-uploads", visibility_timeout_s=900)
IMPORT_CHUNKS_QUEUE = QueueDefinition("crm-import-chunks", visibility_timeout_s=900)
# Tenant exports: an export asked for is queued; its worker writes the tenant to one zip in runs that each
# stop after their budget and queue the next (crm_core.services.exports, decision 0015). A run may take the
# worker's whole timeout: the message stays hidden as long.
TENANT_EXPORTS_QUEUE = QueueDefinition("crm-tenant-exports", visibility_timeout_s=960)
# Birthdays: an hourly schedule sweeps the tenants; each tenant's owners are told of the day's birthdays
# of their contacts in their own time zone, once (crm_core.services.birthdays).
BIRTHDAYS_QUEUE = QueueDefinition("crm-birthdays", visibility_timeout_s=120)
# Analytics: the changes of the records reports read reach the exporter, which writes them to Parquet in the
# analytics bucket (crm_core.reports, docs/decisions/0020).
ANALYTICS_QUEUE = QueueDefinition("crm-analytics", visibility_timeout_s=120)
# The daily compaction of the analytics files and storage measure (docs/decisions/0026): a schedule puts a
# run on this queue; each message compacts a bounded number of tenants and queues the rest.
ANALYTICS_COMPACTION_QUEUE = QueueDefinition("crm-analytics-compaction", visibility_timeout_s=960)
# Campaigns: their events (scheduled, sending, cancelled), their schedules' firing and the fan-out's own
# continuations reach the fan-out, which keeps each campaign's schedule in step and pages its segment's
# members into the send queue in batches; deal.won is attributed to the campaign sent last to its contacts.
CAMPAIGN_EVENTS_QUEUE = QueueDefinition("crm-campaign-events", visibility_timeout_s=120)
CAMPAIGN_SENDS_QUEUE = QueueDefinition("crm-campaign-sends", visibility_timeout_s=120)
# SES's events of the configuration set (delivery, bounce, complaint), through its SNS topic.
EMAIL_NOTIFICATIONS_QUEUE = QueueDefinition("crm-email-notifications")
SES_CONFIGURATION_SET_NAME = "crm-campaigns"
EMAIL_RATE_PER_SECOND = 50  # a tenant's emails a second, across sender workers (CRM_EMAIL_RATE_PER_SECOND)
# The sender of service emails (a resolved ticket's satisfaction survey), a verified identity of the account
# (CRM_SERVICE_EMAIL_FROM); the campaign sender's queue takes ticket.resolved (services/surveys.py).
SERVICE_EMAIL_FROM = "Customer service <service@crm.example>"
CAMPAIGN_SCHEDULE_PREFIX = "campaign-"  # its at() schedule, in the SCHEDULE_GROUP_NAME group
QUEUES: tuple[QueueDefinition, ...] = (
    BIRTHDAYS_QUEUE,
    INBOUND_EVENTS_QUEUE,
    ACTIVITY_SCHEDULES_QUEUE,
    REMINDERS_QUEUE,
    WEBHOOK_EVENTS_QUEUE,
    WEBHOOK_DELIVERIES_QUEUE,
    EVENT_TARGET_RULES_QUEUE,
    COMPANY_CONTACT_TOKENS_QUEUE,
    MERGE_MOVES_QUEUE,
    ERASURE_SCRUB_QUEUE,
    IMPORT_UPLOADS_QUEUE,
    IMPORT_CHUNKS_QUEUE,
    TENANT_EXPORTS_QUEUE,
    ANALYTICS_QUEUE,
    ANALYTICS_COMPACTION_QUEUE,
    CAMPAIGN_EVENTS_QUEUE,
    CAMPAIGN_SENDS_QUEUE,
    EMAIL_NOTIFICATIONS_QUEUE,
)


@dataclass(frozen=True)
class BucketDefinition:
    """An S3 bucket; what is put under ``notify_prefix`` is announced on ``notify_queue``. ``name`` is the
    local bucket's name; CDK names the deployed one, and the functions read it from ``CRM_<ID>_BUCKET``."""

    id: str
    name: str
    notify_prefix: str
    notify_queue: QueueDefinition
    expire_days: int  # every object is deleted after this many days
    used_by: tuple[str, ...]  # the functions that read and write it
    # What a browser may do with the bucket's presigned URLs from another origin (the web app's page PUTs an
    # import's file and GETs its rejected rows): the bucket's CORS rule, in CDK and on the local endpoint.
    # Any origin: a presigned URL is itself the credential, and the app's origin differs per deployment.
    browser_methods: tuple[str, ...] = ()

    @property
    def environment_variable(self) -> str:
        return f"CRM_{self.id.upper()}_BUCKET"


# Uploaded import files under uploads/<tenant>/<import>.csv; the chunks and rejected rows beside them; and
# tenant exports' zips under exports/<tenant>/<export>.zip (working files too: kept as long).
IMPORTS_BUCKET = BucketDefinition(
    id="imports",
    name="crm-imports-local",
    notify_prefix="uploads/",
    notify_queue=IMPORT_UPLOADS_QUEUE,
    expire_days=7,
    used_by=("contacts", "import_files", "import_chunks", "reports", "tenant_exports"),
    browser_methods=("PUT", "GET"),
)
EXPORTS_PREFIX = "exports/"
IMPORT_CHUNKS_PREFIX = "chunks/"
IMPORT_REJECTED_PREFIX = "rejected/"
BUCKETS: tuple[BucketDefinition, ...] = (IMPORTS_BUCKET,)


@dataclass(frozen=True)
class AnalyticsDefinition:
    """Where reports read from (docs/decisions/0020): the exporter's Parquet files under
    ``<prefix>tenant=<id>/object=<collection>/date=<YYYY-MM-DD>/`` in their own bucket (``bucket``: the local
    name; CDK names the deployed one, given as ``CRM_ANALYTICS_BUCKET``), a Glue database with one table per
    object over them, and the Athena workgroup whose queries may scan at most ``bytes_scanned_cutoff``."""

    bucket: str
    prefix: str
    objects: tuple[str, ...]  # the collections exported (crm_core.reports.columns)
    glue_database: str
    workgroup: str
    bytes_scanned_cutoff: int
    used_by: tuple[str, ...]  # the functions that read or write the files


ANALYTICS = AnalyticsDefinition(
    bucket="crm-analytics-local",
    prefix="analytics/",
    objects=(
        "deals",
        "contacts",
        "companies",
        "activities",
        "tickets",
        "campaign_stats",
        "pipelines",
        "surveys",
        "contracts",
        "payments",
        "quote_lines",
        "usage",
    ),
    glue_database="crm_analytics",
    workgroup="crm-reports",
    bytes_scanned_cutoff=1024**3,  # 1 GiB a query: about 0.5 cents at Athena's price per TB scanned
    used_by=("reports", "analytics_exporter", "analytics_compactor"),
)

RULES: tuple[RuleDefinition, ...] = (
    RuleDefinition(
        name="crm-analytics-changes",
        event_pattern={
            "source": [EVENT_SOURCE],
            "detail-type": [
                {"prefix": f"{kind}."}
                for kind in (
                    "deal",
                    "contact",
                    "company",
                    "activity",
                    "pipeline",
                    "ticket",
                    "campaign",
                    "email",
                    "survey",
                    "contract",
                    "payment",
                    "quote",
                )
            ],
        },
        queue=ANALYTICS_QUEUE,
    ),
    RuleDefinition(
        name="crm-activity-reminders",
        event_pattern={
            "source": [EVENT_SOURCE],
            "detail-type": [
                "activity.created",
                "activity.updated",
                "activity.completed",
                "activity.archived",
                "activity.restored",
            ],
        },
        queue=ACTIVITY_SCHEDULES_QUEUE,
    ),
    # Tickets' SLA timers are kept in step by the same consumer, in the same schedule group
    # (crm_core.services.ticket_sla).
    RuleDefinition(
        name="crm-ticket-sla-timers",
        event_pattern={"source": [EVENT_SOURCE], "detail-type": [{"prefix": "ticket."}]},
        queue=ACTIVITY_SCHEDULES_QUEUE,
    ),
    # A sent quote's expiry schedule is kept in step by the same consumer (crm_core.services.quotes).
    RuleDefinition(
        name="crm-quote-expiry",
        event_pattern={
            "source": [EVENT_SOURCE],
            "detail-type": [
                "quote.sent",
                "quote.accepted",
                "quote.declined",
                "quote.archived",
                "quote.restored",
            ],
        },
        queue=ACTIVITY_SCHEDULES_QUEUE,
    ),
    # Contracts' timers (renewal reminder, expiry, instalments falling overdue) likewise
    # (crm_core.services.contract_timers); a payment's change of its contract is a contract.updated.
    RuleDefinition(
        name="crm-contract-timers",
        event_pattern={"source": [EVENT_SOURCE], "detail-type": [{"prefix": "contract."}]},
        queue=ACTIVITY_SCHEDULES_QUEUE,
    ),
    RuleDefinition(
        name="crm-inbound-partner-events",
        event_pattern={"source": [{"prefix": PARTNER_SOURCE_PREFIX}]},
        queue=INBOUND_EVENTS_QUEUE,
    ),
    RuleDefinition(
        name="crm-event-target-changes",
        event_pattern={
            "source": [EVENT_SOURCE],
            "detail-type": [
                "event_target.created",
                "event_target.updated",
                "event_target.archived",
                "event_target.restored",
            ],
        },
        queue=EVENT_TARGET_RULES_QUEUE,
    ),
    RuleDefinition(
        name="crm-company-changes",
        event_pattern={
            "source": [EVENT_SOURCE],
            "detail-type": ["company.updated", "company.merged", "company.archived", "company.restored"],
        },
        queue=COMPANY_CONTACT_TOKENS_QUEUE,
    ),
    RuleDefinition(
        name="crm-merges",
        event_pattern={
            "source": [EVENT_SOURCE],
            "detail-type": ["contact.merged", "company.merged", "deal.merged", "ticket.merged"],
        },
        queue=MERGE_MOVES_QUEUE,
    ),
    RuleDefinition(
        name="crm-erasures",
        event_pattern={"source": [EVENT_SOURCE], "detail-type": ["contact.erased"]},
        queue=ERASURE_SCRUB_QUEUE,
    ),
    # A resolved ticket's satisfaction survey is sent by the campaign sender (its SES grant and public URL).
    RuleDefinition(
        name="crm-ticket-surveys",
        event_pattern={"source": [EVENT_SOURCE], "detail-type": ["ticket.resolved"]},
        queue=CAMPAIGN_SENDS_QUEUE,
    ),
    RuleDefinition(
        name="crm-campaigns",
        event_pattern={
            "source": [EVENT_SOURCE],
            "detail-type": ["campaign.scheduled", "campaign.sending", "campaign.cancelled", "deal.won"],
        },
        queue=CAMPAIGN_EVENTS_QUEUE,
    ),
)

CONSUMERS: tuple[ConsumerDefinition, ...] = (
    ConsumerDefinition(
        FunctionDefinition(
            name="reminder_scheduler",
            routes=(),
            memory_mb=512,
            timeout_s=30,
        ),
        ACTIVITY_SCHEDULES_QUEUE,
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="reminders",
            routes=(),
            memory_mb=512,
            timeout_s=30,
        ),
        REMINDERS_QUEUE,
        continues=True,  # a suspended tenant's due timer goes back to its queue (services/paused_work.py)
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="webhook_fanout",
            routes=(),
            memory_mb=512,
            timeout_s=30,
        ),
        WEBHOOK_EVENTS_QUEUE,
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="webhook_delivery",
            routes=(),
            memory_mb=512,
            timeout_s=60,
        ),
        WEBHOOK_DELIVERIES_QUEUE,
        batch_size=5,
        continues=True,  # a suspended tenant's delivery goes back to its queue (services/paused_work.py)
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="inbound_events",
            routes=(),
            memory_mb=512,
            timeout_s=30,
        ),
        INBOUND_EVENTS_QUEUE,
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="event_target_rules",
            routes=(),
            memory_mb=512,
            timeout_s=30,
        ),
        EVENT_TARGET_RULES_QUEUE,
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="company_contact_tokens",
            routes=(),
            memory_mb=512,
            timeout_s=60,
        ),
        COMPANY_CONTACT_TOKENS_QUEUE,
        batch_size=1,  # a message is up to a few hundred contacts' work already
        continues=True,
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="merge_moves",
            routes=(),
            memory_mb=512,
            timeout_s=60,
        ),
        MERGE_MOVES_QUEUE,
        batch_size=1,  # a message is up to a few hundred records' changes already
        continues=True,
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="erasure_scrub",
            routes=(),
            memory_mb=512,
            timeout_s=300,  # walks of up to 10,000 items a partition (services/privacy.py)
        ),
        ERASURE_SCRUB_QUEUE,
        batch_size=1,  # one person's copies
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="import_files",
            routes=(),
            memory_mb=1024,
            timeout_s=300,
        ),
        IMPORT_UPLOADS_QUEUE,
        batch_size=1,  # one file
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="import_chunks",
            routes=(),
            memory_mb=1024,
            timeout_s=300,
        ),
        IMPORT_CHUNKS_QUEUE,
        batch_size=1,  # a chunk is hundreds of rows already
        local_concurrency=4,  # an import's chunks are written in parallel, as Lambda would
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="birthdays",
            routes=(),
            memory_mb=512,
            timeout_s=120,
        ),
        BIRTHDAYS_QUEUE,
        batch_size=1,  # a sweep's page of tenants, or one tenant's day
        continues=True,  # the sweep queues each tenant's day, and the rest of the directory
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="tenant_exports",
            routes=(),
            memory_mb=1024,
            timeout_s=900,  # Lambda's longest: a run writes for 10 minutes, then queues the rest
        ),
        TENANT_EXPORTS_QUEUE,
        batch_size=1,  # one export
        continues=True,  # a long export queues its next run
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="analytics_exporter",
            routes=(),
            memory_mb=1024,
            timeout_s=60,
            packages=("pyarrow",),  # writes Parquet (the reports extra); the layer stays without it
        ),
        ANALYTICS_QUEUE,
        # A micro-batch: up to 1,000 changes or a minute's, one Parquet file per tenant, object and day.
        batch_size=1000,
        batch_window_s=60,
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="analytics_compactor",
            routes=(),
            memory_mb=2048,
            timeout_s=900,
            packages=("pyarrow",),  # merges Parquet files; reads the records per object with Athena
        ),
        ANALYTICS_COMPACTION_QUEUE,
        batch_size=1,  # a run: a bounded number of tenants, then the rest in a message of its own
        continues=True,
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="campaign_events",
            routes=(),
            memory_mb=512,
            timeout_s=60,
        ),
        CAMPAIGN_EVENTS_QUEUE,
        batch_size=1,  # a fan-out message pages up to a thousand members
        continues=True,
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="campaign_sender",
            routes=(),
            memory_mb=512,
            timeout_s=60,
        ),
        CAMPAIGN_SENDS_QUEUE,
        batch_size=2,  # a message is 25 recipients
        local_concurrency=2,
        continues=True,  # a suspended tenant's batch goes back to its queue (services/paused_work.py)
    ),
    ConsumerDefinition(
        FunctionDefinition(
            name="email_notifications",
            routes=(),
            memory_mb=512,
            timeout_s=30,
        ),
        EMAIL_NOTIFICATIONS_QUEUE,
    ),
)


@dataclass(frozen=True)
class RecurringScheduleDefinition:
    """An EventBridge Scheduler schedule that puts ``input`` on ``queue`` at every ``expression`` (in AWS);
    the local runtime's workers send it every ``local_period_s`` seconds, and once when they start."""

    name: str
    expression: str
    queue: QueueDefinition
    input: str
    local_period_s: int


BIRTHDAYS_SCHEDULE = RecurringScheduleDefinition(
    name="crm-birthdays",
    expression="cron(5 * * * ? *)",  # every hour: each time zone's day starts on the hour (or half of it)
    queue=BIRTHDAYS_QUEUE,
    input='{"sweep": true}',
    local_period_s=3600,
)
ANALYTICS_COMPACTION_SCHEDULE = RecurringScheduleDefinition(
    name="crm-analytics-compaction",
    expression="cron(30 0 * * ? *)",  # every day at 00:30 UTC: the day before is complete
    queue=ANALYTICS_COMPACTION_QUEUE,
    input='{"compact": true}',
    local_period_s=86_400,
)
RECURRING_SCHEDULES: tuple[RecurringScheduleDefinition, ...] = (
    BIRTHDAYS_SCHEDULE,
    ANALYTICS_COMPACTION_SCHEDULE,
)

# The outbox relay: the table's stream carries committed changes' events to the bus. In AWS an EventBridge
# Pipe reads the stream (filtered as below) and invokes this function with each batch; the
# local runtime's relay invokes the same function with the same records. A batch that keeps failing is
# split, retried, and finally sent to the dead-letter queue (the stream still holds it meanwhile).
METRICS_NAMESPACE = "crm"  # the CloudWatch namespace of crm_core.metrics

OUTBOX_RELAY = FunctionDefinition(
    name="outbox_relay",
    routes=(),
    memory_mb=512,
    timeout_s=30,
)
OUTBOX_DEAD_LETTER_QUEUE = QueueDefinition("crm-outbox")  # only its dead-letter queue is used
OUTBOX_BATCH_SIZE = 10  # one PutEvents call holds ten entries
OUTBOX_MAX_RETRIES = 10
# The stream records the relay wants (an EventBridge Pipes / Lambda filter pattern): new and changed
# records (a change carries its events' envelope; the relay skips a rewrite that keeps the version) and
# new event items (crm_core.outbox).
OUTBOX_STREAM_FILTER: dict[str, object] = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {"type": {"S": ["event", "record"]}}},
}


# ------------------------------------------------------------------------------------- tenant isolation
@dataclass(frozen=True)
class TenantAccessDefinition:
    """The role a request handler assumes for its caller's tenant (crm_core.tenant_access,
    docs/decisions/0035): its name on the local endpoint (CDK names the deployed one, given as
    ``CRM_TENANT_ROLE_ARN``), how long a session lasts, and what it may do, on items whose partition key
    starts with the tenant and on files under the tenant's prefixes only (the session policy says which)."""

    role_name: str
    session_seconds: int  # at most 3,600: a Lambda role assuming another is role chaining (one hour)
    tag: str  # the session tag naming the tenant (CloudTrail shows it; the role's policy can use it)
    item_actions: tuple[str, ...]  # DynamoDB actions on items (each call names its partition keys)
    object_actions: tuple[str, ...]  # S3 actions on objects under the tenant's prefixes
    list_actions: tuple[str, ...]  # S3 actions on a bucket, limited by ``s3:prefix``
    imports_prefixes: tuple[str, ...]  # the imports bucket's folders holding ``<tenant id>/...``
    functions: tuple[str, ...]  # the functions that assume it (every API function)


TENANT_ACCESS = TenantAccessDefinition(
    role_name="crm-tenant-access",
    session_seconds=3600,
    tag="tenant",
    # No Scan (no partition key to hold it to), no DescribeTable (pynamodb takes the schema from the
    # models). TransactWriteItems and TransactGetItems are authorized item by item as these.
    item_actions=(
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
    ),
    object_actions=(
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    ),
    list_actions=("s3:ListBucket",),
    imports_prefixes=(
        IMPORTS_BUCKET.notify_prefix,
        IMPORT_CHUNKS_PREFIX,
        IMPORT_REJECTED_PREFIX,
        EXPORTS_PREFIX,
    ),
    # Every API function: the public ones (tracking links, quote pages) scope to their token's tenant.
    functions=tuple(f.name for f in API_FUNCTIONS),
)
