"""What an operator looks at, and what pages them beyond dead letters (infra/alarms.py): one CloudWatch
dashboard and three alarms on the same metrics, in the Monitoring nested stack.

Dashboard rows: the API (requests, 4xx/5xx, p50/p99 latency), the functions (errors, throttles, p99 duration
of each API function and the authorizer), the dead-letter queues' depth, and Athena's bytes scanned by the
reports' workgroup. A dashboard costs a flat $3 a month and nothing per request.

Alarms:
- ``ApiLatencyP99``: the HTTP API's p99 latency above ``LATENCY_P99_MS`` for three five-minute periods;
- ``LambdaThrottles``: any throttled invocation in the region (``AWS/Lambda`` ``Throttles`` without a
  dimension: every function of the CRM, consumers included, in one alarm: an alarm's metric math takes at
  most 10 metrics, and the CRM has more functions than that; an account that runs other Lambda functions in
  the region hears of theirs too);
- ``AthenaBytesScanned``: the reports' workgroup scanned more than ``ATHENA_BYTES_PER_DAY`` in a day (each
  query is cut off at its own limit, crm_core.definitions.ANALYTICS; this is the sum, the bill's driver).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

PERIOD = Duration.minutes(5)
LATENCY_P99_MS = 3_000
ATHENA_BYTES_PER_DAY = 100 * 1024**3  # 100 GiB: about $0.50 a day at Athena's $5 a TB
WIDGET_WIDTH = 12


class CrmDashboard(Construct):
    """``dashboard`` and the alarms ``latency``, ``throttles`` and ``athena_bytes`` (notifying ``topic``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        http_api: apigwv2.IHttpApi,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        athena_workgroup: str,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        latency_p99 = http_api.metric_latency(period=PERIOD, statistic="p99")
        throttles = cloudwatch.Metric(
            namespace="AWS/Lambda", metric_name="Throttles", statistic="Sum", period=PERIOD
        )
        athena_bytes = cloudwatch.Metric(
            namespace="AWS/Athena",
            metric_name="ProcessedBytes",
            dimensions_map={"WorkGroup": athena_workgroup},
            statistic="Sum",
            period=Duration.days(1),
        )
        notify = cloudwatch_actions.SnsAction(topic)

        def alarm(
            alarm_id: str, description: str, metric: cloudwatch.IMetric, threshold: float, periods: int = 1
        ) -> cloudwatch.Alarm:
            made = cloudwatch.Alarm(
                self,
                alarm_id,
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=periods,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            made.add_alarm_action(notify)
            made.add_ok_action(notify)
            return made

        self.latency = alarm(
            "ApiLatencyP99",
            f"The API's p99 latency is {LATENCY_P99_MS} ms or more: look at the functions' p99 duration and "
            "throttles on the dashboard.",
            latency_p99,
            LATENCY_P99_MS,
            periods=3,
        )
        self.throttles = alarm(
            "LambdaThrottles",
            "Lambda throttled invocations: the region's concurrency (or a function's reserved concurrency) "
            "is used up; callers get 503s and queues wait.",
            throttles,
            1,
        )
        self.athena_bytes = alarm(
            "AthenaBytesScanned",
            f"Reports scanned {ATHENA_BYTES_PER_DAY // 1024**3} GiB or more in a day on Athena (billed per "
            "byte scanned): look for a tenant running reports in a loop.",
            athena_bytes,
            ATHENA_BYTES_PER_DAY,
        )

        names = sorted(functions)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            default_interval=Duration.hours(3),
            widgets=[
                [
                    cloudwatch.GraphWidget(
                        title="API requests and errors",
                        width=WIDGET_WIDTH,
                        left=[
                            http_api.metric_count(period=PERIOD),
                            http_api.metric_client_error(period=PERIOD),
                            http_api.metric_server_error(period=PERIOD),
                        ],
                    ),
                    cloudwatch.GraphWidget(
                        title="API latency (ms)",
                        width=WIDGET_WIDTH,
                        left=[http_api.metric_latency(period=PERIOD, statistic="p50"), latency_p99],
                        left_annotations=[
                            cloudwatch.HorizontalAnnotation(value=LATENCY_P99_MS, label="alarm")
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Function errors",
                        width=WIDGET_WIDTH,
                        left=[functions[n].metric_errors(period=PERIOD, label=n) for n in names],
                    ),
                    cloudwatch.GraphWidget(
                        title="Throttles",
                        width=WIDGET_WIDTH,
                        left=[
                            throttles,
                            *(functions[n].metric_throttles(period=PERIOD, label=n) for n in names),
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Function duration p99 (ms)",
                        width=WIDGET_WIDTH,
                        left=[
                            functions[n].metric_duration(period=PERIOD, statistic="p99", label=n)
                            for n in names
                        ],
                    ),
                    cloudwatch.GraphWidget(
                        title="Dead-letter queues (messages waiting)",
                        width=WIDGET_WIDTH,
                        left=[
                            queue.metric_approximate_number_of_messages_visible(
                                period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label=name
                            )
                            for name, queue in sorted(dead_letter_queues.items())
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Athena bytes scanned (reports, per day)",
                        width=WIDGET_WIDTH,
                        left=[athena_bytes],
                        left_annotations=[
                            cloudwatch.HorizontalAnnotation(value=ATHENA_BYTES_PER_DAY, label="alarm")
                        ],
                    ),
                    cloudwatch.AlarmStatusWidget(
                        title="Alarms",
                        width=WIDGET_WIDTH,
                        alarms=[self.latency, self.throttles, self.athena_bytes],
                    ),
                ],
            ],
        )
