"""The operator's control plane (API.md section 6): the Chalice app through ``chalice.test.Client``, against
the session's local runtime (the same moto server), and what its operations do to the tenants' API over
HTTP: plans and their quotas enforced, suspension refusing every credential, deletion leaving nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from chalice import IAMAuthorizer
from chalice.test import Client
from crm_core import aws
from crm_core.config import settings
from crm_core.services import tenant_deletion, tenant_lifecycle

from crm_local.runtime import LocalRuntime
from functions.control_plane.app import app
from tests.integration.test_contracts import contract_body
from tests.integration.test_exports import run_export
from tests.integration.test_imports import run_import
from tests.integration.test_partner_buses import PartnerBus
from tests.integration.test_webhooks import Receiver, add_webhook
from tests.support.client import ApiClient
from tests.support.waiting import eventually

SUSPENDED = "/problems/tenant-suspended"
QUOTA = "/problems/quota-exceeded"


@pytest.fixture
def operator(runtime: LocalRuntime) -> Iterator[Client]:
    with Client(app) as chalice_client:
        yield chalice_client


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def call(operator: Client, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    answer = getattr(operator.http, method)(
        path,
        headers={"Content-Type": "application/json"},
        body=json.dumps(body) if body is not None else None,
    )
    return answer.status_code, json.loads(answer.body) if answer.body else None


def test_every_route_takes_iam_credentials_only() -> None:
    routes = [
        (path, method, entry) for path, methods in app.routes.items() for method, entry in methods.items()
    ]
    assert {(path, method) for path, method, _ in routes} == {
        ("/tenants", "POST"),
        ("/tenants", "GET"),
        ("/tenants/{tenant_id}", "GET"),
        ("/tenants/{tenant_id}", "DELETE"),
        ("/tenants/{tenant_id}/plan", "PUT"),
        ("/tenants/{tenant_id}/suspend", "POST"),
        ("/tenants/{tenant_id}/resume", "POST"),
        ("/tenants/{tenant_id}/leftovers", "GET"),
        ("/tenants/{tenant_id}/deletion", "GET"),
    }
    assert all(isinstance(entry.authorizer, IAMAuthorizer) for _, _, entry in routes)


def test_create_plan_suspend_resume_through_the_control_plane(
    operator: Client, base_url: str, other: ApiClient
) -> None:
    status, made = call(operator, "post", "/tenants", {"name": "Initech", "plan": "team"})
    assert status == 201, made
    tenant = ApiClient(base_url, made["api_key"], made["tenant_id"], made["user_id"])
    me = tenant.get("/v1/me")
    assert me.status_code == 200 and me.json()["role"] == "admin", me.text
    assert me.headers["RateLimit-Limit"] == "3000"  # the team plan's rate, from its next request on
    pipelines = tenant.get("/v1/pipelines").json()["items"]
    assert len(pipelines) == 1  # the default pipeline

    # Bad input names the field and creates nothing.
    assert (
        call(operator, "post", "/tenants", {"name": "X", "plan": "gold"})[1]["errors"][0]["field"] == "plan"
    )
    bad = call(operator, "post", "/tenants", {"name": "X", "owner": "me"})
    assert bad[0] == 422 and bad[1]["errors"] == [
        {"field": "owner", "message": "is not a field of this operation"}
    ]
    assert call(operator, "post", "/tenants", {"name": "X", "quotas": {"seats": 0}})[1]["errors"][0][
        "field"
    ] == ("seats")

    status, shown = call(operator, "get", f"/tenants/{made['tenant_id']}")
    assert status == 200 and (shown["plan"], shown["status"]) == ("team", "active"), shown
    assert shown["quotas"]["seats"] == 50 and shown["usage"] == {
        "seats": 1,
        "contacts": 0,
        "emails_this_month": 0,
    }
    assert call(operator, "get", "/tenants/01NOSUCHTENANT000000000000")[0] == 404

    status, planned = call(
        operator,
        "put",
        f"/tenants/{made['tenant_id']}/plan",
        {"plan": "custom", "quotas": {"seats": 2, "requests_per_minute": 50}},
    )
    assert status == 200 and planned["plan"] == "custom", planned
    assert planned["quotas"] == {
        "requests_per_minute": 50,
        "seats": 2,
        "contacts": 25_000,
        "emails_per_month": 10_000,
    }
    assert tenant.get("/v1/me").headers["RateLimit-Limit"] == "50"

    # Suspended: every credential of the tenant refused with its problem type; a bad one is still a 401;
    # the other tenant goes on; nothing is deleted.
    contact = tenant.create("contacts", {"email": "kept@initech.example"})
    status, suspended = call(operator, "post", f"/tenants/{made['tenant_id']}/suspend")
    assert status == 200 and suspended["status"] == "suspended"
    refused = tenant.get(f"/v1/contacts/{contact['id']}")
    assert refused.status_code == 403 and refused.json()["type"] == SUSPENDED, refused.text
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert tenant.post("/v1/contacts", {"email": "new@initech.example"}).json()["type"] == SUSPENDED
    forged = ApiClient(base_url, made["api_key"][:-4] + "AAAA", made["tenant_id"])
    assert forged.get("/v1/me").status_code == 401
    assert other.get("/v1/me").status_code == 200
    listed = {t["tenant_id"]: t for t in _all_tenants(operator)}
    assert (
        listed[made["tenant_id"]]["status"] == "suspended" and listed[other.tenant_id]["status"] == "active"
    )

    status, resumed = call(operator, "post", f"/tenants/{made['tenant_id']}/resume")
    assert status == 200 and resumed["status"] == "active"
    again = tenant.get(f"/v1/contacts/{contact['id']}")
    assert again.status_code == 200 and again.json()["email"] == "kept@initech.example"
    assert call(operator, "post", "/tenants/01NOSUCHTENANT000000000000/suspend")[0] == 404


def _all_tenants(operator: Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        status, page = call(operator, "get", "/tenants?limit=1000" + (f"&after={after}" if after else ""))
        assert status == 200, page
        found += page["items"]
        after = page["next_after"]
        if after is None:
            return found


def test_the_plans_quotas_hold_for_seats_and_contacts(client: ApiClient, other: ApiClient) -> None:
    tenant_lifecycle.set_plan(client.tenant_id, "custom", {"seats": 2, "contacts": 3})

    first = client.post("/v1/users", {"email": "one@acme.example", "role": "rep"})
    assert first.status_code == 201, first.text
    refused = client.post("/v1/users", {"email": "two@acme.example", "role": "rep"})
    assert refused.status_code == 403, refused.text
    problem = refused.json()
    assert (problem["type"], problem["quota"], problem["limit"], problem["used"]) == (QUOTA, "seats", 2, 2)
    assert client.get("/v1/users").json()["items"].__len__() == 2  # nothing written
    # A seat freed is a seat taken again; the user deactivated cannot come back while it is taken.
    assert client.delete(f"/v1/users/{first.json()['id']}").status_code == 200
    assert client.post("/v1/users", {"email": "two@acme.example", "role": "rep"}).status_code == 201
    back = client.patch(f"/v1/users/{first.json()['id']}", {"active": True})
    assert back.status_code == 403 and back.json()["quota"] == "seats", back.text

    for n in range(2):
        client.create("contacts", {"email": f"c{n}@acme.example"})
    batch = client.post(
        "/v1/contacts/batch/create", {"inputs": [{"email": "c2@acme.example"}, {"email": "c3@acme.example"}]}
    )
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert results[0]["status"] == 201 and results[1]["status"] == 403, results
    assert results[1]["error"]["type"] == QUOTA and results[1]["error"]["quota"] == "contacts"
    over = client.post("/v1/contacts", {"email": "c4@acme.example"})
    assert over.status_code == 403 and over.json()["quota"] == "contacts", over.text
    assert len(client.all_pages("/v1/contacts")) == 3
    # An import stops at the quota too: its rows beyond it are rejected, not written.
    job = run_import(client, b"email\nc5@acme.example\n")
    assert job["status"] == "completed" and job["created"] == 0 and job["failed"] == 1, job

    # The other tenant, on the free plan, is not held by this one's quotas.
    for n in range(4):
        other.create("contacts", {"email": f"c{n}@rival.example"})
    assert other.post("/v1/users", {"email": "two@rival.example", "role": "rep"}).status_code == 201
    # A larger plan lifts the quota at once in this process (within a minute in every function container).
    tenant_lifecycle.set_plan(client.tenant_id, "team")
    assert client.post("/v1/contacts", {"email": "c4@acme.example"}).status_code == 201


def _queued_steps() -> list[dict[str, Any]]:
    """The deletion queue's messages (taken off it), as the control plane's function would receive them."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=tenant_deletion.QUEUE_NAME)["QueueUrl"]
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _invoke_step(operator: Client, body: dict[str, Any]) -> None:
    event = operator.events.generate_sqs_event([json.dumps(body)], tenant_deletion.QUEUE_NAME)
    operator.lambda_.invoke("tenant_deletion_step", event)


def _run_deletion(
    operator: Client, bodies: list[dict[str, Any]], delayed: list[str] | None = None
) -> dict[str, Any]:
    """Each queued step through the app's queue handler, and the steps they queue, until the job is over;
    the job as the status route shows it then. ``delayed`` gets the job's phase each time its next step was
    queued with a delay (a new round's first, invisible until its delay is over)."""
    tenant_id = bodies[0]["tenant_id"]
    while True:
        for body in bodies:
            _invoke_step(operator, body)
        bodies = _queued_steps()
        status, job = call(operator, "get", f"/tenants/{tenant_id}/deletion")
        assert status == 200, job
        if bodies:
            continue
        if job["state"] != "running":
            return dict(job)
        if delayed is not None:
            delayed.append(job["phase"])
        assert eventually(_peek_steps, timeout=10), job
        bodies = _queued_steps()


def _delete_through_the_queue(
    operator: Client,
    client: ApiClient,
    before: dict[str, int],
    schedules: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The deletion as the control plane runs it: 202 and a job, then its steps through the queue."""
    # The DELETE answers 202 with the job at once; the deletion queue carries it step by step (a step of no
    # more than a page of each Scan segment here, pages of about a twelfth of the table: three a segment).
    monkeypatch.setattr(tenant_deletion, "STEP_SECONDS", 0.0)
    table = aws.client("dynamodb").describe_table(TableName=settings().table_name)["Table"]
    monkeypatch.setattr(tenant_deletion, "SCAN_PAGE_ITEMS", max(20, int(table["ItemCount"]) // 12))
    status, job = call(operator, "delete", f"/tenants/{client.tenant_id}")
    assert status == 202, job
    assert (job["state"], job["phase"], job["steps"], job["removed"]["items"]) == ("running", "items", 0, 0)
    assert client.get("/v1/me").json()["type"] == SUSPENDED  # refused from the start
    assert call(operator, "get", f"/tenants/{client.tenant_id}/deletion") == (200, job)
    first = _queued_steps()
    assert first == [{"tenant_id": client.tenant_id, "step": 0}]
    report = _run_deletion(operator, first)
    assert report["steps"] >= 5 and report["state"] == "completed" and report["complete"], report
    assert report["left"] == {"items": 0, "files": 0, "rules": 0, "schedules": 0}, report
    removed = report["removed"]
    assert removed["items"] == before["items"] and removed["files"] == before["files"], report
    assert removed["rules"] == before["rules"] and removed["schedules"] >= schedules, report
    assert call(operator, "get", f"/tenants/{client.tenant_id}/deletion") == (200, report)
    assert client.get("/v1/me").status_code == 401  # its key is gone with it
    assert call(operator, "get", f"/tenants/{client.tenant_id}")[0] == 404
    # A step's message again (SQS delivers at least once): nothing runs, nothing changes.
    _invoke_step(operator, {"tenant_id": client.tenant_id, "step": 1})
    assert call(operator, "get", f"/tenants/{client.tenant_id}/deletion")[1] == report
    # Again (a retry after a timeout): a new job, nothing to delete, nothing left.
    status, again = call(operator, "delete", f"/tenants/{client.tenant_id}")
    assert status == 202 and again["state"] == "running", again
    again = _run_deletion(operator, _queued_steps())
    assert again["removed"]["items"] == 0 and again["complete"], again
    assert call(operator, "get", f"/tenants/{client.tenant_id}/leftovers")[1]["left"]["items"] == 0
    assert call(operator, "delete", "/tenants/01NOSUCHTENANT000000000000")[0] == 404
    assert call(operator, "get", "/tenants/01NOSUCHTENANT000000000000/deletion")[0] == 404


def test_deleting_a_tenant_leaves_nothing_of_it_and_the_other_tenant_whole(
    runtime: LocalRuntime,
    operator: Client,
    client: ApiClient,
    other: ApiClient,
    hook: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fill(tenant: ApiClient, name: str) -> dict[str, Any]:
        contact = tenant.create(
            "contacts", {"email": f"ada@{name}.example", "first_name": "Ada", "tags": ["vip"]}
        )
        deal = tenant.create("deals", {"name": f"{name} deal", "amount": "100.00", "currency": "EUR"})
        remind_at = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        activity = tenant.create(
            "activities",
            {"type": "task", "subject": "Call", "contact_id": contact["id"], "remind_at": remind_at},
        )
        add_webhook(tenant, hook.url, ["*"])
        partner = PartnerBus(f"delete-{tenant.tenant_id.lower()}")
        bus = tenant.post(
            "/v1/event-targets",
            {"type": "eventbridge", "event_bus_arn": partner.arn, "event_types": ["contact.*"]},
        )
        assert bus.status_code == 201, bus.text
        assert eventually(
            lambda: tenant.get(f"/v1/event-targets/{bus.json()['id']}").json()["status"] == "active"
        )
        # A sent quote (its expiry schedule) and an active contract with a plan (renewal, expiry, overdue).
        lines = [{"description": "Engine", "quantity": "1", "unit_price": "100.00"}]
        quote = tenant.create(
            "quotes",
            {
                "deal_id": deal["id"],
                "contact_id": contact["id"],
                "currency": "EUR",
                "valid_until": (datetime.now(UTC) + timedelta(days=30)).date().isoformat(),
                "line_items": lines,
            },
        )
        assert tenant.post(f"/v1/quotes/{quote['id']}/send", {}).status_code == 200
        contract = tenant.create("contracts", contract_body(status="active", renewal_reminder_days=10))
        imported = run_import(tenant, f"email\nimported@{name}.example\n".encode())
        assert imported["status"] == "completed", imported
        exported = run_export(tenant)
        assert exported["status"] == "completed", exported
        return {
            "contact": contact,
            "deal": deal,
            "activity": activity,
            "quote": quote,
            "contract": contract,
            "schedules": [
                f"reminder-{activity['id']}",
                f"quote-expiry-{quote['id']}",
                *(f"contract-{contract['id']}-{timer}" for timer in ("renewal", "expiry", "overdue")),
            ],
            "rule": f"crm-target-{bus.json()['id']}",
        }

    mine, theirs = fill(client, "acme"), fill(other, "rival")
    scheduler, events = aws.client("scheduler"), aws.client("events")
    group, bus_name = settings().schedule_group, settings().event_bus_name

    def schedule_of(name: str) -> bool:
        try:
            scheduler.get_schedule(Name=name, GroupName=group)
        except scheduler.exceptions.ResourceNotFoundException:
            return False
        return True

    def schedules_of(tenant: dict[str, Any]) -> list[str]:
        return [name for name in tenant["schedules"] if schedule_of(name)]

    assert eventually(
        lambda: schedules_of(mine) == mine["schedules"] and schedules_of(theirs) == theirs["schedules"]
    )
    before = tenant_lifecycle.check(client.tenant_id)
    # Its rules: its partner bus target's and its webhooks' (decision 0038).
    assert before["items"] > 20 and before["files"] >= 3 and before["rules"] == 2, before

    _delete_through_the_queue(operator, client, before, len(mine["schedules"]), monkeypatch)
    assert schedules_of(mine) == []  # the reminder's, the quote's expiry, the contract's three timers

    # The other tenant: every record, file, schedule and rule of its own still there.
    for kind, path in (
        ("contact", "contacts"),
        ("deal", "deals"),
        ("activity", "activities"),
        ("quote", "quotes"),
        ("contract", "contracts"),
    ):
        assert other.get(f"/v1/{path}/{theirs[kind]['id']}").status_code == 200, kind
    assert schedules_of(theirs) == theirs["schedules"]
    assert events.describe_rule(Name=theirs["rule"], EventBusName=bus_name)["Name"] == theirs["rule"]
    left = tenant_lifecycle.check(other.tenant_id)
    assert left["items"] > 20 and left["files"] >= 3 and left["rules"] == 2, left
    export = run_export(other)
    assert requests.get(export["download_url"], timeout=30).status_code == 200


def test_the_campaign_sender_stops_at_the_plans_emails_a_month(client: ApiClient) -> None:
    from tests.integration.test_campaigns import BODY, contacts, finished, segment_of, sent_to

    tenant_lifecycle.set_plan(client.tenant_id, "custom", {"emails_per_month": 2})
    domain = f"q{client.tenant_id.lower()}.example"
    contacts(client, domain, ["granted"] * 3, "quota")
    campaign = client.create(
        "campaigns",
        {
            "name": "Quota",
            "segment_id": segment_of(client, "quota"),
            "subject": "News",
            "from": f"news@{domain}",
            "body": BODY,
        },
    )
    assert client.post(f"/v1/campaigns/{campaign['id']}/send").status_code == 200
    finished(client, campaign["id"])
    assert eventually(lambda: len(sent_to(domain)) >= 2)
    stats = client.get(f"/v1/campaigns/{campaign['id']}/stats").json()
    assert (stats["recipients"], stats["sent"], stats["skipped"]) == (3, 2, 1), stats
    assert len(sent_to(domain)) == 2
    assert tenant_lifecycle.show(client.tenant_id)["usage"]["emails_this_month"] == 2


def test_what_late_work_writes_after_a_round_is_deleted_by_the_next(
    operator: Client, client: ApiClient, other: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work on its way when a deletion began (a usage file Firehose held, an exporter's batch) can write some
    of the tenant again after a round: the round's check finds it and another round deletes it, its step
    queued ``deletion_round_delay_s`` later; what every round finds again leaves the job incomplete."""
    from crm_core.reports.store import tenant_prefix

    client.create("contacts", {"email": "late@example.com"})
    other.create("contacts", {"email": "later@example.com"})
    writes = {client.tenant_id: 2, other.tenant_id: tenant_deletion.ROUNDS}  # late writes after each round
    original = tenant_deletion._rest

    def rest_then_late_work(job: dict[str, Any], on_progress: Any) -> None:
        original(job, on_progress)
        tenant_id = job["tenant_id"]
        if writes[tenant_id]:
            writes[tenant_id] -= 1
            late = f"{tenant_prefix(tenant_id)}object=usage/date=2026-11-28/late-{writes[tenant_id]}.parquet"
            aws.client("s3").put_object(Bucket=settings().analytics_bucket, Key=late, Body=b"late")
            aws.client("dynamodb").put_item(
                TableName=settings().table_name,
                Item={"PK": {"S": f"T#{tenant_id}#late"}, "SK": {"S": str(writes[tenant_id])}},
            )

    monkeypatch.setattr(tenant_deletion, "_rest", rest_then_late_work)
    done = tenant_deletion.shown(tenant_deletion.run(client.tenant_id))
    assert (done["state"], done["round"]) == ("completed", 3), done
    assert done["left"] == {"items": 0, "files": 0, "rules": 0, "schedules": 0}, done

    # Through the queue: the step that begins a round is queued with the round's delay.
    monkeypatch.setattr(tenant_deletion, "STEP_SECONDS", 0.0)
    status, job = call(operator, "delete", f"/tenants/{other.tenant_id}")
    assert status == 202, job
    delayed: list[str] = []
    job = _run_deletion(operator, _queued_steps(), delayed)
    assert delayed == ["items"] * (tenant_deletion.ROUNDS - 1), "each new round's step waited for its delay"
    assert (job["state"], job["round"], job["complete"]) == ("incomplete", tenant_deletion.ROUNDS, False), job
    assert job["left"] == {"items": 1, "files": 1, "rules": 0, "schedules": 0}, job


def _peek_steps() -> bool:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=tenant_deletion.QUEUE_NAME)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) > 0


def test_a_web_users_id_token_is_refused_while_suspended_and_its_sign_in_goes_with_the_tenant(
    base_url: str, other: ApiClient
) -> None:
    import os

    import boto3

    from tests.integration.test_web_sign_in import sign_in

    email = f"admin-{os.urandom(4).hex()}@initech.example"
    made = tenant_lifecycle.create("Initech", email)
    web = ApiClient(base_url, sign_in(email)["IdToken"], made["tenant_id"])
    assert web.get("/v1/me").status_code == 200
    tenant_lifecycle.suspend(made["tenant_id"])
    refused = web.get("/v1/me")
    assert refused.status_code == 403 and refused.json()["type"] == SUSPENDED, refused.text
    tenant_lifecycle.resume(made["tenant_id"])
    assert web.get("/v1/me").status_code == 200

    report = tenant_deletion.shown(tenant_deletion.run(made["tenant_id"]))
    assert report["complete"] and report["removed"]["sign_ins"] == 1, report
    cognito = boto3.client("cognito-idp")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=os.environ["CRM_USER_POOL_ID"], Username=email)
    assert web.get("/v1/me").status_code == 401
    assert other.get("/v1/me").status_code == 200
