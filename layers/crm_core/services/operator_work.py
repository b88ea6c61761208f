"""The control plane's own queues (infra/control_plane.py; the app's ``@app.on_sqs_message``): each carries a
long job of the operator's — a tenant's deletion, a billing export — from one step to the next, a message a
step, so that every step fits in one invocation."""

from __future__ import annotations

import json
from typing import Any

from crm_core import aws
from crm_core.config import settings


def _queue_url(name: str) -> str:
    sqs = aws.client("sqs")
    try:
        url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        if not settings().local_mode:
            raise
        url = sqs.create_queue(QueueName=name)["QueueUrl"]  # locally, made on first use
    return url


def send_work(queue_name: str, body: dict[str, Any], delay_s: int = 0) -> None:
    """The job's next step, as a message to the control plane's queue ``queue_name`` (``delay_s`` later, at
    most SQS's 900 s)."""
    aws.client("sqs").send_message(
        QueueUrl=_queue_url(queue_name), MessageBody=json.dumps(body), DelaySeconds=min(900, delay_s)
    )
