"""Payments received (回款) against a contract (docs/decisions/0030-contracts-and-payments.md).

- Recording one (``payment.received``) changes its contract's ``paid`` in the same transaction, on the
  contract's version read: two payments at once never both take the same cents (the loser is prepared
  again from a fresh read, and refused if the contract has no longer enough outstanding).
- The amount is at most what the contract has outstanding (422 naming ``amount``: no credit is kept), in
  the contract's currency (422 naming ``currency``); the caller must be allowed to change the contract.
- A payment's amount never changes; a wrong one is voided (DELETE: ``payment.voided``), which takes its
  amount off the contract's ``paid`` in the same transaction. A voided payment is not restored: record it
  again.
"""

from __future__ import annotations

from decimal import Decimal

from crm_core.context import RequestContext
from crm_core.errors import invalid_field, precondition_failed
from crm_core.ids import utc_now
from crm_core.models.payment import PAYMENT_DEFAULTS, PaymentCreate, PaymentUpdate
from crm_core.models.record import RecordFields, RelatedFacts
from crm_core.services import access, references
from crm_core.services.contracts import CONTRACTS, combined
from crm_core.services.records import ObjectSpec, RecordService, SortKey, record_data
from crm_core.services.records.shape import without_empty
from crm_core.services.records.writes import Prepared, build_change


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    references.require_active_user(ctx, data, changed, "owner_id")
    return {}


def payment_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    reference = str(data.get("reference") or "").lower()
    return [reference[:40]] if reference else []


class PaymentService(RecordService):
    def prepare_create(
        self, ctx: RequestContext, fields: RecordFields, record_id: str | None = None
    ) -> Prepared:
        """The payment (``payment.received``) and its contract's new ``paid``, one transaction."""
        fields = dict(fields)
        fields.setdefault("received_at", utc_now())
        if not ctx.principal.is_system:
            fields.setdefault("owner_id", ctx.principal.user_id)
        access.require_create(ctx, fields.get("owner_id"))
        if references.active_record(ctx, "contract", str(fields["contract_id"])) is None:
            raise invalid_field("contract_id", "no contract with this id")
        contract = CONTRACTS.prepare_paid(
            ctx, str(fields["contract_id"]), Decimal(str(fields["amount"])), str(fields["currency"])
        )
        related = self.spec.resolve(ctx, fields, set(fields), {})
        item = self._new_item(ctx, without_empty(fields), record_id)
        payment = build_change(self.spec, ctx, item, None, "received", related=related, status=201)
        return combined(payment, contract)

    def prepare_archive(self, ctx: RequestContext, record_id: str, if_match: int | None) -> Prepared:
        """Voiding: the payment archived (``payment.voided``) and its amount taken off its contract."""
        before = self.load(ctx, record_id)
        if if_match is not None and if_match != before.version:
            raise precondition_failed(before.version)
        data = record_data(before)
        self.require_change(ctx, data)
        contract = CONTRACTS.prepare_paid(
            ctx, str(data["contract_id"]), -Decimal(str(data["amount"])), str(data["currency"])
        )
        voided = super().prepare_archive(ctx, record_id, if_match)
        return combined(voided, contract)


PAYMENTS = PaymentService(
    ObjectSpec(
        object_type="payment",
        create_model=PaymentCreate,
        update_model=PaymentUpdate,
        defaults=PAYMENT_DEFAULTS,
        tokens=payment_tokens,
        resolve=resolve_references,
        parent_field="contract_id",
        category_field="method",
        sorts=(SortKey("received_at", 6, lambda data: data.get("received_at")),),
        archive_event="voided",
        # its events in its contract's timeline too
        timeline_links=lambda data: [("contract", str(data["contract_id"]))],
    )
)
