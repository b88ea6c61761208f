"""Contracts: a term, a value and a payment plan that sums to it, and what the payments received against it
leave paid, outstanding and overdue (docs/decisions/0030-contracts-and-payments.md).

- ``number``: per tenant and year, gapless (services/numbering.py, as quotes'), taken in the contract's
  transaction.
- ``payment_plan``: instalments summing exactly to ``value`` (exact decimals), each due on or after
  ``start_date``; kept in due-date order; none given: the whole value due on ``start_date``.
- ``status``: ``draft`` → ``active`` → ``expired`` | ``terminated`` (``STATUS_MOVES``); events
  ``contract.activated|expired|terminated`` instead of ``contract.updated`` for those moves.
- ``paid`` is the sum of the payments received (services/payments.py changes it in the payment's
  transaction, on the version read: two payments at once never both take the same cents); ``outstanding``,
  ``overdue`` and ``installments`` (payments applied to the oldest instalments first) follow from it and
  the date (UTC) on every write; the instalment timers (services/contract_timers.py) write them again when
  an instalment falls overdue.
- Per company and currency, the contracts that are not drafts are summed in a counter item kept in each
  contract's transaction: ``GET /v1/companies/{id}/receivables`` is one Query.
- ``renew``: a new contract for the next term, linked both ways (``renewed_from``/``renewed_to``), written
  with the old one's ``contract.renewed`` in one transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import conflict, invalid_field
from crm_core.ids import days_after
from crm_core.models.contract import CONTRACT_DEFAULTS, ContractCreate, ContractUpdate
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.repositories import keys
from crm_core.repositories import receivables_repository as receivables
from crm_core.repositories.table import ReceivablesTotal, RecordItem
from crm_core.repositories.transaction import CounterStep
from crm_core.services import numbering, references
from crm_core.services.records import Expansion, ObjectSpec, RecordService, SortKey, record_data, represent
from crm_core.services.records.derived import DerivedWrites
from crm_core.services.records.writes import Prepared, write_retrying

STATUS_MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("active", "terminated"),
    "active": ("expired", "terminated"),
    "expired": (),
    "terminated": (),
}
CREATED_AS = ("draft", "active")
# Statuses whose instalments are owed: a draft's are not yet.
OWED = ("active", "expired", "terminated")
RENEWABLE = ("active", "expired")
UNITS = 10_000  # counters hold amounts in ten-thousandths (4 decimal places), exact integers
SEQUENCE, NUMBER_PREFIX = "contract", "C"  # C-2026-0001 (services/numbering.py)
NOTIFIED = "overdue_notified"  # kept, never answered: the instalments reported overdue (contract_timers)
LINKS = (("deal_id", "deal"), ("company_id", "company"), ("contact_id", "contact"), ("quote_id", "quote"))


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def money(amount: Decimal) -> str:
    """An amount as answered: at least two decimal places, more only when it has them."""
    cents = amount.quantize(Decimal("0.01"))
    return str(cents) if cents == amount else format(amount.normalize(), "f")


def amount_of(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def allocate(plan: list[dict[str, Any]], paid: Decimal, status: str, on: dt.date) -> list[dict[str, Any]]:
    """The instalments with what ``paid`` covers of each, oldest first, and their status on ``on``."""
    left = paid
    installments = []
    for one in plan:
        amount = amount_of(one["amount"])
        covered = min(amount, left)
        left -= covered
        if covered >= amount:
            state = "paid"
        elif status in OWED and dt.date.fromisoformat(one["due_date"]) < on:
            state = "overdue"
        else:
            state = "open"
        installments.append(
            {"due_date": one["due_date"], "amount": money(amount), "paid": money(covered), "status": state}
        )
    return installments


def installment_key(installment: dict[str, Any], position: int) -> str:
    """An instalment as its overdue report names it: a moved one is another."""
    return f"{installment['due_date']}#{position}"


def unpaid(installment: dict[str, Any]) -> Decimal:
    return amount_of(installment["amount"]) - amount_of(installment["paid"])


def derive(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, _: str | None
) -> RecordFields:
    """Status (its moves checked), the plan (checked against the value and the term) and what the payments
    received leave paid, outstanding and overdue today."""
    data = dict(data)
    data["status"] = status = data.get("status") or "draft"
    old = (before or {}).get("status")
    if before is None and status not in CREATED_AS:
        raise invalid_field("status", f"a new contract is {' or '.join(CREATED_AS)}")
    if old is not None and status != old and status not in STATUS_MOVES[old]:
        allowed = ", ".join(STATUS_MOVES[old]) or f"nothing ({old} is final)"
        raise invalid_field("status", f"a {old} contract can move to {allowed}, not {status}")
    for required in ("value", "currency"):
        if data.get(required) is None:
            raise invalid_field(required, "is required (or a quote_id of an accepted quote)")
    start, end = str(data["start_date"]), str(data["end_date"])
    if end < start:
        raise invalid_field("end_date", "is before start_date")
    value = amount_of(data["value"])
    plan = [dict(one) for one in data.get("payment_plan") or [{"due_date": start, "amount": data["value"]}]]
    for position, one in enumerate(plan):
        if str(one["due_date"]) < start:
            raise invalid_field(f"payment_plan[{position}].due_date", "is before the contract's start_date")
    total = sum((amount_of(one["amount"]) for one in plan), Decimal(0))
    if total != value:
        raise invalid_field(
            "payment_plan", f"the instalments sum to {money(total)}, not the contract's value {money(value)}"
        )
    plan.sort(key=lambda one: str(one["due_date"]))
    data["payment_plan"] = plan
    paid = amount_of(data.get("paid"))
    if paid > value:
        raise invalid_field("value", f"is less than the {money(paid)} already paid")
    if paid and before is not None and data.get("currency") != before.get("currency"):
        raise invalid_field("currency", "cannot change once payments are received (void them first)")
    installments = allocate(plan, paid, status, today())
    data["installments"] = installments
    data["paid"] = money(paid)
    data["outstanding"] = money(value - paid)
    overdue = sum((unpaid(one) for one in installments if one["status"] == "overdue"), Decimal(0))
    data["overdue"] = money(overdue)
    current = {installment_key(one, position) for position, one in enumerate(installments)}
    data[NOTIFIED] = [key for key in data.get(NOTIFIED) or [] if key in current]
    if data.get("renewal_reminder_days") is None:
        data["renewal_reminder_days"] = CONTRACT_DEFAULTS["renewal_reminder_days"]
    return data


def update_events(before: RecordFields, after: RecordFields) -> list[str]:
    """``activated``, ``expired``, ``terminated`` for a status move, ``renewed`` when a renewal is linked,
    ``updated`` for any other change."""
    events: list[str] = []
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    old, new = before.get("status"), after.get("status")
    if changed - {"status", "renewed_to"}:
        events.append("updated")
    if "renewed_to" in changed and after.get("renewed_to"):
        events.append("renewed")
    if old != new:
        events.append({"active": "activated"}.get(str(new), str(new)))
    return events or ["updated"]


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    for field_name, object_type in LINKS:
        linked = data.get(field_name)
        if linked and field_name in changed and references.active_record(ctx, object_type, linked) is None:
            raise invalid_field(field_name, f"no {object_type} with this id")
    references.require_active_user(ctx, data, changed, "owner_id")
    return {}


def contract_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    """Found by its number (``c-2026-0001``, ``0001``) and the start of its name."""
    number = str(data.get("number") or "").lower()
    name = str(data.get("name") or "").lower()
    tokens = [number, number.rsplit("-", 1)[-1], name[:40], *(word[:40] for word in name.split()[1:4])]
    return list(dict.fromkeys(t for t in tokens if t))


def _contribution(item: RecordItem | None) -> dict[tuple[str, str], tuple[int, ...]]:
    """What a contract adds to its company's receivables: once it is no draft, while it is not archived."""
    if item is None or item.archived_at is not None:
        return {}
    data = record_data(item)
    if data.get("status") not in OWED or not data.get("company_id"):
        return {}
    units = [int(amount_of(data.get(k)) * UNITS) for k in ("value", "paid", "outstanding", "overdue")]
    return {(data["company_id"], data["currency"]): (1, *units)}


def receivables_counters(before: RecordItem | None, after: RecordItem) -> list[CounterStep]:
    old, new = _contribution(before), _contribution(after)
    names = ("contracts", "value_units", "paid_units", "outstanding_units", "overdue_units")
    steps: list[CounterStep] = []
    for key in sorted(old.keys() | new.keys()):
        then, now = old.get(key, (0,) * 5), new.get(key, (0,) * 5)
        amounts = {name: b - a for name, a, b in zip(names, then, now, strict=True) if b != a}
        if amounts:
            company_id, currency = key
            steps.append(
                CounterStep(
                    ReceivablesTotal(keys.receivables_pk(after.tenant_id, company_id), currency), amounts
                )
            )
    return steps


def _shifted(date_text: str, days: int) -> str:
    """The date ``days`` after ``date_text``; OverflowError past 9999-12-31 (or before 0001-01-01)."""
    day = days_after(dt.date.fromisoformat(date_text), days)
    if day is None:
        raise OverflowError(date_text)
    return day.isoformat()


def from_quote(ctx: RequestContext, fields: RecordFields) -> RecordFields:
    """A new contract's fields from the accepted quote it names: its total as the value, its currency, its
    deal and contact unless given, and its lines; 422 naming ``quote_id`` for a quote not accepted (or not
    the tenant's), ``value`` or ``currency`` for one given otherwise than the quote says."""
    quote = references.active_record(ctx, "quote", str(fields["quote_id"]))
    if quote is None:
        raise invalid_field("quote_id", "no quote with this id")
    offer = record_data(quote)
    if offer.get("status") != "accepted":
        raise invalid_field(
            "quote_id", f"the quote is {offer.get('status')}: a contract takes an accepted one"
        )
    taken = {"value": offer.get("total"), "currency": offer.get("currency")}
    for name, value in taken.items():
        if fields.get(name) is not None and comparable(fields[name]) != comparable(value):
            raise invalid_field(name, f"the accepted quote's {name} is {value}")
    return {
        "deal_id": offer.get("deal_id"),
        "contact_id": offer.get("contact_id"),
        **{k: v for k, v in fields.items() if v is not None},
        **taken,
        "line_items": offer.get("line_items"),
    }


def comparable(value: Any) -> Any:
    """An amount as a number (``"10"`` is ``"10.00"``), anything else as it is."""
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return value


class ContractService(RecordService):
    def prepare_create(
        self, ctx: RequestContext, fields: RecordFields, record_id: str | None = None
    ) -> Prepared:
        """A new contract with the tenant's next number of this year, taken in its transaction."""
        if fields.get("quote_id"):
            fields = from_quote(ctx, fields)
        period = str(dt.datetime.now(dt.UTC).year)
        number = numbering.last_number(ctx.tenant_id, SEQUENCE, period) + 1
        numbered = {**fields, "number": numbering.formatted(NUMBER_PREFIX, period, number)}
        prepared = super().prepare_create(ctx, numbered, record_id)
        sequence, condition = numbering.claim(ctx.tenant_id, SEQUENCE, period, number)
        # a failed condition is a lost race (another contract took the number): prepared again
        prepared.changes.save(sequence, condition=condition, label="sequence")
        return prepared

    def prepare_paid(
        self, ctx: RequestContext, contract_id: str, received: Decimal, currency: str
    ) -> Prepared:
        """The contract's change for a payment of ``received`` (negative: one voided), read afresh: an
        amount over what is outstanding is a 422 naming ``amount``, another currency one naming
        ``currency``. The caller must be allowed to change the contract."""
        before = self.load(ctx, contract_id)
        current = record_data(before)
        if currency != current.get("currency"):
            raise invalid_field("currency", f"the contract is in {current.get('currency')}")
        paid = amount_of(current.get("paid")) + received
        outstanding = amount_of(current.get("outstanding"))
        if received > outstanding:
            raise invalid_field(
                "amount", f"is more than the {money(outstanding)} {current.get('currency')} outstanding"
            )
        prepared = self._prepare_change(ctx, before, {"paid": money(paid)})
        assert prepared is not None  # paid changes
        return prepared

    def renew(self, ctx: RequestContext, contract_id: str, fields: RecordFields) -> RecordBody:
        """The next term: a new contract (``renewed_from``) and the old one's ``renewed_to`` with its
        ``contract.renewed``, in one transaction. 409 for a contract already renewed, a draft or a
        terminated one."""

        def prepare() -> Prepared:
            before = self.load(ctx, contract_id)
            old = record_data(before)
            self.require_change(ctx, old)
            if old.get("renewed_to"):
                raise conflict("This contract is already renewed.", renewed_to=old["renewed_to"])
            if old.get("status") not in RENEWABLE:
                raise conflict(f"A {old.get('status')} contract cannot be renewed.", field_name="status")
            try:
                start = str(fields.get("start_date") or _shifted(old["end_date"], 1))
                length = (
                    dt.date.fromisoformat(old["end_date"]) - dt.date.fromisoformat(old["start_date"])
                ).days
                offset = (dt.date.fromisoformat(start) - dt.date.fromisoformat(old["start_date"])).days
                end = str(fields.get("end_date") or _shifted(start, length))
                plan = fields.get("payment_plan") or [
                    {"due_date": _shifted(one["due_date"], offset), "amount": one["amount"]}
                    for one in old.get("payment_plan") or []
                ]
            except OverflowError:
                raise conflict(
                    "The next term would end after 9999-12-31: give its start_date, end_date and "
                    "payment_plan.",
                    field_name="end_date",
                ) from None
            new_fields = {
                k: old.get(k)
                for k in ("name", "deal_id", "company_id", "contact_id", "owner_id", "currency", "tags")
            }
            new_fields.update(
                {
                    "start_date": start,
                    "end_date": end,
                    "value": fields.get("value") or old["value"],
                    "payment_plan": plan
                    if fields.get("value") is None or fields.get("payment_plan")
                    else None,
                    "status": fields.get("status") or "active",
                    "renewal_reminder_days": fields.get(
                        "renewal_reminder_days", old.get("renewal_reminder_days")
                    ),
                    "renewed_from": contract_id,
                }
            )
            created = self.prepare_create(ctx, {k: v for k, v in new_fields.items() if v is not None})
            renewed = self._prepare_change(ctx, before, {"renewed_to": created.item.id})
            assert renewed is not None
            return combined(created, renewed)

        committed = write_retrying(self.spec, ctx, prepare)
        assert committed is not None
        return represent(self.spec, committed.item)

    def receivables(self, ctx: RequestContext, company_id: str) -> list[dict[str, Any]]:
        """The company's contracts (not drafts) by currency: one GetItem of the company (404 for a missing
        or another tenant's), one Query."""
        if references.active_record(ctx, "company", company_id) is None:
            from crm_core.errors import not_found

            raise not_found("company", company_id)
        rows = []
        for total in receivables.company_receivables(ctx.tenant_id, company_id):
            if not total.contracts:
                continue
            row: dict[str, Any] = {"currency": total.SK, "contracts": int(total.contracts)}
            for name in ("value", "paid", "outstanding", "overdue"):
                row[name] = money(Decimal(int(getattr(total, f"{name}_units") or 0)) / UNITS)
            rows.append(row)
        return rows

    def prepare_system_change(
        self, ctx: RequestContext, before: RecordItem, fields: RecordFields
    ) -> Prepared | None:
        """A change the CRM makes itself (the timers: expiry, an instalment falling overdue)."""
        return self._prepare_change(ctx, before, fields)


def combined(first: Prepared, second: Prepared) -> Prepared:
    """Two records' changes as one transaction (a payment and its contract; a renewal and the contract it
    renews), answered as ``first``; what derives from each is written after the commit."""
    changes = first.changes
    changes.extend(second.changes)
    derived = DerivedWrites(
        puts=[
            *first.derived.puts,
            *second.derived.puts,
            *([second.derived.last] if second.derived.last else []),
        ],
        deletes=[*first.derived.deletes, *second.derived.deletes],
        last=first.derived.last,
        fields=[*first.derived.fields, *second.derived.fields],
    )
    return Prepared(
        changes,
        first.item,
        first.status,
        first.unique_value,
        [*first.events, *second.events],
        derived,
        first.custom_unique,
    )


CONTRACTS = ContractService(
    ObjectSpec(
        object_type="contract",
        create_model=ContractCreate,
        update_model=ContractUpdate,
        defaults=CONTRACT_DEFAULTS,
        tokens=contract_tokens,
        resolve=resolve_references,
        parent_field="company_id",
        category_field="status",
        expansions={
            "company": Expansion("company_id", "company"),
            "contact": Expansion("contact_id", "contact"),
            "deal": Expansion("deal_id", "deal"),
        },
        sorts=(SortKey("end_date", 6, lambda data: data.get("end_date")),),
        derive=derive,
        update_events=update_events,
        counters=receivables_counters,
        entry_fields=("deal_id",),
        secret_fields=(NOTIFIED,),
    )
)
