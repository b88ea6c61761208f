"""The operator's side of a tenant (API.md section 6; docs/decisions/0028): create, list, show, change its
plan, suspend, resume and delete. The Chalice control plane (functions/control_plane) and ``crm tenant``
both call these, and nothing else.

A tenant's ``status`` is ``active``, ``suspended`` or ``deleting``; the authorizer reads it with every
credential (services/credentials.py) and refuses any but ``active`` with 403 ``/problems/tenant-suspended``.

Deletion removes, in this order, so that a run cut short and started again finishes the job:
1. the tenant turns ``deleting`` (every credential refused from then on, nothing new written by requests);
2. its schedules (reminders, SLA timers, campaign sends, quote expiries, contract timers: named from its
   records) and its EventBridge rules
   (found by the tenant id in their event pattern), its users' sign-ins in the user pool;
3. its files: every ``<prefix>/<tenant id>/`` folder of the imports bucket (uploads, chunks, rejected rows,
   exports) and ``analytics/tenant=<tenant id>/`` of the analytics bucket;
4. its items, found by a parallel Scan of the table for keys starting ``T#<tenant id>`` (the layout keys
   many partitions by a value — an email marker, a type-ahead letter, a tag — so no set of Queries finds
   them all), the tenant item last;
5. the check: the same Scan, listings and look-ups again, which must find nothing; what they find is
   reported (and a second run deletes it).

It runs as a job in chunks (services/tenant_deletion.py: the schedules, sign-ins and items page by page of
the Scan, then the rules and files, then the check), through the control plane's queue in AWS and step
after step in the process for ``crm tenant delete``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from crm_core import aws, plans
from crm_core.config import settings
from crm_core.errors import FieldError, ProblemError, validation_failed
from crm_core.ids import utc_now
from crm_core.repositories import record_repository, tenant_repository
from crm_core.repositories.table import TenantItem

STATUSES = ("active", "suspended", "deleting")
SCAN_SEGMENTS = 4  # a deletion's parallel Scan (each segment one thread)

Progress = Callable[[str, int], None]  # (phase, how many more done)


def _no_progress(phase: str, done: int) -> None:
    return None


def tenant_not_found(tenant_id: str) -> ProblemError:
    return ProblemError(404, "Not Found", f"No tenant with id {tenant_id!r}.")


# ------------------------------------------------------------------------------------------ read


def describe(tenant: TenantItem) -> dict[str, Any]:
    """A tenant as the operator sees it: `crm tenant show` and GET /tenants/{id}."""
    return {
        "tenant_id": tenant.id,
        "name": tenant.name,
        "plan": tenant.plan or "free",
        "status": tenant.status or "active",
        "quotas": plans.quotas_of(tenant).as_dict(),
        "created_at": tenant.created_at,
        "status_changed_at": tenant.status_changed_at,
        "default_pipeline_id": tenant.default_pipeline_id,
    }


def show(tenant_id: str) -> dict[str, Any]:
    """The tenant with its plan, status, quotas and what it uses of them (one GetItem, two Queries)."""
    from crm_core.services.users import active_users_by_role

    tenant = tenant_repository.get_tenant(tenant_id, consistent=True)
    if tenant is None:
        raise tenant_not_found(tenant_id)
    month = datetime.now(UTC).strftime("%Y-%m")
    return {
        **describe(tenant),
        "usage": {
            "seats": sum(active_users_by_role(tenant_id).values()),
            "contacts": record_repository.count_of(tenant_id, "contact", "active"),
            "emails_this_month": tenant_repository.emails_in_month(tenant_id, month),
        },
    }


def list_page(limit: int = 100, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` tenants in creation order after the id ``after`` (one Query), and where to go on."""
    if not 1 <= limit <= 1000:
        raise validation_failed([FieldError("limit", "must be 1 to 1000")], "limit: must be 1 to 1000")
    items, next_after = tenant_repository.list_tenants(limit, after)
    return [describe(item) for item in items], next_after


# ----------------------------------------------------------------------------------------- write


def create(
    name: str,
    admin_email: str | None = None,
    plan: str = "free",
    overrides: dict[str, int | None] | None = None,
) -> dict[str, Any]:
    """The tenant, its default pipeline, its first admin user and key (services/tenants.py), on ``plan``."""
    from crm_core.services.tenants import create_tenant

    errors = _plan_errors(plan, overrides or {})
    if not name or not name.strip():
        errors.append(FieldError("name", "is required"))
    if errors:
        raise validation_failed(errors, "; ".join(f"{e.field}: {e.message}" for e in errors))
    made = create_tenant(name.strip(), admin_email, plan=plan)
    if overrides:
        set_plan(made.tenant_id, plan, overrides)
    return {"tenant_id": made.tenant_id, "api_key": made.api_key, "user_id": made.user_id}


def _plan_errors(plan: str, overrides: dict[str, int | None]) -> list[FieldError]:
    errors = []
    if plan not in plans.PLAN_NAMES:
        errors.append(FieldError("plan", f"must be one of {', '.join(plans.PLAN_NAMES)}"))
    for quota, value in overrides.items():
        if quota not in plans.OVERRIDES:
            errors.append(FieldError(quota, f"is not a quota (they are {', '.join(plans.OVERRIDES)})"))
        elif value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            errors.append(FieldError(quota, "must be a whole number of at least 1"))
    return errors


def set_plan(tenant_id: str, plan: str, overrides: dict[str, int | None] | None = None) -> dict[str, Any]:
    """The tenant's plan is ``plan``, with the quotas of ``overrides`` replacing the plan's (a quota not
    named there is the plan's own). One conditional UpdateItem; setting the same plan again changes nothing
    visible."""
    overrides = dict(overrides or {})
    errors = _plan_errors(plan, overrides)
    if errors:
        raise validation_failed(errors, "; ".join(f"{e.field}: {e.message}" for e in errors))
    values: dict[str, Any] = {"plan": plan}
    for quota, attribute in plans.OVERRIDES.items():
        values[attribute] = overrides.get(quota)
    updated = tenant_repository.update_tenant(tenant_id, values, unless_status="deleting")
    if updated is None:
        raise tenant_not_found(tenant_id)
    plans.forget(tenant_id)
    return describe(_read(tenant_id))


def suspend(tenant_id: str) -> dict[str, Any]:
    """Every credential of the tenant is refused (403) from its next request on; nothing is deleted."""
    return _set_status(tenant_id, "suspended")


def resume(tenant_id: str) -> dict[str, Any]:
    """The tenant's credentials work again."""
    return _set_status(tenant_id, "active")


def _set_status(tenant_id: str, status: str) -> dict[str, Any]:
    tenant = _read(tenant_id)
    if tenant.status != status:
        if (
            tenant_repository.update_tenant(
                tenant_id, {"status": status, "status_changed_at": utc_now()}, unless_status="deleting"
            )
            is None
        ):
            raise tenant_not_found(tenant_id)  # gone, or being deleted
        plans.forget(tenant_id)  # this process's workers see the new status at once (others in a minute)
        tenant = _read(tenant_id)
    return describe(tenant)


def _read(tenant_id: str) -> TenantItem:
    tenant = tenant_repository.get_tenant(tenant_id, consistent=True)
    if tenant is None or tenant.status == "deleting":
        raise tenant_not_found(tenant_id)
    return tenant


# ---------------------------------------------------------------------------------------- delete


def is_tenant_item(key: dict[str, str]) -> bool:
    """The tenant item's key (``T#<t>``, the tenant SK): deleted last, it marks a deletion as under way."""
    return key["SK"] == tenant_repository.TENANT_SK and "#" not in key["PK"][2:]


def schedules_left(names: list[str]) -> int:
    """How many of the schedules named are there (the check of the schedules a deletion removed)."""
    scheduler = aws.client("scheduler")
    left = 0
    for name in names:
        with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):
            scheduler.get_schedule(Name=name, GroupName=settings().schedule_group)
            left += 1
    return left


def check(tenant_id: str, schedule_names: list[str] | None = None) -> dict[str, int]:
    """What is left of the tenant anywhere: items, files, rules, schedules (those named), by kind."""
    return {
        "items": len(_tenant_keys(tenant_id, _no_progress)),
        "files": sum(1 for _ in _tenant_files(tenant_id)),
        "rules": len(_tenant_rules(tenant_id)),
        "schedules": schedules_left(schedule_names or []),
    }


def _tenant_keys(tenant_id: str, on_progress: Progress) -> list[dict[str, str]]:
    def segment(number: int) -> list[dict[str, str]]:
        keys: list[dict[str, str]] = []
        for page in tenant_repository.tenant_keys(tenant_id, number, SCAN_SEGMENTS):
            keys += page
            on_progress("scan", len(page))
        return keys

    with ThreadPoolExecutor(SCAN_SEGMENTS) as pool:
        return [key for keys in pool.map(segment, range(SCAN_SEGMENTS)) for key in keys]


def _records(found: list[dict[str, str]], object_type: str) -> list[str]:
    """The ids of the tenant's records of a type among the keys (``T#<t>#<type>#<id>`` / ``#RECORD``)."""
    ids = []
    for key in found:
        parts = key["PK"].split("#")
        if key["SK"] == record_repository.keys.RECORD_SK and len(parts) == 4 and parts[2] == object_type:
            ids.append(parts[3])
    return ids


def _schedule_names(found: list[dict[str, str]]) -> list[str]:
    """Every at() schedule the tenant's records may have: an activity's reminder, a ticket's SLA timers, a
    campaign's send, a quote's expiry, a contract's renewal, expiry and overdue timers (their names carry
    the record's id, not the tenant's)."""
    from crm_core.services import campaign_sends, contract_timers, quotes, reminders, ticket_sla

    names = [reminders.schedule_name(i) for i in _records(found, "activity")]
    names += [ticket_sla.schedule_name(i, t) for i in _records(found, "ticket") for t in ticket_sla.TIMERS]
    names += [campaign_sends.schedule_name(i) for i in _records(found, "campaign")]
    names += [quotes.EXPIRY_PREFIX + i for i in _records(found, "quote")]
    names += [
        contract_timers.schedule_name(i, t)
        for i in _records(found, "contract")
        for t in contract_timers.TIMERS
    ]
    return names


def _delete_schedules(names: list[str], on_progress: Progress) -> int:
    from crm_core.services import schedules

    deleted = 0
    for name in names:
        deleted += schedules.remove(name) == "deleted"
        on_progress("schedules", 1)
    return deleted


def _tenant_rules(tenant_id: str) -> list[str]:
    """The crm bus's partner rules whose pattern names the tenant (services/event_target_rules.py)."""
    from crm_core.definitions import PARTNER_RULE_PREFIX

    events = aws.client("events")
    found = []
    for page in events.get_paginator("list_rules").paginate(
        NamePrefix=PARTNER_RULE_PREFIX, EventBusName=settings().event_bus_name
    ):
        for rule in page.get("Rules", []):
            if f'"{tenant_id}"' in (rule.get("EventPattern") or ""):
                found.append(rule["Name"])
    return found


def _delete_rules(tenant_id: str, on_progress: Progress) -> int:
    events = aws.client("events")
    bus = settings().event_bus_name
    names = _tenant_rules(tenant_id)
    for name in names:
        targets = events.list_targets_by_rule(Rule=name, EventBusName=bus).get("Targets", [])
        if targets:
            events.remove_targets(Rule=name, EventBusName=bus, Ids=[t["Id"] for t in targets])
        with contextlib.suppress(events.exceptions.ResourceNotFoundException):
            events.delete_rule(Name=name, EventBusName=bus)
        on_progress("rules", 1)
    return len(names)


def _delete_sign_ins(tenant_id: str, found: list[dict[str, str]], on_progress: Progress) -> int:
    """The tenant's users' sign-ins in the user pool, by the emails of their unique markers."""
    from crm_core.services import user_directory

    marker = f"T#{tenant_id}#user#email#"
    emails = [k["PK"].removeprefix(marker) for k in found if k["PK"].startswith(marker)]
    removed = 0
    for email in emails:
        removed += user_directory.remove(tenant_id, email)
        on_progress("sign-ins", 1)
    return removed


def _file_prefixes(tenant_id: str) -> list[tuple[str, str]]:
    """(bucket, prefix) of every folder of the tenant's files."""
    config = settings()
    client = aws.client("s3")
    folders = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=config.imports_bucket, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            folders.append((config.imports_bucket, f"{common['Prefix']}{tenant_id}/"))
    from crm_core.reports.store import tenant_prefix

    folders.append((config.analytics_bucket, tenant_prefix(tenant_id)))
    return folders


def _tenant_files(tenant_id: str) -> Any:
    client = aws.client("s3")
    for bucket, prefix in _file_prefixes(tenant_id):
        with contextlib.suppress(client.exceptions.NoSuchBucket):
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for found in page.get("Contents", []):
                    yield bucket, found["Key"]


def _delete_files(tenant_id: str, on_progress: Progress) -> int:
    from crm_core.services.exports import delete_tenant_files

    client = aws.client("s3")
    deleted = delete_tenant_files(tenant_id)  # the exports' open uploads too
    batch: dict[str, list[dict[str, str]]] = {}
    for bucket, key in list(_tenant_files(tenant_id)):
        batch.setdefault(bucket, []).append({"Key": key})
    for bucket, objects in batch.items():
        for start in range(0, len(objects), 1000):
            client.delete_objects(
                Bucket=bucket, Delete={"Objects": objects[start : start + 1000], "Quiet": True}
            )
            deleted += len(objects[start : start + 1000])
            on_progress("files", len(objects[start : start + 1000]))
    return deleted
