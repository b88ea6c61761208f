"""Make the local endpoint (moto) answer faster, never differently.

Three costs of moto 5.2 grow with nothing DynamoDB pays for and would push a bench over thousands of
records past its time budget, and slow `crm dev` down as local data grows:

- every request to the moto server lists moto's package folder (``list_of_moto_modules``) to find the
  service; the folder does not change while the process runs, so it is listed once;
- a Query on the base table walks every item of the table to find one partition; this hands
  moto's own query a view of the table whose ``all_items`` is that partition, so the rest of moto's
  query (sorting, paging, limits, filters, projection) runs unchanged on the same items.

- every event a rule delivers is shaped by moto's input template, which parses the same eight JSONPath
  expressions anew (building a parser each time: about 30 ms an event and target); the parsed expressions
  are kept (``jsonpath_ng`` expressions are not changed by ``find``).

Queries on a global secondary index still walk the table (moto keeps no index), so their local latency
grows with the table; their DynamoDB calls and capacity do not.
"""

from __future__ import annotations

import inspect
from typing import Any

_installed = False


class _Partition:
    """The table, seen through one partition (for moto's base-table query)."""

    def __init__(self, table: Any, hash_key: Any) -> None:
        self._table = table
        self._hash_key = hash_key

    def all_items(self) -> list[Any]:
        partition = self._table.items.get(self._hash_key)
        return list(partition.values()) if isinstance(partition, dict) else []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def install() -> None:
    global _installed
    if _installed:
        return
    import functools

    import jsonpath_ng.ext
    import moto.backends
    from moto.dynamodb.models.table import Table

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules

    moto_query = Table.query
    signature = inspect.signature(moto_query)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        hash_key = arguments.get("hash_key")
        if arguments.get("index_name") is None and hash_key is not None and self.range_key_attr:
            return moto_query(_Partition(self, hash_key), *args, **kwargs)  # type: ignore[arg-type]
        return moto_query(self, *args, **kwargs)

    setattr(Table, "query", query)  # noqa: B010
    _installed = True
