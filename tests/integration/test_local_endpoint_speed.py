"""The local endpoint's shortcuts (crm_local.moto_speed) answer as moto would.

A Query on a global secondary index is answered from the endpoint's own buckets of the index's items, not
by walking the table: a random run of every kind of write the CRM makes (Put, Update setting and removing
the index's key, Delete, a batch, a transaction that commits and one that is cancelled, a conditional Put
refused) is checked after each write against a model of the table: each index partition lists exactly
the items that have its key.

The answers of DynamoDB and its stream are dumped as moto's handlers make them, not through moto's
serializer: with both made for every answer, the CRM's own calls give the same answers."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from crm_local import moto_speed
from crm_local.runtime import LocalRuntime
from tests.support.client import ApiClient
from tests.support.waiting import eventually

VALUES = ["a", "b", "c"]  # the index partition keys the items move between
IDS = [f"item-{n}" for n in range(12)]


@pytest.fixture(autouse=True)
def answers_checked_against_motos_serializer() -> Iterator[None]:
    """Every answer these tests get is made both ways, and the two must agree."""
    moto_speed.answer_differences.clear()
    moto_speed.answers_verified.clear()
    moto_speed.verify_answers = True
    try:
        yield
    finally:
        moto_speed.verify_answers = False
    assert moto_speed.answer_differences == []


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


def test_dynamodb_answers_are_the_ones_motos_serializer_makes(client: ApiClient, table: str) -> None:
    """Every operation whose answer is dumped is answered so at least once, through the CRM's own calls
    (the fixture compares each answer with moto's)."""
    company = client.create("companies", {"name": "Verity Ltd", "domain": "verity.example"})
    contacts = [
        client.create(
            "contacts",
            {
                "first_name": f"Vera{n}",
                "email": f"vera{n}@verity.example",
                "tags": ["gold", "eu"],
                "company_id": company["id"],
            },
        )
        for n in range(3)
    ]
    assert client.patch(f"/v1/contacts/{contacts[0]['id']}", {"tags": ["silver"]}).status_code == 200
    assert client.get("/v1/contacts", params={"tag": "gold", "limit": 1}).status_code == 200
    assert client.get("/v1/contacts", params={"q": "vera"}).status_code == 200
    read = client.post("/v1/contacts/batch/read", {"inputs": [{"id": c["id"]} for c in contacts]})
    assert read.status_code == 200
    assert client.get(f"/v1/companies/{company['id']}/timeline").status_code == 200
    assert client.delete(f"/v1/contacts/{contacts[1]['id']}").status_code == 204
    dynamodb: Any = boto3.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={**_key("x"), "gpk": {"S": "a"}, "gsk": {"S": "s"}})
    # Made here: whether this worker's earlier requests made an UpdateItem depends on which tests it ran.
    dynamodb.update_item(
        TableName=table,
        Key=_key("x"),
        UpdateExpression="SET gsk = :s",
        ExpressionAttributeValues={":s": {"S": "t"}},
        ReturnValues="ALL_NEW",
    )
    dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": _key("x")}}])
    assert dynamodb.scan(TableName=table, Limit=2, ProjectionExpression="pk, gpk")["Items"]  # a migration's
    dynamodb.delete_item(TableName=table, Key=_key("x"), ReturnValues="ALL_OLD")
    # The relay reads the stream of these changes in the background.
    wanted = {f"dynamodb.{op}" for op in moto_speed.FAST_ANSWERS["dynamodb"]} | {"dynamodbstreams.GetRecords"}
    assert eventually(lambda: wanted <= set(moto_speed.answers_verified)), wanted - set(
        moto_speed.answers_verified
    )
