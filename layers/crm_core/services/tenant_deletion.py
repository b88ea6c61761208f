"""A tenant's deletion as a job in chunks (API.md section 6 "delete"; docs/decisions/0028 for what is
removed and why a Scan, docs/decisions/0034 for the job): ``start`` marks the tenant ``deleting`` and writes
the job; each ``step`` works until its time is up and saves where it got to; the control plane's queue
carries the job from one step to the next (a message per step), so a tenant of a million items is deleted
in steps that each fit in a Lambda invocation. ``crm tenant delete`` runs the same steps in the process.

Phases, each resumable from the job's saved state:

1. ``items``: the parallel Scan (``SCAN_SEGMENTS`` segments, each with its own saved cursor) for the
   tenant's keys; for each page, the schedules its records name are deleted (and looked up again: what is
   still there counts as left), the sign-ins of its users' email markers, then the page's items — all but
   the tenant item, which marks the deletion as under way;
2. ``rest``: the tenant's billing rows of the month and the month before kept (services/billing.py), the
   partner rules (found by listing the bus), the files (imports and analytics folders), then the tenant
   item;
3. ``check``: the same Scan again (chunked as well) and the listings: ``left`` counts what they find by
   kind (``items``, ``files``, ``rules``, ``schedules``), all zero when complete.

Work on its way when the deletion began can write some of the tenant again after its round: a usage file
Firehose held in its buffer (up to 15 minutes), an exporter's batch that read the tenant just before. So a
check that finds anything starts another round (``ROUNDS`` in all), ``deletion_round_delay_s`` later (the
next step's message is delayed so: Firehose's buffer); only what is still there after the last round
leaves the job ``incomplete``.

The job is kept as one JSON object in the analytics bucket (``operator/deletions/<tenant id>.json``): not in
the table, whose every tenant key it deletes, and readable after the tenant is gone. Retry-safe: a step's
message names the step it runs; a message for a step already done (SQS delivers at least once) does
nothing, and a step cut short is run again from the state saved before it (every delete is idempotent).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from crm_core import aws, plans
from crm_core.config import settings
from crm_core.errors import ProblemError
from crm_core.ids import utc_now
from crm_core.repositories import tenant_repository
from crm_core.services import billing
from crm_core.services import tenant_lifecycle as lifecycle
from crm_core.services.operator_work import send_work
from crm_core.services.tenant_lifecycle import SCAN_SEGMENTS, tenant_not_found

STEP_SECONDS = 600.0  # a step stops taking pages after this (the function's timeout is 900 s)
SCAN_PAGE_ITEMS: int | None = None  # items a Scan page evaluates (None: DynamoDB's 1 MB a page)
JOBS_PREFIX = "operator/deletions/"
QUEUE_NAME = "crm-tenant-deletions"  # the control plane's own queue (infra/control_plane.py)
KINDS = ("items", "files", "schedules", "rules", "sign_ins")
ROUNDS = 3  # rounds of the three phases at most: what late work wrote is found by the next round's check
PHASES = ("items", "rest", "check", "done")

Progress = Callable[[str, int], None]
Job = dict[str, Any]


def _no_progress(phase: str, done: int) -> None:
    return None


def _key(tenant_id: str) -> str:
    return f"{JOBS_PREFIX}{tenant_id}.json"


def read(tenant_id: str) -> Job | None:
    """The tenant's deletion job as last saved, or None."""
    client = aws.client("s3")
    try:
        body = client.get_object(Bucket=settings().analytics_bucket, Key=_key(tenant_id))["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    job: Job = json.loads(body)
    return job


def _save(job: Job) -> None:
    job["updated_at"] = utc_now()
    aws.client("s3").put_object(
        Bucket=settings().analytics_bucket,
        Key=_key(job["tenant_id"]),
        Body=json.dumps(job).encode(),
        ContentType="application/json",
    )


def shown(job: Job) -> dict[str, Any]:
    """A job as the operator sees it (the control plane's status answer, the CLI's last line)."""
    return {
        "tenant_id": job["tenant_id"],
        "state": job["state"],
        "phase": job["phase"],
        "steps": job["step"],
        "removed": dict(job["removed"]),
        "left": job.get("left"),
        "round": job.get("round", 1),
        "complete": job["state"] == "completed",
        "started_at": job["started_at"],
        "updated_at": job.get("updated_at"),
        "finished_at": job.get("finished_at"),
    }


def start(tenant_id: str) -> Job:
    """The tenant is ``deleting`` and its job exists (a new one, unless one is running: a retry of the
    DELETE answers the same job). 404 when there is neither the tenant nor a job of it."""
    job = read(tenant_id)
    if job is not None and job["state"] == "running":
        return job
    tenant = tenant_repository.get_tenant(tenant_id, consistent=True)
    if tenant is None and job is None:
        raise tenant_not_found(tenant_id)
    if tenant is not None:
        tenant_repository.update_tenant(tenant_id, {"status": "deleting", "status_changed_at": utc_now()})
        plans.forget(tenant_id)
    job = {
        "tenant_id": tenant_id,
        "state": "running",
        "phase": "items",
        "step": 0,
        "removed": dict.fromkeys(KINDS, 0),
        "cursors": {},  # segment -> the Scan's next start key ("done" when the segment is through)
        "left": None,
        "started_at": utc_now(),
    }
    _save(job)
    return job


def step(
    tenant_id: str, number: int, seconds: float | None = None, on_progress: Progress = _no_progress
) -> Job:
    """Step ``number`` of the tenant's job: work until ``seconds`` (``STEP_SECONDS``) are up or the job is
    done, then save. A message for another step than the job's next (a duplicate, a late one) does
    nothing."""
    job = read(tenant_id)
    if job is None or job["state"] != "running" or job["step"] != number:
        return job or {}
    job.pop("wait_s", None)  # the wait before this step, once a round began: over
    deadline = time.monotonic() + (STEP_SECONDS if seconds is None else seconds)
    first = True  # a step does some work however short its time
    while job["phase"] != "done" and (first or time.monotonic() < deadline):
        first = False
        if job["phase"] == "items":
            _scan(job, deadline, on_progress, delete=True)
        elif job["phase"] == "rest":
            _rest(job, on_progress)
        elif job["phase"] == "check":
            _scan(job, deadline, on_progress, delete=False)
    if job["phase"] == "done" and any(job["left"].values()) and job.get("round", 1) < ROUNDS:
        # Late work wrote some of the tenant again: another round, once what is still on its way has landed.
        job.update(round=job.get("round", 1) + 1, phase="items", cursors={}, left=None)
        job["wait_s"] = settings().deletion_round_delay_s
    elif job["phase"] == "done":
        job["state"] = "completed" if not any(job["left"].values()) else "incomplete"
        job["finished_at"] = utc_now()
    job["step"] = number + 1
    _save(job)
    return job


def _scan(job: Job, deadline: float, on_progress: Progress, *, delete: bool) -> None:
    """Pages of every segment not yet through, in parallel, until the deadline (at least one page each);
    the phase moves on when every segment is through."""
    tenant_id = job["tenant_id"]
    cursors: dict[str, Any] = job["cursors"]

    def segment(number: int) -> tuple[dict[str, int], Any]:
        counts = dict.fromkeys((*KINDS, "left_items", "left_schedules"), 0)
        cursor = cursors.get(str(number))
        while cursor != "done":
            found, after = tenant_repository.tenant_keys_page(
                tenant_id, number, SCAN_SEGMENTS, cursor, SCAN_PAGE_ITEMS
            )
            if delete:
                _delete_page(tenant_id, found, counts, on_progress)
            else:
                counts["left_items"] += len(found)
                on_progress("check", len(found))
            cursor = after or "done"
            if time.monotonic() >= deadline:
                break
        return counts, cursor

    with ThreadPoolExecutor(SCAN_SEGMENTS) as pool:
        results = list(pool.map(segment, range(SCAN_SEGMENTS)))
    left = job["left"] or {}
    for number, (counts, cursor) in enumerate(results):
        cursors[str(number)] = cursor
        for kind in KINDS:
            job["removed"][kind] += counts[kind]
        if delete:
            job["schedules_left"] = job.get("schedules_left", 0) + counts["left_schedules"]
        else:
            left["items"] = left.get("items", 0) + counts["left_items"]
    if not delete:
        job["left"] = left
    if all(cursors.get(str(n)) == "done" for n in range(SCAN_SEGMENTS)):
        job["cursors"] = {}
        if delete:
            job["phase"] = "rest"
        else:
            _finish_check(job)


def _delete_page(
    tenant_id: str, found: list[dict[str, str]], counts: dict[str, int], on_progress: Progress
) -> None:
    names = lifecycle._schedule_names(found)
    counts["schedules"] += lifecycle._delete_schedules(names, on_progress)
    counts["left_schedules"] += lifecycle.schedules_left(names)
    counts["sign_ins"] += lifecycle._delete_sign_ins(tenant_id, found, on_progress)
    others = [k for k in found if not lifecycle.is_tenant_item(k)]
    for start_at in range(0, len(others), 500):
        chunk = others[start_at : start_at + 500]
        counts["items"] += tenant_repository.delete_keys(chunk)
        on_progress("items", len(chunk))


def _rest(job: Job, on_progress: Progress) -> None:
    tenant_id = job["tenant_id"]
    if not job.get("usage_kept"):
        # Its usage files go next: its rows of the month (and the month before) are kept for the billing
        # export first, once (saved at once: a rerun of this phase would find some files gone).
        tenant = tenant_repository.get_tenant(tenant_id, consistent=True)
        if tenant is not None:
            billing.keep_deleted_tenant(tenant)
        job["usage_kept"] = True
        _save(job)
    job["removed"]["rules"] += lifecycle._delete_rules(tenant_id, on_progress)
    job["removed"]["files"] += lifecycle._delete_files(tenant_id, on_progress)
    tenant = tenant_repository.get_tenant(tenant_id, consistent=True)
    if tenant is not None:  # last: it said a deletion is under way
        job["removed"]["items"] += tenant_repository.delete_keys([{"PK": tenant.PK, "SK": tenant.SK}])
    job["phase"] = "check"
    job["left"] = {}


def _finish_check(job: Job) -> None:
    tenant_id = job["tenant_id"]
    job["left"] = {
        "items": job["left"].get("items", 0),
        "files": sum(1 for _ in lifecycle._tenant_files(tenant_id)),
        "rules": len(lifecycle._tenant_rules(tenant_id)),
        "schedules": job.pop("schedules_left", 0),
    }
    job["phase"] = "done"


def run(tenant_id: str, on_progress: Progress = _no_progress, seconds: float | None = None) -> Job:
    """The whole job in this process (``crm tenant delete``): started (or the running one taken up), then
    its steps until it is done."""
    job = start(tenant_id)
    while job["state"] == "running":
        time.sleep(job.get("wait_s", 0))
        job = step(tenant_id, job["step"], seconds, on_progress)
    return job


# ------------------------------------------------------------------------------------- the queue


def queue_step(tenant_id: str, number: int, delay_s: int = 0) -> None:
    """The job's step ``number``, as a message to the control plane's deletion queue."""
    send_work(QUEUE_NAME, {"tenant_id": tenant_id, "step": number}, delay_s)


def on_message(body: dict[str, Any], seconds: float | None = None) -> Job:
    """One message of the deletion queue: its step run, and the next one queued while the job runs."""
    job = step(str(body["tenant_id"]), int(body["step"]), seconds)
    if job.get("state") == "running" and job["step"] == int(body["step"]) + 1:
        queue_step(job["tenant_id"], job["step"], job.get("wait_s", 0))
    return job


def status(tenant_id: str) -> dict[str, Any]:
    """The tenant's deletion as the operator sees it; 404 when there is none."""
    job = read(tenant_id)
    if job is None:
        raise ProblemError(404, "Not Found", f"No deletion of tenant {tenant_id!r}.")
    return shown(job)
