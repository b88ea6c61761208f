"""Every event type of the catalog, driven through the API on the local runtime, reaches the bus and
matches its committed JSON Schema (events/schemas/<type>.json) as a partner's rule delivers it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import requests
from crm_core.definitions import REMINDERS_QUEUE
from crm_core.event_catalog import EVENT_TYPES

from crm_local.runtime import LocalRuntime
from tests.support.client import ApiClient

REPO_ROOT = Path(__file__).resolve().parents[2]


class TenantTap:
    """A rule on the crm bus for one tenant's events, delivering to an SQS queue (as a partner would)."""

    def __init__(self, runtime: LocalRuntime, tenant_id: str) -> None:
        assert runtime.instance is not None
        bus = runtime.instance.resources["event_bus_name"]
        self.sqs = boto3.client("sqs")
        events = boto3.client("events")
        name = f"schemas-{tenant_id.lower()}"
        self.queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps({"source": ["crm"], "detail": {"tenant_id": [tenant_id]}}),
        )
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
        self.received: list[dict[str, Any]] = []

    def collect_until(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            for message in messages:
                self.received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            if done(self.received):
                return
            if not messages:
                time.sleep(0.2)


def ok(response: requests.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def archive(client: ApiClient, path: str) -> None:
    response = client.delete(path)
    assert response.status_code == 204, response.text


def _pipeline_lifecycle(client: ApiClient) -> dict[str, Any]:
    """Pipelines created, updated, archived and restored; the one with won and lost stages."""
    stages = [
        {"name": "Open", "probability": 0.5},
        {"name": "Won", "kind": "won"},
        {"name": "Lost", "kind": "lost"},
    ]
    pipeline = client.create("pipelines", {"name": "Schemas", "currency": "USD", "stages": stages})
    ok(client.patch(f"/v1/pipelines/{pipeline['id']}", {"name": "Schemas renamed"}))
    spare = client.create("pipelines", {"name": "Spare", "stages": [{"name": "Open", "probability": 0.5}]})
    archive(client, f"/v1/pipelines/{spare['id']}")
    ok(client.post(f"/v1/pipelines/{spare['id']}/restore"))
    return pipeline


def _property_lifecycle(client: ApiClient) -> None:
    """A custom property created, updated, archived and restored."""
    ok(client.post("/v1/properties/deals", {"name": "schemas", "label": "Schemas", "type": "string"}), 201)
    ok(client.patch("/v1/properties/deals/schemas", {"label": "Schemas renamed"}))
    archive(client, "/v1/properties/deals/schemas")
    ok(client.post("/v1/properties/deals/schemas/restore"))


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def change_people(client: ApiClient) -> None:
    """A team (created, updated, archived, restored), a user (created, updated, deactivated), a key
    (created, revoked)."""
    team = client.create("teams", {"name": "Schema team"})
    ok(client.patch(f"/v1/teams/{team['id']}", {"name": "Schema team renamed"}))
    archive(client, f"/v1/teams/{team['id']}")
    ok(client.post(f"/v1/teams/{team['id']}/restore"))
    user = client.create("users", {"email": "schema.user@example.com", "role": "rep"})
    ok(client.patch(f"/v1/users/{user['id']}", {"name": "Schema User"}))
    key = client.create("api-keys", {"user_id": user["id"], "name": "schema key"})
    archive(client, f"/v1/api-keys/{key['id']}")
    ok(client.delete(f"/v1/users/{user['id']}"))


LEADS = {"any": [{"all": [{"property": "lifecycle_stage", "operator": "eq", "value": "lead"}]}]}


def _segment_lifecycle(client: ApiClient) -> None:
    """A segment created, updated, archived and restored."""
    segment = client.create("segments", {"name": "Schema segment", "filter": LEADS})
    ok(client.patch(f"/v1/segments/{segment['id']}", {"name": "Schema leads"}))
    archive(client, f"/v1/segments/{segment['id']}")
    ok(client.post(f"/v1/segments/{segment['id']}/restore"))


def erase_and_run_jobs(client: ApiClient) -> None:
    """A contact erased; an import (with a refused row) and an export, each ending with its event."""
    forgotten = client.create("contacts", {"email": "forget-me@example.com", "first_name": "Forget"})
    ok(client.post(f"/v1/privacy/contacts/{forgotten['id']}/erase"))
    job = ok(client.post("/v1/imports", {"object": "contacts"}), 201)
    csv = b"email,first_name\nimported@example.com,Imp\nnot-an-email,Bad\n"
    assert requests.put(job["upload_url"], data=csv, timeout=30).status_code == 200
    ok(client.post("/v1/exports"), 202)


def service_lifecycle(client: ApiClient, contact_id: str) -> None:
    """SLA policies and articles (created, updated, archived, restored); tickets through every move, a
    merge, an SLA warning due at once and a breach whose timer message is delivered as the scheduler would."""
    targets = {"normal": {"first_response_minutes": 5, "resolution_minutes": 60}}
    policy = client.create("sla-policies", {"name": "Schemas", "targets": targets, "warn_before_minutes": 5})
    article = client.create("kb-articles", {"title": "Schema help", "body": "# Help"})
    for path in (f"/v1/sla-policies/{policy['id']}", f"/v1/kb-articles/{article['id']}"):
        ok(client.patch(path, {"name": "Renamed"} if "sla" in path else {"status": "published"}))
    spare = client.create("kb-articles", {"title": "Spare"})
    spare_policy = client.create(
        "sla-policies", {"name": "Spare", "targets": targets, "categories": ["request"]}
    )
    for path in (f"/v1/kb-articles/{spare['id']}", f"/v1/sla-policies/{spare_policy['id']}"):
        archive(client, path)
        ok(client.post(f"{path}/restore"))
    ticket = client.create(
        "tickets", {"subject": "Schema ticket", "contact_id": contact_id, "article_ids": [article["id"]]}
    )
    path = f"/v1/tickets/{ticket['id']}"
    ok(client.patch(path, {"description": "More detail"}))
    ok(client.patch(path, {"assignee_id": None}))
    ok(client.post(f"{path}/replies", {"body": "Answer"}), 201)
    resolved = ok(client.patch(path, {"status": "resolved"}))
    rate(client, ticket["id"], contact_id, resolved["resolved_at"])
    ok(client.post(f"{path}/replies", {"body": "Not solved", "author": "customer"}), 201)
    ok(client.patch(path, {"status": "closed"}))
    duplicate = client.create("tickets", {"subject": "Schema duplicate"})
    archive(client, f"/v1/tickets/{duplicate['id']}")
    ok(client.post(f"/v1/tickets/{duplicate['id']}/restore"))
    ok(client.post(f"{path}/merge", {"duplicate_id": duplicate["id"]}))
    late = client.create("tickets", {"subject": "Schema breach"})  # its first response warning is due at once
    sqs = boto3.client("sqs")
    timer = {
        "tenant_id": client.tenant_id,
        "ticket_id": late["id"],
        "timer": "resolution.breach",
        "at": late["sla"]["resolution_due_at"],
    }
    queue_url = sqs.get_queue_url(QueueName=REMINDERS_QUEUE.name)["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(timer))


def rate(client: ApiClient, ticket_id: str, contact_id: str, resolved_at: str) -> None:
    """The resolved ticket's survey, once its email is sent, answered on its page: survey.answered and
    ticket.rated."""
    from crm_core.repositories import keys
    from crm_core.repositories.table import SurveyItem
    from crm_core.services import surveys

    survey_id = surveys.csat_id(ticket_id, resolved_at)
    deadline = time.monotonic() + 30
    while True:
        try:
            item = SurveyItem.get(
                keys.survey_pk(client.tenant_id, survey_id), keys.SURVEY_SK, consistent_read=True
            )
        except SurveyItem.DoesNotExist:
            item = None
        if item is not None and item.state == "sent":
            break
        assert time.monotonic() < deadline, "the satisfaction survey was not sent"
        time.sleep(0.2)
    url = surveys.survey_url(client.tenant_id, "csat", survey_id, contact_id, ticket_id=ticket_id)
    assert requests.post(url, data={"score": "5", "comment": "Thanks"}, timeout=10).status_code == 200


def _campaign_lifecycle(client: ApiClient) -> None:
    """Segments: created, updated, archived, restored. Campaigns: created, updated, scheduled, sending, sent;
    another cancelled, archived, restored. Its recipient's email: sent, then opened, clicked, unsubscribed
    through its links, delivered and bounced as SES's events of the configuration set."""
    from crm_core.definitions import EMAIL_NOTIFICATIONS_QUEUE
    from crm_core.services.campaign_sends import tracking_url

    person = client.create(
        "contacts", {"email": "reader@schemas.example", "tags": ["readers"], "consent": {"email": "granted"}}
    )
    rule = {"property": "tags", "operator": "contains", "value": "readers"}
    segment = client.create("segments", {"name": "Readers", "filter": {"any": [{"all": [rule]}]}})
    ok(client.patch(f"/v1/segments/{segment['id']}", {"name": "Our readers"}))
    spare = client.create("segments", {"name": "Spare", "filter": {"any": [{"all": [rule]}]}})
    archive(client, f"/v1/segments/{spare['id']}")
    ok(client.post(f"/v1/segments/{spare['id']}/restore"))
    body = {
        "name": "News",
        "segment_id": segment["id"],
        "subject": "News",
        "from": "news@schemas.example",
        "body": '<p>Hi {{ first_name }}</p><a href="https://schemas.example/">more</a>',
    }
    campaign = client.create("campaigns", body)
    ok(client.patch(f"/v1/campaigns/{campaign['id']}", {"subject": "Our news"}))
    ok(client.post(f"/v1/campaigns/{campaign['id']}/schedule", {"send_at": soon(2)}))
    dropped = client.create("campaigns", {**body, "name": "Dropped"})
    ok(client.post(f"/v1/campaigns/{dropped['id']}/cancel"))
    archive(client, f"/v1/campaigns/{dropped['id']}")
    ok(client.post(f"/v1/campaigns/{dropped['id']}/restore"))
    deadline = time.monotonic() + 60
    while client.get(f"/v1/campaigns/{campaign['id']}").json()["status"] != "sent":
        assert time.monotonic() < deadline, "the scheduled campaign was not sent"
        time.sleep(0.2)

    def link(action: str) -> str:
        return tracking_url(client.tenant_id, campaign["id"], person["id"], action)

    assert requests.get(link("open"), timeout=10).status_code == 200
    clicked = requests.get(
        link("click"), params={"u": "https://schemas.example/"}, allow_redirects=False, timeout=10
    )
    assert clicked.status_code == 302
    assert requests.post(link("unsubscribe"), timeout=10).status_code == 200
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=EMAIL_NOTIFICATIONS_QUEUE.name)["QueueUrl"]
    tags = {"tenant_id": [client.tenant_id], "campaign_id": [campaign["id"]], "contact_id": [person["id"]]}
    mail = {"messageId": "m-1", "destination": [person["email"]], "tags": tags}
    for event in (
        {"eventType": "Delivery", "mail": mail},
        {"eventType": "Bounce", "mail": mail, "bounce": {"bounceType": "Transient"}},
    ):
        sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps({"Type": "Notification", "Message": json.dumps(event)})
        )


def test_every_catalog_type_is_emitted_and_matches_its_schema(
    runtime: LocalRuntime, client: ApiClient
) -> None:
    tap = TenantTap(runtime, client.tenant_id)

    # Contacts and companies: created, updated, archived, restored, merged; a contact erased.
    for collection, first, second, change in (
        ("contacts", {"email": "schema@example.com", "first_name": "Ada"}, {"last_name": "Dup"}, "title"),
        ("companies", {"name": "Schema Ltd", "domain": "schema.example"}, {"name": "Dup Ltd"}, "industry"),
    ):
        survivor = client.create(collection, first)
        duplicate = client.create(collection, second)
        ok(client.patch(f"/v1/{collection}/{survivor['id']}", {change: "Changed"}))
        archive(client, f"/v1/{collection}/{survivor['id']}")
        ok(client.post(f"/v1/{collection}/{survivor['id']}/restore"))
        ok(client.post(f"/v1/{collection}/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]}))
    contact = client.create("contacts", {"email": "deal-contact@example.com"})

    _property_lifecycle(client)
    pipeline = _pipeline_lifecycle(client)
    stage = {s["kind"]: s["id"] for s in pipeline["stages"]}

    # Deals: created, updated, stage_changed + won, stage_changed + lost, archived, restored, merged.
    deals = [
        client.create(
            "deals",
            {
                "name": f"Deal {n}",
                "pipeline_id": pipeline["id"],
                "amount": "1000.50",
                "contact_ids": [contact["id"]],
                "close_date": "2030-01-31",
            },
        )
        for n in range(3)
    ]
    ok(client.patch(f"/v1/deals/{deals[0]['id']}", {"amount": "2000"}))
    ok(client.patch(f"/v1/deals/{deals[0]['id']}", {"stage_id": stage["won"]}))
    ok(client.patch(f"/v1/deals/{deals[1]['id']}", {"stage_id": stage["lost"], "lost_reason": "Price"}))
    archive(client, f"/v1/deals/{deals[2]['id']}")
    ok(client.post(f"/v1/deals/{deals[2]['id']}/restore"))
    ok(client.post(f"/v1/deals/{deals[2]['id']}/merge", {"duplicate_id": deals[1]["id"]}))

    # Activities: created, updated, completed, archived, restored, merged, reminder_due.
    note = client.create("activities", {"type": "note", "subject": "Met", "contact_id": contact["id"]})
    task = client.create("activities", {"type": "task", "subject": "Follow up", "deal_id": deals[0]["id"]})
    ok(client.patch(f"/v1/activities/{note['id']}", {"body": "Went well"}))
    ok(client.post(f"/v1/activities/{task['id']}/complete"))
    archive(client, f"/v1/activities/{note['id']}")
    ok(client.post(f"/v1/activities/{note['id']}/restore"))
    ok(client.post(f"/v1/activities/{task['id']}/merge", {"duplicate_id": note["id"]}))
    client.create("activities", {"type": "call", "subject": "Ring", "remind_at": soon(2)})

    hook = client.create(
        "event-targets",
        {
            "type": "webhook",
            "url": "http://127.0.0.1:9/none",
            "secret": "s" * 20,
            "event_types": ["deal.won"],
        },
    )
    ok(client.patch(f"/v1/event-targets/{hook['id']}", {"description": "Partner"}))
    archive(client, f"/v1/event-targets/{hook['id']}")
    ok(client.post(f"/v1/event-targets/{hook['id']}/restore"))
    partner = client.create("event-sources", {"source": "partner.schemas"})
    ok(client.patch(f"/v1/event-sources/{partner['id']}", {"description": "Schemas partner"}))
    archive(client, f"/v1/event-sources/{partner['id']}")
    ok(client.post(f"/v1/event-sources/{partner['id']}/restore"))
    _segment_lifecycle(client)

    change_people(client)
    service_lifecycle(client, contact["id"])
    for lifecycle in (erase_and_run_jobs, _campaign_lifecycle, _contract_lifecycle):
        lifecycle(client)
    _quote_lifecycle(runtime, client)

    expected = {event.name for event in EVENT_TYPES}
    tap.collect_until(lambda got: expected <= {e["detail-type"] for e in got}, timeout=120)

    seen = {event["detail-type"] for event in tap.received}
    assert sorted(expected - seen) == [], f"never published: {sorted(expected - seen)}"
    assert seen <= expected, f"published but not in the catalog: {sorted(seen - expected)}"

    # The envelope's "account" too (moto leaves it out; crm_local.moto_fidelity puts it back, as EventBridge).
    account = boto3.client("sts").get_caller_identity()["Account"]
    assert {event.get("account") for event in tap.received} == {account}
    validators = {
        name: jsonschema.Draft4Validator(
            json.loads((REPO_ROOT / "events" / "schemas" / f"{name}.json").read_text()),
            format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER,
        )
        for name in expected
    }
    problems = [
        f"{event['detail-type']} {event['detail']['id']}: {error.json_path}: {error.message}"
        for event in tap.received
        for error in validators[event["detail-type"]].iter_errors(event)
    ]
    assert problems == [], "\n".join(problems)
    assert all(event["detail"]["tenant_id"] == client.tenant_id for event in tap.received)


def _quote_lifecycle(runtime: LocalRuntime, client: ApiClient) -> None:
    """Products created, updated, archived and restored; quotes created, updated, sent, accepted and
    declined on their public page, expired (the expiry timer's message sent now), archived, restored."""
    from crm_core.services.quote_mail import page_token

    from tests.integration.test_tickets import schedule_of

    product = client.create(
        "products", {"sku": "SCHEMA-1", "name": "Schema", "prices": [{"currency": "EUR", "unit_price": "10"}]}
    )
    ok(client.patch(f"/v1/products/{product['id']}", {"description": "Changed"}))
    archive(client, f"/v1/products/{product['id']}")
    ok(client.post(f"/v1/products/{product['id']}/restore"))
    deal = client.create("deals", {"name": "Quoted"})
    contact = client.create("contacts", {"email": "quoted@schema.example"})
    line = {"product_id": product["id"], "quantity": "2"}
    to = {"deal_id": deal["id"], "contact_id": contact["id"], "currency": "EUR"}
    quotes = [client.create("quotes", {**to, "line_items": [line]}) for _ in range(2)]
    ok(client.patch(f"/v1/quotes/{quotes[0]['id']}", {"title": "Two"}))
    for quote, answer in zip(quotes, ("accept", "decline"), strict=True):
        ok(client.post(f"/v1/quotes/{quote['id']}/send", {}))
        token = page_token(client.tenant_id, quote["id"])
        answered = requests.post(f"{client.base_url}/q/{token}/{answer}", timeout=30)
        assert answered.status_code == 200, answered.text
    archive(client, f"/v1/quotes/{quotes[1]['id']}")
    ok(client.post(f"/v1/quotes/{quotes[1]['id']}/restore"))
    today = datetime.now(UTC).date().isoformat()
    later = client.create("quotes", {**to, "valid_until": today, "line_items": [line]})
    ok(client.post(f"/v1/quotes/{later['id']}/send", {}))
    schedule = None
    for _ in range(150):
        schedule = schedule_of(runtime, f"quote-expiry-{later['id']}")
        if schedule:
            break
        time.sleep(0.2)
    assert schedule, "no expiry schedule"
    sqs = boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=REMINDERS_QUEUE.name)["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=schedule["Target"]["Input"])


def _contract_lifecycle(client: ApiClient) -> None:
    """Contracts: created, updated, activated, renewed, expired (its timer: an end already past),
    terminated, archived, restored, an instalment overdue (due already); payments received, updated and
    voided."""
    today = datetime.now(UTC).date()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    term = {"start_date": day(-60), "value": "100.00", "currency": "EUR"}
    ended = client.create("contracts", {**term, "end_date": day(-1), "status": "active"})  # expires at once
    draft = client.create("contracts", {**term, "end_date": day(300)})
    ok(client.patch(f"/v1/contracts/{draft['id']}", {"renewal_reminder_days": 10}))
    ok(client.patch(f"/v1/contracts/{draft['id']}", {"status": "active"}))  # its instalment is overdue
    paid = client.create("payments", {"contract_id": draft["id"], "amount": "40", "currency": "EUR"})
    ok(client.patch(f"/v1/payments/{paid['id']}", {"reference": "Bank 1"}))
    archive(client, f"/v1/payments/{paid['id']}")
    renewed = client.post(f"/v1/contracts/{draft['id']}/renew", {})
    assert renewed.status_code == 201, renewed.text
    following = renewed.json()["id"]
    ok(client.patch(f"/v1/contracts/{following}", {"status": "terminated"}))
    archive(client, f"/v1/contracts/{following}")
    ok(client.post(f"/v1/contracts/{following}/restore"))
    assert ended["status"] == "active"  # its expiry comes through the runtime
