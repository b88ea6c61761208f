"""Tickets over HTTP on the local runtime: a ticket's life (replies and notes, first response, status moves,
resolution and reopening) and its events in the contact's and company's timelines; SLA due times and their
timers, which warn and mark the breach once however often their message comes, and never for a ticket
answered in time; the knowledge base; inbound tickets; roles and another tenant's ids."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from crm_core.auth import Role
from crm_core.definitions import CONSUMERS, INBOUND_EVENTS_QUEUE, REMINDERS_QUEUE

from crm_local.gateway import LambdaContext
from crm_local.runtime import LocalRuntime
from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.waiting import eventually

HOURLY = {"first_response_minutes": 60, "resolution_minutes": 480}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def minutes_between(start: str, end: str) -> float:
    return (at(end) - at(start)).total_seconds() / 60


def types(client: ApiClient, path: str) -> list[str]:
    return [entry["type"] for entry in client.get(path).json()["items"]]


def notifications(client: ApiClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/notifications").json()["items"]
    return items


def test_a_tickets_life(client: ApiClient, other: ApiClient) -> None:
    policy = client.create(
        "sla-policies",
        {
            "name": "Standard",
            "targets": {
                "normal": HOURLY,
                "urgent": {"first_response_minutes": 15, "resolution_minutes": 120},
            },
            "warn_before_minutes": 10,
        },
    )
    company = client.create("companies", {"name": "Analytical Engines"})
    contact = client.create("contacts", {"email": "ada@engines.example", "company_id": company["id"]})
    ticket = client.create(
        "tickets",
        {
            "subject": "Invoice counts the engines twice",
            "contact_id": contact["id"],
            "company_id": company["id"],
            "channel": "email",
            "category": "complaint",
        },
    )
    tid = ticket["id"]
    assert (ticket["status"], ticket["priority"], ticket["assignee_id"]) == ("new", "normal", client.user_id)
    sla = ticket["sla"]
    assert sla["policy_id"] == policy["id"] and not sla["first_response_breached"]
    assert abs(minutes_between(ticket["created_at"], sla["first_response_due_at"]) - 60) < 0.1
    assert abs(minutes_between(ticket["created_at"], sla["resolution_due_at"]) - 480) < 0.1
    assert abs(minutes_between(ticket["created_at"], sla["first_response_warn_at"]) - 50) < 0.1

    # An internal note is no response; the first public reply is, and opens the ticket.
    note = client.post(f"/v1/tickets/{tid}/replies", {"body": "Checking billing", "public": False})
    assert note.status_code == 201, note.text
    assert client.get(f"/v1/tickets/{tid}").json()["first_responded_at"] is None
    answer = client.post(f"/v1/tickets/{tid}/replies", {"body": "We are on it."})
    assert answer.status_code == 201 and answer.json()["public"] is True
    current = client.get(f"/v1/tickets/{tid}").json()
    assert current["first_responded_at"] == answer.json()["created_at"] and current["status"] == "open"
    client.post(f"/v1/tickets/{tid}/replies", {"body": "Second answer"})
    assert client.get(f"/v1/tickets/{tid}").json()["first_responded_at"] == answer.json()["created_at"]
    replies = client.get(f"/v1/tickets/{tid}/replies").json()["items"]
    assert [(r["body"], r["public"]) for r in replies] == [
        ("Checking billing", False),
        ("We are on it.", True),
        ("Second answer", True),
    ]
    public = client.get(f"/v1/tickets/{tid}/replies", params={"public": "true"}).json()["items"]
    assert [r["body"] for r in public] == ["We are on it.", "Second answer"]
    first = client.get(f"/v1/tickets/{tid}/replies", params={"limit": 2}).json()
    rest = client.get(f"/v1/tickets/{tid}/replies", params={"limit": 2, "cursor": first["next_cursor"]})
    assert [r["body"] for r in rest.json()["items"]] == ["Second answer"]

    # Moves: resolved, reopened by the customer, closed (final).
    resolved = client.patch(f"/v1/tickets/{tid}", {"status": "resolved"}).json()
    assert resolved["resolved_at"] and resolved["status"] == "resolved"
    refused = client.patch(f"/v1/tickets/{tid}", {"status": "new"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "status"
    customer = client.post(f"/v1/tickets/{tid}/replies", {"body": "Still wrong", "author": "customer"})
    assert customer.status_code == 201
    reopened = client.get(f"/v1/tickets/{tid}").json()
    assert (reopened["status"], reopened["resolved_at"]) == ("open", None)
    urgent = client.patch(f"/v1/tickets/{tid}", {"priority": "urgent"}).json()
    assert abs(minutes_between(ticket["created_at"], urgent["sla"]["resolution_due_at"]) - 120) < 0.1
    closed = client.patch(f"/v1/tickets/{tid}", {"status": "closed"}).json()
    assert closed["status"] == "closed" and closed["resolved_at"]
    assert client.post(f"/v1/tickets/{tid}/replies", {"body": "Too late"}).status_code == 409
    assert client.post(f"/v1/tickets/{tid}/replies", {"body": "Noted", "public": False}).status_code == 201
    assert client.patch(f"/v1/tickets/{tid}", {"status": "open"}).status_code == 422

    in_timelines(client, tid, contact["id"], company["id"])
    listed_and_expanded(client, tid, contact["id"], company["id"])
    refused_and_unseen(client, other, tid, policy["id"])


def in_timelines(client: ApiClient, tid: str, contact_id: str, company_id: str) -> None:
    """Each change's events, in the ticket's timeline and its contact's and company's (naming the ticket)."""
    expected = [
        "ticket.replied",  # the note on the closed ticket
        "ticket.closed",
        "ticket.updated",  # priority
        "ticket.reopened",
        "ticket.replied",
        "ticket.resolved",
        "ticket.replied",
        "ticket.replied",
        "ticket.replied",
        "ticket.created",
    ]
    assert eventually(lambda: types(client, f"/v1/tickets/{tid}/timeline") == expected), types(
        client, f"/v1/tickets/{tid}/timeline"
    )
    on_contact = client.get(f"/v1/contacts/{contact_id}/timeline").json()["items"]
    mine = [e for e in on_contact if e["record"]["type"] == "ticket"]
    assert [e["type"] for e in mine] == expected
    assert mine[0]["record"] == {"type": "ticket", "id": tid, "title": "Invoice counts the engines twice"}
    on_company = types(client, f"/v1/companies/{company_id}/timeline")
    assert on_company.count("ticket.replied") == 5


def listed_and_expanded(client: ApiClient, tid: str, contact_id: str, company_id: str) -> None:
    """The ticket in the lists the queue filters by, and its contact inline."""
    assert [t["id"] for t in client.get("/v1/tickets", params={"status": "closed"}).json()["items"]] == [tid]
    assert client.get("/v1/tickets", params={"status": "open"}).json()["items"] == []
    for name, value in (("assignee_id", "me"), ("contact_id", contact_id), ("company_id", company_id)):
        assert [t["id"] for t in client.get("/v1/tickets", params={name: value}).json()["items"]] == [tid]
    assert [t["id"] for t in client.get("/v1/tickets", params={"q": "invoice co"}).json()["items"]] == [tid]
    expanded = client.get(f"/v1/tickets/{tid}", params={"expand": "contact"}).json()
    assert expanded["contact"]["email"] == "ada@engines.example"


def refused_and_unseen(client: ApiClient, other: ApiClient, tid: str, policy_id: str) -> None:
    """Bad input is refused naming the field, writing nothing; another tenant cannot reach the ticket."""
    for body, field_name in (
        ({"subject": "x", "sla": {}}, "sla"),
        ({"subject": "x", "status": "resolved"}, "status"),
        (
            {"subject": "x", "contact_id": other.create("contacts", {"email": "o@x.example"})["id"]},
            "contact_id",
        ),
        ({"subject": "x", "article_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}, "article_ids[0]"),
        ({"subject": "x", "priority": "asap"}, "priority"),
    ):
        refused = client.post("/v1/tickets", body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["errors"][0]["field"] == field_name
    assert client.get("/v1/tickets").json()["total"] == 1

    # Another tenant sees nothing of it, and cannot reach it.
    assert other.get("/v1/tickets").json()["items"] == []
    for call in (
        lambda: other.get(f"/v1/tickets/{tid}"),
        lambda: other.get(f"/v1/tickets/{tid}/replies"),
        lambda: other.post(f"/v1/tickets/{tid}/replies", {"body": "hi"}),
        lambda: other.patch(f"/v1/tickets/{tid}", {"subject": "mine"}),
        lambda: other.get(f"/v1/sla-policies/{policy_id}"),
    ):
        assert call().status_code == 404


def schedule_of(runtime: LocalRuntime, name: str) -> dict[str, Any] | None:
    assert runtime.instance is not None
    scheduler = boto3.client("scheduler")
    try:
        found: dict[str, Any] = scheduler.get_schedule(
            Name=name, GroupName=runtime.instance.resources["schedule_group"]
        )
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    return found


def deliver_twice(message: dict[str, Any]) -> None:
    """The timer's message delivered twice to the reminders worker, as SQS may."""
    worker = next(c for c in CONSUMERS if c.queue == REMINDERS_QUEUE)
    module, _, name = worker.function.handler.rpartition(".")
    handler = getattr(__import__(module, fromlist=[name]), name)
    for delivery in range(2):
        record = {
            "messageId": f"m-{uuid.uuid4()}-{delivery}",
            "receiptHandle": "r",
            "body": json.dumps(message),
            "attributes": {},
            "eventSource": "aws:sqs",
        }
        assert handler({"Records": [record]}, LambdaContext("reminders", "x")) == {"batchItemFailures": []}


def test_sla_timers_fire_once_and_not_for_a_ticket_answered_in_time(
    runtime: LocalRuntime, client: ApiClient
) -> None:
    client.create("sla-policies", {"name": "Day", "targets": {"normal": HOURLY}, "warn_before_minutes": 30})
    late = client.create("tickets", {"subject": "Nobody answers"})
    names = {
        timer: f"sla-{late['id']}-{timer}" for timer in ("first_response-warning", "first_response-breach")
    }
    schedules = {timer: eventually(lambda n=name: schedule_of(runtime, n)) for timer, name in names.items()}
    assert all(schedules.values()), "the timers were not scheduled"
    breach = json.loads(schedules["first_response-breach"]["Target"]["Input"])
    assert breach == {
        "tenant_id": client.tenant_id,
        "ticket_id": late["id"],
        "timer": "first_response.breach",
        "at": late["sla"]["first_response_due_at"],
    }
    fires_at = datetime.fromisoformat(schedules["first_response-breach"]["ScheduleExpression"][3:-1])
    early = (fires_at.replace(tzinfo=UTC) - at(breach["at"])).total_seconds()
    assert 0 <= early < 1, "at() is the due time, rounded up to the second"
    deliver_twice(json.loads(schedules["first_response-warning"]["Target"]["Input"]))
    deliver_twice(breach)

    breached = client.get(f"/v1/tickets/{late['id']}").json()
    assert breached["sla"]["first_response_breached"] is True and breached["sla_breached"] is True
    assert breached["sla"]["resolution_breached"] is False
    timeline = types(client, f"/v1/tickets/{late['id']}/timeline")
    assert timeline.count("ticket.sla_warning") == 1 and timeline.count("ticket.sla_breached") == 1
    assert sorted(n["title"].split(":")[0] for n in notifications(client)) == ["SLA breached", "SLA warning"]
    assert eventually(lambda: schedule_of(runtime, names["first_response-breach"]) is None)

    answered = client.create("tickets", {"subject": "Answered in time"})
    answered_names = [f"sla-{answered['id']}-first_response-{stage}" for stage in ("warning", "breach")]
    first = [eventually(lambda n=name: schedule_of(runtime, n)) for name in answered_names]
    assert all(first)
    client.post(f"/v1/tickets/{answered['id']}/replies", {"body": "Here you are"})
    assert eventually(lambda: all(schedule_of(runtime, name) is None for name in answered_names))
    assert schedule_of(runtime, f"sla-{answered['id']}-resolution-breach") is not None
    for schedule in first:  # the old timers' messages, arriving anyway
        deliver_twice(json.loads(schedule["Target"]["Input"]))
    client.patch(f"/v1/tickets/{answered['id']}", {"status": "resolved"})
    assert eventually(lambda: schedule_of(runtime, f"sla-{answered['id']}-resolution-breach") is None)
    kept = client.get(f"/v1/tickets/{answered['id']}").json()
    assert kept["sla"]["first_response_breached"] is False and kept["sla_breached"] is None
    kept_types = types(client, f"/v1/tickets/{answered['id']}/timeline")
    assert "ticket.sla_warning" not in kept_types and "ticket.sla_breached" not in kept_types
    assert len(notifications(client)) == 2

    listed = client.get("/v1/tickets", params={"breached": "true"}).json()["items"]
    assert [t["id"] for t in listed] == [late["id"]]
    assert [t["id"] for t in client.get("/v1/tickets", params={"breached": "false"}).json()["items"]] == [
        answered["id"]
    ]
    queue = client.get("/v1/tickets", params={"sort": "due_at"}).json()["items"]
    assert [t["id"] for t in queue] == [late["id"], answered["id"]]  # breached first, resolved last


def test_a_warning_already_due_fires_through_the_runtime(client: ApiClient) -> None:
    """A policy for incidents whose warning comes at once: the ticket's events reach the timer keeper,
    which fires it (once) without waiting for a schedule; other categories follow the general policy."""
    client.create("sla-policies", {"name": "General", "targets": {"normal": HOURLY}})
    incidents = client.create(
        "sla-policies",
        {
            "name": "Incidents",
            "targets": {"normal": {"first_response_minutes": 5, "resolution_minutes": 60}},
            "warn_before_minutes": 5,
            "categories": ["incident"],
            "business_hours": {
                "timezone": "UTC",
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "from": "00:00",
                "to": "24:00",
            },
        },
    )
    ticket = client.create("tickets", {"subject": "Engines down", "category": "incident"})
    assert ticket["sla"]["policy_id"] == incidents["id"]
    assert ticket["sla"]["first_response_warn_at"] <= ticket["created_at"]  # due at once
    warned = eventually(lambda: "ticket.sla_warning" in types(client, f"/v1/tickets/{ticket['id']}/timeline"))
    assert warned, "the warning due at once was not sent"
    warning = client.get(f"/v1/tickets/{ticket['id']}/timeline").json()["items"][0]
    assert warning["actor"] == {"type": "system", "id": "sla"}
    assert warning["changes"] == {"sla_warning": {"from": None, "to": "first_response"}}
    assert [n["kind"] for n in notifications(client)] == ["sla"]
    question = client.create("tickets", {"subject": "How do I", "category": "question"})
    assert question["sla"]["policy_id"] != incidents["id"]


def test_roles_settings_and_the_knowledge_base(client: ApiClient) -> None:
    rep, viewer, manager = (user_client(client, role) for role in (Role.REP, Role.VIEWER, Role.MANAGER))
    policy = {"name": "P", "targets": {"normal": HOURLY}}
    for caller in (rep, manager, viewer):
        assert caller.post("/v1/sla-policies", policy).status_code == 403
    assert client.post("/v1/sla-policies", policy).status_code == 201
    bad_hours = {
        **policy,
        "business_hours": {"timezone": "Mars/Base", "days": ["mon"], "from": "9", "to": "8"},
    }
    refused = client.post("/v1/sla-policies", bad_hours)
    assert refused.status_code == 422
    assert {"business_hours.timezone", "business_hours.from"} <= {
        e["field"] for e in refused.json()["errors"]
    }

    assert viewer.post("/v1/tickets", {"subject": "No"}).status_code == 403
    own = rep.create("tickets", {"subject": "Rep's own"})
    assert own["assignee_id"] == rep.user_id
    retried = [
        rep.post(f"/v1/tickets/{own['id']}/replies", {"body": "Answer"}, headers={"Idempotency-Key": "r-1"})
        for _ in range(2)
    ]
    assert [r.status_code for r in retried] == [201, 201] and retried[0].json() == retried[1].json()
    assert len(rep.get(f"/v1/tickets/{own['id']}/replies").json()["items"]) == 1  # a retry adds none
    admins = client.create("tickets", {"subject": "The admin's"})
    assert rep.post(f"/v1/tickets/{admins['id']}/replies", {"body": "Mine?"}).status_code == 403
    assert rep.patch(f"/v1/tickets/{admins['id']}", {"status": "open"}).status_code == 403
    assert viewer.get(f"/v1/tickets/{admins['id']}/replies").status_code == 200
    assigned = client.patch(f"/v1/tickets/{admins['id']}", {"assignee_id": rep.user_id})
    assert assigned.status_code == 200
    assert [n["kind"] for n in notifications(rep)] == ["assignment"]
    assert rep.post(f"/v1/tickets/{admins['id']}/replies", {"body": "Now mine"}).status_code == 201
    assert "ticket.assigned" in types(client, f"/v1/tickets/{admins['id']}/timeline")

    draft = rep.create("kb-articles", {"title": "Resetting the engine", "body": "# Steps\n\n1. Off"})
    published = rep.create("kb-articles", {"title": "Reading invoices", "status": "published"})
    assert draft["status"] == "draft" and draft["owner_id"] == rep.user_id
    assert [a["id"] for a in rep.get("/v1/kb-articles", params={"q": "res"}).json()["items"]] == [draft["id"]]
    assert [a["id"] for a in rep.get("/v1/kb-articles", params={"q": "invo"}).json()["items"]] == [
        published["id"]
    ]
    listed = rep.get("/v1/kb-articles", params={"status": "published"}).json()["items"]
    assert [a["id"] for a in listed] == [published["id"]]
    assert viewer.post("/v1/kb-articles", {"title": "No"}).status_code == 403
    linked = rep.patch(f"/v1/tickets/{own['id']}", {"article_ids": [published["id"]]})
    assert linked.status_code == 200 and linked.json()["article_ids"] == [published["id"]]


def test_inbound_tickets(client: ApiClient, other: ApiClient) -> None:
    form = {"email": "Grace@Navy.example", "first_name": "Grace", "subject": "Cannot log in"}
    first = client.post("/v1/inbound/tickets", form)
    assert first.status_code == 201, first.text
    made = first.json()
    assert made["contact"]["email"].lower() == "grace@navy.example" and made["contact"]["source"] == "inbound"
    ticket = made["ticket"]
    assert (ticket["contact_id"], ticket["channel"], ticket["assignee_id"], ticket["status"]) == (
        made["contact"]["id"],
        "web",
        None,
        "new",
    )
    again = client.post("/v1/inbound/tickets", {**form, "subject": "Still cannot"}).json()
    assert again["contact"]["id"] == made["contact"]["id"] and again["ticket"]["id"] != ticket["id"]
    mail = {**form, "channel": "email", "external_ref": "<abc@mail.navy.example>"}
    opened = client.post("/v1/inbound/tickets", mail)
    repeated = client.post("/v1/inbound/tickets", mail)
    assert (opened.status_code, repeated.status_code) == (201, 200)
    assert repeated.json()["ticket"]["id"] == opened.json()["ticket"]["id"]
    bad = client.post("/v1/inbound/tickets", {"email": "not-an-email", "subject": ""})
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"email", "subject"}
    assert other.get("/v1/tickets").json()["items"] == []

    # A registered partner's ticket.submitted, delivered twice: one ticket.
    assert client.post("/v1/event-sources", {"source": "partner.helpdesk"}).status_code == 201
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "ticket.submitted",
        "source": "partner.helpdesk",
        "account": boto3.client("sts").get_caller_identity()["Account"],
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "tenant_id": client.tenant_id,
            "ticket": {"email": "lin@partner.example", "subject": "Sync"},
        },
    }
    sqs = boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=INBOUND_EVENTS_QUEUE.name)["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))

    def partner_tickets() -> list[dict[str, Any]]:
        items = client.get("/v1/tickets", params={"q": "sync"}).json()["items"]
        return [t for t in items if t["channel"] == "partner"]

    assert eventually(partner_tickets)
    deadline = datetime.now(UTC) + timedelta(seconds=2)
    while datetime.now(UTC) < deadline:  # both deliveries have had their time
        assert len(partner_tickets()) == 1
        time.sleep(0.3)


def test_an_erasure_clears_what_the_persons_tickets_say(client: ApiClient) -> None:
    """A contact's erasure clears its tickets' subject and description and the text of their replies
    and notes (their times and authors stay)."""
    contact = client.create("contacts", {"email": "erase.me@example.com"})
    ticket = client.create("tickets", {"subject": "My card 4111 is blocked", "contact_id": contact["id"]})
    client.post(
        f"/v1/tickets/{ticket['id']}/replies", {"body": "Call me on +44 20 7946 0018", "author": "customer"}
    )
    client.post(f"/v1/tickets/{ticket['id']}/replies", {"body": "Card checked", "public": False})
    erase = f"/v1/privacy/contacts/{contact['id']}/erase"
    assert client.post(erase).status_code == 200
    assert eventually(lambda: client.post(erase).headers["Scrub-Status"] == "done", timeout=60)
    replies = client.get(f"/v1/tickets/{ticket['id']}/replies").json()["items"]
    assert [(r["body"], r["author"]) for r in replies] == [("(erased)", "customer"), ("(erased)", "agent")]
    kept = client.get(f"/v1/tickets/{ticket['id']}").json()
    assert kept["subject"] is None and kept["contact_id"] == contact["id"]
