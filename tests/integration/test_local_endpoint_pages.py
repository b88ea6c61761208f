"""The local endpoint's Query and Scan pages (crm_local.moto_speed) are moto's own, item for item.

moto_speed hands moto's query and scan only the items a page can walk (found by bisect in orders kept up to
date by every write); ``moto_speed.fast_reads = False`` has moto read the whole table as it does alone.
A random run of writes (Put, Update setting and removing index keys, Delete, a batch, transactions that
commit and are cancelled, a refused conditional Put) is read after each write both ways, every page of
it: Query on the table and on global indexes (string and number range keys, one without a range key), each
range condition, both directions, Limit, filters, projection; Scan with segments, Limit and filters. The
answers must be the same, and the pages must have come from the windows, not from a fallback."""

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

PARTITIONS = ["p0", "p1", "p2"]
SORTS = [f"s{n:02d}" for n in range(8)]
GROUPS = ["a", "b"]  # the indexes' partition keys the items move between
# Range key values with ties (broken by the table's key), shared prefixes and a non-ASCII one.
TEXTS = ["k", "k1", "k10", "k2", "ka", "kab", "kb", "l", "é", "ka"]
NUMBERS = ["-2", "0", "1", "1.0", "1.5", "10", "2", "2"]  # 1 and 1.0 are one number
PREFIXES = ["k", "ka", "k1", "l", "z", "é"]


@pytest.fixture
def table(runtime: LocalRuntime) -> Iterator[str]:
    dynamodb: Any = boto3.client("dynamodb")
    name = f"pages-check-{uuid.uuid4().hex[:8]}"
    attributes = {"pk": "S", "sk": "S", "gpk": "S", "gsk": "S", "gn": "N"}
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in attributes.items()],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": name_,
                "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}]
                + ([{"AttributeName": range_key, "KeyType": "RANGE"}] if range_key else []),
                "Projection": projection,
            }
            for name_, range_key, projection in [
                ("by-text", "gsk", {"ProjectionType": "ALL"}),
                ("by-number", "gn", {"ProjectionType": "KEYS_ONLY"}),
                ("by-group", None, {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["extra"]}),
            ]
        ],
    )
    yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture(autouse=True)
def reads_counted() -> Iterator[None]:
    moto_speed.reads.clear()
    moto_speed.read_errors.clear()
    yield
    moto_speed.fast_reads = True


def _key(chance: random.Random) -> dict[str, Any]:
    return {"pk": {"S": chance.choice(PARTITIONS)}, "sk": {"S": chance.choice(SORTS)}}


def _item(chance: random.Random) -> dict[str, Any]:
    item = _key(chance)
    if chance.random() < 0.85:
        item["gpk"] = {"S": chance.choice(GROUPS)}
    if chance.random() < 0.85:
        item["gsk"] = {"S": chance.choice(TEXTS)}
    if chance.random() < 0.8:
        item["gn"] = {"N": chance.choice(NUMBERS)}
    if chance.random() < 0.5:
        item["extra"] = {"N": str(chance.randrange(3))}
    return item


def _write(dynamodb: Any, table: str, chance: random.Random) -> str:  # noqa: PLR0912 - one branch a kind
    kind = chance.choice(
        ["put", "put", "set", "remove", "delete", "batch", "transact", "cancelled", "refused"]
    )
    if kind == "put":
        dynamodb.put_item(TableName=table, Item=_item(chance))
    elif kind == "set":  # moves the item in the indexes (or adds it, or makes it)
        new = _item(chance)
        values = {f":{name}": value for name, value in new.items() if name not in ("pk", "sk")}
        if values:
            dynamodb.update_item(
                TableName=table,
                Key=_key(chance),
                UpdateExpression="SET " + ", ".join(f"{name[1:]} = {name}" for name in values),
                ExpressionAttributeValues=values,
            )
    elif kind == "remove":
        removed = chance.sample(["gpk", "gsk", "gn", "extra"], chance.randint(1, 2))
        dynamodb.update_item(
            TableName=table, Key=_key(chance), UpdateExpression="REMOVE " + ", ".join(removed)
        )
    elif kind == "delete":
        dynamodb.delete_item(TableName=table, Key=_key(chance))
    elif kind == "batch":
        writes: dict[str, Any] = {}
        for _ in range(chance.randint(1, 4)):
            if chance.random() < 0.6:
                item = _item(chance)
                writes[item["pk"]["S"] + item["sk"]["S"]] = {"PutRequest": {"Item": item}}
            else:
                key = _key(chance)
                writes[key["pk"]["S"] + key["sk"]["S"]] = {"DeleteRequest": {"Key": key}}
        dynamodb.batch_write_item(RequestItems={table: list(writes.values())})
    elif kind in ("transact", "cancelled"):
        update, put, delete = _key(chance), _item(chance), _key(chance)
        if len({str(update), str({k: put[k] for k in ("pk", "sk")}), str(delete)}) < 3:
            return "skipped"
        operations: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": table,
                    "Key": update,
                    "UpdateExpression": "SET gpk = :g, gsk = :s",
                    "ExpressionAttributeValues": {
                        ":g": {"S": chance.choice(GROUPS)},
                        ":s": {"S": chance.choice(TEXTS)},
                    },
                }
            },
            {"Put": {"TableName": table, "Item": put}},
            {"Delete": {"TableName": table, "Key": delete}},
        ]
        if kind == "cancelled":  # a condition that cannot hold: nothing of it is written
            operations.append(
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "never"}, "sk": {"S": "written"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            )
            with pytest.raises(ClientError, match="TransactionCanceled"):
                dynamodb.transact_write_items(TransactItems=operations)
        else:
            dynamodb.transact_write_items(TransactItems=operations)
    else:
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            dynamodb.put_item(
                TableName=table,
                Item=_item(chance),
                ConditionExpression="attribute_not_exists(pk) AND attribute_exists(pk)",
            )
    return kind


def _range_condition(chance: random.Random, values: list[dict[str, str]]) -> tuple[str, dict[str, Any]]:
    """A random condition on the range key (``#r``), of values taken from ``values``, or none."""
    kind = chance.choice(["none", "=", "<", "<=", ">", ">=", "between", "begins_with"])
    low, high = sorted((chance.choice(values), chance.choice(values)), key=lambda v: str(v))
    if kind == "none":
        return "", {}
    if kind == "between":
        if "N" in low:
            low, high = sorted((low, high), key=lambda v: float(v["N"]))
        return " AND #r BETWEEN :low AND :high", {":low": low, ":high": high}
    if kind == "begins_with":
        if "N" in low:
            return "", {}  # not a number's condition
        return " AND begins_with(#r, :low)", {":low": {"S": chance.choice(PREFIXES)}}
    return f" AND #r {kind} :low", {":low": low}


def _query(chance: random.Random, table: str) -> dict[str, Any]:
    index = chance.choice([None, "by-text", "by-number", "by-group"])
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    if index is None:
        condition = "pk = :p"
        values[":p"] = {"S": chance.choice(PARTITIONS)}
        ranged: tuple[str, list[dict[str, str]]] | None = ("sk", [{"S": s} for s in SORTS])
    else:
        condition = "gpk = :p"
        values[":p"] = {"S": chance.choice(GROUPS)}
        ranged = {
            "by-text": ("gsk", [{"S": t} for t in TEXTS]),
            "by-number": ("gn", [{"N": n} for n in NUMBERS]),
            "by-group": None,
        }[index]
    if ranged is not None:
        extra, range_values = _range_condition(chance, ranged[1])
        if extra:
            condition += extra
            names["#r"] = ranged[0]
            values.update(range_values)
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": condition,
        "ScanIndexForward": chance.random() < 0.5,
    }
    if index is not None:
        request["IndexName"] = index
    if chance.random() < 0.3:
        request["FilterExpression"] = "attribute_not_exists(extra) OR extra <> :e"
        values[":e"] = {"N": "1"}
    request["ExpressionAttributeValues"] = values
    if names:
        request["ExpressionAttributeNames"] = names
    return request


def _scan(chance: random.Random, table: str) -> dict[str, Any]:
    request: dict[str, Any] = {"TableName": table}
    if chance.random() < 0.5:
        request["TotalSegments"] = chance.choice([2, 3])
        request["Segment"] = chance.randrange(request["TotalSegments"])
    if chance.random() < 0.3:
        request["FilterExpression"] = "gpk = :g"
        request["ExpressionAttributeValues"] = {":g": {"S": chance.choice(GROUPS)}}
    if chance.random() < 0.3:
        request["ProjectionExpression"] = "pk, sk, gn"
    return request


def _pages(dynamodb: Any, operation: str, request: dict[str, Any], fast: bool) -> list[dict[str, Any]]:
    """Every page of the read, as the endpoint answers them (the reads of either kind)."""
    moto_speed.fast_reads = fast
    try:
        pages = []
        request = dict(request)
        while True:
            page = getattr(dynamodb, operation)(**request)
            page.pop("ResponseMetadata")
            pages.append(page)
            if "LastEvaluatedKey" not in page or len(pages) > 60:
                return pages
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    finally:
        moto_speed.fast_reads = True


def test_query_and_scan_pages_are_motos_after_every_kind_of_write(table: str) -> None:
    dynamodb: Any = boto3.client("dynamodb")
    chance = random.Random(20261127)
    for step in range(90):
        kind = _write(dynamodb, table, chance)
        for _ in range(2):
            operation = chance.choice(["query", "query", "query", "scan"])
            request = _query(chance, table) if operation == "query" else _scan(chance, table)
            if chance.random() < 0.8:
                request["Limit"] = chance.choice([1, 2, 3, 5, 8])
            whole = _pages(dynamodb, operation, request, fast=False)
            paged = _pages(dynamodb, operation, request, fast=True)
            assert paged == whole, (step, kind, request)
    assert moto_speed.read_errors == []
    # The windows answered (not moto's whole table, nor the whole partition): all but the reads with no
    # Limit, that walk to the end of what they read.
    reads = {kind: count for (name, kind), count in moto_speed.reads.items() if name == table}
    assert reads["query.page"] > 200 and reads["scan.page"] > 100, reads
    assert set(reads) == {"query.page", "scan.page"}, reads


def test_a_table_moto_puts_back_after_a_cancelled_transaction_reads_as_it_holds() -> None:
    """moto's own TransactWriteItems (the one crm_local.moto_fidelity leaves it for: over 100 items)
    deep-copies each table first and puts the copy back when it cancels: the copy's pages are its own."""
    import copy

    from tests.integration.test_local_endpoint_speed import _backend_with_items

    backend = _backend_with_items(index_items=60, other_items=40)

    def pages(fast: bool) -> list[Any]:
        moto_speed.fast_reads = fast
        found: list[Any] = []
        start = None
        while True:
            items, scanned, last = backend.query(
                "pages", None, None, [], 7, start, False, None,
                index_name="list",
                hash_key_conditions=[("gpk", {"S": "t#big#contacts"})],
                range_key_conditions=[],
            )  # fmt: skip
            found.append(([item.to_json() for item in items], scanned))
            if last is None:
                return found
            start = {name: value.to_json() for name, value in last.items()}

    assert pages(fast=True) == pages(fast=False)  # the orders are built
    table = backend.get_table("pages")
    kept = copy.deepcopy(table)
    for item in table.all_items()[::3]:  # written, then undone by putting the copy back
        table.delete_item(item.hash_key, item.range_key)
    assert pages(fast=True) == pages(fast=False)
    backend.tables["pages"] = kept
    assert pages(fast=True) == pages(fast=False)
    assert len(pages(fast=True)) == 9  # 60 items, 7 a page
