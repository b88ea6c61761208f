"""The data plane: the single DynamoDB table, the key that signs list cursors, and the customer-managed key of
the tenants' data when the operator asks for one (``-c crm:kmsKey=create|<key ARN>``, docs/decisions/0037)."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from crm_core.definitions import CURSOR_SECRET_NAME, DATA_KEY_CONTEXT, TABLE, TENANT_ACCESS

from infra.nag import acknowledge, table_index_finding

# What an API function may do to the table. No Scan: a request reads a bounded number of items, by key or
# by index, and IAM enforces it. Transactions need no actions of their own: TransactWriteItems is
# authorized per item as PutItem/UpdateItem/DeleteItem/ConditionCheckItem, TransactGetItems as GetItem.
# DescribeTable: pynamodb.
API_TABLE_ACTIONS = (*TENANT_ACCESS.item_actions, "dynamodb:DescribeTable")

# What a role that reads or writes the tenants' data needs of their customer-managed key, and only through
# DynamoDB and S3 (kms:ViaService): DynamoDB decrypts the table's key with the caller's permissions, S3
# makes (GenerateDataKey) and opens (Decrypt) each file's key. No wildcard action.
DATA_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
KEY_ARN_PATTERN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]{1,64}$"


def data_key_setting(value: object) -> str | None:
    """The ``crm:kmsKey`` context: ``create``, a KMS key's ARN (not an alias: its id goes in the tenant
    sessions' policy), or absent; anything else is a ``ValueError`` naming it, and synthesis stops there."""
    if value is None:
        return None
    text = str(value).strip()
    if text == "create" or re.match(KEY_ARN_PATTERN, text):
        return text
    raise ValueError(
        f"{DATA_KEY_CONTEXT} must be 'create' or a KMS key ARN (arn:aws:kms:…:key/…), not {value!r}"
    )


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def bucket_encryption(data_key: kms.IKey | None) -> dict[str, Any]:
    """A data bucket's encryption settings: the data key with an S3 Bucket Key (S3 asks KMS for a
    bucket-level key now and then, not for every file: KMS requests are paid), or S3-managed keys."""
    if data_key is None:
        return {"encryption": s3.BucketEncryption.S3_MANAGED}
    return {"encryption": s3.BucketEncryption.KMS, "encryption_key": data_key, "bucket_key_enabled": True}


class CrmData(Construct):
    """The table, built from ``crm_core.definitions.TABLE``, the cursor signing secret, and the data key
    (``data_key``: None unless ``crm:kmsKey`` asks for one)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        # The tenants' data under a key the operator controls (and can disable, audit, rotate), when asked.
        setting = data_key_setting(self.node.try_get_context(DATA_KEY_CONTEXT))
        self.data_key: kms.IKey | None = None
        if setting == "create":
            self.data_key = kms.Key(
                self,
                "DataKey",
                description="CRM: the tenants' data (table, stream, imports, analytics, query results)",
                enable_key_rotation=True,
                rotation_period=Duration.days(365),
                alias=f"alias/{Stack.of(self).stack_name}-data",
                # As the table: the data encrypted with it outlives the stack.
                removal_policy=RemovalPolicy.RETAIN,
            )
        elif setting is not None:
            self.data_key = kms.Key.from_key_arn(self, "DataKey", setting)
        encryption: dict[str, Any] = (
            {"encryption": dynamodb.TableEncryption.CUSTOMER_MANAGED, "encryption_key": self.data_key}
            if self.data_key is not None
            else {}
        )

        # On-demand: pay per request, nothing provisioned. The table keeps every tenant's data, so it
        # survives a stack deletion and cannot be deleted by accident.
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string_key(TABLE.partition_key),
            sort_key=_string_key(TABLE.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType(TABLE.stream_view),
            time_to_live_attribute=TABLE.ttl_attribute,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            **encryption,
        )
        for index in TABLE.indexes:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string_key(index.partition_key),
                sort_key=_string_key(index.sort_key),
                projection_type=dynamodb.ProjectionType(index.projection),
            )

        # Signs the opaque list cursors (tamper-evident pagination). Functions read it at cold start.
        self.cursor_secret = secretsmanager.Secret(
            self,
            "CursorSigningKey",
            secret_name=CURSOR_SECRET_NAME,
            description="HMAC key that signs the CRM's list cursors",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64,
                exclude_punctuation=True,
            ),
        )
        acknowledge(
            self.cursor_secret,
            "AwsSolutions-SMG4",
            "The key only signs pagination cursors, which are short-lived; automatic rotation would add a "
            "rotation Lambda and invalidate every outstanding cursor mid-listing. It is rotated by hand "
            "(put a new random value) when needed.",
        )

    def environment(self) -> dict[str, str]:
        """What every function is told of the data plane (crm_core.config's names): the table, the cursor
        key, and the data key when there is one (the tenant sessions' policy lets their calls use it)."""
        environment = {
            "CRM_TABLE_NAME": self.table.table_name,
            "CRM_CURSOR_SECRET_ARN": self.cursor_secret.secret_arn,
        }
        if self.data_key is not None:
            environment["CRM_DATA_KEY_ARN"] = self.data_key.key_arn
        return environment

    def grant_data_key(self, grantee: iam.IGrantable) -> None:
        """Use of the data key through DynamoDB and S3 only, for a role that reads or writes the tenants'
        data (nothing without a key)."""
        if self.data_key is None:
            return
        region = Stack.of(self).region
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(DATA_KEY_ACTIONS),
            resource_arns=[self.data_key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": [f"dynamodb.{region}.amazonaws.com", f"s3.{region}.amazonaws.com"]
                }
            },
        )

    def grant_read_write(self, function: lambda_.IFunction) -> None:
        """What an API function needs: items and indexes of the table, and the cursor key."""
        self.grant_table_read_write(function)
        self.cursor_secret.grant_read(function)

    def grant_table_read_write(self, function: lambda_.IFunction) -> None:
        """Items and indexes of the table (``API_TABLE_ACTIONS``, no Scan), without the cursor key."""
        self.table.grant(function, *API_TABLE_ACTIONS)  # the table and its indexes
        if function.role is not None:
            acknowledge(
                function.role,
                table_index_finding(self.table, function.role),
                "Queries use the table's global secondary indexes (crm_core.definitions.TABLE.indexes); "
                "the grant is limited to this one table's indexes.",
            )

    def grant_api_key_lookup(self, grantee: iam.IGrantable) -> None:
        """What the authorizer needs on the base table: GetItem and BatchGetItem (the key, its user, the
        tenant, the key's last use) and PutItem (the key's last use, at most once a minute), nothing else."""
        # Table.grant would add the indexes too; the authorizer reads items by key from the base table only.
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"],
            resource_arns=[self.table.table_arn],
        )
