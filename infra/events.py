"""The CRM's EventBridge bus, where the outbox relay publishes every committed change."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct
from crm_core.definitions import EVENT_BUS_NAME

ARCHIVE_RETENTION = Duration.days(90)


class CrmEvents(Construct):
    """The ``crm`` bus and an archive of everything published to it (for replays after an outage)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=EVENT_BUS_NAME,
            description="CRM domain events (source 'crm') and inbound partner events",
        )
        # Every event on the bus comes from this account (the CRM itself, or partners' events accepted
        # through it), so this pattern archives them all.
        self.archive = self.bus.archive(
            "Archive",
            description="Every event on the CRM bus, replayable",
            event_pattern=events.EventPattern(account=[Stack.of(self).account]),
            retention=ARCHIVE_RETENTION,
        )

    def grant_put_events(self, grantee: iam.IGrantable) -> None:
        self.bus.grant_put_events_to(grantee)
