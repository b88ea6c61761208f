"""The local runtime's background workers: what Lambda's SQS event sources and EventBridge Scheduler do
in AWS.

- Each consumer of ``definitions.CONSUMERS`` is fed from its queue as Lambda feeds it: a batch as an SQS
  event (``local_concurrency`` batches at once, each in a thread, as Lambda runs several at once); the
  records it reports as failed stay on the queue and come back after the visibility timeout,
  and the queue's redrive policy moves a message to the dead-letter queue after its last try.
- Schedules of the reminders group whose ``at()`` time has come send their input to their target queue
  and are deleted (moto stores schedules but never fires them).
- Each recurring schedule of ``definitions.RECURRING_SCHEDULES`` (the birthdays' hourly sweep) sends its
  input to its queue when the workers start and every ``local_period_s`` seconds after.

After a restart with ``crm dev --data`` the table is back but moto's scheduler and bus rules are new:
``rebuild`` makes each reminder's schedule and each EventBridge target's rule again from the records, with
the syncs their consumers run on the records' events.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import traceback
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from crm_core.definitions import CONSUMERS, RECURRING_SCHEDULES, ConsumerDefinition
from crm_core.ids import new_id

from crm_local.gateway import LambdaContext, load_handler
from crm_local.transient import endpoint_unreachable

LOCAL_RETRY_SECONDS = 1


class Workers:
    def __init__(
        self, session: Any, queue_urls: dict[str, str], schedule_group: str, poll_seconds: float = 0.2
    ):
        self.sqs = session.client("sqs")
        self.scheduler = session.client("scheduler")
        self.queue_urls = queue_urls
        self.schedule_group = schedule_group
        self.poll_seconds = poll_seconds
        self.delivered: dict[str, int] = {}  # consumer -> records handed to it
        self.fired = 0
        self.errors: list[str] = []  # faults of this loop itself
        self.function_errors: list[str] = []  # batches a consumer failed (retried, then dead-lettered)
        self._handlers: dict[str, Any] = {}
        self._recurring_sent: dict[str, float] = {}  # schedule name -> when it last sent (monotonic)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="workers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            steps = (
                self.fire_due_schedules,
                self.fire_recurring,
                *[lambda c=c: self.drain(c) for c in CONSUMERS],
            )
            for step in steps:
                try:
                    busy = bool(step()) or busy
                except Exception as error:  # keep working; what failed is still in its queue or schedule
                    # Once told to stop, the endpoint may go before this step ends (a loaded machine):
                    # what it left undone is still in its queue, and the failure is no fault.
                    if not self._stop.is_set() and not endpoint_unreachable(error):
                        self.errors.append(traceback.format_exc())
            if not busy:
                self._stop.wait(self.poll_seconds)

    def _handler(self, consumer: ConsumerDefinition) -> Any:
        name = consumer.function.name
        if name not in self._handlers:
            self._handlers[name] = load_handler(consumer.function)
        return self._handlers[name]

    def drain(self, consumer: ConsumerDefinition) -> int:
        """Batches from the consumer's queue, handled as Lambda would (``local_concurrency`` of them at
        once); the number of messages."""
        url = self.queue_urls[consumer.queue.name]
        wanted = consumer.batch_size * consumer.local_concurrency
        messages: list[dict[str, Any]] = []
        while len(messages) < wanted:
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(wanted - len(messages), 10), AttributeNames=["All"]
            ).get("Messages", [])
            messages += got
            if not got or consumer.local_concurrency == 1:
                break
        if not messages:
            return 0
        size = consumer.batch_size
        batches = [messages[i : i + size] for i in range(0, len(messages), size)]
        if len(batches) == 1:
            self._handle(consumer, url, batches[0])
        else:
            with ThreadPoolExecutor(max_workers=len(batches)) as pool:
                list(pool.map(lambda batch: self._handle(consumer, url, batch), batches))
        name = consumer.function.name
        self.delivered[name] = self.delivered.get(name, 0) + len(messages)
        return len(messages)

    def _handle(self, consumer: ConsumerDefinition, url: str, messages: list[dict[str, Any]]) -> None:
        arn = f"arn:aws:sqs:us-east-1:123456789012:{consumer.queue.name}"
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }
        try:
            response = self._handler(consumer)(event, LambdaContext(consumer.function.name, new_id()))
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        except Exception:
            # As in Lambda: a function that raises failed its whole batch (Powertools raises when every
            # record failed). That is the function's outcome, not a fault of this loop.
            self.function_errors.append(traceback.format_exc())
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            else:
                # In AWS a failed message comes back after the queue's visibility timeout; on a laptop,
                # after a second, so a poison message reaches its dead-letter queue in seconds.
                self.sqs.change_message_visibility(
                    QueueUrl=url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=LOCAL_RETRY_SECONDS,
                )

    def fire_recurring(self) -> int:
        """The recurring schedules whose period has passed (or that never sent) send their input."""
        fired = 0
        for schedule in RECURRING_SCHEDULES:
            last = self._recurring_sent.get(schedule.name)
            if last is not None and time.monotonic() - last < schedule.local_period_s:
                continue
            self.sqs.send_message(QueueUrl=self.queue_urls[schedule.queue.name], MessageBody=schedule.input)
            self._recurring_sent[schedule.name] = time.monotonic()
            fired += 1
        return fired

    def fire_due_schedules(self) -> int:
        fired = 0
        now = datetime.now(UTC).replace(tzinfo=None)
        listed = self.scheduler.list_schedules(GroupName=self.schedule_group).get("Schedules", [])
        gone = self.scheduler.exceptions.ResourceNotFoundException
        for summary in listed:
            # A schedule listed a moment ago may be deleted since (its reminder done, its ticket answered).
            try:
                schedule = self.scheduler.get_schedule(Name=summary["Name"], GroupName=self.schedule_group)
            except gone:
                continue
            expression = schedule["ScheduleExpression"]
            if not expression.startswith("at("):
                continue
            due = datetime.fromisoformat(expression[3:-1])
            if due > now:
                continue
            target = schedule["Target"]
            queue_name = target["Arn"].rsplit(":", 1)[-1]
            self.sqs.send_message(QueueUrl=self.queue_urls[queue_name], MessageBody=target.get("Input", "{}"))
            with contextlib.suppress(gone):  # deleted meanwhile by its owner: fired once all the same
                self.scheduler.delete_schedule(Name=summary["Name"], GroupName=self.schedule_group)
            fired += 1
        self.fired += fired
        return fired


def rebuild(items: Iterable[dict[str, Any]]) -> dict[str, int]:
    """From the table's items (DynamoDB JSON), what the local endpoint forgot in a restart and the records
    decide: the schedule of each reminder still to fire (one that fell due while ``crm dev`` was down fires
    now, late; one already sent finds its marker and is not sent again), the rule of each EventBridge
    target and of each tenant with a webhook target, the SLA timers of each open ticket with due times,
    the timers of each contract that is not a draft, and the expiry schedule of each sent quote
    (docs/decisions/0029). The number of each synced; one that fails is reported and the rest go on."""
    from crm_core.ids import utc_text
    from crm_core.repositories.table import RecordItem, TableItem
    from crm_core.services.event_target_rules import sync_rule
    from crm_core.services.records import record_data
    from crm_core.services.reminders import LATE_REMINDER_WINDOW, sync_schedule

    oldest = utc_text(datetime.now(UTC) - LATE_REMINDER_WINDOW)
    from crm_core.services.contract_timers import sync_timers as sync_contract_timers
    from crm_core.services.quotes import sync_expiry
    from crm_core.services.ticket_sla import sync_timers

    synced = {
        "reminders": 0,
        "event_target_rules": 0,
        "sla_timers": 0,
        "contract_timers": 0,
        "quote_expiries": 0,
    }
    for image in items:
        kind = (image.get("object_type") or {}).get("S")
        if (image.get("type") or {}).get("S") != "record" or kind not in (
            "activity",
            "event_target",
            "ticket",
            "contract",
            "quote",
        ):
            continue
        record = TableItem.from_raw_data(image)
        if not isinstance(record, RecordItem) or record.archived_at is not None:
            continue
        data = record_data(record)
        try:
            if kind == "activity" and str(data.get("remind_at") or "") > oldest:
                sync_schedule(record.tenant_id, record.id)
                synced["reminders"] += 1
            elif kind == "event_target" and data.get("type") in ("eventbridge", "webhook"):
                sync_rule(record.tenant_id, record.id)
                synced["event_target_rules"] += 1
            elif kind == "ticket" and data.get("sla") and data.get("status") not in ("resolved", "closed"):
                sync_timers(record.tenant_id, record.id)
                synced["sla_timers"] += 1
            elif kind == "contract" and data.get("status") in ("active", "expired", "terminated"):
                sync_contract_timers(record.tenant_id, record.id)
                synced["contract_timers"] += 1
            elif kind == "quote" and data.get("status") == "sent":
                sync_expiry(record.tenant_id, record.id)  # one past its end fires now and expires it
                synced["quote_expiries"] += 1
        except Exception:  # one record's failure must not keep the others from their state
            logging.getLogger(__name__).exception("could not rebuild what %s %s needs", kind, record.id)
    return synced
