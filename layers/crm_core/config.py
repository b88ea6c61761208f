"""Settings read from the environment, once. Both the Lambdas and the local runtime set these."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from crm_core.definitions import (
    ANALYTICS,
    EMAIL_RATE_PER_SECOND,
    EVENT_BUS_NAME,
    IMPORTS_BUCKET,
    SCHEDULE_GROUP_NAME,
    SERVICE_EMAIL_FROM,
    SES_CONFIGURATION_SET_NAME,
    TABLE_LOGICAL_NAME,
    WEBHOOK_RETRY_DELAYS_S,
)

# The account moto (the local endpoint) answers as, and stamps on the events of the local bus.
LOCAL_ACCOUNT_ID = "123456789012"
# The audit trail is kept this long unless CRM_AUDIT_RETENTION_DAYS says otherwise: over a year, so that
# a yearly access review finds the whole year.
AUDIT_RETENTION_DAYS = 400
# A suspended tenant's background work (a campaign batch, a webhook delivery, a due timer) goes back to its
# queue to be looked at again after this long: SQS's longest message delay (docs/decisions/0034).
SUSPENDED_HOLD_S = 900
# A tenant's deletion that finds some of it written again after its first round (a usage file Firehose held
# in its buffer, an exporter's batch on its way) goes round again this much later: Firehose's buffer
# (infra/usage.py, 900 s) and SQS's longest delay.
DELETION_ROUND_DELAY_S = 900

# Connections kept open per AWS client (botocore's default is 10). A Lambda serves one request at a time, but
# a batch writes ten inputs at once, each with its derived writes, and locally one process serves every
# concurrent request: past the pool's size each call opens a connection and throws it away, which costs a
# handshake and leaves sockets in TIME_WAIT until the local endpoint's port range runs dry under load.
MAX_POOL_CONNECTIONS = 50


@dataclass(frozen=True)
class Settings:
    table_name: str
    event_bus_name: str
    cursor_secret_arn: str
    region: str
    account_id: str  # the CRM's own AWS account: inbound partner events registered without one come from it
    local_mode: bool
    user_pool_id: str
    user_pool_client_id: str
    jwks_url: str  # empty: the user pool's own (the local endpoint serves its own)
    schedule_group: str
    reminders_queue_arn: str
    scheduler_role_arn: str
    webhook_deliveries_queue_url: str
    partner_bus_role_arn: str  # the role EventBridge assumes to put events on partners' buses
    partner_deliveries_dlq_arn: str
    # The fan-out's queue and its dead-letter queue, which a tenant's webhook rule targets (decision 0038).
    webhook_events_queue_arn: str
    webhook_events_dlq_arn: str
    webhook_retry_delays_s: tuple[int, ...]
    audit_retention_days: int  # how long an audit item is kept (DynamoDB's TTL deletes it after)
    imports_bucket: str  # uploaded import files, their chunks and rejected rows; tenant exports' zips
    analytics_bucket: str  # the exporter's Parquet files (docs/decisions/0020)
    report_engine: str  # "duckdb" (the local runtime) or "athena" (AWS)
    glue_database: str
    athena_workgroup: str
    public_url: str  # where the public tracking routes (/t/...) are reached: the API's own address
    ses_configuration_set: str  # empty: none (SES's events then reach no topic)
    email_rate_per_second: int  # a tenant's sending rate, shared by every sender worker
    service_email_from: str  # the sender of service emails (a ticket's satisfaction survey)
    suspended_hold_s: int  # a suspended tenant's queued work is sent back to its queue this much later
    deletion_round_delay_s: int  # a tenant's deletion's next round waits this long (services/tenant_deletion)
    # The role a request handler assumes for its caller's tenant (crm_core.tenant_access); empty: none, the
    # function's own role reaches the table and the buckets.
    tenant_role_arn: str
    data_key_arn: str  # the customer-managed key of the tenants' data, when there is one (DATA_KEY_CONTEXT)
    # The value CloudFront's origin header carries (definitions.ORIGIN_HEADER); empty: no edge in front
    # (crm dev).
    origin_secret: str


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        table_name=os.environ.get("CRM_TABLE_NAME", TABLE_LOGICAL_NAME),
        event_bus_name=os.environ.get("CRM_EVENT_BUS_NAME", EVENT_BUS_NAME),
        cursor_secret_arn=os.environ.get("CRM_CURSOR_SECRET_ARN", ""),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        account_id=os.environ.get("CRM_ACCOUNT_ID", LOCAL_ACCOUNT_ID),
        local_mode=os.environ.get("CRM_LOCAL") == "1",
        user_pool_id=os.environ.get("CRM_USER_POOL_ID", ""),
        user_pool_client_id=os.environ.get("CRM_USER_POOL_CLIENT_ID", ""),
        jwks_url=os.environ.get("CRM_JWKS_URL", ""),
        schedule_group=os.environ.get("CRM_SCHEDULE_GROUP", SCHEDULE_GROUP_NAME),
        reminders_queue_arn=os.environ.get("CRM_REMINDERS_QUEUE_ARN", ""),
        scheduler_role_arn=os.environ.get("CRM_SCHEDULER_ROLE_ARN", ""),
        webhook_deliveries_queue_url=os.environ.get("CRM_WEBHOOK_DELIVERIES_QUEUE_URL", ""),
        partner_bus_role_arn=os.environ.get("CRM_PARTNER_BUS_ROLE_ARN", ""),
        partner_deliveries_dlq_arn=os.environ.get("CRM_PARTNER_DELIVERIES_DLQ_ARN", ""),
        webhook_events_queue_arn=os.environ.get("CRM_WEBHOOK_EVENTS_QUEUE_ARN", ""),
        webhook_events_dlq_arn=os.environ.get("CRM_WEBHOOK_EVENTS_DLQ_ARN", ""),
        webhook_retry_delays_s=tuple(
            int(s) for s in os.environ.get("CRM_WEBHOOK_RETRY_DELAYS", "").split(",") if s.strip()
        )
        or WEBHOOK_RETRY_DELAYS_S,
        audit_retention_days=int(os.environ.get("CRM_AUDIT_RETENTION_DAYS") or AUDIT_RETENTION_DAYS),
        imports_bucket=os.environ.get(IMPORTS_BUCKET.environment_variable, IMPORTS_BUCKET.name),
        analytics_bucket=os.environ.get("CRM_ANALYTICS_BUCKET", ANALYTICS.bucket),
        report_engine=os.environ.get("CRM_REPORT_ENGINE")
        or ("duckdb" if os.environ.get("CRM_LOCAL") == "1" else "athena"),
        glue_database=os.environ.get("CRM_GLUE_DATABASE", ANALYTICS.glue_database),
        athena_workgroup=os.environ.get("CRM_ATHENA_WORKGROUP", ANALYTICS.workgroup),
        public_url=os.environ.get("CRM_PUBLIC_URL", "").rstrip("/"),
        ses_configuration_set=os.environ.get("CRM_SES_CONFIGURATION_SET", SES_CONFIGURATION_SET_NAME),
        email_rate_per_second=int(os.environ.get("CRM_EMAIL_RATE_PER_SECOND") or EMAIL_RATE_PER_SECOND),
        service_email_from=os.environ.get("CRM_SERVICE_EMAIL_FROM") or SERVICE_EMAIL_FROM,
        suspended_hold_s=int(os.environ.get("CRM_SUSPENDED_HOLD_S") or SUSPENDED_HOLD_S),
        deletion_round_delay_s=int(os.environ.get("CRM_DELETION_ROUND_DELAY_S") or DELETION_ROUND_DELAY_S),
        tenant_role_arn=os.environ.get("CRM_TENANT_ROLE_ARN", ""),
        data_key_arn=os.environ.get("CRM_DATA_KEY_ARN", ""),
        origin_secret=os.environ.get("CRM_ORIGIN_SECRET", ""),
    )
