"""Campaign sending (docs/decisions/0018-campaigns.md): the SES configuration set and its event destination
(an SNS topic the email notifications queue subscribes to), the sender's right to send through it, the
campaign events consumer's right to keep campaign schedules and to queue sends, and the tracking links'
address given to the sender.

The queues, their rule and their consumers come from ``crm_core.definitions`` through ``CrmMessaging``; the
public tracking routes (no authorizer) from ``CrmApi``; this construct wires what is particular to them."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct
from crm_core.definitions import (
    BIRTHDAYS_QUEUE,
    CAMPAIGN_EVENTS_QUEUE,
    CAMPAIGN_SENDS_QUEUE,
    CONSUMERS,
    EMAIL_NOTIFICATIONS_QUEUE,
    SES_CONFIGURATION_SET_NAME,
)

from infra.messaging import CrmMessaging
from infra.nag import acknowledge, nag_arn
from infra.reminders import CrmReminders


class CrmCampaigns(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        messaging: CrmMessaging,
        reminders: CrmReminders,
        api_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        by_queue = {c.queue.name: messaging.consumers[c.function.name] for c in CONSUMERS}
        sender: lambda_.Function = by_queue[CAMPAIGN_SENDS_QUEUE.name]
        fan_out: lambda_.Function = by_queue[CAMPAIGN_EVENTS_QUEUE.name]

        # SES's events of every campaign email (delivered, bounced, complained) to the notifications queue.
        self.topic = sns.Topic(self, "EmailEvents", display_name="CRM email events", enforce_ssl=True)
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            "SES publishes delivery, bounce and complaint events (message ids and addresses, which the CRM "
            "holds anyway); the subscribed queue is SSE-SQS encrypted, and a customer managed key would be a "
            "fixed monthly charge in a pay-per-use product.",
        )
        self.topic.add_subscription(
            subscriptions.SqsSubscription(messaging.queues[EMAIL_NOTIFICATIONS_QUEUE.name])
        )
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=SES_CONFIGURATION_SET_NAME,
            reputation_metrics=True,
        )
        self.configuration_set.add_event_destination(
            "ToTopic",
            destination=ses.EventDestination.sns_topic(self.topic),
            events=[
                ses.EmailSendingEvent.DELIVERY,
                ses.EmailSendingEvent.BOUNCE,
                ses.EmailSendingEvent.COMPLAINT,
            ],
        )

        # The sender sends through the set, from any identity the operator verified in this account.
        sender.add_environment("CRM_SES_CONFIGURATION_SET", SES_CONFIGURATION_SET_NAME)
        sender.add_environment("CRM_PUBLIC_URL", api_url)
        identities = stack.format_arn(service="ses", resource="identity", resource_name="*")
        configuration_set_arn = stack.format_arn(
            service="ses", resource="configuration-set", resource_name=SES_CONFIGURATION_SET_NAME
        )
        sender.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[identities, configuration_set_arn],
            )
        )
        if sender.role is not None:
            acknowledge(
                sender.role,
                f"AwsSolutions-IAM5[Resource::{nag_arn(sender.role, 'ses', 'identity/*')}]",
                "Tenants send from their own verified domains, known only at run time; the grant is this "
                "account's identities, through the campaigns' configuration set.",
            )

        # The fan-out keeps each campaign's at() schedule (in the reminders' group) and queues the sends;
        # its schedules send their message to its own queue.
        reminders.grant_schedule_management(fan_out)
        messaging.queues[CAMPAIGN_SENDS_QUEUE.name].grant_send_messages(fan_out)
        # The birthdays' worker queues each active birthday campaign's greetings of the day to the sender.
        messaging.queues[CAMPAIGN_SENDS_QUEUE.name].grant_send_messages(by_queue[BIRTHDAYS_QUEUE.name])
        reminders.scheduler_role.add_to_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                resources=[messaging.queues[CAMPAIGN_EVENTS_QUEUE.name].queue_arn],
            )
        )
