"""Asynchronous work: SQS queues, the bus rules that feed them and the functions that consume them.

Built from ``crm_core.definitions``: every ``QUEUES`` entry is a queue with its dead-letter queue, every
``RULES`` entry a rule on the ``crm`` bus delivering to its queue, every ``CONSUMERS`` entry a function fed
by its queue. A queue, rule or consumer added there is deployed with no change here.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from crm_core.definitions import (
    CONSUMERS,
    EVENT_BUS_NAME,
    EVENT_SOURCE,
    EVENT_TARGET_RULES_QUEUE,
    INBOUND_EVENTS_QUEUE,
    PARTNER_DELIVERIES_QUEUE,
    PARTNER_RULE_PREFIX,
    QUEUES,
    RULES,
    WEBHOOK_DELIVERIES_QUEUE,
    WEBHOOK_EVENTS_QUEUE,
    WEBHOOK_RULE_PREFIX,
    ConsumerDefinition,
    QueueDefinition,
)

from infra.data import CrmData
from infra.functions import CrmFunctions, construct_name
from infra.nag import acknowledge, nag_arn

DEAD_LETTER_RETENTION = Duration.days(14)  # the SQS maximum: time to look at a failure and redrive it
# A rule retries a failed delivery to its queue (throttling, a queue being replaced) this often and this
# long, then sends the event to the queue's dead-letter queue.
RULE_RETRY_ATTEMPTS = 8
RULE_MAX_EVENT_AGE = Duration.hours(2)


def _matchers(values: list[Any] | None) -> list[str] | None:
    """A definition's pattern values as CDK takes them: strings, and {"prefix": p} as Match.prefix(p)."""
    if values is None:
        return None
    return [events.Match.prefix(v["prefix"])[0] if isinstance(v, dict) else v for v in values]


class CrmMessaging(Construct):
    """The queues (``queues``/``dead_letter_queues`` by queue name), rules and consumer functions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: CrmFunctions,
        data: CrmData,
        bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)

        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for queue_definition in QUEUES:
            self._add_queue(queue_definition)

        self.rules: dict[str, events.Rule] = {}
        for rule_definition in RULES:
            queue = self._queue(rule_definition.queue)
            self.rules[rule_definition.name] = events.Rule(
                self,
                f"Rule{construct_name(rule_definition.name)}",
                rule_name=rule_definition.name,
                description=f"CRM events for the {rule_definition.queue.name} queue",
                event_bus=bus,
                event_pattern=events.EventPattern(
                    source=_matchers(rule_definition.event_pattern.get("source")),
                    detail_type=_matchers(rule_definition.event_pattern.get("detail-type")),
                    # The CRM's own events come from its own account; the bus policy already keeps
                    # partners to partner.* sources, and this keeps the consumers to the relay's events.
                    account=[Stack.of(self).account]
                    if rule_definition.event_pattern.get("source") == [EVENT_SOURCE]
                    else None,
                ),
                targets=[
                    targets.SqsQueue(
                        queue,
                        # Events that cannot be delivered land with the messages the consumer gave up on.
                        dead_letter_queue=self.dead_letter_queues[rule_definition.queue.name],
                        retry_attempts=RULE_RETRY_ATTEMPTS,
                        max_event_age=RULE_MAX_EVENT_AGE,
                    )
                ],
            )

        self.consumers: dict[str, lambda_.Function] = {}
        for consumer in CONSUMERS:
            self.consumers[consumer.function.name] = self._add_consumer(consumer, functions, data)
        self._wire_webhooks()
        self._wire_partner_targets(bus)
        self._wire_inbound_events()
        self._wire_continuations()

    def _queue(self, definition: QueueDefinition) -> sqs.Queue:
        if definition.name not in self.queues:
            raise ValueError(f"queue {definition.name!r} is not in crm_core.definitions.QUEUES")
        return self.queues[definition.name]

    def _add_queue(self, definition: QueueDefinition) -> None:
        if definition.name in self.queues:
            raise ValueError(f"queue {definition.name!r} is defined twice in crm_core.definitions.QUEUES")
        name = construct_name(definition.name)
        dead_letter_queue = sqs.Queue(
            self,
            f"{name}DeadLetters",
            queue_name=definition.dead_letter_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        # SSE-SQS rather than a customer managed key: EventBridge and EventBridge Scheduler deliver to it
        # with no key policy to keep, and there is no per-key charge.
        self.queues[definition.name] = sqs.Queue(
            self,
            name,
            queue_name=definition.name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(definition.visibility_timeout_s),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letter_queue, max_receive_count=definition.max_receives
            ),
        )
        self.dead_letter_queues[definition.name] = dead_letter_queue

    def _wire_webhooks(self) -> None:
        """The fan-out and the delivery worker queue deliveries (the worker also its next tries, and what it
        gives up to the dead-letter queue); found by the queues they consume, not by name."""
        deliveries = self.queues[WEBHOOK_DELIVERIES_QUEUE.name]
        given_up = self.dead_letter_queues[WEBHOOK_DELIVERIES_QUEUE.name]
        for consumer in CONSUMERS:
            if consumer.queue not in (WEBHOOK_EVENTS_QUEUE, WEBHOOK_DELIVERIES_QUEUE):
                continue
            function = self.consumers[consumer.function.name]
            function.add_environment("CRM_WEBHOOK_DELIVERIES_QUEUE_URL", deliveries.queue_url)
            deliveries.grant_send_messages(function)
            if consumer.queue == WEBHOOK_DELIVERIES_QUEUE:
                given_up.grant_send_messages(function)
                function.add_to_role_policy(
                    iam.PolicyStatement(actions=["sqs:GetQueueUrl"], resources=[given_up.queue_arn])
                )

    def _wire_partner_targets(self, bus: events.IEventBus) -> None:
        """EventBridge targets: the role EventBridge assumes to put events on partners' buses, the queue for
        what they refuse, and the right of the rules consumer to manage the targets' rules (only those), the
        tenants' webhook rules among them."""
        stack = Stack.of(self)
        self.partner_dead_letters = sqs.Queue(
            self,
            "PartnerDeliveriesDeadLetters",
            queue_name=PARTNER_DELIVERIES_QUEUE.dead_letter_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        self.partner_dead_letters.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                resources=[self.partner_dead_letters.queue_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="events",
                            resource="rule",
                            resource_name=f"{EVENT_BUS_NAME}/{PARTNER_RULE_PREFIX}*",
                        )
                    }
                },
            )
        )
        acknowledge(
            self.partner_dead_letters,
            "AwsSolutions-SQS3",
            "It is the dead-letter queue of the partner bus rules (their DeadLetterConfig points at it).",
        )
        self.partner_bus_role = iam.Role(
            self,
            "PartnerBusRole",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="EventBridge puts a tenant's chosen events on its partner's bus",
        )
        self.partner_bus_role.add_to_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=["arn:aws:events:*:*:event-bus/*"])
        )
        # Never on a bus of the CRM's own account (its own bus would send every event back to itself, round
        # and round): the API refuses such a target, and this holds even if one got through.
        self.partner_bus_role.add_to_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=["events:PutEvents"],
                resources=[
                    stack.format_arn(service="events", region="*", resource="event-bus", resource_name="*")
                ],
            )
        )
        acknowledge(
            self.partner_bus_role,
            "AwsSolutions-IAM5[Resource::arn:aws:events:*:*:event-bus/*]",
            "Partners' buses are in their own accounts and are named by tenants at run time; each bus's own "
            "policy decides whether it accepts our events.",
        )
        # A tenant's webhook rule (put with its first webhook target, decision 0038) delivers to the fan-out's
        # queue, and what it cannot deliver to that queue's dead-letter queue, as the bus's own rules do.
        webhook_rules = stack.format_arn(
            service="events", resource="rule", resource_name=f"{EVENT_BUS_NAME}/{WEBHOOK_RULE_PREFIX}*"
        )
        webhook_events = self.queues[WEBHOOK_EVENTS_QUEUE.name]
        webhook_dead_letters = self.dead_letter_queues[WEBHOOK_EVENTS_QUEUE.name]
        for queue in (webhook_events, webhook_dead_letters):
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    actions=["sqs:SendMessage"],
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    resources=[queue.queue_arn],
                    conditions={"ArnLike": {"aws:SourceArn": webhook_rules}},
                )
            )
        for consumer in CONSUMERS:
            if consumer.queue != EVENT_TARGET_RULES_QUEUE:
                continue
            function = self.consumers[consumer.function.name]
            function.add_environment("CRM_PARTNER_BUS_ROLE_ARN", self.partner_bus_role.role_arn)
            function.add_environment("CRM_PARTNER_DELIVERIES_DLQ_ARN", self.partner_dead_letters.queue_arn)
            function.add_environment("CRM_WEBHOOK_EVENTS_QUEUE_ARN", webhook_events.queue_arn)
            function.add_environment("CRM_WEBHOOK_EVENTS_DLQ_ARN", webhook_dead_letters.queue_arn)
            rules = stack.format_arn(
                service="events",
                resource="rule",
                resource_name=f"{EVENT_BUS_NAME}/{PARTNER_RULE_PREFIX}*",
            )
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=[
                        "events:PutRule",
                        "events:PutTargets",
                        "events:RemoveTargets",
                        "events:DeleteRule",
                    ],
                    resources=[rules],
                )
            )
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["iam:PassRole"], resources=[self.partner_bus_role.role_arn])
            )
            assert function.role is not None
            acknowledge(
                function.role,
                f"AwsSolutions-IAM5[Resource::"
                f"{nag_arn(function.role, 'events', f'rule/{EVENT_BUS_NAME}/{PARTNER_RULE_PREFIX}*')}]",
                "One rule per event target, named at run time; limited to the target rules on the crm bus.",
            )

    def _wire_inbound_events(self) -> None:
        """The consumer of inbound partner events accepts a source registered without an account from this
        CRM's own account only: it is told which that is."""
        for consumer in CONSUMERS:
            if consumer.queue == INBOUND_EVENTS_QUEUE:
                self.consumers[consumer.function.name].add_environment(
                    "CRM_ACCOUNT_ID", Stack.of(self).account
                )

    def _wire_continuations(self) -> None:
        """A consumer whose work is split over several messages queues the rest of it to its own queue
        (found by name: the queue names are the definitions'), and to no other."""
        for consumer in CONSUMERS:
            if not consumer.continues:
                continue
            function = self.consumers[consumer.function.name]
            queue = self.queues[consumer.queue.name]
            queue.grant_send_messages(function)
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["sqs:GetQueueUrl"], resources=[queue.queue_arn])
            )

    def _add_consumer(
        self, definition: ConsumerDefinition, functions: CrmFunctions, data: CrmData
    ) -> lambda_.Function:
        queue = self._queue(definition.queue)
        if definition.queue.visibility_timeout_s < definition.function.timeout_s:
            # Lambda refuses the event source mapping otherwise; a message would reappear mid-batch.
            raise ValueError(
                f"consumer {definition.function.name!r}: queue {definition.queue.name!r} visibility timeout "
                f"({definition.queue.visibility_timeout_s}s) is shorter than the function timeout "
                f"({definition.function.timeout_s}s)"
            )
        function = functions.create(
            definition.function,
            description=f"CRM {definition.function.name} (consumes {definition.queue.name})",
        )
        data.grant_table_read_write(function)
        function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=definition.batch_size,
                max_batching_window=Duration.seconds(definition.batch_window_s)
                if definition.batch_window_s
                else None,
                report_batch_item_failures=True,
            )
        )
        return function
