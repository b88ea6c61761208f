"""The local outbox relay: what the EventBridge Pipe does in AWS. It reads the table's stream, keeps the
records the Pipe's filter keeps (``definitions.OUTBOX_STREAM_FILTER``), and invokes the same relay
function with them in batches of the Pipe's size.

A failed batch is handled as the Pipe's settings say: split in halves (``AUTOMATIC_BISECT``), a record
that still fails is retried ``OUTBOX_MAX_RETRIES`` times, and then its position goes to the outbox
dead-letter queue in the Pipe's format (``outbox_dead_letters``), where ``crm dlq redrive crm-outbox``
replays it. The stream position only moves on once every record before it was published or
dead-lettered, so a crash between a commit and its publication loses nothing.

With ``crm dev --data``, the stream of this run starts empty: the events an earlier run committed and did
not publish come in as ``backlog`` and are published first, in commit order, retried until they are (they
hold no position of this run's stream to dead-letter). Each batch published is reported to
``on_published``, so that a restart publishes it not again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from crm_core.definitions import OUTBOX_BATCH_SIZE, OUTBOX_DEAD_LETTER_QUEUE, OUTBOX_MAX_RETRIES, OUTBOX_RELAY

from crm_local.gateway import LambdaContext, load_handler
from crm_local.outbox_dead_letters import dead_letter_body
from crm_local.transient import endpoint_unreachable

Records = list[dict[str, Any]]
logger = logging.getLogger(__name__)


class _Stopped(Exception):
    """The relay was stopped while it waited to retry; the stream still holds the batch."""


class StreamRelay:
    def __init__(
        self,
        session: Any,
        stream_arn: str,
        *,
        poll_seconds: float = 0.1,
        retry_seconds: float = 1.0,
        max_retries: int = OUTBOX_MAX_RETRIES,
        backlog: Records | None = None,
        on_published: Callable[[Records], None] | None = None,
    ) -> None:
        self.backlog = list(backlog or [])
        self.on_published = on_published
        self.streams = session.client("dynamodbstreams")
        self.sqs = session.client("sqs")
        self.stream_arn = stream_arn
        _, _, _, region, account, _ = stream_arn.split(":", 5)
        self.pipe_arn = f"arn:aws:pipes:{region}:{account}:pipe/{OUTBOX_DEAD_LETTER_QUEUE.name}"
        self.poll_seconds = poll_seconds
        self.retry_seconds = retry_seconds
        self.max_retries = max_retries
        self.published = 0
        self.dead_lettered = 0
        self._iterators: dict[str, str] = {}
        self._stop = threading.Event()
        self._polling = threading.Lock()  # held by a poll, or by paused()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self.error: Exception | None = None  # the last fault: a failed invocation or a failed poll
        self.transient_errors = 0  # the local endpoint unreachable for a moment: retried like any failure

    def start(self) -> None:
        self._discover()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """While it holds, the relay publishes nothing (once a poll under way has finished); what the
        stream gets meanwhile is published after. For a figure measured beside a running relay."""
        with self._polling:
            yield

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
            wanted = [r for r in response.get("Records", []) if kept_by_pipe(r)]
            for start in range(0, len(wanted), OUTBOX_BATCH_SIZE):
                count += self._deliver(shard_id, wanted[start : start + OUTBOX_BATCH_SIZE])
            next_iterator = response.get("NextShardIterator")
            if next_iterator:
                self._iterators[shard_id] = next_iterator
            else:
                del self._iterators[shard_id]
        self.published += count
        return count

    def _publish(self, records: Records) -> int:
        """One invocation of the relay function; raises what it raises."""
        result = load_handler(OUTBOX_RELAY)(records, LambdaContext(OUTBOX_RELAY.name, "relay"))
        if self.on_published is not None:
            self.on_published(records)
        return int(result["published"])

    def publish_backlog(self) -> int:
        """The events committed in an earlier run and not published then; raises ``_Stopped`` if the relay
        is stopped before they all are."""
        published = 0
        while self.backlog:
            batch = self.backlog[:OUTBOX_BATCH_SIZE]
            try:
                published += self._publish(batch)
            except Exception as error:  # the bus is not there yet, or refused: again in a moment
                self._note(error)
                if self._stop.wait(self.retry_seconds):
                    raise _Stopped from error
                continue
            del self.backlog[: len(batch)]
        self.published += published
        return published

    def _deliver(self, shard_id: str, batch: Records) -> int:
        """Publish one batch as the Pipe would: the number of events published. Raises ``_Stopped`` (the
        iterator stays where it was) if the relay is stopped meanwhile."""
        published = 0
        pending: list[tuple[Records, int]] = [(batch, 0)]
        while pending:
            part, failures = pending.pop(0)
            try:
                published += self._publish(part)
                continue
            except Exception as error:  # a failed invocation, as the Pipe sees it
                self._note(error)
            if self._stop.wait(self.retry_seconds):
                raise _Stopped
            if len(part) > 1:  # bisect: each half is tried on its own; a split is not a retry
                half = len(part) // 2
                pending[:0] = [(part[:half], failures), (part[half:], failures)]
            elif failures < self.max_retries:
                pending.insert(0, (part, failures + 1))
            else:
                self._dead_letter(shard_id, part, attempts=failures + 1)
        return published

    def _note(self, error: Exception) -> None:
        """Keeps a fault for whoever watches the relay (the tests fail a run that had one); the endpoint
        unreachable for a moment is counted and logged instead."""
        if endpoint_unreachable(error):
            self.transient_errors += 1
            logger.warning("the local endpoint did not answer the relay; retrying: %s", error)
            return
        self.error = error

    def _dead_letter(self, shard_id: str, records: Records, *, attempts: int) -> None:
        url = self.sqs.get_queue_url(QueueName=OUTBOX_DEAD_LETTER_QUEUE.dead_letter_name)["QueueUrl"]
        body = dead_letter_body(
            records, shard_id=shard_id, stream_arn=self.stream_arn, pipe_arn=self.pipe_arn, attempts=attempts
        )
        self.sqs.send_message(QueueUrl=url, MessageBody=body)
        self.dead_lettered += len(records)

    def _run(self) -> None:
        try:
            self.publish_backlog()
        except _Stopped:
            return
        while not self._stop.is_set():
            try:
                with self._polling:
                    published = self.poll_once()
                if published == 0:
                    self._stop.wait(self.poll_seconds)
            except _Stopped:
                return
            except Exception as error:  # keep relaying; the stream still holds what failed
                self._note(error)
                self._stop.wait(1.0)


def kept_by_pipe(record: dict[str, Any]) -> bool:
    """definitions.OUTBOX_STREAM_FILTER, as the Pipe applies it."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") in ("INSERT", "MODIFY") and (image.get("type") or {}).get("S") in (
        "event",
        "record",
    )
