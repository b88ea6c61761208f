"""The operator's control plane (API.md section 6): a Chalice app over services/tenant_lifecycle.py, the
same code `crm tenant` runs. Every route takes AWS IAM (SigV4) credentials only: it is the SaaS operator's
API, never a tenant's (docs/decisions/0028). Deployed as this module's ``app`` behind its own REST API
(infra/control_plane.py), one API Gateway resource per route, each with ``AWS_IAM`` authorization.

Errors are RFC 9457 problem details, as the application plane's: 404 for an unknown tenant, 422 naming the
bad field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Cron, IAMAuthorizer, Response
from chalice.app import CloudWatchEvent, Request, SQSEvent
from crm_core.errors import PROBLEM_CONTENT_TYPE, FieldError, ProblemError, validation_failed

app = Chalice(app_name="crm-control-plane")
operator = IAMAuthorizer()

QUOTA_FIELDS = ("requests_per_minute", "seats", "contacts", "emails_per_month")
# The billing export runs daily at 02:00 UTC: after the 00:30 compaction has measured storage, and the month
# just ended has had its last usage lines delivered (Firehose buffers 15 minutes).
BILLING_SCHEDULE = Cron(0, 2, "*", "*", "?", "*")
# The app's queues (chalice.app imports no crm_core): services/tenant_deletion.QUEUE_NAME, a deletion's next
# step; services/billing.QUEUE_NAME, a billing export's next page of tenants.
DELETION_QUEUE = "crm-tenant-deletions"
BILLING_QUEUE = "crm-billing-exports"


def _answer(status: int, body: Any) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={"Content-Type": "application/json"})


def _problem(error: ProblemError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": PROBLEM_CONTENT_TYPE, **error.headers}
    return Response(body=json.dumps(error.to_dict()), status_code=error.status, headers=headers)


def _request() -> Request:
    request = app.current_request
    assert request is not None  # set by Chalice for every route it calls
    return request


def _body(allowed: tuple[str, ...]) -> dict[str, Any]:
    """The request's JSON object, with no field but ``allowed`` (422 naming the others)."""
    raw = _request().raw_body
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise ProblemError(400, "Bad Request", "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise validation_failed([FieldError("body", "must be a JSON object")])
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise validation_failed([FieldError(name, "is not a field of this operation") for name in unknown])
    return body


def _quotas(body: dict[str, Any]) -> dict[str, int | None]:
    quotas = body.get("quotas") or {}
    if not isinstance(quotas, dict):
        raise validation_failed([FieldError("quotas", f"must be an object of {', '.join(QUOTA_FIELDS)}")])
    return dict(quotas)


def _served(operation: Callable[[], Response]) -> Response:
    try:
        return operation()
    except ProblemError as error:
        return _problem(error)


@app.route("/tenants", methods=["POST"], authorizer=operator)
def create_tenant() -> Response:
    """{"name", "admin_email"?, "plan"?, "quotas"?} -> 201 {"tenant_id", "api_key", "user_id"}."""
    from crm_core.services import tenant_lifecycle

    def run() -> Response:
        body = _body(("name", "admin_email", "plan", "quotas"))
        if not isinstance(body.get("name"), str):
            raise validation_failed([FieldError("name", "is required (a string)")])
        made = tenant_lifecycle.create(
            body["name"], body.get("admin_email"), body.get("plan") or "free", _quotas(body)
        )
        return _answer(201, made)

    return _served(run)


@app.route("/tenants", methods=["GET"], authorizer=operator)
def list_tenants() -> Response:
    """?limit=1-1000&after=<tenant id> -> {"items": [...], "next_after": id | null}, oldest first."""
    from crm_core.services import tenant_lifecycle

    def run() -> Response:
        query = dict(_request().query_params or {})
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            raise validation_failed([FieldError("limit", "must be a whole number")]) from None
        items, next_after = tenant_lifecycle.list_page(limit, query.get("after"))
        return _answer(200, {"items": items, "next_after": next_after})

    return _served(run)


@app.route("/tenants/{tenant_id}", methods=["GET"], authorizer=operator)
def show_tenant(tenant_id: str) -> Response:
    from crm_core.services import tenant_lifecycle

    return _served(lambda: _answer(200, tenant_lifecycle.show(tenant_id)))


@app.route("/tenants/{tenant_id}/plan", methods=["PUT"], authorizer=operator)
def set_plan(tenant_id: str) -> Response:
    """{"plan": "free"|"team"|"business"|"custom", "quotas"?: {quota: n}} -> the tenant."""
    from crm_core.services import tenant_lifecycle

    def run() -> Response:
        body = _body(("plan", "quotas"))
        if not isinstance(body.get("plan"), str):
            raise validation_failed([FieldError("plan", "is required (a string)")])
        return _answer(200, tenant_lifecycle.set_plan(tenant_id, body["plan"], _quotas(body)))

    return _served(run)


@app.route("/tenants/{tenant_id}/suspend", methods=["POST"], authorizer=operator)
def suspend_tenant(tenant_id: str) -> Response:
    from crm_core.services import tenant_lifecycle

    return _served(lambda: _answer(200, tenant_lifecycle.suspend(tenant_id)))


@app.route("/tenants/{tenant_id}/resume", methods=["POST"], authorizer=operator)
def resume_tenant(tenant_id: str) -> Response:
    from crm_core.services import tenant_lifecycle

    return _served(lambda: _answer(200, tenant_lifecycle.resume(tenant_id)))


@app.route("/tenants/{tenant_id}", methods=["DELETE"], authorizer=operator)
def delete_tenant(tenant_id: str) -> Response:
    """The tenant's deletion, as a job (services/tenant_deletion.py): 202 with the job, whose steps the
    deletion queue carries; ``GET /tenants/{id}/deletion`` follows it. A retry while it runs answers the
    same job; after it is done, a new one deletes what is left and checks again (docs/decisions/0034)."""
    from crm_core.services import tenant_deletion

    def run() -> Response:
        job = tenant_deletion.start(tenant_id)
        # Its next step queued (again, for a running job: a step's message already done does nothing).
        tenant_deletion.queue_step(tenant_id, job["step"])
        return Response(
            body=json.dumps(tenant_deletion.shown(job)),
            status_code=202,
            headers={"Content-Type": "application/json", "Location": f"/tenants/{tenant_id}/deletion"},
        )

    return _served(run)


@app.route("/tenants/{tenant_id}/deletion", methods=["GET"], authorizer=operator)
def tenant_deletion_status(tenant_id: str) -> Response:
    """The deletion job: ``state`` (running, completed, incomplete), ``phase``, what it ``removed`` by kind
    (items, files, schedules, rules, sign_ins) and, once checked, what is ``left``."""
    from crm_core.services import tenant_deletion

    return _served(lambda: _answer(200, tenant_deletion.status(tenant_id)))


@app.on_sqs_message(queue=DELETION_QUEUE, batch_size=1, name="tenant_deletion_step")
def tenant_deletion_step(event: SQSEvent) -> None:
    """One step of a deletion job a message; the next step queued while the job runs."""
    from crm_core.services import tenant_deletion

    for record in event:
        tenant_deletion.on_message(json.loads(record.body))


@app.route("/tenants/{tenant_id}/leftovers", methods=["GET"], authorizer=operator)
def tenant_leftovers(tenant_id: str) -> Response:
    """The deletion's check alone: what is left of the tenant's items, files and rules, by kind."""
    from crm_core.services import tenant_lifecycle

    return _served(lambda: _answer(200, {"tenant_id": tenant_id, "left": tenant_lifecycle.check(tenant_id)}))


@app.schedule(BILLING_SCHEDULE, name="billing_export")
def billing_export(event: CloudWatchEvent) -> dict[str, Any]:
    """The monthly billing export (services/billing.py): the month so far, and on the 1st the month just
    ended, as the event's time has it; a retry rewrites the same files."""
    from datetime import datetime

    from crm_core.services import billing

    now = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    return {"exported": billing.run_daily(now)}


@app.on_sqs_message(queue=BILLING_QUEUE, batch_size=1, name="billing_export_page")
def billing_export_page(event: SQSEvent) -> None:
    """A billing export that one invocation did not finish goes on from the page its message names."""
    from crm_core.services import billing

    for record in event:
        billing.on_message(json.loads(record.body))
