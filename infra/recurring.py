"""Recurring schedules (``definitions.RECURRING_SCHEDULES``: the birthdays' hourly sweep): one EventBridge
Scheduler schedule each, in the default group, that puts its input on its queue, with a role of its own
that may send to that queue only."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from crm_core.definitions import RECURRING_SCHEDULES

from infra.reminders import SCHEDULER_SERVICE


class CrmRecurringSchedules(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, queues: dict[str, sqs.IQueue]) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        for definition in RECURRING_SCHEDULES:
            queue = queues[definition.queue.name]
            role = iam.Role(
                self,
                f"{definition.name}-role",
                description=f"EventBridge Scheduler: {definition.name} sends to {definition.queue.name}",
                # This account's schedule of that name only (confused deputy).
                assumed_by=iam.ServicePrincipal(
                    SCHEDULER_SERVICE,
                    conditions={
                        "StringEquals": {
                            "aws:SourceAccount": stack.account,
                            "aws:SourceArn": stack.format_arn(
                                service="scheduler",
                                resource="schedule",
                                resource_name=f"default/{definition.name}",
                                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                            ),
                        }
                    },
                ),
            )
            # SendMessage only (the queue is SSE-SQS encrypted: no KMS grant).
            role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]))
            self.schedules[definition.name] = scheduler.CfnSchedule(
                self,
                definition.name,
                name=definition.name,
                schedule_expression=definition.expression,
                schedule_expression_timezone="UTC",
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=queue.queue_arn, role_arn=role.role_arn, input=definition.input
                ),
            )
