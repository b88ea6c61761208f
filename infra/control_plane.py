"""The operator's control plane (functions/control_plane; docs/decisions/0028): the Chalice app as one Lambda
function behind a REST API of its own, every method authorized by AWS IAM (SigV4), one API Gateway resource
per Chalice route (Chalice dispatches on the resource path), read from the app itself so that the routes
have one definition.

Its function may do what the operator's operations need and no more: the table (read, write, and the
deletion's Scan), the schedules of the CRM's group, the partner rules on the crm bus, the tenants' folders
in the imports and analytics buckets, and the users of the user pool; for the monthly billing export
(docs/decisions/0034), Athena queries over the usage files as the reports run them, and the export's files
under ``billing/`` of the analytics bucket. The app's ``@app.schedule`` functions (the daily export) are
EventBridge rules invoking the same function, read from the app as its routes are; its
``@app.on_sqs_message`` functions (a deletion's next step, a billing export's next page of tenants) are
queues of its own feeding it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import CfnElement, Duration, Names, NestedStack, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from crm_core.definitions import IMPORTS_BUCKET, PARTNER_RULE_PREFIX, FunctionDefinition

from infra.functions import LOG_RETENTION
from infra.nag import acknowledge, nag_arn

if TYPE_CHECKING:
    from infra.stack import CrmStack

CONTROL_PLANE = FunctionDefinition(
    name="control_plane",
    routes=(),  # not on the CRM's HTTP API: its own REST API below
    memory_mb=1024,
    timeout_s=900,  # a deletion of a large tenant runs on after API Gateway's 29 s (it is idempotent)
    packages=("chalice",),  # the Chalice app's runtime (pure Python, --no-deps: chalice.app is stdlib-only)
)

COGNITO_ACTIONS = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminDeleteUser",
)
S3_OBJECT_ACTIONS = ("s3:DeleteObject", "s3:AbortMultipartUpload")
S3_BUCKET_ACTIONS = ("s3:ListBucket", "s3:ListBucketMultipartUploads")


def chalice_schedules() -> list[tuple[str, str]]:
    """(name, schedule expression) of every ``@app.schedule`` of the Chalice app."""
    from chalice.app import ScheduledEventConfig

    from functions.control_plane.app import app

    return sorted(
        (
            source.name,
            source.schedule_expression.to_string()
            if not isinstance(source.schedule_expression, str)
            else source.schedule_expression,
        )
        for source in app.event_sources
        if isinstance(source, ScheduledEventConfig)
    )


def chalice_routes() -> list[tuple[str, str]]:
    """(path, method) of every route of the Chalice app."""
    from functions.control_plane.app import app

    return sorted((path, method) for path, methods in app.routes.items() for method in methods)


class CrmControlPlane(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, crm: CrmStack) -> None:
        """``crm``: the CRM's stack, whose table, bus, buckets, schedule group and user pool it works on."""
        super().__init__(scope, construct_id)
        # A nested stack of its own: the CRM's stack is near CloudFormation's 500 resources a stack.
        self.stack = NestedStack(self, "Stack", description="The CRM operator's control plane")
        # Built as every function is, with the CRM's layer (deployed once: docs/decisions/0024).
        own = crm.functions.within(self.stack, "Functions")
        self.function = own.create(
            CONTROL_PLANE,
            description="CRM control plane: the operator's tenants (Chalice)",
            extra_environment={
                "CRM_USER_POOL_ID": crm.auth.user_pool.user_pool_id,
                "CRM_ANALYTICS_BUCKET": crm.reporting.bucket.bucket_name,
            },
        )
        self._grant(crm)
        self._grant_billing(crm)
        self.dead_letter_queues: dict[str, sqs.Queue] = {}  # by name: alarmed by the stack's monitoring
        self.deletions = self._deletion_queue(crm)
        self.billing_pages = self._billing_queue()
        self.api = self._rest_api()
        self.schedules = {
            name: events.Rule(
                self.stack,
                f"Schedule-{name}",
                rule_name=f"crm-{name.replace('_', '-')}",  # named as the CRM's other rules are
                description=f"The control plane's {name} (a Chalice @app.schedule)",
                schedule=events.Schedule.expression(expression),
                targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
            )
            for name, expression in chalice_schedules()
        }

    def _work_queue(self, construct_id: str, name: str) -> sqs.Queue:
        """A queue of the app's ``@app.on_sqs_message`` that carries a job of the function's own from one
        step to the next: one message a step, one at a time, a dead-letter queue after five tries."""
        dead_letters = sqs.Queue(
            self.stack,
            f"{construct_id}DeadLetters",
            queue_name=f"{name}-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.dead_letter_queues[f"{name}-dlq"] = dead_letters
        queue = sqs.Queue(
            self.stack,
            f"{construct_id}s",
            queue_name=name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(CONTROL_PLANE.timeout_s),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=5),
        )
        acknowledge(dead_letters, "AwsSolutions-SQS3", f"This is the {name} queue's dead-letter queue.")
        self.function.add_event_source(sources.SqsEventSource(queue, batch_size=1))
        queue.grant_send_messages(self.function)
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:GetQueueUrl"], resources=[queue.queue_arn])
        )
        return queue

    def _billing_queue(self) -> sqs.Queue:
        """A billing export of more tenants than one invocation queries goes on from the page it reached,
        a message a step (services/billing.py)."""
        from crm_core.services.billing import QUEUE_NAME

        return self._work_queue("BillingPage", QUEUE_NAME)

    def _deletion_queue(self, crm: CrmStack) -> sqs.Queue:
        """The queue that carries a tenant's deletion job from one step to the next; the job's state in the
        analytics bucket under operator/deletions/ (services/tenant_deletion.py)."""
        from crm_core.services.tenant_deletion import JOBS_PREFIX, QUEUE_NAME

        queue = self._work_queue("Deletion", QUEUE_NAME)
        bucket = crm.reporting.bucket
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{JOBS_PREFIX}*")],
            )
        )
        assert self.function.role is not None
        acknowledge(
            self.function.role,
            f"AwsSolutions-IAM5[Resource::{_reference(bucket, 'Arn', f'/{JOBS_PREFIX}*')}]",
            "A deletion job's state is one object per tenant under operator/deletions/, named at run time.",
        )
        return queue

    def _grant_billing(self, crm: CrmStack) -> None:
        """The billing export queries the usage files as the reports do (Athena, the Glue tables) and writes
        its two files a month under billing/ of the analytics bucket; a deletion keeps the tenant's rows
        there (billing/deleted/), which the export reads back."""
        from crm_core.services.billing import PREFIX

        reporting = crm.reporting
        reporting._grant_queries(self.function)  # the reports' own grant: one definition
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:GetObject"],
                resources=[reporting.bucket.arn_for_objects(f"{PREFIX}*")],
            )
        )
        assert self.function.role is not None
        reporting._acknowledge_objects(
            self.function.role,
            "The billing export reads every tenant's usage files under analytics/ (Athena's partitions, one "
            "tenant a query); Athena writes each query's results under results/ with a key it makes.",
        )
        acknowledge(
            self.function.role,
            f"AwsSolutions-IAM5[Resource::{_reference(reporting.bucket, 'Arn', f'/{PREFIX}*')}]",
            "The billing export writes billing/month=<YYYY-MM>/billing.csv and .jsonl, the month named at "
            "run time, and reads the rows deletions kept (billing/deleted/month=<YYYY-MM>/<tenant id>.json).",
        )

    def _grant(self, crm: CrmStack) -> None:
        data, events, auth = crm.data, crm.events, crm.auth
        imports, reporting, reminders = crm.imports, crm.reporting, crm.reminders
        function = self.function
        data.grant_read_write(function)
        data.table.grant(function, "dynamodb:Scan")  # a deletion's parallel Scan for the tenant's keys
        reminders.grant_schedule_management(function)
        function.add_environment(IMPORTS_BUCKET.environment_variable, imports.bucket.bucket_name)
        for bucket in (imports.bucket, reporting.bucket):
            function.add_to_role_policy(
                iam.PolicyStatement(actions=list(S3_BUCKET_ACTIONS), resources=[bucket.bucket_arn])
            )
            function.add_to_role_policy(
                iam.PolicyStatement(actions=list(S3_OBJECT_ACTIONS), resources=[bucket.arn_for_objects("*")])
            )
        stack = Stack.of(self.function)
        rules = stack.format_arn(
            service="events",
            resource="rule",
            resource_name=f"{events.bus.event_bus_name}/{PARTNER_RULE_PREFIX}*",
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["events:ListTargetsByRule", "events:RemoveTargets", "events:DeleteRule"],
                resources=[rules],
            )
        )
        function.add_to_role_policy(iam.PolicyStatement(actions=["events:ListRules"], resources=["*"]))
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(COGNITO_ACTIONS), resources=[auth.user_pool.user_pool_arn])
        )
        assert function.role is not None
        rules = f"rule/{_reference(events.bus, 'Ref')}/{PARTNER_RULE_PREFIX}*"
        why = {
            _reference(data.table, "Arn", "/index/*"): "The operator reads the directory of tenants by "
            "GSI1 and a tenant's users and contacts counts; the grant is this one table's indexes.",
            _reference(imports.bucket, "Arn", "/*"): "A tenant's deletion removes its objects (uploads, "
            "chunks, rejected rows, exports) under its folders, whose keys are known only at run time.",
            _reference(reporting.bucket, "Arn", "/*"): "A tenant's deletion removes its analytics files "
            "(analytics/tenant=<id>/...), whose keys are known only at run time.",
            nag_arn(self.stack, "events", rules): "A tenant's deletion "
            "removes its partner rules (crm-target-<target id>), named at run time: that prefix on the bus.",
            "*": "events:ListRules takes no resource (it lists the bus's rules by name prefix).",
        }
        for finding, reason in why.items():
            acknowledge(function.role, f"AwsSolutions-IAM5[Resource::{finding}]", reason)

    def _rest_api(self) -> apigateway.RestApi:
        access_logs = logs.LogGroup(self.stack, "AccessLogs", retention=LOG_RETENTION)
        api = apigateway.RestApi(
            self.stack,
            "Api",
            description="The CRM operator's control plane (IAM-authenticated)",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=False,
            deploy_options=apigateway.StageOptions(
                stage_name="v1",
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
            default_method_options=apigateway.MethodOptions(
                authorization_type=apigateway.AuthorizationType.IAM
            ),
        )
        integration = apigateway.LambdaIntegration(self.function, proxy=True, allow_test_invoke=False)
        for path, method in chalice_routes():
            resource = api.root.resource_for_path(path)
            resource.add_method(method, integration, authorization_type=apigateway.AuthorizationType.IAM)
        acknowledge(
            api,
            "AwsSolutions-APIG2",
            "The Chalice app validates every body itself and answers 422 naming the field (RFC 9457).",
        )
        acknowledge(
            api,
            "AwsSolutions-APIG3",
            "Only IAM principals of the operator's account reach it: API Gateway refuses an unsigned or "
            "foreign request itself, before any function is billed. The web ACL (infra/waf.py) guards the "
            "tenants' API on CloudFront; this operator API is not on the distribution.",
        )
        acknowledge(
            api,
            "AwsSolutions-APIG6",
            "Access logs are on (AccessLogs); execution logging would need the account-wide API Gateway "
            "CloudWatch role, which this stack does not take over.",
        )
        acknowledge(
            api,
            "AwsSolutions-COG4",
            "The operator's API is authorized by AWS IAM (SigV4), not by the tenants' user pool.",
        )
        return api


def _reference(construct: Construct, attribute: str, suffix: str = "") -> str:
    """How cdk-nag names, in a finding of the nested stack, an attribute of a resource of the CRM's stack:
    ``<referenceto<the resource's unique id><attribute>>`` (the nested stack's parameter) and ``suffix``."""
    resource = construct.node.default_child
    assert isinstance(resource, CfnElement)
    return f"<referenceto{Names.unique_id(resource)}{attribute}>{suffix}"
