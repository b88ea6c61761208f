"""A poison message lands in its dead-letter queue after the queue's last try, `crm dlq` shows it, and
`crm dlq redrive` sends it back to its queue."""

from __future__ import annotations

import time

import boto3
from crm_core.definitions import REMINDERS_QUEUE

from crm_local import dlq
from crm_local.runtime import LocalRuntime


def count(sqs: object, queue: str) -> int:
    return next(row.messages for row in dlq.list_all(sqs) if row.queue == queue)


def test_a_poison_message_lands_in_the_dead_letter_queue_and_redrives(runtime: LocalRuntime) -> None:
    sqs = boto3.client("sqs")
    source = sqs.get_queue_url(QueueName=REMINDERS_QUEUE.name)["QueueUrl"]
    before = count(sqs, REMINDERS_QUEUE.name)
    errors_before = len(runtime.workers.errors)
    sqs.send_message(QueueUrl=source, MessageBody="this is not a reminder")

    deadline = time.monotonic() + 30
    while count(sqs, REMINDERS_QUEUE.name) == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert count(sqs, REMINDERS_QUEUE.name) == before + 1, "the poison message never reached the DLQ"
    shown = dlq.show(sqs, REMINDERS_QUEUE.name, limit=10)
    assert "this is not a reminder" in [m["body"] for m in shown]
    # The consumer reported the failure per record; the worker loop itself did not fail.
    assert len(runtime.workers.errors) == errors_before

    # show() leaves them in view: a second look and the redrive right after see every one.
    assert "this is not a reminder" in [m["body"] for m in dlq.show(sqs, REMINDERS_QUEUE.name, limit=10)]
    moved = dlq.redrive(sqs, REMINDERS_QUEUE.name)
    assert moved == before + 1
    assert count(sqs, REMINDERS_QUEUE.name) == 0
