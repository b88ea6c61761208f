"""DynamoDB access for CRM records and the items kept beside them. No Scan anywhere."""

from __future__ import annotations

import contextvars
import json
import re
import weakref
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from pynamodb.attributes import ListAttribute, UnicodeAttribute
from pynamodb.constants import BATCH_GET_PAGE_LIMIT, KEY, NULL
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition

from crm_core.repositories import keys
from crm_core.repositories.table import (
    BoardTotal,
    DuplicatePair,
    EventItem,
    IndexEntry,
    RecordCount,
    RecordItem,
    TableItem,
    TimelineEntryItem,
    TimelineItem,
    UniqueMarker,
    connection,
)
from crm_core.repositories.transaction import WriteConflict

BATCH_WRITE_ITEMS = 25  # BatchWriteItem's limit
BATCH_WRITE_CONCURRENCY = 4  # calls of one write_batch sent at once

Page = tuple[list[TableItem], dict[str, str] | None]

# The field of a read's answer that holds its items, by operation.
_ITEMS_FIELD = {"GetItem": "Item", "Query": "Items", "BatchGetItem": "Responses"}
# A binary value ("B", "BS") is the one whose wire form differs from what botocore hands back (base64 text
# against bytes): an answer that may hold one is left to botocore whole.
_MAYBE_BINARY = re.compile(rb'"BS?"\s*:')
_clients_reading_raw: weakref.WeakSet[Any] = weakref.WeakSet()


def _items_as_sent(
    operation_model: Any, response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore's ``before-parse`` hook for reads: their items go to pynamodb as DynamoDB sent them.

    botocore checks every attribute value of every item against its model's shape, which is most of a list
    page's CPU time (9 ms of a page of 25 records), only to hand back the very same dicts: a value's wire
    form and its parsed form are the same JSON but for binary values. The items are taken out of the body
    before botocore parses the rest of it and put back in after (``customized_response_dict``)."""
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not body or _MAYBE_BINARY.search(body):
        return
    answer = json.loads(body)
    field = _ITEMS_FIELD[operation_model.name]
    if field in answer:
        customized_response_dict[field] = answer.pop(field)
        response_dict["body"] = json.dumps(answer).encode()


def _read_items_as_sent() -> None:
    """Installs ``_items_as_sent`` on the client the models read through, once per client (pynamodb makes
    a new one only when its credentials went missing)."""
    client = TableItem._get_connection().connection.client
    if client not in _clients_reading_raw:
        for operation in _ITEMS_FIELD:
            client.meta.events.register(f"before-parse.dynamodb.{operation}", _items_as_sent)
        _clients_reading_raw.add(client)


class _Shape:
    """What reading one model's items needs: its attributes by stored name, and which are text."""

    def __init__(self, model: type[TableItem]) -> None:
        attributes = model.get_attributes()
        self.model = model
        self.names = {attribute.attr_name: name for name, attribute in attributes.items()}
        self.attributes = {attribute.attr_name: attribute for attribute in attributes.values()}
        self.text = {key for key, attribute in self.attributes.items() if type(attribute) is UnicodeAttribute}
        self.text_lists = {
            key
            for key, attribute in self.attributes.items()
            if type(attribute) is ListAttribute and attribute.element_type is UnicodeAttribute
        }


class _ItemReader:
    """Items built from DynamoDB's answer as pynamodb's ``from_raw_data`` builds them, in a fraction of its
    time, for the models reads return by the page (records, and the entries type-ahead and tags list): their
    text attributes (keys, ids, times) and lists of text (tokens) taken as they are, every other attribute
    (a record's version, ``data``, ``related``) deserialized by its own pynamodb attribute. A page of 25
    records otherwise spends about 5 ms in pynamodb's generic walk over every attribute the model declares,
    through descriptors, for values that are already what the model holds. Other items go to pynamodb."""

    def __init__(self, *models: type[TableItem]) -> None:
        self.discriminator = TableItem.item_type.attr_name
        self.shapes = {TableItem.item_type.get_discriminator(model): _Shape(model) for model in models}

    def item(self, raw: dict[str, Any]) -> TableItem:
        shape = self.shapes.get(raw.get(self.discriminator, {}).get("S"))
        if shape is None:
            return TableItem.from_raw_data(raw)
        item = shape.model(_user_instantiated=False)  # its discriminator and defaults, as pynamodb sets them
        values = item.attribute_values
        for key, wire in raw.items():
            name = shape.names.get(key)
            if name is None or key == self.discriminator:
                continue  # an attribute the model does not declare is not read, as with pynamodb
            if key in shape.text and "S" in wire:
                values[name] = wire["S"]
            elif key in shape.text_lists and "L" in wire and all("S" in value for value in wire["L"]):
                values[name] = [value["S"] for value in wire["L"]]
            elif wire and NULL not in wire:
                attribute = shape.attributes[key]
                setattr(item, name, attribute.deserialize(attribute.get_value(wire)))
        return item


_reader = _ItemReader(RecordItem, IndexEntry)


def _batch_get(key_list: list[tuple[str, str]], *, consistent: bool = False) -> list[TableItem]:
    """The items at these (PK, SK) keys that exist: BatchGetItem 100 keys at a time, and again for the keys
    it left unprocessed (as pynamodb's ``Model.batch_get``)."""
    _read_items_as_sent()
    table = TableItem._get_connection()
    items: list[TableItem] = []
    for start in range(0, len(key_list), BATCH_GET_PAGE_LIMIT):
        wanted: list[Any] = [
            {"PK": pk, "SK": sk} for pk, sk in key_list[start : start + BATCH_GET_PAGE_LIMIT]
        ]
        while wanted:
            answer = table.batch_get_item(wanted, consistent_read=consistent)
            items += [_reader.item(raw) for raw in answer.get("Responses", {}).get(table.table_name, [])]
            wanted = answer.get("UnprocessedKeys", {}).get(table.table_name, {}).get("Keys", [])
    return items


def get_items(key_list: list[tuple[str, str]], *, consistent: bool = False) -> list[TableItem]:
    """The items at these (PK, SK) keys that exist, of any kind: one BatchGetItem per 100 keys."""
    return _batch_get(key_list, consistent=consistent)


def get_record(
    tenant_id: str, object_type: str, record_id: str, *, consistent: bool = False
) -> RecordItem | None:
    _read_items_as_sent()
    answer = TableItem._get_connection().get_item(
        keys.record_pk(tenant_id, object_type, record_id),
        range_key=keys.RECORD_SK,
        consistent_read=consistent,
    )
    raw = answer.get("Item")
    item = _reader.item(raw) if raw else None
    if not isinstance(item, RecordItem) or item.tenant_id != tenant_id or item.object_type != object_type:
        return None
    return item


def batch_get_records(
    tenant_id: str, object_type: str, record_ids: Iterable[str], *, consistent: bool = False
) -> dict[str, RecordItem]:
    """At most 100 ids: one BatchGetItem (plus retries of unprocessed keys)."""
    wanted = list(dict.fromkeys(record_ids))
    found: dict[str, RecordItem] = {}
    if not wanted:
        return found
    key_list = [(keys.record_pk(tenant_id, object_type, rid), keys.RECORD_SK) for rid in wanted]
    for item in _batch_get(key_list, consistent=consistent):
        if isinstance(item, RecordItem) and item.tenant_id == tenant_id and item.object_type == object_type:
            found[item.id] = item
    return found


def get_unique_owner(tenant_id: str, object_type: str, field: str, value: str) -> str | None:
    try:
        marker = TableItem.get(keys.unique_pk(tenant_id, object_type, field, value), keys.UNIQUE_SK)
    except DoesNotExist:
        return None
    return marker.record_id if isinstance(marker, UniqueMarker) else None


def query_page(
    hash_key: str,
    *,
    index: str | None = None,
    range_condition: Condition | None = None,
    filter_condition: Condition | None = None,
    limit: int,
    start_key: dict[str, str] | None = None,
    forward: bool = True,
) -> Page:
    """One page of items and the plain key to continue from (None at the end): of the table, exactly one
    Query; of an index, which holds only keys (docs/decisions/0008), one Query and one BatchGetItem of the
    items it names, in the index's order. An item that has left that place in the index since (the index
    is eventually consistent) is not in the page: it is listed where it is now."""
    if index and filter_condition is not None:
        raise ValueError("an index holds only keys: match its items in memory")
    raw_items, last = _query(hash_key, index, range_condition, filter_condition, limit, start_key, forward)
    items = _indexed_items(raw_items, index) if index else [_reader.item(raw) for raw in raw_items]
    return items, last


def index_record_ids(
    hash_key: str, *, index: str, limit: int, start_key: dict[str, str] | None = None
) -> tuple[list[str], dict[str, str] | None]:
    """The ids of the records a page of an index names, from its keys alone (one Query, nothing else
    read): for work that reads the records itself, consistently."""
    raw_items, last = _query(hash_key, index, None, None, limit, start_key, True)
    ids = [raw["PK"]["S"].rsplit("#", 1)[1] for raw in raw_items if raw["SK"]["S"] == keys.RECORD_SK]
    return ids, last


def ids_after(hash_key: str, *, index: str | None, after: str | None, limit: int) -> tuple[list[str], bool]:
    """One Query of a partition whose sort key is a record's id (GSI1, GSI3 to GSI5, or side entries kept
    as items when ``index`` is None: a tag's): up to ``limit`` ids after ``after``, in id order, from the
    keys alone, and whether the partition ended there."""
    sort_key = getattr(TableItem, f"{index}SK") if index else TableItem.SK
    condition = sort_key > after if after else None
    raw_items, last = _query(hash_key, index, condition, None, limit, None, True)
    if index:
        ids = [raw[f"{index}SK"]["S"] for raw in raw_items if raw["SK"]["S"] == keys.RECORD_SK]
    else:
        ids = [raw["SK"]["S"] for raw in raw_items]
    return ids, last is None


def _query(
    hash_key: str,
    index: str | None,
    range_condition: Condition | None,
    filter_condition: Condition | None,
    limit: int,
    start_key: dict[str, str] | None,
    forward: bool,
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    _read_items_as_sent()
    response = TableItem._get_connection().query(
        hash_key,
        range_key_condition=range_condition,
        filter_condition=filter_condition,
        index_name=index,
        limit=limit,
        exclusive_start_key={k: {"S": v} for k, v in start_key.items()} if start_key else None,
        scan_index_forward=forward,
    )
    last = response.get("LastEvaluatedKey")
    return response.get("Items", []), ({k: v["S"] for k, v in last.items()} if last else None)


def _indexed_items(entries: list[dict[str, Any]], index: str) -> list[TableItem]:
    """The items an index's entries name, read by key (eventually consistent, as the index is)."""
    return _in_index(entries, index, _items_named(entries))


def _items_named(entries: list[dict[str, Any]]) -> dict[tuple[str, str], TableItem]:
    """The items that index entries name, by (PK, SK): BatchGetItem, nothing read for no entries."""
    if not entries:
        return {}
    named = list(dict.fromkeys((e["PK"]["S"], e["SK"]["S"]) for e in entries))
    return {(i.PK, i.SK): i for i in _batch_get(named)}


def _in_index(
    entries: list[dict[str, Any]], index: str, found: dict[tuple[str, str], TableItem]
) -> list[TableItem]:
    """The items of a page of an index's entries, in its order: those still where their entry puts them."""
    items = []
    for key, entry in {(e["PK"]["S"], e["SK"]["S"]): e for e in entries}.items():
        item = found.get(key)
        if item is not None and all(
            getattr(item, name, None) == entry[name]["S"] for name in (f"{index}PK", f"{index}SK")
        ):
            items.append(item)
    return items


class IndexQuery(NamedTuple):
    """One page of an index to read, as ``query_page`` takes it."""

    hash_key: str
    index_name: str
    range_condition: Condition | None
    limit: int
    start_key: dict[str, str] | None = None
    forward: bool = True


def query_pages(queries: Sequence[IndexQuery]) -> list[Page]:
    """Pages of indexes, each as ``query_page`` answers it, in fewer calls: one Query each, then the items
    of as many pages as one BatchGetItem holds (100 keys) read together, rather than one BatchGetItem a
    page (a board's stages: 5 pages of 26 in 2 BatchGetItems, not 5). Which pages share a BatchGetItem
    follows from their limits alone, not from how many entries they found, so the calls a request makes
    do not change with the size of the tenant."""
    answers = [
        _query(q.hash_key, q.index_name, q.range_condition, None, q.limit, q.start_key, q.forward)
        for q in queries
    ]
    pages: list[Page] = []
    first = 0
    while first < len(queries):
        end, room = first + 1, BATCH_GET_PAGE_LIMIT - queries[first].limit
        while end < len(queries) and queries[end].limit <= room:
            room -= queries[end].limit
            end += 1
        found = _items_named([entry for entries, _ in answers[first:end] for entry in entries])
        pages += [
            (_in_index(entries, query.index_name, found), last)
            for query, (entries, last) in zip(queries[first:end], answers[first:end], strict=True)
        ]
        first = end
    return pages


def count_of(tenant_id: str, object_type: str, state: str) -> int:
    """How many records of a type the tenant has in ``state``: one Query of its count shards."""
    shards, _ = _query(
        keys.count_pk(tenant_id, object_type),
        None,
        TableItem.SK.startswith(f"{state}#"),
        None,
        keys.COUNT_SHARDS,
        None,
        True,
    )
    # Each shard's count alone, from DynamoDB's answer: building the shards as items cost as much again.
    counted = RecordCount.records.attr_name
    return sum(int(json.loads(shard[counted]["N"])) for shard in shards if "N" in shard.get(counted, {}))


def key_of(item: TableItem, index: str | None) -> dict[str, str]:
    """The position of an item in a table or index, to continue a page right after it."""
    position = {"PK": item.PK, "SK": item.SK}
    if index:
        position[f"{index}PK"] = getattr(item, f"{index}PK")
        position[f"{index}SK"] = getattr(item, f"{index}SK")
    return position


def timeline_page(
    tenant_id: str, object_type: str, record_id: str, *, limit: int, start_key: dict[str, str] | None
) -> tuple[list[EventItem | TimelineEntryItem | TimelineItem], dict[str, str] | None]:
    items, last = query_page(
        keys.record_pk(tenant_id, object_type, record_id),
        range_condition=TableItem.SK.startswith("EVT#"),
        limit=limit,
        start_key=start_key,
        forward=False,
    )
    return [i for i in items if isinstance(i, (EventItem, TimelineEntryItem, TimelineItem))], last


def write_batch(puts: Iterable[TableItem], deletes: Iterable[tuple[str, str]]) -> None:
    """Puts and deletes, not conditional and not atomic: ``BatchWriteItem`` calls of 25, unprocessed
    ones sent again (pynamodb backs off between tries and raises when they run out); more than one call's
    worth are sent a few calls at once (an import's shared transaction has about 150 to write)."""
    operations = [("delete", IndexEntry(pk, sk)) for pk, sk in deletes] + [("put", item) for item in puts]
    size = BATCH_WRITE_ITEMS
    calls = [operations[start : start + size] for start in range(0, len(operations), size)]
    if len(calls) <= 1:
        for call in calls:
            _write_call(call)
        return
    contexts = [contextvars.copy_context() for _ in calls]  # each call in the caller's context (its logs)
    with ThreadPoolExecutor(max_workers=min(len(calls), BATCH_WRITE_CONCURRENCY)) as pool:
        list(pool.map(lambda i: contexts[i].run(_write_call, calls[i]), range(len(calls))))  # raises


def _write_call(operations: list[tuple[str, TableItem]]) -> None:
    with TableItem.batch_write() as batch:
        for operation, item in operations:
            if operation == "delete":
                batch.delete(item)
            else:
                batch.save(item)


def existing_keys(wanted: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (PK, SK) hold an item now (strongly consistent BatchGetItem)."""
    return {(item.PK, item.SK) for item in _batch_get(list(dict.fromkeys(wanted)), consistent=True)}


def entry(pk: str, sk: str, record_id: str) -> IndexEntry:
    return IndexEntry(pk, sk, record_id=record_id)


def duplicate_pair(pk: str, a: str, b: str, reason: str, found_at: str) -> DuplicatePair:
    first, second = sorted((a, b))
    return DuplicatePair(
        pk, f"{first}#{second}", record_ids=[first, second], reason=reason, found_at=found_at
    )


def board_totals(tenant_id: str, pipeline_id: str) -> list[BoardTotal]:
    """Every stage's totals of one pipeline: one Query (at most stages x currencies items)."""
    items, _ = query_page(keys.board_pk(tenant_id, pipeline_id), limit=1000)
    return [item for item in items if isinstance(item, BoardTotal)]


def tokens_unchanged(item: RecordItem) -> Condition:
    """The stored record still lists the type-ahead tokens ``item`` was read with.

    A write that replaces a record's search entries by their difference from those tokens holds only on
    this condition: a record change (its version condition alone would miss a token refresh, which leaves
    the version as it is) and a token refresh (which two consumers could run at once) both use it, so
    neither can leave an entry that the record no longer lists.
    """
    if item.search_tokens is None:
        return RecordItem.search_tokens.does_not_exist()
    return RecordItem.search_tokens == list(item.search_tokens)


def write_search_tokens(
    item: RecordItem,
    *,
    related: dict[str, Any],
    search_tokens: list[str],
    remove: Iterable[tuple[str, str]],
    add: Iterable[tuple[str, str]],
) -> None:
    """A record's type-ahead tokens (and the ``related`` facts they were made from) replaced, with its
    search entries (``remove`` and ``add`` as (PK, SK) pairs), in one ``TransactWriteItems``, leaving its
    version as it is.

    This bypasses the model on purpose. pynamodb's versioned ``save`` and ``update`` add 1 to ``version``
    on every write, which is right for a change of the record; but tokens refreshed because another record
    changed (its company was renamed) change nothing the API shows, so the version (the ETag clients send
    back in If-Match) must stay, and no event is written. The record is therefore updated with a plain
    ``UpdateItem`` built on pynamodb's connection, on the condition that its version and its tokens are
    still those of ``item``. A concurrent change or refresh cancels the whole transaction and raises
    ``WriteConflict``: read the record again and retry.
    """
    update = TableItem._get_connection().get_operation_kwargs(
        item.PK,
        range_key=item.SK,
        key=KEY,
        actions=[RecordItem.related.set(related), RecordItem.search_tokens.set(search_tokens)],
        condition=(RecordItem.version == item.version) & tokens_unchanged(item),
    )
    deletes = [IndexEntry(pk, sk).get_delete_kwargs_from_instance() for pk, sk in remove]
    puts = [entry(pk, sk, item.id).get_save_kwargs_from_instance() for pk, sk in add]
    try:
        connection().transact_write_items(
            condition_check_items=[], delete_items=deletes, put_items=puts, update_items=[update]
        )
    except TransactWriteError as error:
        codes = {reason.code for reason in error.cancellation_reasons if reason is not None}
        if error.cause_response_code == "TransactionConflictException" or codes & {
            "ConditionalCheckFailed",
            "TransactionConflict",
        }:
            raise WriteConflict("record", None) from error
        raise
