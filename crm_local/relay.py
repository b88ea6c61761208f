"""The local outbox relay: reads the table's stream and publishes outbox events to the bus.

In AWS the stream is consumed by the deployed relay; here one background thread does the same with
the same transformation (``crm_core.outbox``). It resumes from where it stopped, so a crash between a
commit and its publication loses nothing.
"""

from __future__ import annotations

import threading
from typing import Any

from crm_core.outbox import event_entries, publish


class StreamRelay:
    def __init__(
        self, session: Any, stream_arn: str, *, poll_seconds: float = 0.1, from_start: bool = True
    ) -> None:
        self.iterator_type = "TRIM_HORIZON" if from_start else "LATEST"
        self.streams = session.client("dynamodbstreams")
        self.events = session.client("events")
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
        for shard_id, iterator in list(self._iterators.items()):
            response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            entries = event_entries(response.get("Records", []))
            if entries:
                publish(entries, self.events)  # raises before the iterator moves on: nothing is lost
                count += len(entries)
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
