"""The local endpoint's shortcuts (crm_local.moto_speed) answer as moto would.

A Query on a global secondary index is answered from the endpoint's own buckets of the index's items, not
by walking the table: a random run of every kind of write the CRM makes (Put, Update setting and removing
the index's key, Delete, a batch, a transaction that commits and one that is cancelled, a conditional Put
refused) is checked after each write against a model of the table: each index partition lists exactly
the items that have its key.

The answers of DynamoDB and its stream are dumped as moto's handlers make them, not through moto's
serializer: with both made for every answer, the CRM's own calls give the same answers.

A page of Query or Scan costs what the page holds, not its partition or the table: the same pages read
with moto alone and with the windows (``moto_speed.fast_reads``), side by side in one run, as a ratio
(``python -m tests.integration.test_local_endpoint_speed`` prints them at the sizes of the brief: an index
partition of 10,000 items, a whole-table Scan of 20,000 in pages of 1,000)."""

from __future__ import annotations

import gc
import random
import time
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


def _backend_with_items(index_items: int, other_items: int) -> Any:
    """moto's DynamoDB in this process (no server: the reads alone are timed), with one table: a tenant's
    ``index_items`` contacts in one partition of its list index, and ``other_items`` of other tenants."""
    from moto.dynamodb.models import DynamoDBBackend

    moto_speed.install()
    backend = DynamoDBBackend("us-east-1", "123456789012")
    backend.create_table(
        "pages",
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        attr=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gpk", "gsk")],
        throughput=None,
        billing_mode="PAY_PER_REQUEST",
        global_indexes=[
            {
                "IndexName": "list",
                "KeySchema": [
                    {"AttributeName": "gpk", "KeyType": "HASH"},
                    {"AttributeName": "gsk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        indexes=[],
        streams=None,
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    table = backend.get_table("pages")
    chance = random.Random(7)
    for n in range(index_items + other_items):
        tenant = "t#big" if n < index_items else f"t#{n % 50}"
        table.put_item(
            {
                "pk": {"S": f"{tenant}#contact#{n:06d}"},
                "sk": {"S": "record"},
                "gpk": {"S": f"{tenant}#contacts"},
                "gsk": {"S": f"name#{chance.randrange(index_items):06d}"},  # ties broken by the key
                "email": {"S": f"person{n}@example.com"},
            }
        )
    return backend


def _timed(read: Any, fast: bool, repeats: int) -> tuple[float, Any]:
    """The quickest of ``repeats`` runs of ``read`` (its answer too), with moto alone or the windows."""
    moto_speed.fast_reads = fast
    try:
        best, answer = float("inf"), None
        for _ in range(repeats):
            gc.collect()
            started = time.perf_counter()
            answer = read()
            best = min(best, time.perf_counter() - started)
        return best, answer
    finally:
        moto_speed.fast_reads = True


def _as_json(answer: tuple[list[Any], int, dict[str, Any] | None]) -> Any:
    items, scanned, last = answer
    return [item.to_json() for item in items], scanned, last and {k: v.to_json() for k, v in last.items()}


def page_costs(index_items: int, scan_items: int, scan_page: int, scan_pages: int | None) -> dict[str, float]:
    """How many times longer moto alone takes than the windows, for: the first page of 50 of an index
    partition of ``index_items``, a page of 50 from its 90 %, and a Scan of a table of ``scan_items`` in
    pages of ``scan_page`` (its first ``scan_pages``, or all of it)."""
    backend = _backend_with_items(index_items, scan_items - index_items)
    order = sorted(
        (item.attrs["gsk"].value, item.attrs["pk"].value)
        for item in backend.get_table("pages").all_items()
        if item.attrs["gpk"].value == "t#big#contacts"
    )
    deep = order[index_items * 9 // 10]
    deep_start = {
        "gpk": {"S": "t#big#contacts"},
        "gsk": {"S": deep[0]},
        "pk": {"S": deep[1]},
        "sk": {"S": "record"},
    }

    def page(start: dict[str, Any] | None) -> Any:
        return lambda: backend.query(
            "pages",
            {"S": "t#big#contacts"},
            None,
            [],
            50,
            start,
            True,
            None,
            index_name="list",
            hash_key_conditions=[("gpk", {"S": "t#big#contacts"})],
            range_key_conditions=[],
        )

    def scan() -> Any:
        pages: list[Any] = []
        start = None
        while scan_pages is None or len(pages) < scan_pages:
            answer = backend.scan(
                "pages", {}, scan_page, start, None, {}, {}, None, False, None, (None, None)
            )
            pages.append(_as_json(answer))
            if answer[2] is None:
                break
            start = pages[-1][2]
        return pages

    ratios = {}
    for name, read in [("first page", page(None)), ("deep page", page(deep_start)), ("scan", scan)]:
        _timed(read, fast=True, repeats=1)  # the order is built on the first read
        fast, fast_answer = _timed(read, fast=True, repeats=5)
        slow, slow_answer = _timed(read, fast=False, repeats=1)
        if name != "scan":
            fast_answer, slow_answer = _as_json(fast_answer), _as_json(slow_answer)
        assert fast_answer == slow_answer, name
        ratios[name] = slow / fast
        print(f"{name}: moto alone {slow * 1000:.1f} ms, windows {fast * 1000:.2f} ms: x{slow / fast:.0f}")
    return ratios


def test_a_page_costs_the_page_not_the_partition_or_the_table() -> None:
    # A fifth of the brief's sizes: moto alone takes seconds a read at those (python -m ... measures them).
    ratios = page_costs(index_items=2_000, scan_items=4_000, scan_page=200, scan_pages=4)
    assert ratios["first page"] > 20, ratios
    assert ratios["deep page"] > 20, ratios
    assert ratios["scan"] > 5, ratios


if __name__ == "__main__":
    page_costs(index_items=10_000, scan_items=20_000, scan_page=1_000, scan_pages=None)


def test_a_send_does_not_count_the_queue_and_answers_as_moto_would(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message sent to a queue does not make moto count the queue's messages (its time would grow with
    the queue); a FIFO queue that deduplicates by content still drops a repeat, and the attributes a
    reader asks for are all there, counts included."""
    from moto.sqs.models import Queue

    sqs: Any = boto3.client("sqs")
    names = (f"sends-{uuid.uuid4().hex[:8]}", f"sends-{uuid.uuid4().hex[:8]}.fifo")
    standard = sqs.create_queue(QueueName=names[0])["QueueUrl"]
    fifo = sqs.create_queue(
        QueueName=names[1], Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    counted: list[str] = []
    count = vars(Queue)["approximate_number_of_messages_not_visible"].fget

    def counting(queue: Any) -> int:
        if queue.name in names:  # the runtime's own queues are read by its workers meanwhile
            counted.append(queue.name)
        return int(count(queue))

    monkeypatch.setattr(Queue, "approximate_number_of_messages_not_visible", property(counting))
    for n in range(3):
        sqs.send_message(QueueUrl=standard, MessageBody=f"m{n}")
        sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
    sqs.send_message_batch(QueueUrl=standard, Entries=[{"Id": "a", "MessageBody": "batch"}])
    assert counted == []
    attributes = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "4" and "QueueArn" in attributes
    fifo_attributes = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
    assert fifo_attributes["ApproximateNumberOfMessages"] == "1"  # the repeats deduplicated by content
    assert fifo_attributes["ContentBasedDeduplication"] == "true"
    assert counted  # a reader of the attributes gets the counts


def test_an_item_is_built_as_moto_builds_it_and_refused_at_the_same_size(
    runtime: LocalRuntime, table: str
) -> None:
    """moto's item, built with its 400 KB check at each attribute but without summing the attributes
    before it again each time: the same attributes, or the same refusal, for items of every kind of value
    on both sides of the limit; and through the endpoint, a put just under it is taken, one just over it
    refused."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    assert moto_speed.moto_item_init, "the runtime installed the linear size check"
    moto_init = moto_speed.moto_item_init[0]
    rng = random.Random(14)

    def value(depth: int = 0) -> dict[str, Any]:
        kind = rng.choice(["S", "N", "BOOL", "NULL", "SS", "NS", "B", "M", "L"] if depth < 3 else ["S", "N"])
        if kind == "S":
            return {"S": "x" * rng.choice([0, 1, 30, 2_000, 60_000])}
        if kind == "N":
            return {"N": str(rng.randint(-(10**9), 10**9))}
        if kind in ("BOOL", "NULL"):
            return {kind: True}
        if kind == "SS":
            return {"SS": [f"s{n}" for n in range(rng.randint(1, 5))]}
        if kind == "NS":
            return {"NS": [str(n) for n in range(rng.randint(1, 5))]}
        if kind == "B":
            return {"B": b"\x00\x01" * rng.randint(1, 50)}
        if kind == "M":
            return {"M": {f"k{n}": value(depth + 1) for n in range(rng.randint(0, 6))}}
        return {"L": [value(depth + 1) for _ in range(rng.randint(0, 6))]}

    outcomes = {"built": 0, "refused": 0}
    for _ in range(300):
        attrs = {"PK": {"S": "p"}, "SK": {"S": "s"}} | {f"a{n}": value() for n in range(rng.randint(0, 20))}
        attrs |= {f"big{n}": {"S": "x" * rng.randint(50_000, 150_000)} for n in range(rng.randint(0, 6))}
        built: list[Any] = []
        for init in (moto_init, Item.__init__):
            item = Item.__new__(Item)
            try:
                init(item, DynamoType(attrs["PK"]), DynamoType(attrs["SK"]), attrs)
                built.append(dict(item.attrs))
            except ItemSizeTooLarge:
                built.append("refused")
        assert built[0] == built[1]
        outcomes["refused" if built[0] == "refused" else "built"] += 1
    assert min(outcomes.values()) > 20, outcomes  # both sides of the limit were tried

    dynamodb: Any = boto3.client("dynamodb")
    key = {"pk": {"S": f"size-{uuid.uuid4().hex}"}, "sk": {"S": "item"}}
    fixed = sum(len(k) + len(v["S"]) for k, v in key.items()) + len("big")
    dynamodb.put_item(TableName=table, Item={**key, "big": {"S": "x" * (moto_speed.ITEM_SIZE_LIMIT - fixed)}})
    with pytest.raises(ClientError, match="Item size has exceeded the maximum allowed size"):
        dynamodb.put_item(
            TableName=table, Item={**key, "big": {"S": "x" * (moto_speed.ITEM_SIZE_LIMIT - fixed + 1)}}
        )
