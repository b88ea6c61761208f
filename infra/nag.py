"""cdk-nag (v3) wiring: the rule pack on the app, and acknowledgements of deliberate choices.

cdk-nag 3 runs as a CDK policy validation plugin (``Validations.of(app).add_plugins``), not as an aspect:
synthesis fails with a report when a finding is not acknowledged. A finding is acknowledged on the
construct (or an ancestor) with ``Validations.of(construct).acknowledge``; rules that report several
findings per resource (IAM5) are acknowledged one finding at a time, ``AwsSolutions-IAM5[<finding>]``.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: IConstruct) -> AwsSolutionsChecks:
    """Run the AWS Solutions rule pack on every stack of ``app`` at synthesis."""
    checks = AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    Validations.of(app).add_plugins(checks)
    return checks


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge ``rule_id`` on ``scope`` and everything under it, for ``reason``."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def table_index_finding(table: dynamodb.Table) -> str:
    """The IAM5 finding a grant on a table's indexes produces: ``Resource::<TableLogicalId.Arn>/index/*``."""
    cfn_table = table.node.default_child
    assert isinstance(cfn_table, dynamodb.CfnTable)
    logical_id = Stack.of(table).get_logical_id(cfn_table)
    return f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/index/*]"
