"""``crm dev --data DIR``: the local table's items survive a restart.

On a clean stop every item of the table is written to ``DIR/table.jsonl`` (DynamoDB JSON, one item a
line); on the next start they are loaded before the relay and the API start, so nothing already
published is published again. This is a laptop tool's snapshot, not a request path: it scans.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE_NAME = "table.jsonl"


def save(session: Any, table_name: str, data_dir: Path) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / FILE_NAME
    partial = target.with_suffix(".partial")
    count = 0
    with partial.open("w") as out:
        for page in session.client("dynamodb").get_paginator("scan").paginate(TableName=table_name):
            for item in page["Items"]:
                out.write(json.dumps(item, separators=(",", ":")) + "\n")
                count += 1
    os.replace(partial, target)
    return count


def load(session: Any, table_name: str, data_dir: Path) -> int:
    source = data_dir / FILE_NAME
    if not source.exists():
        return 0
    table = session.resource("dynamodb").Table(table_name)
    deserialize = _deserializer()
    count = 0
    with table.batch_writer() as batch, source.open() as lines:
        for line in lines:
            if line.strip():
                raw = json.loads(line)
                batch.put_item(Item={k: deserialize(v) for k, v in raw.items()})
                count += 1
    return count


def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer().deserialize
