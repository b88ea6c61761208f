"""The local endpoint answers a Query on a global secondary index from its own buckets of the index's
items (crm_local.moto_speed), not by walking the table: the answers must be DynamoDB's. A random run of
every kind of write the CRM makes (Put, Update setting and removing the index's key, Delete, a batch, a
transaction that commits and one that is cancelled, a conditional Put refused) is checked after each
write against a model of the table: each index partition lists exactly the items that have its key."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from crm_local.runtime import LocalRuntime

VALUES = ["a", "b", "c"]  # the index partition keys the items move between
IDS = [f"item-{n}" for n in range(12)]


@pytest.fixture
def table(runtime: LocalRuntime) -> Iterator[str]:
    dynamodb: Any = boto3.client("dynamodb")  # typed stubs refuse the loosely built requests
    name = f"index-check-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gpk", "AttributeType": "S"},
            {"AttributeName": "gsk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [
                    {"AttributeName": "gpk", "KeyType": "HASH"},
                    {"AttributeName": "gsk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    yield name
    dynamodb.delete_table(TableName=name)


def _key(item_id: str) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": item_id}}


def _listed(dynamodb: Any, table: str, value: str) -> list[str]:
    listed: list[str] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": "by-g",
        "KeyConditionExpression": "gpk = :v",
        "ExpressionAttributeValues": {":v": {"S": value}},
        "Limit": 5,  # pages, as the CRM's lists do
    }
    while True:
        page = dynamodb.query(**kwargs)
        listed += [item["sk"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return listed
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_index_queries_answer_as_the_table_holds_after_every_kind_of_write(table: str) -> None:
    dynamodb: Any = boto3.client("dynamodb")  # typed stubs refuse the loosely built requests
    model: dict[str, tuple[str | None, str]] = {}  # id -> (index key or None, index sort key)
    chance = random.Random(20261127)
    for step in range(160):
        item_id, value, sort = chance.choice(IDS), chance.choice(VALUES), f"s{chance.randrange(100):03d}"
        kind = chance.choice(["put", "set", "remove", "delete", "batch", "transact", "cancelled", "refused"])
        if kind == "put":
            dynamodb.put_item(
                TableName=table, Item={**_key(item_id), "gpk": {"S": value}, "gsk": {"S": sort}}
            )
            model[item_id] = (value, sort)
        elif kind == "set":
            dynamodb.update_item(
                TableName=table,
                Key=_key(item_id),
                UpdateExpression="SET gpk = :v, gsk = :s",
                ExpressionAttributeValues={":v": {"S": value}, ":s": {"S": sort}},
            )
            model[item_id] = (value, sort)
        elif kind == "remove":
            dynamodb.update_item(TableName=table, Key=_key(item_id), UpdateExpression="REMOVE gpk")
            model[item_id] = (None, model.get(item_id, (None, ""))[1])
        elif kind == "delete":
            dynamodb.delete_item(TableName=table, Key=_key(item_id))
            model.pop(item_id, None)
        elif kind == "batch":
            other = chance.choice(IDS)
            writes = [{"PutRequest": {"Item": {**_key(item_id), "gpk": {"S": value}, "gsk": {"S": sort}}}}]
            if other != item_id:
                writes.append({"DeleteRequest": {"Key": _key(other)}})
                model.pop(other, None)
            dynamodb.batch_write_item(RequestItems={table: writes})
            model[item_id] = (value, sort)
        elif kind in ("transact", "cancelled"):
            other = chance.choice([i for i in IDS if i != item_id])
            operations: list[dict[str, Any]] = [
                {
                    "Update": {
                        "TableName": table,
                        "Key": _key(item_id),
                        "UpdateExpression": "SET gpk = :v, gsk = :s",
                        "ExpressionAttributeValues": {":v": {"S": value}, ":s": {"S": sort}},
                    }
                },
                {"Delete": {"TableName": table, "Key": _key(other)}},
            ]
            if kind == "cancelled":  # a condition that cannot hold: nothing of it is written
                operations.append(
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": {"pk": {"S": "p"}, "sk": {"S": "never-written"}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    }
                )
                with pytest.raises(ClientError, match="TransactionCanceled"):
                    dynamodb.transact_write_items(TransactItems=operations)
            else:
                dynamodb.transact_write_items(TransactItems=operations)
                model[item_id] = (value, sort)
                model.pop(other, None)
        else:  # a conditional Put refused: the item keeps its place
            with pytest.raises(ClientError, match="ConditionalCheckFailed"):
                dynamodb.put_item(
                    TableName=table,
                    Item={**_key(item_id), "gpk": {"S": value}, "gsk": {"S": sort}},
                    ConditionExpression="attribute_not_exists(pk) AND attribute_exists(pk)",
                )
        for partition in VALUES:
            expected = sorted((entry[1], i) for i, entry in model.items() if entry[0] == partition)
            assert _listed(dynamodb, table, partition) == [i for _, i in expected], (step, kind, partition)
