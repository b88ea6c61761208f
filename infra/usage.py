"""Usage metering in AWS (docs/decisions/0026): the usage lines the functions write to their logs
(crm_core.usage: ``{"crm_usage": 1, "tenant_id", "at", "kind", ...}``) reach the analytics bucket as Parquet
under ``analytics/tenant=<id>/object=usage/date=<day>/``, where the ``usage`` Glue table (infra/reporting.py)
and the report SQL read them.

- A subscription filter on the log group of each function that writes usage lines (the API functions, the
  outbox relay, the compactor) sends the lines matching ``{ $.crm_usage = 1 }`` to a Firehose stream.
- Firehose decompresses the CloudWatch Logs records and extracts their messages, takes the tenant and the
  day from each line (dynamic partitioning, JQ), converts it to Parquet with the ``usage`` table's schema,
  and writes a file per tenant and day every 15 minutes (or 64 MB).

Nothing writes to DynamoDB per request: the cost is the log line (ingestion) and Firehose's per-GB price.

Lines Firehose cannot take (a line without a tenant or a day, one the Parquet conversion refuses) go to
``usage-errors/<error type>/<day>/``, which is not per tenant and cannot be: the error prefix may not use the
partition keys (``partitionKeyFromQuery``) — an error is often that they could not be extracted. So a
tenant's deletion (docs/decisions/0028) does not look there; instead the prefix expires after
``USAGE_ERRORS_DAYS`` (a lifecycle rule), so whatever of a deleted tenant is there is gone within that many
days. What such a line holds is a usage line (tenant id, time, kind, counts, route and status): no record's
content, no person's data (docs/decisions/0034).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from constructs import Construct
from crm_core.definitions import ANALYTICS, API_FUNCTIONS, OUTBOX_RELAY
from crm_core.reports.columns import USAGE
from crm_core.usage import MARK

from infra.functions import CrmFunctions
from infra.nag import acknowledge
from infra.reporting import CrmReporting, nag_arn

FILTER_PATTERN = f"{{ $.{MARK} = 1 }}"
ERRORS_PREFIX = "usage-errors/"  # not per tenant (module docstring)
USAGE_ERRORS_DAYS = 30  # long enough to look into a conversion failure, short enough for a deletion
# The functions whose logs carry usage lines.
METERED_FUNCTIONS = (*(f.name for f in API_FUNCTIONS), OUTBOX_RELAY.name, "analytics_compactor")
BUFFER_SECONDS = 900  # Firehose's longest: fewer, larger files (the compaction merges a day's anyway)
BUFFER_MB = 64  # the least dynamic partitioning takes
# The ISO times the lines carry, as the JSON deserializer parses them into the table's timestamp.
TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"


class CrmUsage(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, functions: CrmFunctions, reporting: CrmReporting
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        bucket = reporting.bucket
        bucket.add_lifecycle_rule(
            id="UsageErrorsExpire", prefix=ERRORS_PREFIX, expiration=Duration.days(USAGE_ERRORS_DAYS)
        )
        self.delivery_role = role = iam.Role(
            self,
            "DeliveryRole",
            description="Firehose: usage lines into the analytics bucket's usage partitions",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        prefix = f"{ANALYTICS.prefix}tenant="
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(f"{prefix}*"), bucket.arn_for_objects(f"{ERRORS_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[bucket.bucket_arn],
            )
        )
        table_arn = stack.format_arn(
            service="glue", resource="table", resource_name=f"{reporting.database_name}/{USAGE.collection}"
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(
                        service="glue", resource="database", resource_name=reporting.database_name
                    ),
                    table_arn,
                ],
            )
        )
        for path in (f"{prefix}*", f"{ERRORS_PREFIX}*"):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{nag_arn(bucket, role)}/{path}]",
                "Firehose writes files whose keys it makes per tenant and day under the analytics prefix "
                "(and the lines it could not convert under usage-errors/).",
            )
        self.stream = firehose.CfnDeliveryStream(
            self,
            "Stream",
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=(
                firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                    key_type="AWS_OWNED_CMK"
                )
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=bucket.bucket_arn,
                role_arn=role.role_arn,
                prefix=(
                    f"{prefix}!{{partitionKeyFromQuery:tenant}}/object={USAGE.collection}/"
                    "date=!{partitionKeyFromQuery:date}/"
                ),
                error_output_prefix=f"{ERRORS_PREFIX}!{{firehose:error-output-type}}/!{{timestamp:yyyy-MM-dd}}/",
                file_extension=".parquet",
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=BUFFER_SECONDS, size_in_m_bs=BUFFER_MB
                ),
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True,
                    retry_options=firehose.CfnDeliveryStream.RetryOptionsProperty(duration_in_seconds=300),
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[
                        _processor("Decompression", CompressionFormat="GZIP"),
                        _processor("CloudWatchLogProcessing", DataMessageExtraction="true"),
                        _processor(
                            "MetadataExtraction",
                            MetadataExtractionQuery="{tenant: .tenant_id, date: .at[0:10]}",
                            JsonParsingEngine="JQ-1.6",
                        ),
                    ],
                ),
                data_format_conversion_configuration=firehose.CfnDeliveryStream.DataFormatConversionConfigurationProperty(
                    enabled=True,
                    input_format_configuration=firehose.CfnDeliveryStream.InputFormatConfigurationProperty(
                        deserializer=firehose.CfnDeliveryStream.DeserializerProperty(
                            hive_json_ser_de=firehose.CfnDeliveryStream.HiveJsonSerDeProperty(
                                timestamp_formats=[TIME_FORMAT]
                            )
                        )
                    ),
                    output_format_configuration=firehose.CfnDeliveryStream.OutputFormatConfigurationProperty(
                        serializer=firehose.CfnDeliveryStream.SerializerProperty(
                            parquet_ser_de=firehose.CfnDeliveryStream.ParquetSerDeProperty(
                                compression="SNAPPY"
                            )
                        )
                    ),
                    schema_configuration=firehose.CfnDeliveryStream.SchemaConfigurationProperty(
                        catalog_id=stack.account,
                        database_name=reporting.database_name,
                        table_name=USAGE.collection,
                        region=stack.region,
                        role_arn=role.role_arn,
                        version_id="LATEST",
                    ),
                ),
            ),
        )
        self.stream.node.add_dependency(role)
        logs_role = iam.Role(
            self,
            "LogsRole",
            description="CloudWatch Logs: the functions' usage lines into the usage stream",
            assumed_by=iam.ServicePrincipal(
                "logs.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        logs_role.add_to_policy(
            iam.PolicyStatement(
                actions=["firehose:PutRecord", "firehose:PutRecordBatch"], resources=[self.stream.attr_arn]
            )
        )
        self.filters: dict[str, logs.CfnSubscriptionFilter] = {}
        for name in METERED_FUNCTIONS:
            function = functions.functions[name]
            subscription = logs.CfnSubscriptionFilter(
                self,
                f"{name}-usage",
                log_group_name=function.log_group.log_group_name,
                filter_pattern=FILTER_PATTERN,
                destination_arn=self.stream.attr_arn,
                role_arn=logs_role.role_arn,
            )
            subscription.node.add_dependency(logs_role)
            self.filters[name] = subscription


def _processor(kind: str, **parameters: str) -> firehose.CfnDeliveryStream.ProcessorProperty:
    return firehose.CfnDeliveryStream.ProcessorProperty(
        type=kind,
        parameters=[
            firehose.CfnDeliveryStream.ProcessorParameterProperty(parameter_name=k, parameter_value=v)
            for k, v in parameters.items()
        ],
    )
