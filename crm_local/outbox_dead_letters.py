"""The outbox Pipe's dead letters: where in the table's stream a batch that kept failing lies.

A Pipe with a stream source does not put the failed records in its dead-letter queue; it puts the batch's
position (``DDBStreamBatchInfo``: the shard, the first and last sequence numbers, the stream's ARN), the
same document a Lambda stream event source mapping sends to its on-failure destination. The stream keeps
records for 24 hours, so a dead letter can be replayed within that time by reading the range again.

``crm dev``'s relay writes the same document when it gives up on a batch, so ``crm dlq redrive
crm-outbox`` is tested locally on the shape it reads in AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

STREAM_RETENTION = timedelta(hours=24)


@dataclass(frozen=True)
class StreamBatch:
    stream_arn: str
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    first_arrival: datetime
    size: int

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) - self.first_arrival >= STREAM_RETENTION

    def holds(self, record: dict[str, Any]) -> bool:
        # Sequence numbers are decimal strings of up to 40 digits, ordered as numbers within a shard.
        sequence = int(record["dynamodb"]["SequenceNumber"])
        return int(self.start_sequence_number) <= sequence <= int(self.end_sequence_number)

    def is_past(self, record: dict[str, Any]) -> bool:
        return int(record["dynamodb"]["SequenceNumber"]) > int(self.end_sequence_number)


def _arrival(record: dict[str, Any]) -> datetime:
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        return created if created.tzinfo else created.replace(tzinfo=UTC)
    if isinstance(created, int | float):
        return datetime.fromtimestamp(created, UTC)
    return datetime.now(UTC)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dead_letter_body(
    records: list[dict[str, Any]], *, shard_id: str, stream_arn: str, pipe_arn: str, attempts: int
) -> str:
    """The document the Pipe sends to its dead-letter queue for these records (one batch, in order)."""
    return json.dumps(
        {
            "context": {
                "partnerResourceArn": pipe_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _text(_arrival(records[0])),
                "approximateArrivalOfLastRecord": _text(_arrival(records[-1])),
                "batchSize": len(records),
                "streamArn": stream_arn,
            },
        }
    )


class NotABatchPosition(ValueError):
    """The message does not hold a stream batch's position."""


def parse(body: str) -> StreamBatch:
    try:
        info = json.loads(body)["DDBStreamBatchInfo"]
        return StreamBatch(
            stream_arn=str(info["streamArn"]),
            shard_id=str(info["shardId"]),
            start_sequence_number=_digits(info["startSequenceNumber"]),
            end_sequence_number=_digits(info["endSequenceNumber"]),
            first_arrival=datetime.fromisoformat(
                str(info["approximateArrivalOfFirstRecord"]).replace("Z", "+00:00")
            ),
            size=int(info.get("batchSize") or 0),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise NotABatchPosition(f"not a stream batch position ({error})") from error


def _digits(value: object) -> str:
    if not isinstance(value, str) or not value.isdigit():
        raise ValueError(f"{value!r} is not a sequence number")
    return value


def read(streams: Any, batch: StreamBatch) -> list[dict[str, Any]]:
    """The stream records of the batch, in order: one GetShardIterator, then GetRecords until past the
    batch's last sequence number (a shard's records are read in pages, and a page may be empty)."""
    iterator: str | None = streams.get_shard_iterator(
        StreamArn=batch.stream_arn,
        ShardId=batch.shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=batch.start_sequence_number,
    )["ShardIterator"]
    found: list[dict[str, Any]] = []
    empty_pages = 0
    while iterator and empty_pages < 10:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = response.get("Records", [])
        empty_pages = 0 if records else empty_pages + 1
        found.extend(r for r in records if batch.holds(r))
        if any(batch.is_past(r) for r in records) or (
            found and int(found[-1]["dynamodb"]["SequenceNumber"]) == int(batch.end_sequence_number)
        ):
            break
        iterator = response.get("NextShardIterator")
    return found
