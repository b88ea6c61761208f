"""Stages by context: ``cdk deploy -c stage=dev`` (``prod`` unless told: a deployment that forgets the
flag keeps its data).

The constructs are the same in both stages; what differs is how much a deployment keeps when it is torn down
and how long it remembers, set by one aspect on the stack (nested stacks included) after every construct has
been made, so no construct takes the stage as a parameter:

- ``prod``: the table keeps deletion protection; the table, the user pool, the retained buckets and every log
  group are ``RETAIN`` (a ``cdk destroy`` or a replacement leaves them); logs kept a year.
- ``dev``: no deletion protection, and ``DESTROY`` for what ``prod`` retains (a test deployment goes away with
  its stack: a bucket that still holds files stops the deletion until it is emptied); logs kept two weeks.

Alarms, the dashboard and the web ACL are in both: they cost a flat few dollars a month, and a dev deployment
shows what prod would page on. Every log group takes the stage's retention (CDK's own handlers' included,
which would otherwise keep theirs two years).
"""

from __future__ import annotations

from dataclasses import dataclass

import jsii
from aws_cdk import CfnResource, IAspect, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

STAGE_CONTEXT = "stage"
DEFAULT_STAGE = "prod"


@dataclass(frozen=True)
class Stage:
    name: str
    removal_policy: RemovalPolicy
    deletion_protection: bool
    log_retention_days: int  # one of CloudWatch Logs' allowed values


STAGES = {
    "dev": Stage("dev", RemovalPolicy.DESTROY, deletion_protection=False, log_retention_days=14),
    "prod": Stage("prod", RemovalPolicy.RETAIN, deletion_protection=True, log_retention_days=365),
}


def stage_named(value: object) -> Stage:
    """The ``stage`` context (``-c stage=dev``) as a ``Stage``; ``None`` is prod. Anything else is a
    ``ValueError`` that names the choices: synthesis stops there."""
    name = DEFAULT_STAGE if value is None else str(value).strip().lower()
    if name not in STAGES:
        raise ValueError(f"-c {STAGE_CONTEXT}= must be one of {', '.join(STAGES)}, not {value!r}")
    return STAGES[name]


@jsii.implements(IAspect)
class StagePolicies:
    """Applies ``stage`` to the data a deployment holds: the table, the user pool, the buckets that are
    retained, the data key made in the stack (``crm:kmsKey=create``: it goes, after KMS's waiting period,
    when what it encrypts goes), and every log group."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, dynamodb.CfnTable):
            node.deletion_protection_enabled = self.stage.deletion_protection
            node.apply_removal_policy(self.stage.removal_policy)
        elif isinstance(node, cognito.CfnUserPool):
            node.apply_removal_policy(self.stage.removal_policy)
        elif isinstance(node, s3.CfnBucket) and _retained(node):
            # Only the buckets that keep data (the analytics files); the ones a construct already lets go
            # with the stack (uploads, query results) stay as they are.
            node.apply_removal_policy(self.stage.removal_policy)
        elif isinstance(node, kms.CfnKey):
            node.apply_removal_policy(self.stage.removal_policy)
        elif isinstance(node, logs.CfnLogGroup):
            node.apply_removal_policy(self.stage.removal_policy)
            node.retention_in_days = self.stage.log_retention_days


def _retained(resource: CfnResource) -> bool:
    return resource.cfn_options.deletion_policy is not None and resource.cfn_options.deletion_policy.name == (
        "RETAIN"
    )
