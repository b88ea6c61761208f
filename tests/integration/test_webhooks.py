"""Webhooks end to end on the local runtime: a local HTTP receiver checks each delivery's signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.support.client import ApiClient
from tests.support.waiting import eventually

SECRET = "a-long-shared-secret-for-tests"


class Receiver:
    """A partner's endpoint: verifies CRM-Signature, records what it accepted, fails when told to."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.fail_next = 0
        self.redirect_to: str | None = None
        self.calls = 0
        self._server = make_server("127.0.0.1", 0, self)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.calls += 1
        body = request.get_data()
        parts = dict(part.split("=", 1) for part in request.headers.get("CRM-Signature", "").split(","))
        expected = hmac.new(SECRET.encode(), f"{parts.get('t')}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(parts.get("v1", ""), expected) or abs(time.time() - int(parts["t"])) > 300:
            self.bad_signatures += 1
            return Response("bad signature", status=400)(environ, start_response)
        if self.redirect_to:
            return Response("moved", status=302, headers={"Location": self.redirect_to})(
                environ, start_response
            )
        if self.fail_next:
            self.fail_next -= 1
            return Response("try later", status=503)(environ, start_response)
        self.accepted.append(json.loads(body))
        return Response("ok")(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.stop()


def add_webhook(client: ApiClient, url: str, event_types: list[str]) -> dict[str, Any]:
    """A webhook target, as its POST answered it (``pending``), once it is ``active``: API.md promises it
    every event committed from then on, not before (its tenant's rule to the fan-out is put meanwhile)."""
    response = client.post(
        "/v1/event-targets", {"type": "webhook", "url": url, "secret": SECRET, "event_types": event_types}
    )
    assert response.status_code == 201, response.text
    target: dict[str, Any] = response.json()
    path = f"/v1/event-targets/{target['id']}"
    assert eventually(lambda: client.get(path).json()["status"] == "active", timeout=30)
    return target


def test_signed_deliveries_of_the_chosen_types_only(
    client: ApiClient, other: ApiClient, receiver: Receiver
) -> None:
    target = add_webhook(client, receiver.url, ["contact.created", "deal.*"])
    assert "secret" not in target and target["has_secret"] is True
    contact = client.create("contacts", {"email": "hooked@example.com"})
    client.patch(f"/v1/contacts/{contact['id']}", {"title": "Not sent"})  # contact.updated is not chosen
    client.create("deals", {"name": "Hooked deal"})
    other.create("contacts", {"email": "rival@example.com"})

    assert eventually(lambda: len(receiver.accepted) >= 2)
    time.sleep(1.5)
    assert sorted(e["type"] for e in receiver.accepted) == ["contact.created", "deal.created"]
    assert all(e["tenant_id"] == client.tenant_id for e in receiver.accepted)
    assert receiver.bad_signatures == 0
    log = client.get(f"/v1/event-targets/{target['id']}/deliveries").json()["items"]
    assert sorted((d["event_type"], d["outcome"], d["attempt"]) for d in log) == [
        ("contact.created", "succeeded", 1),
        ("deal.created", "succeeded", 1),
    ]
    assert other.get(f"/v1/event-targets/{target['id']}/deliveries").status_code == 404


def test_a_failing_receiver_gets_the_event_once_after_retries(client: ApiClient, receiver: Receiver) -> None:
    target = add_webhook(client, receiver.url, ["contact.*"])
    receiver.fail_next = 2
    contact = client.create("contacts", {"email": "retry@example.com"})
    assert eventually(lambda: receiver.accepted)
    time.sleep(2)
    assert [e["data"]["id"] for e in receiver.accepted] == [contact["id"]]
    log = client.get(f"/v1/event-targets/{target['id']}/deliveries").json()["items"]
    assert [(d["attempt"], d["outcome"], d["status_code"]) for d in reversed(log)] == [
        (1, "retrying", 503),
        (2, "retrying", 503),
        (3, "succeeded", 200),
    ]
    assert len({d["delivery_id"] for d in log}) == 1

    redelivered = client.post(
        f"/v1/event-targets/{target['id']}/redeliver", {"event_id": receiver.accepted[0]["id"]}
    )
    assert redelivered.status_code == 202
    assert eventually(lambda: len(receiver.accepted) == 2)
    assert (
        receiver.accepted[1]["id"] == receiver.accepted[0]["id"]
    )  # the same event: receivers dedupe on its id


def test_archived_targets_receive_nothing_and_bad_targets_are_refused(
    client: ApiClient, receiver: Receiver
) -> None:
    target = add_webhook(client, receiver.url, ["*"])
    assert client.delete(f"/v1/event-targets/{target['id']}").status_code == 204
    client.create("contacts", {"email": "quiet@example.com"})
    time.sleep(2)
    # Only the target's own creation may still arrive: it happened while the target was active, and its
    # delivery can run before the archive commits. Nothing after the archive does.
    assert [e["type"] for e in receiver.accepted] in ([], ["event_target.created"])
    assert receiver.calls == len(receiver.accepted)
    several = client.post(
        "/v1/event-targets",
        {"type": "webhook", "url": "ftp://x", "secret": "short", "event_types": ["Bad Type"]},
    )
    assert several.status_code == 422
    assert sorted(e["field"] for e in several.json()["errors"]) == ["event_types[0]", "secret", "url"]
    # What a type needs and was not given is named as its own field, with every other fault at once.
    bare = client.post("/v1/event-targets", {"type": "webhook"})
    assert sorted(e["field"] for e in bare.json()["errors"]) == ["event_types", "secret", "url"], bare.text
    bus = client.post("/v1/event-targets", {"type": "eventbridge", "event_types": ["*"]})
    assert [e["field"] for e in bus.json()["errors"]] == ["event_bus_arn"], bus.text
    for body, field in (
        ({"type": "webhook", "url": receiver.url, "event_types": ["*"]}, "secret"),
        ({"type": "webhook", "url": "ftp://x", "secret": SECRET, "event_types": ["*"]}, "url"),
        ({"type": "webhook", "url": receiver.url, "secret": "short", "event_types": ["*"]}, "secret"),
        (
            {"type": "webhook", "url": receiver.url, "secret": SECRET, "event_types": ["Contact Created"]},
            "event_types[0]",
        ),
    ):
        response = client.post("/v1/event-targets", body)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], response.text


def test_private_addresses_are_refused_outside_local_mode() -> None:
    from crm_core.errors import ProblemError
    from crm_core.services.event_targets import check_url

    with pytest.raises(ProblemError) as refused:
        check_url("https://127.0.0.1/hook", local_mode=False)
    assert refused.value.errors[0].field == "url"
    with pytest.raises(ProblemError):
        check_url("https://10.0.0.8/hook", local_mode=False)
    with pytest.raises(ProblemError):
        check_url("http://example.com/hook", local_mode=False)  # https only in AWS
    check_url("http://127.0.0.1:9/hook", local_mode=True)


def test_a_redirect_is_a_failed_try_and_is_not_followed(client: ApiClient) -> None:
    """A receiver that answers 302 towards another (internal) address gets a failed try logged with its
    302; the other address gets nothing, neither the signed POST nor a GET with its headers."""
    first, internal = Receiver(), Receiver()
    try:
        first.redirect_to = internal.url
        target = add_webhook(client, first.url, ["contact.created"])
        client.create("contacts", {"email": "redirected@example.com"})
        path = f"/v1/event-targets/{target['id']}/deliveries"
        assert eventually(lambda: client.get(path).json()["items"]), "no try was made"
        time.sleep(1.5)  # room for a redirect to be followed, if it were
        log = client.get(path).json()["items"]
        assert log and all(d["outcome"] == "retrying" and d["status_code"] == 302 for d in log), log
        assert "302" in log[-1]["error"]
        assert first.calls >= 1 and internal.calls == 0
    finally:
        first.stop()
        internal.stop()


def test_only_a_tenant_with_a_webhook_target_has_its_events_brought_to_the_fan_out(
    runtime: Any,
    client: ApiClient,
    other: ApiClient,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Decision 0038: the fan-out hears a tenant's events through the tenant's own rule on the bus, put with
    its first webhook target; the events of a tenant with none reach no queue of the fan-out."""
    import boto3
    from crm_core.definitions import CONSUMERS, EVENT_BUS_NAME, WEBHOOK_EVENTS_QUEUE, WEBHOOK_RULE_PREFIX

    [fan_out] = [c for c in CONSUMERS if c.queue == WEBHOOK_EVENTS_QUEUE]
    handler = runtime.workers._handler(fan_out)
    heard: list[str] = []
    heard_ids: list[str] = []

    def listening(event: dict[str, Any], context: Any) -> Any:
        details = [json.loads(r["body"])["detail"] for r in event["Records"]]
        heard.extend(detail["tenant_id"] for detail in details)
        heard_ids.extend(detail.get("data", {}).get("id") for detail in details)
        return handler(event, context)

    monkeypatch.setitem(runtime.workers._handlers, fan_out.function.name, listening)
    events = boto3.client("events")

    def rules_naming(tenant_id: str) -> list[str]:
        pages = events.get_paginator("list_rules").paginate(
            NamePrefix=WEBHOOK_RULE_PREFIX, EventBusName=EVENT_BUS_NAME
        )
        return [r["Name"] for page in pages for r in page["Rules"] if tenant_id in r["Name"]]

    target = add_webhook(client, receiver.url, ["contact.created"])
    assert rules_naming(client.tenant_id) and not rules_naming(other.tenant_id)
    other.create("contacts", {"email": "unheard@example.com"})
    contact = client.create("contacts", {"email": "heard@example.com"})
    assert eventually(lambda: receiver.accepted)
    time.sleep(1)  # time for anything else the relay published to be handed on
    assert [e["data"]["id"] for e in receiver.accepted] == [contact["id"]]
    assert client.tenant_id in heard and other.tenant_id not in heard

    # The tenant's last webhook archived: the rule stays (the fan-out finds no target), and a new one is
    # routed by the same rule.
    assert client.delete(f"/v1/event-targets/{target['id']}").status_code == 204
    no_target = client.create("contacts", {"email": "no-target@example.com"})
    # The relay is asynchronous: the fan-out must have had that event (and found no target) before the next
    # target is made, or the next target would be handed it.
    assert eventually(lambda: no_target["id"] in heard_ids)
    add_webhook(client, receiver.url, ["contact.created"])
    assert len(rules_naming(client.tenant_id)) == 1
    again = client.create("contacts", {"email": "heard-again@example.com"})
    assert eventually(lambda: len(receiver.accepted) == 2)
    assert [e["data"]["id"] for e in receiver.accepted] == [contact["id"], again["id"]]


def test_an_event_handed_to_the_fan_out_twice_is_delivered_once(
    runtime: Any, client: ApiClient, receiver: Receiver
) -> None:
    """The bus and the queues deliver at least once: the same event reaching the fan-out twice queues the
    same delivery twice (its id follows from the event and the target), and only one makes the try."""
    import boto3
    from crm_core.definitions import WEBHOOK_EVENTS_QUEUE

    target = add_webhook(client, receiver.url, ["contact.*"])
    contact = client.create("contacts", {"email": "twice@example.com"})
    assert eventually(lambda: receiver.accepted)
    [event] = receiver.accepted
    sqs = boto3.client("sqs")
    queue = sqs.get_queue_url(QueueName=WEBHOOK_EVENTS_QUEUE.name)["QueueUrl"]
    envelope = {"source": "crm", "detail-type": event["type"], "detail": event}
    for _ in range(2):  # the same EventBridge event, delivered again, twice
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(envelope))
    time.sleep(3)
    assert [e["data"]["id"] for e in receiver.accepted] == [contact["id"]]
    assert receiver.calls == 1
    log = client.get(f"/v1/event-targets/{target['id']}/deliveries").json()["items"]
    assert [(d["attempt"], d["outcome"]) for d in log] == [(1, "succeeded")]


def test_an_event_from_before_the_target_existed_is_not_delivered(
    runtime: Any, client: ApiClient, receiver: Receiver
) -> None:
    """A relay running behind may publish an old change after a target is added: the target hears what
    happens from its creation on (the fan-out compares the event's time with the target's)."""
    import boto3
    from crm_core.definitions import WEBHOOK_EVENTS_QUEUE

    add_webhook(client, receiver.url, ["contact.*"])
    contact = client.create("contacts", {"email": "now@example.com"})
    assert eventually(lambda: receiver.accepted)
    [event] = receiver.accepted
    old = {**event, "id": "01AAAAAAAAAAAAAAAAAAAAAAAA", "occurred_at": "2020-01-01T00:00:00.000Z"}
    sqs = boto3.client("sqs")
    queue = sqs.get_queue_url(QueueName=WEBHOOK_EVENTS_QUEUE.name)["QueueUrl"]
    for detail in (old, {**event, "id": "01BBBBBBBBBBBBBBBBBBBBBBBB"}):
        sqs.send_message(
            QueueUrl=queue,
            MessageBody=json.dumps({"source": "crm", "detail-type": event["type"], "detail": detail}),
        )
    assert eventually(lambda: len(receiver.accepted) == 2)
    time.sleep(1.5)
    assert [e["id"] for e in receiver.accepted] == [event["id"], "01BBBBBBBBBBBBBBBBBBBBBBBB"]
    assert all(e["data"]["id"] == contact["id"] for e in receiver.accepted)


def test_a_try_is_claimed_by_one_message_until_its_lease_runs_out(
    runtime: Any, client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm_core.ids import new_id
    from crm_core.repositories import delivery_repository

    target_id, delivery_id = new_id(), new_id()

    def claim(message: str, attempt: int = 1) -> bool:
        return delivery_repository.claim_try(client.tenant_id, target_id, delivery_id, attempt, message)

    assert claim("first")
    assert claim("first"), "the same message, handed back after a crash, may try again"
    assert not claim("second"), "another message for the same try is a duplicate"
    assert claim("second", attempt=2), "the next try is a try of its own"
    later = time.time() + delivery_repository.CLAIM_LEASE_S + 1
    monkeypatch.setattr(delivery_repository.time, "time", lambda: later)
    assert claim("redriven"), "once the lease ran out, a redriven message may make the try"


def test_the_delivery_log_filters_by_event_and_outcome(client: ApiClient, receiver: Receiver) -> None:
    target = add_webhook(client, receiver.url, ["contact.created"])
    receiver.fail_next = 1  # whichever event comes first needs a second try
    client.create("contacts", {"email": "first@filters.example"})
    client.create("contacts", {"email": "second@filters.example"})
    assert eventually(lambda: len(receiver.accepted) == 2)
    path = f"/v1/event-targets/{target['id']}/deliveries"

    def tries(**params: str) -> list[tuple[str, int, str]]:
        return [(d["event_id"], d["attempt"], d["outcome"]) for d in client.all_pages(path, params)]

    [(retried_event, _, _)] = tries(outcome="retrying")
    [other_event] = {e["id"] for e in receiver.accepted} - {retried_event}
    assert sorted(tries(outcome="succeeded")) == sorted(
        [(retried_event, 2, "succeeded"), (other_event, 1, "succeeded")]
    )
    assert tries(event_id=retried_event) == [(retried_event, 2, "succeeded"), (retried_event, 1, "retrying")]
    assert tries(event_id=other_event) == [(other_event, 1, "succeeded")]
    assert tries(event_id=retried_event, outcome="gave_up") == []
    for bad in ({"outcome": "lost"}, {"event_id": "not-an-id"}):
        response = client.get(path, params=bad)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == list(bad)


def test_a_delivery_given_up_is_made_again_by_a_redrive(client: ApiClient, receiver: Receiver) -> None:
    """After the last try the delivery waits in the dead-letter queue as its next try; once the receiver
    is back, `crm dlq redrive crm-webhook-deliveries` makes that try, and the receiver gets the event once."""
    import boto3
    from crm_core.definitions import WEBHOOK_DELIVERIES_QUEUE

    from crm_local import dlq

    target = add_webhook(client, receiver.url, ["contact.created"])
    receiver.fail_next = 1000  # down for good
    contact = client.create("contacts", {"email": "given-up@example.com"})
    path = f"/v1/event-targets/{target['id']}/deliveries"
    assert eventually(lambda: client.get(path, params={"outcome": "gave_up"}).json()["items"], timeout=30)
    receiver.fail_next = 0  # back

    dlq.redrive(boto3.client("sqs"), WEBHOOK_DELIVERIES_QUEUE.name)
    assert eventually(lambda: receiver.accepted)
    time.sleep(1.5)
    assert [e["data"]["id"] for e in receiver.accepted] == [contact["id"]]
    log = client.get(path).json()["items"]
    assert [(d["attempt"], d["outcome"]) for d in reversed(log)] == [
        *[(n, "retrying") for n in range(1, 6)],
        (6, "gave_up"),
        (7, "succeeded"),
    ]
    assert len({d["delivery_id"] for d in log}) == 1


def test_deliveries_and_publications_are_counted_as_cloudwatch_metrics(
    client: ApiClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In AWS, Powertools writes the counts in the embedded metric format into the log (crm dev turns
    that off); here it is on for this test, and read back from what the functions printed."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    receiver.fail_next = 1
    add_webhook(client, receiver.url, ["contact.created"])
    client.create("contacts", {"email": "counted@example.com"})
    assert eventually(lambda: receiver.accepted)
    time.sleep(0.5)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    counted: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        if line.startswith('{"_aws"'):
            blob = json.loads(line)
            assert all(d["Namespace"] for d in blob["_aws"]["CloudWatchMetrics"])
            for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = blob[metric["Name"]]
                counted[metric["Name"]] = counted.get(metric["Name"], 0) + sum(
                    value if isinstance(value, list) else [value]
                )
    assert counted.get("WebhookTriesFailed", 0) >= 1 and counted.get("WebhookTriesSucceeded", 0) >= 1
    assert counted.get("EventsPublished", 0) >= 1


def test_a_try_after_the_contact_was_erased_sends_its_event_without_the_persons_data(
    client: ApiClient, receiver: Receiver
) -> None:
    """Tries queued before an erasure (the receiver failing), made after it: the contact's event and its
    activity's (whose subject and body are the person's words) go out redacted, and the log keeps none."""
    target = add_webhook(client, receiver.url, ["contact.created", "activity.created"])
    receiver.fail_next = 10_000  # down until told otherwise: every try is queued again
    contact = client.create("contacts", {"email": "forget.me@hooks.example", "first_name": "Forgotten"})
    activity = client.create(
        "activities",
        {"type": "note", "subject": "Lunch with Forgotten", "body": "allergic", "contact_id": contact["id"]},
    )

    def tries() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = client.get(f"/v1/event-targets/{target['id']}/deliveries").json()[
            "items"
        ]
        return items

    both = {"contact.created", "activity.created"}
    assert eventually(lambda: {t["event_type"] for t in tries()} == both), "the first tries were never made"
    assert client.post(f"/v1/privacy/contacts/{contact['id']}/erase").status_code == 200
    receiver.fail_next = 0
    assert eventually(lambda: len(receiver.accepted) == 2, timeout=30), receiver.accepted
    sent = {e["type"]: e for e in receiver.accepted}
    assert sent["contact.created"]["data"] == {"id": contact["id"]}, sent
    assert sent["activity.created"]["data"] == {"id": activity["id"]}, sent
    assert not [w for w in ("forget.me", "Forgotten", "allergic") if w in json.dumps(receiver.accepted)]
    # The delivery log's earlier tries are scrubbed in the background (the erase answer says when).
    erase = f"/v1/privacy/contacts/{contact['id']}/erase"
    assert eventually(lambda: client.post(erase).headers["Scrub-Status"] == "done", timeout=60)
    logged = json.dumps(tries())
    assert not [word for word in ("forget.me", "Forgotten", "allergic") if word in logged], logged
