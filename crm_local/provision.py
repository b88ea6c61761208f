"""Creates the deployable resources on the local endpoint, from the same definitions the CDK app reads."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from crm_core.definitions import CURSOR_SECRET_NAME, EVENT_BUS_NAME, TABLE, TABLE_LOGICAL_NAME


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    table_stream_arn: str
    event_bus_name: str
    event_bus_arn: str
    cursor_secret_arn: str


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
    return LocalResources(
        table_name=TABLE_LOGICAL_NAME,
        table_stream_arn=table["LatestStreamArn"],
        event_bus_name=EVENT_BUS_NAME,
        event_bus_arn=bus_arn,
        cursor_secret_arn=secret_arn,
    )
