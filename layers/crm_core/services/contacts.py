"""Contacts: the record type, its unique email, its type-ahead tokens and its references."""

from __future__ import annotations

from crm_core.context import RequestContext
from crm_core.errors import conflict, invalid_field
from crm_core.models.contact import CONTACT_DEFAULTS, ContactCreate, ContactUpdate, birthday_month_day
from crm_core.models.record import RecordFields, RelatedFacts
from crm_core.repositories import suppression_repository
from crm_core.repositories.suppression_repository import UNSUBSCRIBED
from crm_core.services import references
from crm_core.services.records import (
    Expansion,
    ObjectSpec,
    RecordService,
    Referrer,
    SortKey,
    normalize_text,
    phone_digits,
    record_data,
    record_title,
    text_order,
)

MAX_TOKEN_LENGTH = 40


def contact_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    """Type-ahead prefixes: the full name, each name, the email, the phone's digits, the company's name.
    With a full name, the first name's first word has no token of its own: every prefix of it is one of
    the full name's. The full name and the phone's digits are also the duplicate keys' tokens
    (``contact_dedupe_keys``)."""
    first_words = normalize_text(data.get("first_name") or "").split()
    last_words = normalize_text(data.get("last_name") or "").split()
    full_name = _full_name(data)
    tokens = [full_name, *first_words[1:]] if full_name else list(first_words)
    tokens += last_words
    if data.get("email"):
        tokens.append(normalize_text(data["email"]))
    digits = phone_digits(data.get("phone") or "")
    if len(digits) >= 3:
        tokens.append(digits)
    if related.get("company_name"):
        tokens.append(normalize_text(related["company_name"]))
    return list(dict.fromkeys(t[:MAX_TOKEN_LENGTH] for t in tokens if t))[:10]


def _full_name(data: RecordFields) -> str:
    """The normalized "first last", when the contact has both names (else "")."""
    first = normalize_text(data.get("first_name") or "")
    last = normalize_text(data.get("last_name") or "")
    return f"{first} {last}" if first and last else ""


def contact_dedupe_keys(data: RecordFields) -> list[str]:
    found = []
    if full_name := _full_name(data):
        found.append(f"same_name:{full_name[:MAX_TOKEN_LENGTH]}")
    digits = phone_digits(data.get("phone") or "")
    if len(digits) >= 7:
        found.append(f"same_phone:{digits[:MAX_TOKEN_LENGTH]}")
    return found


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    related: RelatedFacts = {}
    company_id = data.get("company_id")
    if company_id and "company_id" not in changed and "company_name" in previous:
        related["company_name"] = previous["company_name"]
    elif company_id:
        company = references.active_record(ctx, "company", company_id)
        if company is not None:
            related["company_name"] = record_data(company).get("name")
        elif "company_id" in changed:
            raise invalid_field("company_id", "no company with this id")
    references.require_active_user(ctx, data, changed, "owner_id")
    return related


def birthday_entries(data: RecordFields) -> list[tuple[str, str]]:
    """A contact with a birthday has an entry under its month and day (``birthday``/``MM-DD``): the day's
    birthdays are one Query (services/birthdays.py)."""
    month_day = birthday_month_day(data.get("birthday"))
    return [(BIRTHDAY_ENTRY, month_day)] if month_day else []


BIRTHDAY_ENTRY = "birthday"


def derive(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, contact_id: str | None
) -> RecordFields:
    """Email consent granted by a user (or an import) to an address its person unsubscribed is 409 naming
    ``consent.email``: only the person lifts an unsubscription (the re-subscribe link of a campaign email,
    services/campaign_tracking.py). Asked only when consent becomes granted or a granted contact's address
    changes (one consistent GetItem of the suppression list)."""
    email = data.get("email")
    granted = (data.get("consent") or {}).get("email") == "granted"
    if not granted or not email:
        return data
    if (
        before is not None
        and (before.get("consent") or {}).get("email") == "granted"
        and before.get("email") == email
    ):
        return data
    if suppression_repository.suppression_reason(ctx.tenant_id, str(email)) == UNSUBSCRIBED:
        raise conflict(
            "This address was unsubscribed by its owner; only they can subscribe again (the link in the "
            "emails they received).",
            field_name="consent.email",
        )
    return data


def referrers() -> tuple[Referrer, ...]:
    """What refers to a contact: what a merge moves from the duplicate to the survivor (its activities and
    deals), and what a person's export shows and erasure clears (services/privacy.py)."""
    # Imported by the merge that asks, not with the service: a function serving contacts would otherwise
    # load the activities', deals' and pipelines' models and services at its first request.
    from crm_core.services.activities import ACTIVITIES
    from crm_core.services.deals import DEALS
    from crm_core.services.tickets import TICKETS

    return (
        Referrer("activities", ACTIVITIES, "contact_id", personal_text=("subject", "body")),
        Referrer("deals", DEALS, "contact_ids"),
        # A ticket's satisfaction keeps its score (no one's words), not the comment the person wrote.
        Referrer(
            "tickets", TICKETS, "contact_id", personal_text=("subject", "description", "satisfaction.comment")
        ),
    )


CONTACTS = RecordService(
    ObjectSpec(
        object_type="contact",
        custom_object="contacts",
        quota="contacts",
        create_model=ContactCreate,
        update_model=ContactUpdate,
        defaults=CONTACT_DEFAULTS,
        tokens=contact_tokens,
        dedupe_keys=contact_dedupe_keys,
        resolve=resolve_references,
        unique_field="email",
        normalize_unique=lambda email: email.strip().lower(),
        parent_field="company_id",
        category_field="lifecycle_stage",
        expansions={"company": Expansion("company_id", "company")},
        sorts=(SortKey("name", 6, lambda data: text_order(record_title(data))),),
        referrers=referrers,
        personal_fields=("first_name", "last_name", "email", "phone", "birthday"),
        derived_entries=birthday_entries,
        derive=derive,
    )
)
