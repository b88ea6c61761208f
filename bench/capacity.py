"""DynamoDB capacity units computed from item sizes, by DynamoDB's published rules.

moto answers ``ReturnConsumedCapacity`` with fixed placeholders (0.5 or 1.0 per call whatever the item
sizes), so the bench computes what DynamoDB would charge from the items themselves:

- item size: attribute names plus values (strings and binary by their bytes, numbers about one byte per
  two significant digits plus one, booleans and nulls one byte, lists and maps 3 bytes plus one byte per
  element plus the elements, map keys counted like attribute names);
- reads: 4 KB units, an eventually consistent read (every GSI query) costs half; GetItem and each
  BatchGetItem key are rounded up one item at a time, a Query on the total size of the items it
  evaluated (before its filter), and a read that finds nothing still costs one unit;
- writes: 1 KB units of the larger of the item before and after; TransactWriteItems doubles the units of
  every item it writes or checks;
- global secondary indexes are charged separately, as DynamoDB does, on the size of the index entry
  (the projected attributes: with KEYS_ONLY, the table's and the index's keys): one write when an item
  enters or leaves an index or its entry changes, two when its index key changes, none when only
  attributes the index does not project change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

Item = Mapping[str, Any]  # an item in DynamoDB's wire format: {"name": {"S": "..."}, ...}

READ_UNIT = 4096
WRITE_UNIT = 1024


def _text_size(text: str) -> int:
    return len(text.encode("utf-8"))


def _number_size(text: str) -> int:
    try:
        count = len(Decimal(text).normalize().as_tuple().digits)
    except InvalidOperation:
        count = sum(ch.isdigit() for ch in text)
    return math.ceil(max(count, 1) / 2) + 1


def _binary_size(value: Any) -> int:
    return len(value) if isinstance(value, bytes | bytearray) else _text_size(str(value))


def value_size(value: Mapping[str, Any]) -> int:
    """The size of one attribute value in wire format (without its name)."""
    (kind, data), *_ = value.items()
    if kind == "S":
        return _text_size(data)
    if kind == "N":
        return _number_size(str(data))
    if kind == "B":
        return _binary_size(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_text_size(v) for v in data)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in data)
    if kind == "BS":
        return sum(_binary_size(v) for v in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + _text_size(k) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown attribute type {kind!r}")


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(_text_size(name) + value_size(value) for name, value in item.items())


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return float(units) if consistent else units / 2


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT))


@dataclass(frozen=True)
class IndexKeys:
    name: str
    partition_key: str
    sort_key: str | None
    projection: str = "ALL"  # or KEYS_ONLY (INCLUDE is counted as ALL: the CRM uses none)
    table_keys: tuple[str, ...] = ("PK", "SK")

    def entry(self, item: Item | None) -> Item | None:
        """What the index holds of the item (None when the item is not in it)."""
        if item is None or self.key_of(item) is None:
            return None
        if self.projection != "KEYS_ONLY":
            return item
        kept = {*self.table_keys, self.partition_key, *([self.sort_key] if self.sort_key else [])}
        return {name: value for name, value in item.items() if name in kept}

    def key_of(self, item: Item | None) -> tuple[Any, ...] | None:
        """The item's key in this index, or None when the item is not in it (a sparse index)."""
        if not item or self.partition_key not in item:
            return None
        if self.sort_key is not None and self.sort_key not in item:
            return None
        pk = repr(item[self.partition_key])
        return (pk, repr(item[self.sort_key])) if self.sort_key else (pk,)


def index_write_units(indexes: Iterable[IndexKeys], old: Item | None, new: Item | None) -> int:
    """What writing ``new`` over ``old`` costs the global secondary indexes."""
    total = 0
    for index in indexes:
        before, after = index.entry(old), index.entry(new)
        if before is None and after is None:
            continue
        if before is None:
            total += write_units(item_size(after))
        elif after is None:
            total += write_units(item_size(before))
        elif index.key_of(old) != index.key_of(new):
            total += write_units(item_size(before)) + write_units(item_size(after))
        elif before != after:
            total += write_units(max(item_size(before), item_size(after)))
    return total


@dataclass
class Units:
    read: float = 0.0
    write_table: float = 0.0
    write_index: float = 0.0

    def add(self, other: Units) -> None:
        self.read += other.read
        self.write_table += other.write_table
        self.write_index += other.write_index


def write_cost(
    indexes: Iterable[IndexKeys],
    old: Item | None,
    new: Item | None,
    *,
    transactional: bool = False,
    applied: bool = True,
) -> Units:
    """A Put, Update or Delete (``new`` None) of one item; ``applied`` False for a refused write."""
    table = write_units(max(item_size(old), item_size(new)))
    index = index_write_units(indexes, old, new) if applied else 0
    return Units(write_table=table * (2 if transactional else 1), write_index=index)
