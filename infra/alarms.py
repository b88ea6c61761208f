"""Operators hear of what the CRM gave up on: an alarm on every dead-letter queue, and on the outbox
relay's errors, notifying one SNS topic they subscribe to (email, chat, paging).

A message in a dead-letter queue is an effect that did not happen (a reminder, a webhook, a partner's
event, an event on the bus) until someone runs ``crm dlq redrive``; the outbox dead letters in particular
must be replayed within the stream's 24 hours. Alarms cost a flat few cents a month each and nothing per
request, so every dead-letter queue gets one.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.functions import construct_name
from infra.nag import acknowledge

PERIOD = Duration.minutes(5)


class CrmAlarms(Construct):
    """``topic`` (where alarms notify) and ``alarms`` by dead-letter queue name, plus ``relay_errors``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        relay: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="CRM operations",
            enforce_ssl=True,
        )
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            "Alarm notifications name a queue and a count, no customer data; CloudWatch cannot publish to a "
            "topic encrypted with the AWS managed key, and a customer managed key would be a fixed monthly "
            "charge in a pay-per-use product.",
        )
        notify = cloudwatch_actions.SnsAction(self.topic)
        self._notify = notify

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, queue in sorted(dead_letter_queues.items()):
            self.watch_dead_letters(
                name,
                queue,
                f"Messages wait in {name}: see `crm dlq show {name}`, fix the cause, then "
                f"`crm dlq redrive {name}`.",
            )

        # The Pipe retries a failing batch before dead-lettering it; errors show the trouble sooner.
        self.relay_errors = cloudwatch.Alarm(
            self,
            "OutboxRelayErrors",
            alarm_description="The outbox relay fails: events wait in the table's stream (24 hours) or go "
            "to the outbox dead-letter queue.",
            metric=relay.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.relay_errors.add_alarm_action(notify)
        self.relay_errors.add_ok_action(notify)

    def watch_dead_letters(self, name: str, queue: sqs.IQueue, description: str) -> None:
        """An alarm to the topic while a message waits in the dead-letter queue ``name``."""
        alarm = cloudwatch.Alarm(
            self,
            f"{construct_name(name)}Waiting",
            alarm_description=description,
            metric=queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._notify)
        alarm.add_ok_action(self._notify)
        self.alarms[name] = alarm
