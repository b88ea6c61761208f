"""Reports in AWS (docs/decisions/0020): the analytics bucket the exporter writes Parquet to, a Glue
database with one table per exported object (partition projection: ``tenant`` injected by the query,
``date`` projected by day), and the Athena workgroup the reports function queries in, with a per-query
scan cutoff and its results encrypted in a bucket of their own."""

from __future__ import annotations

import re

from aws_cdk import CfnElement, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct
from crm_core.definitions import ANALYTICS
from crm_core.reports.columns import ALL
from crm_core.services.table_export import EXPORT_PREFIX as EXPORTS_PREFIX

from infra.data import bucket_encryption
from infra.functions import CrmFunctions
from infra.nag import acknowledge, nag_reference

# The first day a table's ``date`` partitions are projected from (files before it would not be read).
FIRST_DAY = "2026-01-01"
RESULTS_KEPT_DAYS = 7
PARQUET = {
    "input": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "output": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "serde": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
}


def nag_arn(resource: IConstruct, seen_from: IConstruct) -> str:
    """``resource``'s ARN as cdk-nag writes it in a finding on ``seen_from``: ``<LogicalId.Arn>`` in the
    same stack, in another (a nested stack) the parameter CDK passes it by (as ``infra.nag.nag_reference``
    of the nested stacks' change does; use that one once both are in)."""
    element = resource.node.default_child if not isinstance(resource, CfnElement) else resource
    assert isinstance(element, CfnElement), resource
    owner = Stack.of(element)
    if owner is Stack.of(seen_from):
        return f"<{owner.get_logical_id(element)}.Arn>"
    return "<" + re.sub(r"[^A-Za-z0-9]", "", f"reference-to-{Names.node_unique_id(element.node)}Arn") + ">"


def _bucket(scope: Construct, construct_id: str, **settings: object) -> s3.Bucket:
    bucket = s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        **{"removal_policy": RemovalPolicy.RETAIN, **settings},  # type: ignore[arg-type]
    )
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        "Written and read by the CRM's own functions and Athena only, whose calls CloudTrail records.",
    )
    return bucket


class CrmReporting(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: CrmFunctions,
        table: dynamodb.ITable | None = None,
        data_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.records_table = table
        stack = Stack.of(self)
        # The tenants' files and query results under the data key when there is one (infra/data.py).
        encryption = bucket_encryption(data_key)
        self.bucket = _bucket(
            self,
            "Bucket",
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1))],
            **encryption,
        )
        self.results = _bucket(
            self,
            "Results",
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(RESULTS_KEPT_DAYS))],
            removal_policy=RemovalPolicy.DESTROY,
            **encryption,
        )
        # Names of their own per stack: two stacks in one account must not share a catalog or workgroup.
        self.database_name = f"{stack.stack_name.lower().replace('-', '_')}_{ANALYTICS.glue_database}"
        self.workgroup_name = f"{stack.stack_name}-{ANALYTICS.workgroup}"
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description="The CRM's analytics files, one table per object"
            ),
        )
        for collection, object_columns in ALL.items():  # the records' change logs and the usage lines
            glue_table = glue.CfnTable(
                self,
                f"{collection.title()}Table",
                catalog_id=stack.account,
                database_name=self.database_name,
                table_input=self._table_input(collection, object_columns.all_columns),
            )
            glue_table.add_dependency(database)
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=self.workgroup_name,
            description="CRM reports: one tenant's partitions a query",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                bytes_scanned_cutoff_per_query=ANALYTICS.bytes_scanned_cutoff,
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results.bucket_name}/results/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    )
                    if data_key is None
                    else athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=data_key.key_arn
                    ),
                ),
            ),
        )
        self._grant_exporter(functions)
        self._grant_reports(functions)
        self._grant_compactor(functions)

    def _table_input(
        self, collection: str, columns: tuple[tuple[str, str], ...]
    ) -> glue.CfnTable.TableInputProperty:
        prefix = f"s3://{self.bucket.bucket_name}/{ANALYTICS.prefix}"
        location = f"{prefix}tenant=${{tenant}}/object={collection}/date=${{date}}/"
        return glue.CfnTable.TableInputProperty(
            name=collection,
            table_type="EXTERNAL_TABLE",
            parameters={
                "classification": "parquet",
                "projection.enabled": "true",
                # The tenant is named by every query (the code puts in the credential's): never enumerated.
                "projection.tenant.type": "injected",
                "projection.date.type": "date",
                "projection.date.format": "yyyy-MM-dd",
                "projection.date.range": f"{FIRST_DAY},NOW",
                "projection.date.interval": "1",
                "projection.date.interval.unit": "DAYS",
                "storage.location.template": location,
            },
            partition_keys=[
                glue.CfnTable.ColumnProperty(name="tenant", type="string"),
                glue.CfnTable.ColumnProperty(name="date", type="string"),
            ],
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                columns=[glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in columns],
                location=prefix,
                input_format=PARQUET["input"],
                output_format=PARQUET["output"],
                serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=PARQUET["serde"]),
            ),
        )

    def _objects(self) -> str:
        return self.bucket.arn_for_objects(f"{ANALYTICS.prefix}*")

    def _acknowledge_objects(self, role: iam.IRole | None, what: str) -> None:
        assert role is not None
        for bucket, path in ((self.bucket, f"{ANALYTICS.prefix}*"), (self.results, "results/*")):
            finding = f"AwsSolutions-IAM5[Resource::{nag_reference(bucket, 'Arn', role)}/{path}]"
            acknowledge(role, finding, what)

    def _grant_exporter(self, functions: CrmFunctions) -> None:
        """The exporter puts files (keys made from the events it writes); it never reads or deletes."""
        exporter = functions.functions["analytics_exporter"]
        exporter.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[self._objects()])
        )
        exporter.add_environment("CRM_ANALYTICS_BUCKET", self.bucket.bucket_name)
        self._acknowledge_objects(
            exporter.role, "Analytics files are keyed by tenant, object and day, made at run time."
        )

    def _grant_reports(self, functions: CrmFunctions) -> None:
        """The reports function lists a tenant's files (data_as_of, the cache) and queries Athena, which
        reads the files and writes results with the function's credentials."""
        reports = functions.functions["reports"]
        self._grant_queries(reports)
        self._acknowledge_objects(
            reports.role,
            "A tenant's analytics files are read under its own prefix (Athena's partition of the tenant the "
            "credential names); Athena writes each query's results under results/ with a key it makes.",
        )

    def _grant_compactor(self, functions: CrmFunctions) -> None:
        """The daily compaction (docs/decisions/0026) reads a tenant's past days' files, writes the merged
        one and deletes the small ones; it measures the tenant's records with an Athena query, as reports
        do."""
        compactor = functions.functions["analytics_compactor"]
        self._grant_queries(compactor)
        compactor.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject", "s3:DeleteObject"], resources=[self._objects()])
        )
        table = self.records_table
        if table is not None and compactor.role is not None:
            # The operator's re-export (crm_core.services.table_export): DynamoDB's export of the table to
            # the bucket's table-exports/ (written with the caller's credentials), then its files read.
            compactor.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:DescribeTable", "dynamodb:ExportTableToPointInTime"],
                    resources=[table.table_arn],
                )
            )
            compactor.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:DescribeExport"], resources=[f"{table.table_arn}/export/*"]
                )
            )
            compactor.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl", "s3:GetObject"],
                    resources=[self.bucket.arn_for_objects(f"{EXPORTS_PREFIX}*")],
                )
            )
            bucket_arn = nag_arn(self.bucket, compactor.role)
            acknowledge(
                compactor.role,
                f"AwsSolutions-IAM5[Resource::{bucket_arn}/{EXPORTS_PREFIX}*]",
                "DynamoDB's export writes files whose keys it makes under table-exports/.",
            )
            acknowledge(
                compactor.role,
                f"AwsSolutions-IAM5[Resource::{nag_arn(table, compactor.role)}/export/*]",
                "An export's ARN is made when it starts.",
            )
        self._acknowledge_objects(
            compactor.role,
            "Compaction merges each tenant's files of a past day under analytics/, keys made at run time; "
            "Athena writes the storage query's results under results/.",
        )

    def _grant_queries(self, reports: lambda_.Function) -> None:
        """Athena queries in the workgroup over the Glue tables, and reading the analytics files."""
        stack = Stack.of(self)
        workgroup_arn = stack.format_arn(
            service="athena", resource="workgroup", resource_name=self.workgroup_name
        )
        reports.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "athena:StartQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:StopQueryExecution",
                ],
                resources=[workgroup_arn],
            )
        )
        reports.add_to_role_policy(
            iam.PolicyStatement(
                actions=["glue:GetDatabase", "glue:GetTable"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=self.database_name),
                    *(
                        stack.format_arn(
                            service="glue",
                            resource="table",
                            resource_name=f"{self.database_name}/{collection}",
                        )
                        for collection in ALL
                    ),
                ],
            )
        )
        reports.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[self.bucket.bucket_arn, self.results.bucket_arn],
            )
        )
        reports.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[self._objects()]))
        reports.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self.results.arn_for_objects("results/*")],
            )
        )
        for name, value in (
            ("CRM_ANALYTICS_BUCKET", self.bucket.bucket_name),
            ("CRM_REPORT_ENGINE", "athena"),
            ("CRM_GLUE_DATABASE", self.database_name),
            ("CRM_ATHENA_WORKGROUP", self.workgroup_name),
        ):
            reports.add_environment(name, value)
