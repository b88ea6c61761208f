"""The CRM's EventBridge bus, where the outbox relay publishes every committed change and partners put
their inbound events."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct
from crm_core.definitions import (
    ACCOUNT_ID_PATTERN,
    EVENT_BUS_NAME,
    PARTNER_ACCOUNTS_CONTEXT,
    PARTNER_SOURCE_PREFIX,
)

ARCHIVE_RETENTION = Duration.days(90)


def partner_accounts(value: object) -> tuple[str, ...]:
    """The AWS accounts the ``crm:partnerAccounts`` context lists, in order, each once.

    cdk.json gives a JSON list of strings; ``-c crm:partnerAccounts=...`` gives a string, either a JSON list
    or ids separated by commas. Nothing (or an empty list or string) is no partner account. Anything else,
    or an id that is not 12 digits, is a ``ValueError`` that names it: synthesis stops there.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f"{PARTNER_ACCOUNTS_CONTEXT}: not a JSON list ({error})") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list):
        raise ValueError(
            f"{PARTNER_ACCOUNTS_CONTEXT} must be a list of AWS account ids (or a string of them separated by "
            f"commas), not {value!r}"
        )
    accounts: list[str] = []
    for given in value:
        account = given.strip() if isinstance(given, str) else given
        if not isinstance(account, str) or not re.fullmatch(ACCOUNT_ID_PATTERN, account):
            raise ValueError(
                f"{PARTNER_ACCOUNTS_CONTEXT}: {given!r} is not an AWS account id (12 digits, as a string)"
            )
        if account not in accounts:
            accounts.append(account)
    return tuple(accounts)


class CrmEvents(Construct):
    """The ``crm`` bus, the partner accounts that may put ``partner.*`` events on it, and an archive of
    everything published to it (for replays after an outage)."""

    def __init__(self, scope: Construct, construct_id: str, *, partner_accounts: Sequence[str] = ()) -> None:
        super().__init__(scope, construct_id)

        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=EVENT_BUS_NAME,
            description="CRM domain events (source 'crm') and inbound partner events",
        )
        # A partner's account may put events of partner sources on the bus, nothing else (not "crm" events,
        # which only the outbox relay publishes). Which tenant accepts them is up to each tenant's
        # registration of the source and its account (crm_core.services.partner_events): EventBridge stamps
        # each event with the account that put it. Without partner accounts the bus has no policy at all.
        self.partner_accounts = tuple(partner_accounts)
        for account in self.partner_accounts:
            self.bus.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"PartnerAccount{account}",
                    principals=[iam.AccountPrincipal(account)],
                    actions=["events:PutEvents"],
                    resources=[self.bus.event_bus_arn],
                    # A PutEvents call may hold entries of several sources, so the key is multivalued:
                    # every one must match (ForAllValues), and there must be one (ForAllValues alone
                    # holds for an empty set).
                    conditions={
                        "ForAllValues:StringLike": {"events:source": f"{PARTNER_SOURCE_PREFIX}*"},
                        "Null": {"events:source": "false"},
                    },
                )
            )
        # Every event on the bus was put by this account (the CRM itself) or a partner account, so this
        # pattern archives them all.
        self.archive = self.bus.archive(
            "Archive",
            description="Every event on the CRM bus, replayable",
            event_pattern=events.EventPattern(account=[Stack.of(self).account, *self.partner_accounts]),
            retention=ARCHIVE_RETENTION,
        )

    def grant_put_events(self, grantee: iam.IGrantable) -> None:
        self.bus.grant_put_events_to(grantee)
