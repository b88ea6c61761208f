"""``CrmStack``: the whole CRM in one deployment, one construct per concern.

CloudFormation takes at most 1,000,000 bytes and 500 resources a template, so parts of the CRM are nested
stacks of this one (docs/decisions/0024): the event schemas (``EventSchemas/Schemas<n>``), the asynchronous
side (``Workers``: queues, rules and their consumer functions) and the alarms (``Monitoring``). ``cdk
deploy`` still deploys the one stack, nested stacks included; CDK passes what they share as parameters
and outputs. A construct's logical id inside its nested stack is the one it had here.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, CfnRule, CfnRuleAssertion, Fn, NestedStack, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct
from crm_core.definitions import (
    ACTIVITY_SCHEDULES_QUEUE,
    AUDIT_RETENTION_CONTEXT,
    AUTHORIZER,
    CONSUMERS,
    OUTBOX_DEAD_LETTER_QUEUE,
    PARTNER_ACCOUNTS_CONTEXT,
    PARTNER_DELIVERIES_QUEUE,
    QUEUES,
    REMINDERS_QUEUE,
)

from infra.alarms import CrmAlarms
from infra.api import CrmApi
from infra.auth import CrmAuth
from infra.bundling import SourceLayout
from infra.campaigns import CrmCampaigns
from infra.control_plane import CrmControlPlane
from infra.dashboard import CrmDashboard
from infra.data import CrmData
from infra.event_schemas import CrmEventSchemas
from infra.events import CrmEvents, partner_accounts
from infra.functions import CrmFunctions
from infra.imports import CrmImports
from infra.messaging import CrmMessaging
from infra.outbox import CrmOutbox
from infra.quotes import CrmQuotes
from infra.recurring import CrmRecurringSchedules
from infra.reminders import CrmReminders
from infra.reporting import CrmReporting
from infra.tenant_access import CrmTenantAccess
from infra.usage import CrmUsage
from infra.waf import WEB_ACL_REGION, CrmWebAcl
from infra.web import CrmWeb

SUPPRESS_INDENTATION_CONTEXT = "@aws-cdk/core:suppressTemplateIndentation"


def audit_retention_days(value: object) -> int:
    """The ``crm:auditRetentionDays`` context as a whole number of days, at least 1 (``-c`` gives text);
    anything else is a ``ValueError`` that names it: synthesis stops there."""
    try:
        days = int(str(value).strip())
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(f"{AUDIT_RETENTION_CONTEXT} must be a whole number of days, not {value!r}")
    return days


class CrmStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layout: SourceLayout | None = None,
        web_acl_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        # Unindented JSON, for every template of the stack: a nested stack takes no such property but reads
        # the context, set here before any is made.
        kwargs.setdefault("suppress_template_indentation", True)
        super().__init__(scope, construct_id, **kwargs)
        self.node.set_context(SUPPRESS_INDENTATION_CONTEXT, kwargs["suppress_template_indentation"])
        # The operator's list of partner AWS accounts (cdk.json context or -c), checked before anything else.
        accounts = partner_accounts(self.node.try_get_context(PARTNER_ACCOUNTS_CONTEXT))

        self.data = CrmData(self, "Data")
        self.events = CrmEvents(self, "Events", partner_accounts=accounts)
        self.auth = CrmAuth(self, "Auth")

        # What every function receives; the names match crm_core.config.
        environment = {**self.data.environment(), "CRM_EVENT_BUS_NAME": self.events.bus.event_bus_name}
        retention = self.node.try_get_context(AUDIT_RETENTION_CONTEXT)
        if retention is not None:
            environment["CRM_AUDIT_RETENTION_DAYS"] = str(audit_retention_days(retention))
        self.functions = CrmFunctions(self, "Functions", layout=layout, environment=environment)
        self.api = CrmApi(self, "Api", functions=self.functions, data=self.data, auth=self.auth)
        for function in self.api.functions.values():
            self.events.grant_put_events(function)

        # The table's stream to the bus (an EventBridge Pipe and the relay), and the events' schemas.
        self.outbox = CrmOutbox(
            self, "Outbox", functions=self.functions, table=self.data.table, bus=self.events.bus
        )
        # In nested stacks of their own (the registry and the schemas, by a hash of the event type).
        self.event_schemas = CrmEventSchemas(self, "EventSchemas")

        # Queues fed by rules on the bus, and the functions that consume them (table access only): a nested
        # stack, its functions built with the same layer and settings (and found in self.functions too).
        self.workers = NestedStack(
            self, "Workers", description="CRM queues, the bus rules feeding them and their consumers"
        )
        self.messaging = CrmMessaging(
            self.workers,
            "Messaging",
            functions=self.functions.within(self.workers, "Functions"),
            data=self.data,
            bus=self.events.bus,
        )
        self.imports = CrmImports(
            self, "Imports", functions=self.functions, messaging=self.messaging, data=self.data
        )
        # Reports: the exporter's Parquet files, their Glue tables and the Athena workgroup.
        self.reporting = CrmReporting(
            self, "Reporting", functions=self.functions, table=self.data.table, data_key=self.data.data_key
        )
        # Usage metering: the functions' usage log lines through Firehose into the analytics bucket.
        self.usage = CrmUsage(self, "Usage", functions=self.functions, reporting=self.reporting)
        # The role the authenticated API functions assume for their caller's tenant (docs/decisions/0035).
        self.tenant_access = CrmTenantAccess(
            self,
            "TenantAccess",
            functions=self.api.functions,
            table=self.data.table,
            imports_bucket=self.imports.bucket,
            analytics_bucket=self.reporting.bucket,
        )
        self.reminders = CrmReminders(
            self, "Reminders", reminders_queue=self.messaging.queues[REMINDERS_QUEUE.name]
        )
        # Hourly and daily jobs (the birthdays' sweep): a schedule each that puts a message on its queue.
        self.recurring = CrmRecurringSchedules(self, "Recurring", queues=dict(self.messaging.queues))
        # Whatever consumes the activity events keeps the reminder schedules in step with the activities.
        for consumer in CONSUMERS:
            if consumer.queue == ACTIVITY_SCHEDULES_QUEUE:
                self.reminders.grant_schedule_management(self.messaging.consumers[consumer.function.name])

        # Campaign emails: SES's configuration set and its events, the sender's and the fan-out's rights.
        # In the Workers stack with the queue its email events go to (an SNS subscription to a queue is made
        # in the queue's stack, which would then depend on this one: CDK refuses a nested stack that does).
        self.campaigns = CrmCampaigns(
            self.workers,
            "Campaigns",
            messaging=self.messaging,
            reminders=self.reminders,
            api_url=self.api.url,
        )

        # Quotes: the revenue function emails a sent quote's public link (SES).
        self.quotes = CrmQuotes(self, "Quotes", api=self.api)

        # Every dead-letter queue, and the relay's errors, alarm to one topic operators subscribe to (a
        # nested stack).
        self.monitoring = NestedStack(self, "Monitoring", description="CRM alarms and their topic")
        dead_letter_queues = {
            **{q.dead_letter_name: self.messaging.dead_letter_queues[q.name] for q in QUEUES},
            OUTBOX_DEAD_LETTER_QUEUE.dead_letter_name: self.outbox.dead_letter_queue,
            PARTNER_DELIVERIES_QUEUE.dead_letter_name: self.messaging.partner_dead_letters,
        }
        self.alarms = CrmAlarms(
            self.monitoring, "Alarms", dead_letter_queues=dead_letter_queues, relay=self.outbox.relay
        )
        # The operator's dashboard, and the latency, throttle and Athena alarms on its metrics.
        self.dashboard = CrmDashboard(
            self.monitoring,
            "Dashboard",
            http_api=self.api.http_api,
            functions={AUTHORIZER.name: self.api.authorizer_function, **self.api.functions},
            dead_letter_queues=dead_letter_queues,
            athena_workgroup=self.reporting.workgroup_name,
            topic=self.alarms.topic,
        )

        # The operator's control plane: the Chalice app behind its own IAM-authenticated REST API.
        self.control_plane = CrmControlPlane(self, "ControlPlane", crm=self)
        for name, queue in self.control_plane.dead_letter_queues.items():
            self.alarms.watch_dead_letters(
                name,
                queue,
                f"A control-plane job's step failed five times ({name}): its message says which tenant or "
                "month; fix the cause, then move the message back to its queue (the job goes on from it).",
            )

        self._grant_data_key()

        # The edge's web ACL: given (another stack's, or the operator's own), or made here.
        self.edge: Stack | None = None  # the us-east-1 stack holding the web ACL, when there is one
        self.web_acl: CrmWebAcl | None = None
        web_acl_arn = web_acl_arn or self._own_web_acl()

        # The web app, with the API on its own origin, behind the web ACL.
        self.web = CrmWeb(
            self,
            "Web",
            http_api=self.api.http_api,
            auth=self.auth,
            web_acl_arn=web_acl_arn,
            origin_secret_value=self.api.origin_secret_value,
        )

        CfnOutput(
            self,
            "ApiUrl",
            value=self.api.url,
            description="The API's own address: its public pages (email links); API calls go to WebUrl's /v1",
        )
        CfnOutput(self, "ControlPlaneUrl", value=self.control_plane.api.url, description="The operator's API")
        CfnOutput(self, "WebUrl", value=self.web.url, description="The web app (and the API under /v1)")
        CfnOutput(self, "UserPoolId", value=self.auth.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.auth.web_client.user_pool_client_id)
        CfnOutput(self, "TableName", value=self.data.table.table_name)
        CfnOutput(self, "EventBusName", value=self.events.bus.event_bus_name)
        CfnOutput(self, "CursorSecretArn", value=self.data.cursor_secret.secret_arn)
        CfnOutput(self, "EventSchemaRegistryName", value=self.event_schemas.registry.attr_registry_name)
        CfnOutput(self, "ScheduleGroupName", value=self.reminders.schedule_group.ref)
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.alarms.topic.topic_arn,
            description="Subscribe to hear of dead letters and outbox relay errors",
        )

    def _grant_data_key(self) -> None:
        """With a customer-managed key on the tenants' data, whatever reads or writes it may use the key,
        through DynamoDB and S3 only: every function (each one's other grants decide what it reaches), the
        stream's Pipe, Firehose's usage files and the tenant sessions' role."""
        grantees: tuple[iam.IGrantable, ...] = (
            *self.functions.functions.values(),
            self.outbox.pipe_role,
            self.usage.delivery_role,
            self.tenant_access.role,
        )
        for grantee in grantees:
            self.data.grant_data_key(grantee)

    def _own_web_acl(self) -> str:
        """A web ACL made in this stack, which CloudFront allows only in us-east-1 (infra/app.py;
        docs/decisions/0036): a template of unknown region asserts it is deployed there."""
        self.web_acl = CrmWebAcl(self, "Edge")
        if Token.is_unresolved(self.region):
            CfnRule(
                self,
                "WebAclRegion",
                assertions=[
                    CfnRuleAssertion(
                        assert_=Fn.condition_equals(Aws.REGION, WEB_ACL_REGION),
                        assert_description="CloudFront's web ACL is made in us-east-1: deploy this "
                        "template there, or synthesize with -c crm:region=<region> (a us-east-1 stack then "
                        "holds the web ACL) or -c crm:webAclArn=<an existing one>.",
                    )
                ],
            )
        return self.web_acl.acl.attr_arn
