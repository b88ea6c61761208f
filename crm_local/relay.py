"""The local outbox relay: what the EventBridge Pipe does in AWS. It reads the table's stream, keeps the
records the Pipe's filter keeps (``definitions.OUTBOX_STREAM_FILTER``), and invokes the same relay
function with them in batches of the Pipe's size. A failed batch is retried from the same position, so a
crash between a commit and its publication loses nothing.
"""

from __future__ import annotations

import threading
from typing import Any

from crm_core.definitions import OUTBOX_BATCH_SIZE, OUTBOX_RELAY

from crm_local.gateway import LambdaContext, load_handler


class StreamRelay:
    def __init__(
        self, session: Any, stream_arn: str, *, poll_seconds: float = 0.1, from_start: bool = True
    ) -> None:
        self.iterator_type = "TRIM_HORIZON" if from_start else "LATEST"
        self.streams = session.client("dynamodbstreams")
        self.stream_arn = stream_arn
        self.poll_seconds = poll_seconds
        self.published = 0
        self._iterators: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self.error: Exception | None = None

    def start(self) -> None:
        # Take the stream's position now, before the API serves anything, so that from the end ("LATEST")
        # still means "everything written from here on".
        self._discover()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _discover(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]

    def poll_once(self) -> int:
        """Relay what the stream holds now; the number of events published."""
        if not self._iterators:
            self._discover()
        count = 0
        relay = load_handler(OUTBOX_RELAY)
        for shard_id, iterator in list(self._iterators.items()):
            response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            wanted = [r for r in response.get("Records", []) if _is_outbox_insert(r)]
            for start in range(0, len(wanted), OUTBOX_BATCH_SIZE):
                # Raises before the iterator moves on: the stream hands the same records again.
                result = relay(
                    wanted[start : start + OUTBOX_BATCH_SIZE], LambdaContext(OUTBOX_RELAY.name, "relay")
                )
                count += int(result["published"])
            next_iterator = response.get("NextShardIterator")
            if next_iterator:
                self._iterators[shard_id] = next_iterator
            else:
                del self._iterators[shard_id]
        self.published += count
        return count

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once() == 0:
                    self._stop.wait(self.poll_seconds)
            except Exception as error:  # keep relaying; the stream still holds what failed
                self.error = error
                self._stop.wait(1.0)


def _is_outbox_insert(record: dict[str, Any]) -> bool:
    """definitions.OUTBOX_STREAM_FILTER, as the Pipe applies it."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") == "INSERT" and (image.get("type") or {}).get("S") == "event"
