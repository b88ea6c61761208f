"""A contract's timers: EventBridge Scheduler at() schedules (services/schedules.py) kept in step with the
contract by its events (as tickets' SLA timers are: services/ticket_sla.py), and what each does when it
fires, once however often its message arrives. Dates are days in UTC: a timer fires at 00:00 UTC.

- ``renewal``: ``renewal_reminder_days`` before ``end_date``, while the contract is active and not renewed,
  the owner is notified; a marker for that time in the notification's transaction makes a second delivery
  a no-op.
- ``expiry``: the day after ``end_date``, an active contract becomes ``expired`` (``contract.expired``, a
  change on the version read: a second delivery finds it expired and does nothing).
- ``overdue``: the day after the due date of the oldest unpaid instalment not yet reported, each unpaid
  instalment then past due is reported once: ``installment.overdue`` and a notification to the owner, in
  the transaction of the contract's change that records it as reported (in ``overdue_notified``, never
  answered) and brings ``overdue`` up to date. An instalment paid, or moved by a change of the plan, is no
  longer wanted: its timer moves or goes, and a message that still arrives is dropped ("stale").

A timer whose time has come when the contract's event is handled (a plan with instalments already past
due, a term already over) fires then, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crm_core import metrics
from crm_core.auth import Principal
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.events import build_event
from crm_core.ids import days_after, utc_now
from crm_core.models.record import RecordFields
from crm_core.repositories import keys, notification_repository
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import EventItem, RecordItem, UniqueMarker
from crm_core.repositories.transaction import ChangeSet, WriteConflict
from crm_core.services import schedules
from crm_core.services.contracts import CONTRACTS, NOTIFIED, OWED, installment_key, money, unpaid
from crm_core.services.records import Prepared, record_data
from crm_core.services.records.items import event_item
from crm_core.services.records.writes import write_retrying

TIMERS = ("renewal", "expiry", "overdue")
SYSTEM = "contracts"


def schedule_name(contract_id: str, timer: str) -> str:
    return f"contract-{contract_id}-{timer}"


def day_start(date_text: str, days: int = 0) -> str | None:
    """00:00 UTC of the day ``days`` after ``date_text``, as stored times are written; None past the
    calendar's ends (the day after 9999-12-31 never comes)."""
    day = days_after(dt.date.fromisoformat(date_text), days)
    return f"{day.isoformat()}T00:00:00.000Z" if day is not None else None


def unreported(data: RecordFields) -> list[tuple[str, dict[str, Any]]]:
    """The unpaid instalments not yet reported overdue, oldest first, each with its key."""
    notified = set(data.get(NOTIFIED) or [])
    return [
        (installment_key(one, position), one)
        for position, one in enumerate(data.get("installments") or [])
        if unpaid(one) > 0 and installment_key(one, position) not in notified
    ]


def wanted_at(contract: RecordItem | None, timer: str) -> str | None:
    """When ``timer`` should fire for the contract as it is, or None."""
    if contract is None or contract.archived_at is not None:
        return None
    data = record_data(contract)
    status = data.get("status")
    if timer == "renewal":
        days = int(data.get("renewal_reminder_days") or 0)
        if status != "active" or data.get("renewed_to") or days <= 0:
            return None
        return day_start(str(data["end_date"]), -days)
    if timer == "expiry":
        return day_start(str(data["end_date"]), 1) if status == "active" else None
    if timer == "overdue" and status in OWED:
        due = [one["due_date"] for _, one in unreported(data)]
        return day_start(min(due), 1) if due else None
    return None


def sync_timers(tenant_id: str, contract_id: str) -> dict[str, str]:
    """Make the contract's schedules match what it holds now, whatever event brought us here (repeated or
    reordered events converge); a timer whose time has come fires now, once. Answers what it did."""
    contract = repo.get_record(tenant_id, "contract", contract_id, consistent=True)
    done: dict[str, str] = {}
    for timer in TIMERS:
        at = wanted_at(contract, timer)
        if at is not None and at <= utc_now():
            done[timer] = f"late: {fire(tenant_id, contract_id, timer, at)}"
            contract = repo.get_record(tenant_id, "contract", contract_id, consistent=True)
            at = wanted_at(contract, timer)
            if at is not None and at <= utc_now():  # the contract changed meanwhile: its event comes next
                continue
        name = schedule_name(contract_id, timer)
        outcome = (
            schedules.remove(name)
            if at is None
            else schedules.put_at(
                name, at, {"tenant_id": tenant_id, "contract_id": contract_id, "timer": timer, "at": at}
            )
        )
        done[timer] = f"{done[timer]}, {outcome}" if timer in done else outcome
    return done


def fire(tenant_id: str, contract_id: str, timer: str, at: str) -> str:
    """The timer's work, once; "stale" when what it was made for no longer stands."""
    ctx = RequestContext(Principal.system(tenant_id, SYSTEM))
    try:
        if timer == "renewal":
            return _remind(ctx, contract_id, at)
        if timer == "expiry":
            return _expire(ctx, contract_id, at)
        if timer == "overdue":
            return _report_overdue(ctx, contract_id, at)
    except ProblemError as problem:  # the contract is gone
        if problem.status == 404:
            return "stale"
        raise
    return "unknown"


def _notice(ctx: RequestContext, contract: RecordItem, title: str) -> list[Any]:
    owner = record_data(contract).get("owner_id")
    if not owner:
        return []
    return [
        notification_repository.new_notification(
            ctx.tenant_id, owner, kind="contract", title=title, record={"type": "contract", "id": contract.id}
        )
    ]


def _title(data: RecordFields) -> str:
    return str(data.get("name") or data.get("number") or "contract")


def _remind(ctx: RequestContext, contract_id: str, at: str) -> str:
    contract = repo.get_record(ctx.tenant_id, "contract", contract_id, consistent=True)
    if contract is None or wanted_at(contract, "renewal") != at:
        return "stale"
    data = record_data(contract)
    changes = ChangeSet()
    changes.save(
        UniqueMarker(
            keys.contract_timer_sent_pk(ctx.tenant_id, contract_id, "renewal", at),
            keys.UNIQUE_SK,
            record_id=contract_id,
        ),
        condition=UniqueMarker.PK.does_not_exist(),
        label="timer",
    )
    for notice in _notice(ctx, contract, f"Renewal due: {_title(data)} ends on {data['end_date']}"):
        changes.save(notice)
    try:
        changes.commit()
    except WriteConflict as error:
        if error.label == "timer":
            return "duplicate"
        raise
    metrics.count("ContractRenewalReminders")
    return "sent"


def _expire(ctx: RequestContext, contract_id: str, at: str) -> str:
    def prepare() -> Prepared | None:
        before = CONTRACTS.load(ctx, contract_id)
        if wanted_at(before, "expiry") != at:
            return None
        return CONTRACTS.prepare_system_change(ctx, before, {"status": "expired"})

    return "expired" if write_retrying(CONTRACTS.spec, ctx, prepare) is not None else "stale"


def _report_overdue(ctx: RequestContext, contract_id: str, at: str) -> str:
    reported: list[str] = []

    def prepare() -> Prepared | None:
        reported.clear()
        before = CONTRACTS.load(ctx, contract_id)
        if wanted_at(before, "overdue") != at:
            return None
        data = record_data(before)
        cutoff = max(at, utc_now())
        # An instalment due 9999-12-31 is never overdue ("~" sorts after every time).
        due = [
            (key, one) for key, one in unreported(data) if (day_start(one["due_date"], 1) or "~") <= cutoff
        ]
        notified = [*(data.get(NOTIFIED) or []), *(key for key, _ in due)]
        prepared = CONTRACTS.prepare_system_change(ctx, before, {NOTIFIED: notified})
        assert prepared is not None  # the notified list grows
        after = record_data(prepared.item)
        for key, one in due:
            prepared.changes.save(_overdue_event(ctx, prepared.item, after, one))
            owed = f"{money(unpaid(one))} {after['currency']}"
            title = f"Instalment overdue: {_title(after)}, {owed} due {one['due_date']}"
            for notice in _notice(ctx, prepared.item, title):
                prepared.changes.save(notice)
            reported.append(key)
        return prepared

    committed = write_retrying(CONTRACTS.spec, ctx, prepare)
    if committed is None:
        return "stale"
    metrics.count("InstallmentsOverdue", len(reported))
    return f"reported {len(reported)}"


def _overdue_event(
    ctx: RequestContext, contract: RecordItem, data: RecordFields, installment: dict[str, Any]
) -> EventItem:
    """``installment.overdue``: the instalment and its contract (docs/events.md), in the contract's
    partition, which the stream carries to the bus."""
    now = utc_now()
    detail = build_event(
        event_type="installment.overdue",
        tenant_id=ctx.tenant_id,
        actor=ctx.principal.actor,
        correlation_id=ctx.correlation_id,
        occurred_at=now,
        data={
            "id": contract.id,
            "name": f"{_title(data)}: instalment due {installment['due_date']}",
            "number": data.get("number"),
            "company_id": data.get("company_id"),
            "owner_id": data.get("owner_id"),
            "currency": data.get("currency"),
            "due_date": installment["due_date"],
            "amount": installment["amount"],
            "paid": installment["paid"],
            "unpaid": money(unpaid(installment)),
            "occurred_at": now,
        },
    )
    return event_item(CONTRACTS.spec, contract, detail)
