"""The outbox relay in AWS: an EventBridge Pipe reads the table's stream, keeps the records that may carry
events (``OUTBOX_STREAM_FILTER``) and invokes the relay function with each batch; the relay puts the
events on the crm bus. A batch that keeps failing is split in halves (``AUTOMATIC_BISECT``), retried
``OUTBOX_MAX_RETRIES`` times and then sent to the dead-letter queue; the stream keeps it meanwhile.

The relay puts events on the bus, and on the base table (no index, no Scan) reads and writes by key what a
change's request did not live to write after its commit (``RELAY_TABLE_ACTIONS``, crm_core.outbox).
"""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from crm_core.definitions import (
    OUTBOX_BATCH_SIZE,
    OUTBOX_DEAD_LETTER_QUEUE,
    OUTBOX_MAX_RETRIES,
    OUTBOX_RELAY,
    OUTBOX_STREAM_FILTER,
)

from infra.functions import CrmFunctions
from infra.nag import acknowledge

PIPES_SERVICE = "pipes.amazonaws.com"
DEAD_LETTER_RETENTION = Duration.days(14)  # the SQS maximum
# Looking for a change's last timeline entry (BatchGetItem), the record as it is now (GetItem), its
# duplicates (Query of its tokens' entries), and writing its entries (BatchWriteItem). DescribeTable:
# pynamodb.
RELAY_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
    "dynamodb:DescribeTable",
)
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


class CrmOutbox(Construct):
    """``relay`` (the function), ``dead_letter_queue``, ``pipe_role`` and ``pipe`` (the L1 CfnPipe)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: CrmFunctions,
        table: dynamodb.ITable,
        bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        stream_arn = table.table_stream_arn
        if stream_arn is None:
            raise ValueError("the table has no stream: the outbox relay reads it")

        self.relay = functions.create(
            OUTBOX_RELAY, description="CRM outbox relay: committed changes' events to the crm bus"
        )
        bus.grant_put_events_to(self.relay)
        iam.Grant.add_to_principal(
            grantee=self.relay, actions=list(RELAY_TABLE_ACTIONS), resource_arns=[table.table_arn]
        )

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=OUTBOX_DEAD_LETTER_QUEUE.dead_letter_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This is itself a dead-letter queue: the outbox Pipe's, for stream batches the relay kept "
            "failing.",
        )

        # Assumed by EventBridge Pipes for this account only (confused deputy).
        self.pipe_role = iam.Role(
            self,
            "PipeRole",
            description="EventBridge Pipes: the table's stream to the outbox relay",
            assumed_by=iam.ServicePrincipal(
                PIPES_SERVICE,
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
        )
        self.pipe_role.add_to_policy(
            iam.PolicyStatement(actions=list(STREAM_READ_ACTIONS), resources=[stream_arn])
        )
        self.pipe_role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.relay.function_arn])
        )
        self.pipe_role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dead_letter_queue.queue_arn])
        )

        self.pipe = pipes.CfnPipe(
            self,
            "Pipe",
            description="Committed changes and event items on the table's stream, to the outbox relay",
            role_arn=self.pipe_role.role_arn,
            source=stream_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                    starting_position="TRIM_HORIZON",
                    batch_size=OUTBOX_BATCH_SIZE,
                    maximum_retry_attempts=OUTBOX_MAX_RETRIES,
                    on_partial_batch_item_failure="AUTOMATIC_BISECT",
                    dead_letter_config=pipes.CfnPipe.DeadLetterConfigProperty(
                        arn=self.dead_letter_queue.queue_arn
                    ),
                ),
                filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                    filters=[pipes.CfnPipe.FilterProperty(pattern=json.dumps(OUTBOX_STREAM_FILTER))]
                ),
            ),
            target=self.relay.function_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                lambda_function_parameters=pipes.CfnPipe.PipeTargetLambdaFunctionParametersProperty(
                    invocation_type="REQUEST_RESPONSE"
                )
            ),
        )
        # The role's policy must exist before the Pipe starts reading with it.
        self.pipe.node.add_dependency(self.pipe_role)
