"""SLA timers: for each of a ticket's due times (first response, resolution), an EventBridge Scheduler at()
schedule for the warning ahead of it and one for the breach at it, kept in step with the ticket by its
events (as activity reminders are: services/reminders.py), and what each does when it fires, once.

- A warning notifies the assignee and sends ``ticket.sla_warning`` (an event of the ticket, no change of
  it), in one transaction with a marker for that timer and due time: a second delivery finds the marker.
- A breach sets ``sla.<deadline>_breached`` (a change of the ticket: ``ticket.sla_breached``, on the version
  read, so a second delivery finds it set and does nothing) and notifies the assignee.
- A timer whose due time no longer stands (the ticket answered or resolved, re-prioritised, archived) is
  deleted by the next sync and dropped if its message still arrives.

The schedules live in the reminders' group and send to the reminders queue (the scheduler's role may send
there and nowhere else); the message names the ticket, the timer and the due time it was made for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crm_core import metrics
from crm_core.auth import Principal
from crm_core.context import RequestContext
from crm_core.ids import utc_text
from crm_core.repositories import keys, notification_repository
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem, UniqueMarker
from crm_core.repositories.transaction import WriteConflict
from crm_core.services import schedules
from crm_core.services.records import Prepared, record_data
from crm_core.services.records.writes import write_retrying
from crm_core.services.tickets import DEADLINES, DONE, TICKETS

STAGES = ("warning", "breach")
TIMERS = tuple(f"{deadline}.{stage}" for deadline in DEADLINES for stage in STAGES)
LATE_WINDOW = timedelta(hours=24)  # a timer due longer ago than this when first seen is dropped
SYSTEM = "sla"


def schedule_name(ticket_id: str, timer: str) -> str:
    return f"sla-{ticket_id}-{timer.replace('.', '-')}"


def wanted_at(ticket: RecordItem | None, timer: str) -> str | None:
    """When ``timer`` should fire for the ticket as it is, or None: no such due time, already met (a
    first response given, the ticket resolved or closed), already breached, paused (the ticket is pending:
    its due times move when it leaves pending), or the ticket archived."""
    if ticket is None or ticket.archived_at is not None:
        return None
    data = record_data(ticket)
    sla = data.get("sla") or {}
    deadline, stage = timer.split(".")
    if sla.get(f"{deadline}_breached") or data.get("status") in DONE:
        return None
    if data.get("status") == "pending":  # the clock stops while the ticket waits on its customer
        return None
    if deadline == "first_response" and data.get("first_responded_at"):
        return None
    at = sla.get(f"{deadline}_warn_at" if stage == "warning" else f"{deadline}_due_at")
    return str(at) if at else None


def sync_timers(tenant_id: str, ticket_id: str) -> dict[str, str]:
    """Make the ticket's four schedules match what the ticket holds now, whatever event brought us here
    (repeated or reordered events converge). A timer already due fires now, once. Answers what it did."""
    ticket = repo.get_record(tenant_id, "ticket", ticket_id, consistent=True)
    done: dict[str, str] = {}
    now = utc_text(datetime.now(UTC))
    for timer in TIMERS:
        at = wanted_at(ticket, timer)
        if at is not None and at <= now:
            late_enough = at > utc_text(datetime.now(UTC) - LATE_WINDOW)
            done[timer] = f"late: {fire(tenant_id, ticket_id, timer, at)}" if late_enough else "dropped"
            at = None
        done[timer] = done.get(timer) or _put_schedule(tenant_id, ticket_id, timer, at)
    return done


def _put_schedule(tenant_id: str, ticket_id: str, timer: str, at: str | None) -> str:
    name = schedule_name(ticket_id, timer)
    if at is None:
        return schedules.remove(name)
    return schedules.put_at(
        name, at, {"tenant_id": tenant_id, "ticket_id": ticket_id, "timer": timer, "at": at}
    )


def fire(tenant_id: str, ticket_id: str, timer: str, at: str) -> str:
    """The timer's notification and event, once; "stale" when its due time no longer stands."""
    if timer not in TIMERS:
        return "unknown"
    ctx = RequestContext(Principal.system(tenant_id, SYSTEM))
    if timer.endswith(".warning"):
        return _warn(ctx, ticket_id, timer, at)
    return _breach(ctx, ticket_id, timer, at)


def _notify(ctx: RequestContext, ticket: RecordItem, title: str) -> list[Any]:
    assignee = record_data(ticket).get("assignee_id")
    if not assignee:
        return []
    return [
        notification_repository.new_notification(
            ctx.tenant_id, assignee, kind="sla", title=title, record={"type": "ticket", "id": ticket.id}
        )
    ]


def _marker(ctx: RequestContext, ticket_id: str, timer: str, at: str) -> UniqueMarker:
    return UniqueMarker(
        keys.sla_timer_sent_pk(ctx.tenant_id, ticket_id, timer, at), keys.UNIQUE_SK, record_id=ticket_id
    )


def _warn(ctx: RequestContext, ticket_id: str, timer: str, at: str) -> str:
    ticket = repo.get_record(ctx.tenant_id, "ticket", ticket_id, consistent=True)
    if ticket is None or wanted_at(ticket, timer) != at:
        return "stale"
    deadline = timer.partition(".")[0]
    due = (record_data(ticket).get("sla") or {}).get(f"{deadline}_due_at")
    changes = TICKETS.event_only(
        ctx, ticket, "sla_warning", changes={"sla_warning": {"from": None, "to": deadline}}
    )
    changes.save(_marker(ctx, ticket_id, timer, at), condition=UniqueMarker.PK.does_not_exist(), label="sla")
    subject = record_data(ticket).get("subject") or ticket_id
    for notice in _notify(ctx, ticket, f"SLA warning: {subject} ({deadline.replace('_', ' ')} due {due})"):
        changes.save(notice)
    try:
        changes.commit()
    except WriteConflict as error:
        if error.label == "sla":
            return "duplicate"
        raise
    metrics.count("SlaWarnings")
    return "sent"


def _breach(ctx: RequestContext, ticket_id: str, timer: str, at: str) -> str:
    deadline = timer.partition(".")[0]

    def prepare() -> Prepared | None:
        before = TICKETS.load(ctx, ticket_id, archived=None)
        if wanted_at(before, timer) != at:
            return None
        sla = dict(record_data(before).get("sla") or {})
        sla[f"{deadline}_breached"] = True
        prepared = TICKETS.prepare_change(ctx, before, {"sla": sla})
        if prepared is None:
            return None
        subject = record_data(before).get("subject") or ticket_id
        for notice in _notify(ctx, before, f"SLA breached: {subject} ({deadline.replace('_', ' ')})"):
            prepared.changes.save(notice)
        return prepared

    from crm_core.errors import ProblemError

    try:
        committed = write_retrying(TICKETS.spec, ctx, prepare)
    except ProblemError as problem:  # the ticket is gone
        if problem.status == 404:
            return "stale"
        raise
    if committed is None:
        return "stale"
    metrics.count("SlaBreaches")
    return "breached"
