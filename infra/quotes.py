"""Quotes (docs/decisions/0029): the revenue function emails a sent quote's public link through SES, from
the identities the operator verified in this account, and writes the page's address (``/q/{token}`` on
the API) into it. Its expiry schedules are the reminder scheduler's (infra/reminders.py)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct
from crm_core.definitions import SES_CONFIGURATION_SET_NAME

from infra.api import CrmApi
from infra.nag import acknowledge, nag_arn

REVENUE_FUNCTION = "revenue"


class CrmQuotes(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, api: CrmApi) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        revenue = api.functions[REVENUE_FUNCTION]
        revenue.add_environment("CRM_PUBLIC_URL", api.url)
        # Through the campaigns' configuration set (infra/campaigns.py), so that a quote's bounce or
        # complaint suppresses the address as a campaign's does (services/outbound_mail.py).
        revenue.add_environment("CRM_SES_CONFIGURATION_SET", SES_CONFIGURATION_SET_NAME)
        configuration_set_arn = stack.format_arn(
            service="ses", resource="configuration-set", resource_name=SES_CONFIGURATION_SET_NAME
        )
        revenue.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[
                    stack.format_arn(service="ses", resource="identity", resource_name="*"),
                    configuration_set_arn,
                ],
            )
        )
        if revenue.role is not None:
            acknowledge(
                revenue.role,
                f"AwsSolutions-IAM5[Resource::{nag_arn(revenue.role, 'ses', 'identity/*')}]",
                "A quote is sent from its user's own address, in a domain the operator verified, known only "
                "at run time; the grant is this account's identities.",
            )
