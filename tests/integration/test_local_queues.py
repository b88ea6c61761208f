"""The local endpoint's SQS as SQS behaves under concurrent consumers (crm_local/moto_fidelity.py): a message
is handed to one receiver within its visibility timeout, however many receive at once."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import boto3

from crm_local.runtime import LocalRuntime


def test_twenty_receivers_at_once_get_each_message_once(runtime: LocalRuntime) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"receivers-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sent = 300
    for start in range(0, sent, 10):
        entries = [{"Id": str(n), "MessageBody": f"m{n}"} for n in range(start, start + 10)]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
    received: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def receive() -> None:
        client = boto3.client("sqs")
        try:
            for _ in range(15):
                messages = client.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=300
                ).get("Messages", [])
                with lock:
                    received.update(m["Body"] for m in messages)
                    if sum(received.values()) >= sent:
                        return
        except BaseException as error:  # a 500 of moto's own fails the test
            errors.append(error)

    threads = [threading.Thread(target=receive) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert set(received) == {f"m{n}" for n in range(sent)}
    assert [body for body, times in received.items() if times > 1] == []
