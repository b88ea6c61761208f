"""Companies: the record type, its unique domain and its type-ahead tokens."""

from __future__ import annotations

from crm_core.context import RequestContext
from crm_core.models.company import COMPANY_DEFAULTS, CompanyCreate, CompanyUpdate, normalize_domain
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.services import references
from crm_core.services.records import ObjectSpec, RecordService, Referrer, SortKey, normalize_text, text_order

MAX_TOKEN_LENGTH = 40


def company_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    """Type-ahead prefixes: the name (also the duplicate key's token), its next words, the domain."""
    name = normalize_text(data.get("name") or "")
    tokens = [name, *name.split()[1:4]]
    if data.get("domain"):
        tokens.append(data["domain"])
    return list(dict.fromkeys(t[:MAX_TOKEN_LENGTH] for t in tokens if t))


def company_dedupe_keys(data: RecordFields) -> list[str]:
    name = normalize_text(data.get("name") or "")
    return [f"same_name:{name[:MAX_TOKEN_LENGTH]}"] if name else []


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    references.require_active_user(ctx, data, changed, "owner_id")
    return {}


def referrers() -> tuple[Referrer, ...]:
    """What a merge moves from the duplicate to the survivor: its contacts, deals and activities."""
    from crm_core.services.activities import ACTIVITIES  # only a merge needs them (services/contacts.py)
    from crm_core.services.contacts import CONTACTS
    from crm_core.services.deals import DEALS

    return (
        Referrer("contacts", CONTACTS, "company_id"),
        Referrer("deals", DEALS, "company_id"),
        Referrer("activities", ACTIVITIES, "company_id"),
    )


COMPANIES = RecordService(
    ObjectSpec(
        object_type="company",
        custom_object="companies",
        create_model=CompanyCreate,
        update_model=CompanyUpdate,
        defaults=COMPANY_DEFAULTS,
        tokens=company_tokens,
        dedupe_keys=company_dedupe_keys,
        resolve=resolve_references,
        unique_field="domain",
        normalize_unique=normalize_domain,
        category_field="industry",
        folded_fields=("industry",),
        sorts=(SortKey("name", 6, lambda data: text_order(data.get("name"))),),
        referrers=referrers,
    )
)


def company_records(
    ctx: RequestContext, service: RecordService, company_id: str, *, limit: int, cursor: str | None
) -> tuple[list[RecordBody], str | None]:
    """A page of the company's active records of ``service``'s type (its contacts, its deals), one Query of
    their parent index; a missing or foreign company is a 404, not an empty list (one GetItem, asked only
    when the first page is empty)."""
    items, next_cursor = service.list_records(
        ctx, filters={"company_id": company_id}, q=None, archived=False, limit=limit, cursor=cursor
    )
    if not items and cursor is None:
        COMPANIES.get(ctx, company_id)
    return items, next_cursor
