"""The data plane: the single DynamoDB table and the key that signs list cursors."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from crm_core.definitions import CURSOR_SECRET_NAME, TABLE, TENANT_ACCESS

from infra.nag import acknowledge, table_index_finding

# What an API function may do to the table. No Scan: a request reads a bounded number of items, by key or
# by index, and IAM enforces it. Transactions need no actions of their own: TransactWriteItems is
# authorized per item as PutItem/UpdateItem/DeleteItem/ConditionCheckItem, TransactGetItems as GetItem.
# DescribeTable: pynamodb.
API_TABLE_ACTIONS = (*TENANT_ACCESS.item_actions, "dynamodb:DescribeTable")


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class CrmData(Construct):
    """The table, built from ``crm_core.definitions.TABLE``, and the cursor signing secret."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

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
