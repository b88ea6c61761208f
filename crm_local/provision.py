"""Creates the deployable resources on the local endpoint, from the same definitions the CDK app reads."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from crm_core.auth import Role
from crm_core.definitions import CURSOR_SECRET_NAME, EVENT_BUS_NAME, TABLE, TABLE_LOGICAL_NAME, USER_POOL


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    table_stream_arn: str
    event_bus_name: str
    event_bus_arn: str
    cursor_secret_arn: str
    user_pool_id: str
    user_pool_client_id: str


def table_request(table_name: str) -> dict[str, Any]:
    """CreateTable parameters for the single table, from ``definitions.TABLE``."""
    attributes = {TABLE.partition_key, TABLE.sort_key}
    indexes = []
    for index in TABLE.indexes:
        attributes |= {index.partition_key, index.sort_key}
        indexes.append(
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        )
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
            {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in sorted(attributes)
        ],
        "GlobalSecondaryIndexes": indexes,
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": TABLE.stream_view},
    }


def provision(session: Any) -> LocalResources:
    dynamodb = session.client("dynamodb")
    table = dynamodb.create_table(**table_request(TABLE_LOGICAL_NAME))["TableDescription"]
    dynamodb.update_time_to_live(
        TableName=TABLE_LOGICAL_NAME,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute},
    )
    events = session.client("events")
    bus_arn = events.create_event_bus(Name=EVENT_BUS_NAME)["EventBusArn"]
    secret_arn = session.client("secretsmanager").create_secret(
        Name=CURSOR_SECRET_NAME, SecretString=secrets.token_urlsafe(48)
    )["ARN"]
    pool_id, client_id = _user_pool(session)
    return LocalResources(
        table_name=TABLE_LOGICAL_NAME,
        table_stream_arn=table["LatestStreamArn"],
        event_bus_name=EVENT_BUS_NAME,
        event_bus_arn=bus_arn,
        cursor_secret_arn=secret_arn,
        user_pool_id=pool_id,
        user_pool_client_id=client_id,
    )


def _user_pool(session: Any) -> tuple[str, str]:
    """The user pool of ``definitions.USER_POOL`` with the roles as groups. Its client also allows the
    admin password flow, so tests and scripts can sign a user in without a browser (the deployed web
    client allows SRP only)."""
    cognito = session.client("cognito-idp")
    pool_id = cognito.create_user_pool(
        PoolName="crm-users",
        UsernameAttributes=["email"],
        Schema=[
            {
                "Name": name,
                "AttributeDataType": "String",
                "Mutable": False,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
            }
            for name in USER_POOL.custom_attributes
        ],
    )["UserPool"]["Id"]
    for precedence, role in enumerate(Role):
        cognito.create_group(UserPoolId=pool_id, GroupName=role.value, Precedence=precedence)
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="crm-web",
        GenerateSecret=False,
        ExplicitAuthFlows=[
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id
