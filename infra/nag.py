"""cdk-nag (v3) wiring: the rule pack on the app, and acknowledgements of deliberate choices.

cdk-nag 3 runs as a CDK policy validation plugin (``Validations.of(app).add_plugins``), not as an aspect:
synthesis fails with a report when a finding is not acknowledged. A finding is acknowledged on the
construct (or an ancestor) with ``Validations.of(construct).acknowledge``; rules that report several
findings per resource (IAM5) are acknowledged one finding at a time, ``AwsSolutions-IAM5[<finding>]``.
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, CfnElement, Names, Stack, Token, Validations
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


def nag_reference(resource: IConstruct, attribute: str, seen_from: IConstruct) -> str:
    """``resource``'s ``attribute`` (``Arn``) as cdk-nag writes it in a finding on ``seen_from``:
    ``<LogicalId.Arn>`` in the same stack; in another stack (a nested stack, docs/decisions/0024) the
    parameter CDK passes it by, ``<referencetoCrmStack...Arn>`` (CDK names it ``reference-to-`` + the
    resource's unique id + the attribute, less what is not alphanumeric)."""
    element = resource.node.default_child if not isinstance(resource, CfnElement) else resource
    assert isinstance(element, CfnElement), resource
    owner = Stack.of(element)
    if owner is Stack.of(seen_from):
        return f"<{owner.get_logical_id(element)}.{attribute}>"
    return (
        "<"
        + re.sub(r"[^A-Za-z0-9]", "", f"reference-to-{Names.node_unique_id(element.node)}{attribute}")
        + ">"
    )


def nag_environment(scope: IConstruct) -> tuple[str, str, str]:
    """The stack's partition, region and account as cdk-nag writes them in a finding: ``<AWS::Region>``
    (and so on) in an environment-agnostic stack, the values themselves when the stack has them (``-c
    crm:region=...``, infra/app.py)."""
    stack = Stack.of(scope)
    return tuple(  # type: ignore[return-value]
        f"<AWS::{name}>" if Token.is_unresolved(value) else value
        for name, value in (
            ("Partition", stack.partition),
            ("Region", stack.region),
            ("AccountId", stack.account),
        )
    )


def nag_arn(scope: IConstruct, service: str, resource: str) -> str:
    """``arn:<AWS::Partition>:<service>:<AWS::Region>:<AWS::AccountId>:<resource>`` as cdk-nag writes it in
    ``scope``'s stack (see ``nag_environment``)."""
    partition, region, account = nag_environment(scope)
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def table_index_finding(table: dynamodb.Table, seen_from: IConstruct) -> str:
    """The IAM5 finding a grant on a table's indexes produces on ``seen_from`` (the grantee's role):
    ``Resource::<TableLogicalId.Arn>/index/*`` (or the parameter's name in a nested stack)."""
    return f"AwsSolutions-IAM5[Resource::{nag_reference(table, 'Arn', seen_from)}/index/*]"
