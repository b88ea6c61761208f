"""Reminders: the EventBridge Scheduler group that holds one ``at()`` schedule per activity reminder, and
the role those schedules use to put their message on the reminders queue.

The functions that keep the schedules in step with activities (the consumers of
``ACTIVITY_SCHEDULES_QUEUE``) are granted ``grant_schedule_management``; nothing else may touch the group.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from crm_core.definitions import SCHEDULE_GROUP_NAME

from infra.nag import acknowledge

SCHEDULER_SERVICE = "scheduler.amazonaws.com"
SCHEDULE_ACTIONS = (
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:GetSchedule",
)


class CrmReminders(Construct):
    """The ``SCHEDULE_GROUP_NAME`` schedule group and the scheduler's role (SendMessage to the queue only)."""

    def __init__(self, scope: Construct, construct_id: str, *, reminders_queue: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        # The L1: the L2 schedule group is still in an alpha module.
        self.schedule_group = scheduler.CfnScheduleGroup(self, "ScheduleGroup", name=SCHEDULE_GROUP_NAME)
        self.reminders_queue = reminders_queue

        # Assumed by EventBridge Scheduler for this account's schedules in this group only (confused deputy).
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            description=f"EventBridge Scheduler: {SCHEDULE_GROUP_NAME} schedules send to the reminders queue",
            assumed_by=iam.ServicePrincipal(
                SCHEDULER_SERVICE,
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": self.schedule_group.attr_arn,
                    }
                },
            ),
        )
        # SendMessage only: no GetQueueAttributes/GetQueueUrl (what grant_send_messages adds), and no KMS,
        # as the queue is SSE-SQS encrypted.
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[reminders_queue.queue_arn])
        )

        # arn:<partition>:scheduler:<region>:<account>:schedule/<group>/*: the group's schedules, none other.
        self.schedules_arn = stack.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{SCHEDULE_GROUP_NAME}/*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )

    def grant_schedule_management(self, function: lambda_.Function) -> None:
        """Create, update, read and delete the group's schedules, handing them the scheduler role."""
        function.add_environment("CRM_SCHEDULE_GROUP", self.schedule_group.ref)
        function.add_environment("CRM_REMINDERS_QUEUE_ARN", self.reminders_queue.queue_arn)
        function.add_environment("CRM_SCHEDULER_ROLE_ARN", self.scheduler_role.role_arn)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(SCHEDULE_ACTIONS), resources=[self.schedules_arn])
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.scheduler_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SCHEDULER_SERVICE}},
            )
        )
        if function.role is not None:
            acknowledge(
                function.role,
                f"AwsSolutions-IAM5[Resource::{_nag_resource(self.schedules_arn, self)}]",
                f"Schedules are created per activity reminder with names known only at run time; the grant "
                f"is limited to the schedules of the {SCHEDULE_GROUP_NAME} group.",
            )


def _nag_resource(arn: str, scope: Construct) -> str:
    """The resource as cdk-nag prints it in a finding: ``<AWS::Region>`` for ``{"Ref": "AWS::Region"}``."""
    resolved = Stack.of(scope).resolve(arn)
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1]
    rendered = []
    for part in parts:
        if isinstance(part, str):
            rendered.append(part)
        elif "Ref" in part:
            rendered.append(f"<{part['Ref']}>")
        else:
            raise ValueError(f"cannot render {part!r} as cdk-nag does")
    return "".join(rendered)
