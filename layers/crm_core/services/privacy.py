"""A person's data (API.md section 3, privacy): what the CRM holds about a contact, exported; and its
erasure, which leaves a tombstone (docs/decisions/0014-erasure.md, docs/privacy.md).

What refers to a contact is what its type declares (``CONTACTS.spec.referrers``: what a merge moves):
a record type linked to contacts that names its ``personal_text`` fields there (an activity's subject and
body) is exported whole and has those fields cleared by an erasure; one without (a deal, which names
several people) is exported by id and name. Nothing here names a record type other than the contact.

An erasure is made in two parts (docs/decisions/0016-erasure.md, "The scrub of copies"). The request does
the bounded part: the tombstone, in one transaction with the suppression of the address, the release of
its unique marker, the ``contact.erased`` event (the record's change envelope) and an item holding the
words the scrub looks for; the contacts merged into it, erased as it is; its duplicate pairs. Once the
tombstone has committed, asking again answers it unchanged and sends no second event. The scrub of the
copies (what the linked records say, timeline entries, audit values, notifications, webhook delivery
logs, idempotency records) is ``scrub_copies``, run by the consumer of ``contact.erased``
(functions/erasure_scrub): idempotent, so a redelivered message does it again harmlessly.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from crm_core.auth import Principal, Role
from crm_core.context import RequestContext
from crm_core.errors import forbidden
from crm_core.ids import utc_now
from crm_core.models.record import RecordBody, RecordFields
from crm_core.repositories import keys, privacy_repository, suppression_repository
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import (
    AuditItem,
    CampaignSentEntry,
    DeliveryAttemptItem,
    DuplicatePair,
    EventItem,
    NotificationItem,
    RecordItem,
    ReplyItem,
    SurveyItem,
    TableItem,
    TimelineEntryItem,
    TimelineItem,
)
from crm_core.services import audit
from crm_core.services.contacts import CONTACTS
from crm_core.services.custom_values import schema_for_write, unique_values
from crm_core.services.records import Referrer, record_data, record_title, represent
from crm_core.services.records.shape import related_facts
from crm_core.services.records.writes import Prepared, build_change, write_retrying
from crm_core.services.webhooks import DELIVERY_SK_PREFIX, redacted
from crm_core.stored_values import as_json_value

if TYPE_CHECKING:
    from crm_core.consumers import BusEvent

# What a contact's tombstone keeps: its links and its place in reports (owner, company, stage). Its id,
# state, version and times are the record's own. Every other field (names, email, phone, title, tags,
# source, consent, custom values) is cleared.
KEPT_FIELDS = ("owner_id", "company_id", "lifecycle_stage")
PAGE = 100
MAX_PAGES = 100  # pages of one list an export or an erasure reads: 10,000 entries of a kind
ERASED = "(erased)"
MERGED_FROM = "merged_from"  # a merge's change naming the duplicate it took in
SCRUB_STATUS_HEADER = "Scrub-Status"  # the erase answer's: pending|done (docs/decisions/0016-erasure.md)

logger = Logger(child=True)


def _whole(walk: privacy_repository.Walk, what: str) -> privacy_repository.Walk:
    """The walk, logged (a warning naming the partition) when it stopped at its bound before the end of
    its partition: what lies beyond is left as it is (docs/privacy.md, "Bounds")."""
    if not walk.complete:
        logger.warning("erasure stopped at its bound", extra={"partition": what})
    return walk


def _require_admin(ctx: RequestContext) -> None:
    """API.md "roles": privacy requests are an admin's alone, reads included (an export is everything
    about a person)."""
    if ctx.principal.role is not Role.ADMIN:
        raise forbidden("Only an admin can make privacy requests (a person's export or erasure).")


# ---------------------------------------------------------------------------------------------- export


def export_contact(ctx: RequestContext, contact_id: str) -> dict[str, Any]:
    """Everything held about the person: the contact (archived or not), its company, its timeline, the
    records that refer to it (those with the person's words whole, the others by id and name) and its
    audit trail. An erased contact's export is its tombstone alone: nothing else is held about the
    person."""
    _require_admin(ctx)
    item = CONTACTS.load(ctx, contact_id, archived=None)
    contact = represent(CONTACTS.spec, item)
    answer: dict[str, Any] = {
        "contact": contact,
        "company": None,
        "timeline": [],
        "linked": {referrer.name: [] for referrer in _referrers()},
        "audit": [],
        "exported_at": utc_now(),
    }
    if contact.get("erased_at"):
        return answer
    company_id = contact.get("company_id")
    company = repo.get_record(ctx.tenant_id, "company", company_id) if company_id else None
    if company is not None:
        answer["company"] = {"id": company.id, "name": record_title(record_data(company))}
    answer["timeline"] = list(
        _pages(lambda cursor: CONTACTS.timeline(ctx, contact_id, limit=PAGE, cursor=cursor))
    )
    for referrer in _referrers():
        records = _referring(ctx, referrer, contact_id)
        answer["linked"][referrer.name] = [
            represent(referrer.service.spec, record)
            if referrer.personal_text
            else {"id": record.id, "name": record_title(record_data(record))}
            for record in records
        ]
    answer["audit"] = list(
        _pages(lambda cursor: audit.audit_events(ctx, object_id=contact_id, limit=PAGE, cursor=cursor))
    )
    return answer


def _pages(read: Any) -> Iterator[dict[str, Any]]:
    """The items of a paged read (``read(cursor)`` -> Page), at most MAX_PAGES pages."""
    cursor = None
    for _ in range(MAX_PAGES):
        page = read(cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def _referrers() -> tuple[Referrer, ...]:
    return CONTACTS.spec.referrers() if CONTACTS.spec.referrers else ()


def _referring(ctx: RequestContext, referrer: Referrer, contact_id: str) -> list[RecordItem]:
    """The records of one kind that refer to the contact, active and archived, read consistently."""
    found: list[RecordItem] = []
    for state in ("active", "archived"):
        start = None
        for _ in range(MAX_PAGES):
            ids, start = referrer.service.ids_referring(
                ctx.tenant_id, referrer.field_name, contact_id, limit=PAGE, start_key=start, state=state
            )
            records = repo.batch_get_records(
                ctx.tenant_id, referrer.service.spec.object_type, ids, consistent=True
            )
            found += [records[i] for i in ids if i in records]
            if start is None:
                break
    return found


# ----------------------------------------------------------------------------------------------- erase


def erase_contact(ctx: RequestContext, contact_id: str) -> RecordBody:
    """The contact left as a tombstone, its address suppressed, ``contact.erased`` sent once, and the
    scrub of its copies queued (``scrub_copies``, run by the consumer of that event). The request's work is
    bounded whatever the person's history: the tombstone's transaction (with the suppression, the unique
    marker and the scrub's words), the contacts merged into it (erased as it is), its duplicate pairs.
    Asking again answers the same tombstone, with no write of the record and no event."""
    _require_admin(ctx)
    before = CONTACTS.load(ctx, contact_id, archived=None)
    for duplicate_id in _merged_into(ctx.tenant_id, contact_id):
        _erase_merged(ctx, contact_id, duplicate_id)
    if record_data(before).get("erased_at"):
        _drop_duplicate_pairs(ctx.tenant_id, contact_id)
        return represent(CONTACTS.spec, before)
    committed = write_retrying(CONTACTS.spec, ctx, lambda: _tombstone(ctx, contact_id))
    _drop_duplicate_pairs(ctx.tenant_id, contact_id)
    if committed is None:  # erased meanwhile by another request
        return represent(CONTACTS.spec, CONTACTS.load(ctx, contact_id, archived=None))
    return represent(CONTACTS.spec, committed.item)


def scrub_status(tenant_id: str, contact_id: str) -> str:
    """``pending`` while the scrub of an erased contact's copies has not completed, else ``done``."""
    return "pending" if privacy_repository.pending_scrub(tenant_id, contact_id) is not None else "done"


def handle_erased(message: BusEvent) -> str:
    """One queue message: a ``contact.erased`` event delivered by the rule on the crm bus."""
    detail = message["detail"]
    contact_id = (detail.get("data") or {}).get("id")
    if detail.get("type") != "contact.erased" or not contact_id:
        return "nothing to do"
    return scrub_copies(detail["tenant_id"], str(contact_id), correlation_id=detail.get("correlation_id"))


def scrub_copies(tenant_id: str, contact_id: str, *, correlation_id: str | None = None) -> str:
    """What copies an erased contact's words, cleared: its activities' and tickets' personal text (and the
    text of the tickets' replies, the comments of the tickets' CSAT surveys, in the surveys and the tickets'
    ``satisfaction``), the timelines and audit trails of the contact and those records, users'
    notifications, event targets' delivery logs, the tenant's idempotency records holding the person's
    words, the tenant's export zips made before (expired). Found by id, but for idempotency records and
    delivery logs, found by the words themselves: the contact's (kept for this in the scrub's item, written
    with the tombstone) and its records' and replies' (read before they are cleared, which comes after).
    Converges from state: a redelivered message does it again harmlessly; the scrub's item is deleted
    last, so a run that dies part-way leaves it for the next."""
    contact = repo.get_record(tenant_id, "contact", contact_id, consistent=True)
    if contact is None or not record_data(contact).get("erased_at"):
        return "nothing to do: not erased"
    # The CRM clears the activities' text on behalf of the erasure (its correlation id, to trace it).
    ctx = RequestContext(Principal.system(tenant_id, "erasure"), correlation_id=correlation_id)
    pending = privacy_repository.pending_scrub(tenant_id, contact_id)
    linked = [(referrer, _referring(ctx, referrer, contact_id)) for referrer in _referrers()]
    said = [(r, record) for r, records in linked if r.personal_text for record in records]
    needles = [*(pending.needles if pending else [])]
    needles += _needles({}, [record_data(record) for _, record in said], [r.personal_text for r, _ in said])
    tickets = [record for _, record in said if record.object_type == "ticket"]
    replies = _replies_of(tenant_id, tickets)
    needles += [str(reply.body) for reply in replies if len(str(reply.body)) >= 3]
    surveys = _survey_items(
        tenant_id, _surveys_of(tenant_id, tickets) | _nps_surveys_of(tenant_id, contact_id)
    )
    needles += [comment for comment in _survey_comments(surveys) if len(comment) >= 3]
    ids = {contact_id, *(record.id for _, record in said)}

    _scrub_deliveries(tenant_id, ids, needles)
    _forget_replays(tenant_id, needles)
    for referrer, record in said:
        _clear_text(ctx, referrer, record)
    privacy_repository.rewrite(_blanked(replies))
    _scrub_surveys(surveys)
    histories: list[tuple[str, str, list[tuple[str, str]]]] = [("contact", contact_id, [])]
    for referrer, record in said:
        spec = referrer.service.spec
        links = spec.timeline_links(record_data(record)) if spec.timeline_links else []
        histories.append((spec.object_type, record.id, links))
    _scrub_histories(tenant_id, histories)
    _scrub_notifications(tenant_id, ids)
    # The tenant's export zips made before the erasure may hold the person: expired, deleted (0015).
    from crm_core.services.exports import expire_made_before  # the scrub's alone: not the routes'

    expire_made_before(tenant_id, str(record_data(contact)["erased_at"]))
    if pending is not None:
        privacy_repository.scrub_completed(tenant_id, contact_id)
    return f"scrubbed the copies of contact {contact_id} and {len(said)} linked records"


def _merged_into(tenant_id: str, contact_id: str) -> list[str]:
    """The contacts merged into this one: each merge's entry in its timeline names the duplicate (an id,
    which the scrub of the timeline keeps: a retried erasure finds them again)."""
    walk = _whole(
        privacy_repository.items_of(keys.record_pk(tenant_id, "contact", contact_id), sk_prefix="EVT#"),
        f"timeline of contact {contact_id}",
    )
    found = []
    for item in walk.items:
        entry = as_json_value(item.entry) if isinstance(item, TimelineItem) else {}
        merged_from = ((entry.get("changes") or {}).get(MERGED_FROM) or {}).get("to")
        if entry.get("type") == "contact.merged" and merged_from:
            found.append(str(merged_from))
    return found


def _erase_merged(ctx: RequestContext, survivor_id: str, duplicate_id: str) -> None:
    """A contact merged into the one erased is the same person, erased with it: first the markers of its
    unique values (its address, its unique custom values), which the merge made lead to the survivor, are
    released (while its record still holds the values: a retry after a crash finds them again); then it is
    erased as the survivor is (its own merged contacts with it)."""
    duplicate = repo.get_record(ctx.tenant_id, "contact", duplicate_id, consistent=True)
    if duplicate is None:
        return
    data = record_data(duplicate)
    if not data.get("erased_at"):
        spec = CONTACTS.spec
        markers = []
        email = spec.unique_value(data)
        if email:
            markers.append(keys.unique_pk(ctx.tenant_id, spec.object_type, spec.unique_field or "", email))
        if spec.custom_object is not None and data.get("custom"):
            definitions = schema_for_write(ctx, spec.custom_object).definitions
            markers += [
                keys.unique_pk(ctx.tenant_id, spec.object_type, field_name, value)
                for field_name, value in unique_values(definitions, data.get("custom")).items()
            ]
        privacy_repository.release_markers(markers, survivor_id)
    erase_contact(ctx, duplicate_id)


def _tombstone(ctx: RequestContext, contact_id: str) -> Prepared | None:
    """The contact without its personal fields (``erased_at`` set), its change redacted (its event and
    audit item name what was cleared, with no value), with the suppression of its address and the
    deletion of its email's unique marker, in one transaction; None when it is erased already."""
    before = CONTACTS.load(ctx, contact_id, archived=None)
    data = record_data(before)
    if data.get("erased_at"):
        return None
    now = utc_now()
    item = copy.deepcopy(before)
    item.data = {**{k: v for k, v in data.items() if k in KEPT_FIELDS}, "erased_at": now}
    item.updated_at = now
    item.updated_by = ctx.principal.user_id
    prepared = build_change(CONTACTS.spec, ctx, item, before, "erased", related={}, status=200, redact=True)
    prepared.changes.save(
        privacy_repository.scrub_item(
            ctx.tenant_id, contact_id, _needles(data, [], []), erased_at=now, now_s=int(time.time())
        )
    )
    if data.get("email"):
        prepared.changes.save(
            suppression_repository.suppression_item(
                ctx.tenant_id, str(data["email"]), reason="erased", suppressed_at=now
            )
        )
    return prepared


def _needles(contact: RecordFields, said: list[RecordFields], fields: list[tuple[str, ...]]) -> list[str]:
    """The person's words as other items may hold them: the address, the phone, the full name, and what
    was said with them (each linked record's personal text)."""
    full_name = " ".join(str(contact[k]) for k in ("first_name", "last_name") if contact.get(k))
    found = [contact.get("email"), contact.get("phone"), full_name]
    for data, names in zip(said, fields, strict=True):
        found += [_text_of(data, name) for name in names]
    return [str(value) for value in found if value and len(str(value)) >= 3]


def _clear_text(ctx: RequestContext, referrer: Referrer, record: RecordItem) -> None:
    """A linked record's personal text cleared: a change of its own, redacted as the tombstone is. The
    record as just read consistently is the first try's (nothing written when it has none); a try that
    lost a race reads it again."""
    service = referrer.service
    read = [record]

    def prepare() -> Prepared | None:
        before = read.pop() if read else service.load(ctx, record.id, archived=None)
        data = record_data(before)
        kept = _without(data, referrer.personal_text)
        if kept == data:
            return None
        item = copy.deepcopy(before)
        item.data = kept
        item.updated_at = utc_now()
        item.updated_by = ctx.principal.user_id
        return build_change(
            service.spec, ctx, item, before, "updated", related=related_facts(before), status=200, redact=True
        )

    write_retrying(service.spec, ctx, prepare)


def _text_of(data: RecordFields, name: str) -> Any:
    """A personal text field's value: ``name`` of the record, or ``key`` of its object field ``field.key``."""
    field_name, _, key = name.partition(".")
    value = data.get(field_name)
    if not key:
        return value
    return value.get(key) if isinstance(value, dict) else None


def _without(data: RecordFields, names: Iterable[str]) -> RecordFields:
    """The record's fields without the personal text ``names`` (a dotted name: that key of the object)."""
    kept = dict(data)
    for name in names:
        field_name, _, key = name.partition(".")
        if not key:
            kept.pop(field_name, None)
        elif isinstance(kept.get(field_name), dict) and key in kept[field_name]:
            kept[field_name] = {k: v for k, v in kept[field_name].items() if k != key}
    return kept


def _surveys_of(tenant_id: str, tickets: list[RecordItem]) -> set[str]:
    """The CSAT surveys answered on the person's tickets: the latest in each ticket's ``satisfaction``, the
    earlier ones in its timeline's ``ticket.rated`` entries (read before the timeline is scrubbed)."""
    found: set[str] = set()
    for ticket in tickets:
        values: list[Any] = [record_data(ticket).get("satisfaction")]
        walk = _whole(
            privacy_repository.items_of(ticket.PK, sk_prefix="EVT#"), f"timeline of ticket {ticket.id}"
        )
        for item in walk.items:
            if isinstance(item, TimelineItem):
                change = (as_json_value(item.entry).get("changes") or {}).get("satisfaction") or {}
                values += [change.get("from"), change.get("to")] if isinstance(change, dict) else []
        found |= {str(v["survey_id"]) for v in values if isinstance(v, dict) and v.get("survey_id")}
    return found


def _nps_surveys_of(tenant_id: str, contact_id: str) -> set[str]:
    """The NPS surveys campaigns may have sent the person: one per campaign sent to it (its id follows from
    the campaign and the contact; a campaign that was no survey has none, and reading it finds nothing)."""
    from crm_core.services.surveys import nps_id  # the scrub's alone

    walk = _whole(
        privacy_repository.items_of(keys.contact_campaigns_pk(tenant_id, contact_id)),
        f"campaigns sent to contact {contact_id}",
    )
    return {
        nps_id(item.campaign_id, contact_id) for item in walk.items if isinstance(item, CampaignSentEntry)
    }


def _survey_items(tenant_id: str, survey_ids: Iterable[str]) -> list[TableItem]:
    """The items of the surveys' partitions: each survey's answer and its ``survey.answered`` events."""
    found: list[TableItem] = []
    for survey_id in sorted(survey_ids):
        found += _whole(
            privacy_repository.items_of(keys.survey_pk(tenant_id, survey_id)), f"survey {survey_id}"
        ).items
    return found


def _survey_comments(items: list[TableItem]) -> list[str]:
    """The comments the surveys hold (the scrub's words: a delivery log or a replay may copy them)."""
    return [str(item.comment) for item in items if isinstance(item, SurveyItem) and item.comment]


def _scrub_surveys(items: list[TableItem]) -> None:
    """Each survey's answer without its comment (the score stays: no one's words) and its
    ``survey.answered`` events without their data; only what still holds a comment or data is written."""
    blanked: list[TableItem] = []
    for item in items:
        if isinstance(item, SurveyItem) and item.comment is not None:
            item.comment = None
            blanked.append(item)
    privacy_repository.rewrite([*blanked, *_scrubbed(items)])


def _replies_of(tenant_id: str, tickets: list[RecordItem]) -> list[ReplyItem]:
    """The replies and notes of the person's tickets (in each ticket's partition): what was said with them."""
    found: list[ReplyItem] = []
    for ticket in tickets:
        walk = _whole(
            privacy_repository.items_of(ticket.PK, sk_prefix=keys.REPLY_SK_PREFIX), f"replies of {ticket.id}"
        )
        found += [item for item in walk.items if isinstance(item, ReplyItem)]
    return found


def _blanked(replies: list[ReplyItem]) -> Iterator[ReplyItem]:
    """Each reply that still holds its text, with ``ERASED`` instead (its time, author and kind kept)."""
    for reply in replies:
        if reply.body != ERASED:
            reply.body = ERASED
            yield reply


def _scrub_histories(tenant_id: str, histories: list[tuple[str, str, list[tuple[str, str]]]]) -> None:
    """Each record's timeline entries (and their copies in the timelines of the records it is linked to)
    and its audit trail, without the values they copied: titles and changed values null. Two Queries a
    record, the copies read together, and only what still holds a value written."""
    found: list[TableItem] = []
    copies: list[tuple[str, str]] = []
    for object_type, record_id, links in histories:
        own = _whole(
            privacy_repository.items_of(keys.record_pk(tenant_id, object_type, record_id), sk_prefix="EVT#"),
            f"timeline of {object_type} {record_id}",
        )
        copies += [(keys.record_pk(tenant_id, t, i), entry.SK) for t, i in links for entry in own.items]
        trail = _whole(
            privacy_repository.items_of(keys.audit_pk(tenant_id, record_id)), f"audit of {record_id}"
        )
        found += [*own.items, *trail.items]
    # An activity's entry in its contact's timeline is both in the contact's walk and a copy of the
    # activity's: each item read and written once (a batch may not name one twice).
    by_key = {(item.PK, item.SK): item for item in found}
    by_key |= {(i.PK, i.SK): i for i in repo.get_items(sorted(set(copies) - by_key.keys()))}
    privacy_repository.rewrite(_scrubbed(by_key.values()))


def _scrubbed(items: Iterable[TableItem]) -> Iterator[TableItem]:
    """The timeline, event and audit items among ``items`` that still hold a value, without it."""
    for item in items:
        if isinstance(item, TimelineItem):
            entry = as_json_value(item.entry)
            scrubbed = {
                **entry,
                "record": {**(entry.get("record") or {}), "title": None},
                "changes": _no_values(entry.get("changes"), "from", "to"),
            }
            if scrubbed != entry:
                item.entry = scrubbed
                yield item
        elif isinstance(item, (EventItem, TimelineEntryItem)):
            detail = as_json_value(item.detail)
            scrubbed = {
                **detail,
                "data": {"id": (detail.get("data") or {}).get("id")},
                "changes": _no_values(detail.get("changes"), "from", "to"),
            }
            if scrubbed != detail:
                item.detail = scrubbed
                yield item
        elif isinstance(item, AuditItem):
            changes = as_json_value(item.changes)
            scrubbed = {name: {"before": None, "after": None, "personal": True} for name in changes}
            if scrubbed != changes:
                item.changes = scrubbed
                yield item


def _no_values(changes: Any, before: str, after: str) -> dict[str, Any]:
    """Each change's values nulled, but a merge's ``merged_from`` (the id of the record merged in: no one's
    words, and what finds the contacts merged into an erased one)."""
    return {
        name: values if name == MERGED_FROM else {before: None, after: None}
        for name, values in (changes or {}).items()
    }


def _ids_of(tenant_id: str, object_type: str) -> list[str]:
    """The ids of a type's records, active and archived (users, event targets: a tenant has a few)."""
    found: list[str] = []
    for state in ("active", "archived"):
        start = None
        for _ in range(MAX_PAGES):
            ids, start = repo.index_record_ids(
                keys.list_pk(tenant_id, object_type, state), index="GSI1", limit=PAGE, start_key=start
            )
            found += ids
            if start is None:
                break
    return found


def _scrub_notifications(tenant_id: str, ids: set[str]) -> None:
    """Users' notifications about the person or what was said with them: titled without the name."""
    changed: list[TableItem] = []
    for user_id in _ids_of(tenant_id, "user"):
        notes = _whole(
            privacy_repository.items_of(keys.notifications_pk(tenant_id, user_id)), "notifications"
        )
        for item in notes.items:
            if isinstance(item, NotificationItem) and as_json_value(item.record).get("id") in ids:
                prefix = item.title.split(":", 1)[0] if ":" in item.title else item.kind
                if item.title != f"{prefix}: {ERASED}":
                    item.title = f"{prefix}: {ERASED}"
                    changed.append(item)
    privacy_repository.rewrite(changed)


def _scrub_deliveries(tenant_id: str, ids: set[str], needles: list[str]) -> None:
    """Webhook delivery logs keep each event sent, to send it again: the events about the person keep
    their id and type, not their data. (What a partner received cannot be recalled: docs/privacy.md.)"""
    lowered = [needle.lower() for needle in needles]
    changed: list[TableItem] = []
    for target_id in _ids_of(tenant_id, "event_target"):
        log = _whole(
            privacy_repository.items_of(
                keys.record_pk(tenant_id, "event_target", target_id), sk_prefix=DELIVERY_SK_PREFIX
            ),
            f"deliveries of {target_id}",
        )
        for item in log.items:
            if not isinstance(item, DeliveryAttemptItem):
                continue
            event = as_json_value(item.event)
            data = event.get("data") or {}
            text = str(event).lower()
            if data.get("id") in ids or any(needle in text for needle in lowered):
                item.event = redacted(event)
                changed.append(item)
    privacy_repository.rewrite(changed)


def _forget_replays(tenant_id: str, needles: list[str]) -> None:
    """Idempotency records (a POST's first answer, kept 24 hours to answer a retry) that hold the
    person's words are deleted: a retry of such a request runs again."""
    if not needles:
        return
    walk = _whole(privacy_repository.raw_items_holding(keys.idempotency_pk(tenant_id), needles), "replays")
    privacy_repository.delete((raw["PK"]["S"], raw["SK"]["S"]) for raw in walk.raw)


def _drop_duplicate_pairs(tenant_id: str, contact_id: str) -> None:
    """The contact's duplicate pairs (its name or phone matched another's) are deleted."""
    pairs = privacy_repository.items_of(
        keys.duplicates_pk(tenant_id, "contact"),
        filter_condition=DuplicatePair.record_ids.contains(contact_id),
    )
    privacy_repository.delete((pair.PK, pair.SK) for pair in pairs.items)
