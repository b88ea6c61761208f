"""Inbound partner events: a registered source's lead.submitted creates (or updates) one lead; events of
unregistered sources, of removed sources, naming another tenant, or sent from another account than the
registration names change nothing."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from crm_core.config import LOCAL_ACCOUNT_ID
from crm_core.definitions import INBOUND_EVENTS_QUEUE

from tests.support.client import ApiClient
from tests.support.waiting import eventually

PARTNER_ACCOUNT = "111111111111"


def put(source: str, tenant_id: str, lead: dict[str, Any], detail_type: str = "lead.submitted") -> None:
    entry = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps({"tenant_id": tenant_id, "lead": lead}),
        "EventBusName": "crm",
    }
    assert boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


def deliver(
    source: str, tenant_id: str, lead: dict[str, Any], account: str, event_id: str | None = None
) -> None:
    """What the inbound rule delivers to its queue for an event a partner in ``account`` put on the bus.

    The local bus stamps every event with its own account (moto's, as EventBridge stamps the sender's), so
    an event from another account is put on the rule's queue directly, shaped as EventBridge sends it."""
    event = {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "lead.submitted",
        "source": source,
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [],
        "detail": {"tenant_id": tenant_id, "lead": lead},
    }
    sqs = boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=INBOUND_EVENTS_QUEUE.name)["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))


def emails(client: ApiClient) -> list[str]:
    return sorted(c["email"] for c in contacts(client))


def contacts(client: ApiClient) -> list[dict[str, Any]]:
    return client.all_pages("/v1/contacts")


def settle(client: ApiClient, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(contacts(client)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # and nothing more arrives
    return contacts(client)


def test_registered_sources_only(client: ApiClient, other: ApiClient) -> None:
    registered = client.post("/v1/event-sources", {"source": "partner.acme", "description": "Acme forms"})
    assert registered.status_code == 201, registered.text
    assert client.post("/v1/event-sources", {"source": "partner.acme"}).status_code == 409

    put("partner.acme", client.tenant_id, {"email": "inbound@acme.example", "first_name": "Ina"})
    put(
        "partner.acme", client.tenant_id, {"email": "INBOUND@acme.example", "last_name": "Bound"}
    )  # the same lead
    put("partner.unknown", client.tenant_id, {"email": "stranger@acme.example"})
    put("partner.acme", other.tenant_id, {"email": "not-registered-there@acme.example"})
    put("partner.acme", client.tenant_id, {"email": "not-an-email"})

    found = settle(client, 1)
    assert [(c["email"], c["first_name"], c["last_name"], c["lifecycle_stage"]) for c in found] == [
        ("inbound@acme.example", "Ina", "Bound", "lead")
    ]
    assert contacts(other) == []
    assert found[0]["owner_id"] is None, "a partner's lead waits unassigned, not owned by a made-up user"
    timeline = client.get(f"/v1/contacts/{found[0]['id']}/timeline").json()["items"]
    assert timeline[-1]["actor"] == {"type": "system", "id": "partner.acme"}

    assert client.delete(f"/v1/event-sources/{registered.json()['id']}").status_code == 204
    put("partner.acme", client.tenant_id, {"email": "after-removal@acme.example"})
    assert len(settle(client, 2, timeout=3)) == 1


def test_a_registration_without_an_account_accepts_the_crms_own_account_only(client: ApiClient) -> None:
    registered = client.create("event-sources", {"source": "partner.initech"})
    assert registered["account_id"] is None

    deliver("partner.initech", client.tenant_id, {"email": "foreign@initech.example"}, PARTNER_ACCOUNT)
    deliver("partner.initech", client.tenant_id, {"email": "no-account@initech.example"}, "")
    deliver("partner.initech", client.tenant_id, {"email": "own-queued@initech.example"}, LOCAL_ACCOUNT_ID)
    put("partner.initech", client.tenant_id, {"email": "own-bus@initech.example"})  # the local bus's account

    settle(client, 2)
    assert emails(client) == ["own-bus@initech.example", "own-queued@initech.example"]


def test_a_partner_in_another_account(client: ApiClient, other: ApiClient) -> None:
    registered = client.create("event-sources", {"source": "partner.globex", "account_id": PARTNER_ACCOUNT})
    assert registered["account_id"] == PARTNER_ACCOUNT
    assert client.get(f"/v1/event-sources/{registered['id']}").json()["account_id"] == PARTNER_ACCOUNT
    # The other tenant registered the same source, from the CRM's own account.
    other.create("event-sources", {"source": "partner.globex"})

    # From the CRM's own account (the local bus), the first tenant's registration refuses it.
    put("partner.globex", client.tenant_id, {"email": "from-own-account@globex.example"})
    deliver("partner.globex", client.tenant_id, {"email": "from-a-third@globex.example"}, "222222222222")
    # The partner's account may not use the other tenant's registration, which names no account.
    deliver("partner.globex", other.tenant_id, {"email": "not-there@globex.example"}, PARTNER_ACCOUNT)
    deliver("partner.globex", client.tenant_id, {"email": "lead@globex.example"}, PARTNER_ACCOUNT)

    settle(client, 1)
    assert emails(client) == ["lead@globex.example"]
    assert contacts(other) == []
    timeline = client.get(f"/v1/contacts/{contacts(client)[0]['id']}/timeline").json()["items"]
    assert timeline[-1]["actor"] == {"type": "system", "id": "partner.globex"}

    # The partner moves to another account: the old one is refused from then on.
    moved = client.patch(f"/v1/event-sources/{registered['id']}", {"account_id": "222222222222"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["account_id"] == "222222222222" and moved.json()["source"] == "partner.globex"
    deliver("partner.globex", client.tenant_id, {"email": "old-account@globex.example"}, PARTNER_ACCOUNT)
    deliver("partner.globex", client.tenant_id, {"email": "new-account@globex.example"}, "222222222222")
    settle(client, 2)
    assert emails(client) == ["lead@globex.example", "new-account@globex.example"]

    # Cleared, the registration is back to the CRM's own account.
    cleared = client.patch(f"/v1/event-sources/{registered['id']}", {"account_id": None})
    assert cleared.status_code == 200 and cleared.json()["account_id"] is None, cleared.text
    deliver("partner.globex", client.tenant_id, {"email": "moved-away@globex.example"}, "222222222222")
    put("partner.globex", client.tenant_id, {"email": "own-again@globex.example"})
    settle(client, 3)
    assert emails(client) == [
        "lead@globex.example",
        "new-account@globex.example",
        "own-again@globex.example",
    ]
    assert contacts(other) == []


def test_the_account_must_be_twelve_digits(client: ApiClient, other: ApiClient) -> None:
    for bad in (
        "11111111111",
        "1111111111111",
        "arn:aws:iam::111111111111:root",
        "abcdefghijkl",
        "",
        111111111111,
    ):
        response = client.post("/v1/event-sources", {"source": "partner.hooli", "account_id": bad})
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in response.json()["errors"]] == ["account_id"], response.text
    assert client.all_pages("/v1/event-sources") == []

    registered = client.create("event-sources", {"source": "partner.hooli", "account_id": PARTNER_ACCOUNT})
    response = client.patch(f"/v1/event-sources/{registered['id']}", {"account_id": "12345"})
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["account_id"]
    assert client.get(f"/v1/event-sources/{registered['id']}").json()["account_id"] == PARTNER_ACCOUNT
    # The source itself cannot change (it is the unique field).
    response = client.patch(f"/v1/event-sources/{registered['id']}", {"source": "partner.other"})
    assert response.status_code == 422

    # Another tenant neither sees the registration nor changes it.
    assert other.get(f"/v1/event-sources/{registered['id']}").status_code == 404
    assert other.patch(f"/v1/event-sources/{registered['id']}", {"account_id": None}).status_code == 404
    assert client.get(f"/v1/event-sources/{registered['id']}").json()["account_id"] == PARTNER_ACCOUNT


class RefusalLog(logging.Handler):
    """The warnings the inbound consumer writes (Powertools' logger, here in the test's process)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "partner event refused":
            self.records.append(record)

    def reasons(self, **fields: Any) -> list[str]:
        return [
            str(getattr(r, "reason", ""))
            for r in self.records
            if all(getattr(r, name, None) == value for name, value in fields.items())
        ]


@pytest.fixture
def refusal_log() -> Iterator[RefusalLog]:
    from crm_core.services import partner_events

    logger = logging.getLogger(partner_events.logger.name)
    handler, level = RefusalLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)  # the tests run with POWERTOOLS_LOG_LEVEL=ERROR
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_refused_events_leave_a_trace(client: ApiClient, other: ApiClient, refusal_log: RefusalLog) -> None:
    """Each refusal is logged with its reason; one that names a registered source of the tenant is also
    shown on that source (count, time, reason), counted once however often the same event arrives."""
    source = client.create("event-sources", {"source": "partner.wile"})
    assert (source["refused_count"], source["last_refused_at"], source["last_refused_reason"]) == (
        0,
        None,
        None,
    )
    untouched = other.create("event-sources", {"source": "partner.wile"})
    path = f"/v1/event-sources/{source['id']}"

    def refused(count: int) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(path).json()
            return body if body["refused_count"] >= count else None

        body = eventually(check, timeout=20)
        assert body is not None, client.get(path).text
        assert body["refused_count"] == count, body
        return body

    put("partner.wile", client.tenant_id, {"email": "not-an-email", "first_name": "Wile"})
    shown = refused(1)
    assert shown["last_refused_reason"] == "invalid lead: email: is not a valid email address", shown
    assert shown["last_refused_at"].endswith("Z")
    assert contacts(client) == []

    same_id = str(uuid.uuid4())
    deliver("partner.wile", client.tenant_id, {"email": "w@acme.example"}, PARTNER_ACCOUNT, event_id=same_id)
    deliver("partner.wile", client.tenant_id, {"email": "w@acme.example"}, PARTNER_ACCOUNT, event_id=same_id)
    shown = refused(2)
    assert PARTNER_ACCOUNT in shown["last_refused_reason"], shown
    assert eventually(lambda: len(refusal_log.reasons(account=PARTNER_ACCOUNT)) == 2), "the repeat never came"

    put("partner.wile", client.tenant_id, {"email": "w@acme.example"}, detail_type="lead.withdrawn")
    shown = refused(3)
    assert "lead.withdrawn" in shown["last_refused_reason"], shown
    listed = [s for s in client.all_pages("/v1/event-sources") if s["id"] == source["id"]]
    assert [(s["refused_count"], s["last_refused_reason"]) for s in listed] == [
        (3, shown["last_refused_reason"])
    ]

    # A source nobody registered has no tenant to tell: the log says it all.
    put("partner.nobody", client.tenant_id, {"email": "w@acme.example"})
    assert eventually(lambda: refusal_log.reasons(source="partner.nobody"), timeout=20) == [
        "source 'partner.nobody' is not registered to the tenant"
    ]
    reasons = refusal_log.reasons(source="partner.wile", tenant_id=client.tenant_id)
    assert len(reasons) == 4, reasons  # the repeated event is logged each time it arrives, counted once
    assert reasons[0].startswith("invalid lead: email: ")
    time.sleep(1)  # nothing more comes
    assert refused(3)["refused_count"] == 3
    assert other.get(f"/v1/event-sources/{untouched['id']}").json()["refused_count"] == 0
    assert client.post("/v1/event-sources", {"source": "partner.x", "refused_count": 0}).status_code == 422
