"""Companies: the record type, its unique domain and its type-ahead tokens."""

from __future__ import annotations

from typing import Any

from crm_core.errors import conflict, invalid_field
from crm_core.models.company import COMPANY_DEFAULTS, CompanyCreate, CompanyUpdate, normalize_domain
from crm_core.services import references
from crm_core.services.contacts import CONTACTS
from crm_core.services.records import ObjectSpec, RecordService, RequestContext, normalize_text

# A merge moves the duplicate's contacts within the request; more than this would make one request's
# work unbounded, so such a merge is refused until it can run as a background job.
MAX_CONTACTS_MOVED_BY_MERGE = 100


def company_tokens(data: dict[str, Any], related: dict[str, Any]) -> list[str]:
    name = normalize_text(data.get("name") or "")
    tokens = [name, *name.split()[1:4]]
    if data.get("domain"):
        tokens.append(data["domain"])
    return list(dict.fromkeys(t[:40] for t in tokens if t))


def company_dedupe_keys(data: dict[str, Any]) -> list[str]:
    name = normalize_text(data.get("name") or "")
    return [f"same_name:{name}"] if name else []


def resolve_references(
    ctx: RequestContext, data: dict[str, Any], changed: set[str], previous: dict[str, Any]
) -> dict[str, Any]:
    owner_id = data.get("owner_id")
    if owner_id and "owner_id" in changed and not references.is_active_user(ctx, owner_id):
        raise invalid_field("owner_id", "no user with this id")
    return {}


def move_contacts(ctx: RequestContext, survivor_id: str, duplicate_id: str) -> None:
    """The duplicate company's contacts become the survivor's (each a recorded contact change)."""
    contacts, more = CONTACTS.list_records(
        ctx,
        filters={"company_id": duplicate_id},
        q=None,
        archived=False,
        limit=MAX_CONTACTS_MOVED_BY_MERGE,
        cursor=None,
    )
    if more:
        raise conflict(
            f"The company {duplicate_id} has more than {MAX_CONTACTS_MOVED_BY_MERGE} contacts; move some "
            "of them to the other company first (batch update), then merge.",
            field_name="duplicate_id",
        )
    for contact in contacts:
        CONTACTS.update(ctx, contact["id"], {"company_id": survivor_id})


COMPANIES = RecordService(
    ObjectSpec(
        object_type="company",
        create_model=CompanyCreate,
        update_model=CompanyUpdate,
        defaults=COMPANY_DEFAULTS,
        tokens=company_tokens,
        dedupe_keys=company_dedupe_keys,
        resolve=resolve_references,
        unique_field="domain",
        normalize_unique=normalize_domain,
        category_field="industry",
        before_merge=move_contacts,
    )
)
