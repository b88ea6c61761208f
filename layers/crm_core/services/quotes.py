"""Quotes: lines of products on a deal, priced exactly, numbered without gaps, sent to the contact with a
link to a public page where they accept or decline it (docs/decisions/0029).

- **Arithmetic**: ``Decimal`` throughout. Each line's ``amount`` (quantity x unit price), ``discount_amount``
  (amount x discount) and ``tax_amount`` ((amount - discount) x tax rate) is rounded half-even to the
  currency's minor unit; the quote's totals are sums of the rounded lines (``line_amounts``, ``totals``).
- **Defaults**: a line's unit price is its product's price in the quote's currency (422 naming
  ``line_items[i].unit_price`` when it has none), its tax rate the product's, its description the product's
  name, read once per change of the lines (one BatchGetItem): a quote keeps the prices it was made with.
- **Numbers**: ``Q-<year>-<0001>`` from the tenant's sequence of the year (services/numbering.py), taken in
  the create's own transaction: gapless and unique under concurrent creates.
- **Status**: ``draft`` → ``sent`` (POST /send: the email) → ``accepted`` | ``declined`` (on the public
  page) | ``expired`` (at the end of ``valid_until``, UTC, by an at() schedule that the reminder scheduler
  keeps in step with the quote's events: ``sync_expiry``). Only a draft
  is changed; each move is one change of the quote with its event (``quote.sent`` ...), on the version read,
  so a second accept or a second expiry finds it done.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from crm_core.auth import Principal
from crm_core.context import RequestContext
from crm_core.errors import ProblemError, conflict, invalid_field
from crm_core.ids import days_after, utc_now, utc_text
from crm_core.models.quote import QUOTE_DEFAULTS, QuoteCreate, QuoteUpdate
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.money import money_text, round_money
from crm_core.repositories.table import RecordItem
from crm_core.services import numbering, references, schedules
from crm_core.services.records import (
    ObjectSpec,
    Prepared,
    RecordService,
    SortKey,
    amount_order,
    normalize_text,
    record_data,
    represent,
)
from crm_core.services.records.writes import build_change, write_retrying

logger = logging.getLogger(__name__)

SEQUENCE = "quote"
NUMBER_PREFIX = "Q"
INPUT_FIELDS = ("product_id", "description", "quantity", "unit_price", "discount", "tax_rate")
ANSWERED = ("accepted", "declined")
EXPIRY_PREFIX = "quote-expiry-"  # its at() schedule, in the reminders' group


# ------------------------------------------------------------------------------------------ arithmetic


def line_amounts(line: dict[str, Any], currency: str) -> dict[str, str]:
    """A line's amounts, each rounded half-even to the currency's minor unit."""
    quantity, unit_price = Decimal(str(line["quantity"])), Decimal(str(line["unit_price"]))
    discount, tax_rate = Decimal(str(line.get("discount") or 0)), Decimal(str(line.get("tax_rate") or 0))
    amount = round_money(quantity * unit_price, currency)
    discount_amount = round_money(amount * discount, currency)
    tax_amount = round_money((amount - discount_amount) * tax_rate, currency)
    return {
        "amount": money_text(amount),
        "discount_amount": money_text(discount_amount),
        "tax_amount": money_text(tax_amount),
        "total": money_text(amount - discount_amount + tax_amount),
    }


def totals(lines: list[dict[str, Any]], currency: str) -> dict[str, str]:
    """The quote's totals: sums of its rounded lines."""
    zero = round_money(Decimal(0), currency)
    subtotal = sum((Decimal(line["amount"]) for line in lines), zero)
    discount_total = sum((Decimal(line["discount_amount"]) for line in lines), zero)
    tax_total = sum((Decimal(line["tax_amount"]) for line in lines), zero)
    return {
        "subtotal": money_text(subtotal),
        "discount_total": money_text(discount_total),
        "tax_total": money_text(tax_total),
        "total": money_text(subtotal - discount_total + tax_total),
    }


# ------------------------------------------------------------------------------------------ the rules


def quote_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    """Type-ahead: the number (``q-2026-0042``, or its digits ``0042``) and the title's words."""
    number = normalize_text(data.get("number") or "")
    title = normalize_text(data.get("title") or "")
    found = [number, number.rsplit("-", 1)[-1], title, *title.split()[1:6]]
    return list(dict.fromkeys(t[:40] for t in found if t))


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    for field_name, object_type in (("deal_id", "deal"), ("contact_id", "contact")):
        linked = data.get(field_name)
        if linked and field_name in changed and references.active_record(ctx, object_type, linked) is None:
            raise invalid_field(field_name, f"no {object_type} with this id")
    references.require_active_user(ctx, data, changed, "owner_id")
    return {}


def _inputs(lines: Any) -> list[dict[str, Any]]:
    return [{k: line.get(k) for k in INPUT_FIELDS} for line in lines or []]


def _with_defaults(
    ctx: RequestContext, lines: list[dict[str, Any]], currency: str, known: set[str]
) -> list[dict[str, Any]]:
    """The lines with their products' defaults; 422 naming a line's field that cannot be filled. Products
    in ``known`` (on the quote before) may have been deactivated since; a new one must be active."""
    product_ids = [str(line["product_id"]) for line in lines if line.get("product_id")]
    found = references.active_records(ctx, "product", product_ids) if product_ids else set()
    filled = []
    for position, line in enumerate(lines):
        at = f"line_items[{position}]"
        product: RecordFields = {}
        if line.get("product_id"):
            if line["product_id"] not in found:
                raise invalid_field(f"{at}.product_id", "no product with this id")
            product = record_data(ctx.lookups[("product", line["product_id"])])
            if product.get("active") is False and line["product_id"] not in known:
                raise invalid_field(f"{at}.product_id", "this product is inactive")
        line = dict(line)
        if line.get("unit_price") is None:
            prices = {p["currency"]: p["unit_price"] for p in product.get("prices") or []}
            if currency not in prices:
                why = "its product has no price in" if product else "is required (no product) in"
                raise invalid_field(f"{at}.unit_price", f"{why} {currency}")
            line["unit_price"] = prices[currency]
        if line.get("tax_rate") is None:
            line["tax_rate"] = product.get("tax_rate") or "0"
        if line.get("discount") is None:
            line["discount"] = "0"
        if not line.get("description"):
            line["description"] = product.get("name")
        filled.append(line)
    return filled


def derive(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, record_id: str | None
) -> RecordFields:
    """The lines' defaults and amounts, the totals, and a new quote's number."""
    data = dict(data)
    currency = str(data["currency"])
    lines = _inputs(data.get("line_items"))
    old_lines = _inputs(before.get("line_items")) if before else None
    if before is None or lines != old_lines or currency != before.get("currency"):
        known = {str(line["product_id"]) for line in old_lines or [] if line.get("product_id")}
        lines = _with_defaults(ctx, lines, currency, known)
    priced = [{**line, **line_amounts(line, currency)} for line in lines]
    data["line_items"] = priced
    data.update(totals(priced, currency))
    if before is None:
        period = str(datetime.now(UTC).year)
        number = numbering.last_number(ctx.tenant_id, SEQUENCE, period) + 1
        data["number"] = numbering.formatted(NUMBER_PREFIX, period, number)
        data.setdefault("status", "draft")
    return data


def number_claim(ctx: RequestContext, before: RecordItem | None, item: RecordItem) -> list[tuple[Any, Any]]:
    """A new quote's number, taken in its transaction (a lost race prepares the create again)."""
    if before is not None:
        return []
    _, period, number = str(record_data(item)["number"]).split("-")
    return [numbering.claim(ctx.tenant_id, SEQUENCE, period, int(number))]


def update_events(before: RecordFields, after: RecordFields) -> list[str]:
    """A move of status is its own event (quote.sent, accepted, declined, expired); any other change is
    quote.updated."""
    if after.get("status") != before.get("status"):
        return [str(after["status"])]
    return ["updated"]


def expires_at(data: RecordFields) -> str | None:
    """When a sent quote expires: the end of its ``valid_until`` (UTC), or None without one (or with
    9999-12-31, whose end is no time: it does not expire)."""
    if not data.get("valid_until"):
        return None
    after = days_after(date.fromisoformat(str(data["valid_until"])), 1)
    return utc_text(datetime(after.year, after.month, after.day, tzinfo=UTC)) if after is not None else None


# ------------------------------------------------------------------------------------------ the service


class QuoteService(RecordService):
    def _prepare_change(
        self, ctx: RequestContext, before: RecordItem, fields: RecordFields
    ) -> Prepared | None:
        """Only a draft is changed (a PATCH): a sent quote is what the customer saw. Its moves of status
        are made by ``_move``."""
        status = record_data(before).get("status")
        if status != "draft":
            raise conflict(f"Only a draft quote can be changed; this one is {status}.", quote_status=status)
        return super()._prepare_change(ctx, before, fields)

    def _require_still_whole(self, merged: RecordFields) -> None:
        """As any record's, on the lines as they are sent (their amounts are derived)."""
        super()._require_still_whole({**merged, "line_items": _inputs(merged.get("line_items"))})

    def _move(self, ctx: RequestContext, before: RecordItem, fields: RecordFields) -> Prepared:
        """A move of status (its event from ``update_events``), checked against who may change it."""
        self.require_change(ctx, record_data(before))
        item = copy.deepcopy(before)
        item.data = {**record_data(before), **fields}
        item.updated_at = utc_now()
        item.updated_by = ctx.principal.user_id
        return build_change(self.spec, ctx, item, before, "updated", related=None, status=200)

    def send(
        self, ctx: RequestContext, record_id: str, sender: str | None, message: str | None
    ) -> RecordBody:
        """Mark a draft sent (quote.sent, once) and email its contact the public page's link; the expiry
        schedule is set. Sending a sent quote again emails the link again, with no new change or event."""
        from crm_core.services import quote_mail  # the email's rendering, loaded when one is sent

        def prepare() -> Prepared | None:
            before = self.load(ctx, record_id)
            data = record_data(before)
            if data.get("status") == "sent":
                self.require_change(ctx, data)
                return None
            if data.get("status") != "draft":
                status = data.get("status")
                raise conflict(f"This quote is {status}: it was sent already.", quote_status=status)
            _require_sendable(ctx, data)
            return self._move(ctx, before, {"status": "sent", "sent_at": utc_now()})

        committed = write_retrying(self.spec, ctx, prepare)
        quote = represent(self.spec, committed.item) if committed else self.get(ctx, record_id)
        quote_mail.send(ctx, quote, sender, message)
        return quote

    def answer(self, tenant_id: str, record_id: str, answer: str) -> RecordBody:
        """The customer's answer on the public page: accepted or declined, once. The same answer again is
        answered as the first was; the other one after an answer, or any after expiry, is 409."""
        assert answer in ANSWERED
        ctx = RequestContext(Principal.system(tenant_id, "quote_page"))

        def prepare() -> Prepared | None:
            before = self.load(ctx, record_id)
            status = record_data(before).get("status")
            if status == answer:
                return None
            if status != "sent":
                raise conflict(f"This quote is {status}.", quote_status=status)
            return self._move(ctx, before, {"status": answer, f"{answer}_at": utc_now()})

        committed = write_retrying(self.spec, ctx, prepare)
        quote = represent(self.spec, committed.item) if committed else self.get(ctx, record_id)
        if quote["status"] == "accepted" and quote.get("win_deal_on_accept", True):
            win_deal(ctx, str(quote["deal_id"]))  # again on a second accept: it may not have lived to it
        return quote

    def expire(self, tenant_id: str, record_id: str, at: str) -> str:
        """The expiry schedule fired: a quote still sent, whose ``valid_until`` still ends at ``at``,
        expires (quote.expired, once); anything else is "stale"."""
        ctx = RequestContext(Principal.system(tenant_id, "quote_expiry"))

        def prepare() -> Prepared | None:
            before = repo_get(ctx, record_id)
            if before is None:
                return None
            data = record_data(before)
            if data.get("status") != "sent" or expires_at(data) != at:
                return None
            return self._move(ctx, before, {"status": "expired", "expired_at": utc_now()})

        return "expired" if write_retrying(self.spec, ctx, prepare) is not None else "stale"

    def pdf(self, ctx: RequestContext, record_id: str, fonts: Path) -> tuple[RecordBody, bytes]:
        """The quote and its PDF, in the fonts of the folder ``fonts`` (quote_documents.FONT_FILES), naming
        its contact (one more GetItem)."""
        from crm_core.services.quote_documents import render_pdf

        quote = self.get(ctx, record_id)
        customer = contact_name(ctx, quote.get("contact_id"))
        return quote, render_pdf(quote, tenant_name(ctx.tenant_id), fonts, customer)


def contact_name(ctx: RequestContext, contact_id: str | None) -> str:
    """The name of a quote's contact as the PDF prints it ("" for none, or one archived or erased since)."""
    contact = references.active_record(ctx, "contact", contact_id) if contact_id else None
    if contact is None:
        return ""
    data = record_data(contact)
    return " ".join(str(data[part]) for part in ("first_name", "last_name") if data.get(part))


def tenant_name(tenant_id: str) -> str:
    from crm_core.repositories import tenant_repository

    tenant = tenant_repository.get_tenant(tenant_id)
    return str(tenant.name) if tenant is not None else ""


# ------------------------------------------------------------------------------- the public page /q/{token}


def quote_of_token(token: str) -> tuple[str, RecordBody]:
    """The tenant and the quote a page's token names: 404 when it is forged or altered, or the quote is
    archived or was never sent."""
    from crm_core.services.quote_mail import PAGE_PURPOSE
    from crm_core.signing import verify_carrying_tenant

    missing = ProblemError(404, "Not Found", "No such quote.")
    verified = verify_carrying_tenant(PAGE_PURPOSE, token)
    if verified is None or not isinstance(verified[1].get("q"), str):
        raise missing
    tenant_id, payload = verified
    item = repo_get(RequestContext(Principal.system(tenant_id, "quote_page")), payload["q"])
    if item is None or record_data(item).get("status") == "draft":
        raise missing
    return tenant_id, represent(QUOTES.spec, item)


def public_page(token: str) -> str:
    from crm_core.services.quote_documents import render_page

    tenant_id, quote = quote_of_token(token)
    return render_page(quote, tenant_name(tenant_id), token)


def public_answer(token: str, answer: str) -> tuple[int, str]:
    """(status, page) after the customer's answer: 200 with the confirmation (the same for the same answer
    twice), or 409 with the page as it stands when the quote took another answer or expired."""
    from crm_core.services.quote_documents import render_page

    tenant_id, quote = quote_of_token(token)
    try:
        quote = QUOTES.answer(tenant_id, str(quote["id"]), answer)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        _, quote = quote_of_token(token)
        notice = f"This quote is {quote['status']} already; it cannot be {answer} now."
        return 409, render_page(quote, tenant_name(tenant_id), token, notice)
    thanks = "Thank you: you accepted this quote." if answer == "accepted" else "You declined this quote."
    return 200, render_page(quote, tenant_name(tenant_id), token, thanks)


def repo_get(ctx: RequestContext, record_id: str) -> RecordItem | None:
    from crm_core.repositories import record_repository

    item = record_repository.get_record(ctx.tenant_id, "quote", record_id, consistent=True)
    return item if item is not None and item.archived_at is None else None


def _require_sendable(ctx: RequestContext, data: RecordFields) -> None:
    if not data.get("line_items"):
        raise invalid_field("line_items", "a quote is sent with at least one line")
    contact_id = data.get("contact_id")
    if not contact_id:
        raise invalid_field("contact_id", "a quote is sent to its contact: name one")
    contact = references.active_record(ctx, "contact", str(contact_id))
    if contact is None or not record_data(contact).get("email"):
        raise invalid_field("contact_id", "the contact has no email address")
    if record_data(contact).get("erased_at"):
        raise invalid_field("contact_id", "the contact's personal data was erased")
    ends = expires_at(data)
    if ends is not None and ends <= utc_now():
        raise invalid_field("valid_until", "has passed: set a later day before sending")


def sync_expiry(tenant_id: str, quote_id: str) -> str:
    """The quote's expiry schedule made to match the quote as it is now, whatever event brought us here (the
    reminder scheduler's consumer: quote.sent, accepted, declined, archived, restored): an at() schedule
    at the end of ``valid_until`` while it is sent and unanswered, none otherwise. Answers what it did."""
    from crm_core.repositories import record_repository

    item = record_repository.get_record(tenant_id, "quote", quote_id, consistent=True)
    data: RecordFields = record_data(item) if item is not None and item.archived_at is None else {}
    at = expires_at(data) if data.get("status") == "sent" else None
    if at is None:
        return schedules.remove(EXPIRY_PREFIX + quote_id)
    message = {"tenant_id": tenant_id, "quote_id": quote_id, "at": at}
    return schedules.put_at(EXPIRY_PREFIX + quote_id, at, message)


def win_deal(ctx: RequestContext, deal_id: str) -> None:
    """The deal moves to its pipeline's first won stage, unless it is closed already (won or lost)."""
    from crm_core.services.deals import DEALS

    deal = references.active_record(ctx, "deal", deal_id)
    if deal is None or record_data(deal).get("status") != "open":
        return
    pipeline = references.active_record(ctx, "pipeline", str(record_data(deal).get("pipeline_id")))
    stages = record_data(pipeline).get("stages") if pipeline is not None else None
    won = next((s["id"] for s in stages or [] if s.get("kind") == "won"), None)
    if won is None:
        return
    try:
        DEALS.update(ctx, deal_id, {"stage_id": won})
    except ProblemError:  # the deal changed so that it cannot be won: the quote's answer stands
        logger.warning("quote accepted, deal %s not moved to won", deal_id, exc_info=True)


QUOTES = QuoteService(
    ObjectSpec(
        object_type="quote",
        create_model=QuoteCreate,
        update_model=QuoteUpdate,
        defaults=QUOTE_DEFAULTS,
        tokens=quote_tokens,
        resolve=resolve_references,
        parent_field="deal_id",
        category_field="status",
        derive=derive,
        update_events=update_events,
        companions=number_claim,
        sorts=(SortKey("total", 6, lambda data: amount_order(data.get("total"))),),
        timeline_links=lambda data: [("deal", str(data["deal_id"]))] if data.get("deal_id") else [],
    )
)
