"""Segments: the record type, and its members, evaluated from the tenant's own index partitions
(docs/decisions/0019-segment-evaluation.md).

The interface other services use (campaigns) and keep to:

- ``SEGMENTS``: the ``RecordService`` of segments;
- ``segment_member_page(tenant_id, segment_id, cursor, limit)``: a page of the segment's member contacts as
  the API answers them (active contacts only), and the cursor of the next page (None at the end);
- ``count_segment_members(tenant_id, segment_id)``: how many members it has now.

Every source of a filter (``CompiledFilter.sources``) is an index partition of the tenant's whose sort key
is the contact's id, so each is read in id order, from after the last id answered: the union of the
sources is a merge of sorted streams (no contact twice), and a cursor is the last id answered. A page
reads each source in rounds, and answers only ids up to the lowest point every unfinished source has
reached (its frontier), so a contact that a slower source would still list is never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import not_found
from crm_core.models.record import RecordBody, RecordFields
from crm_core.models.segment import SEGMENT_DEFAULTS, SegmentCreate, SegmentUpdate
from crm_core.repositories import record_repository as repo
from crm_core.services import references
from crm_core.services.records import ObjectSpec, RecordService, normalize_text, represent
from crm_core.services.records.shape import record_data
from crm_core.services.segment_filters import CompiledFilter, compile_filter
from crm_core.signing import decode_cursor, encode_cursor


def _tokens(data: RecordFields, related: Any) -> list[str]:
    name = normalize_text(data.get("name") or "")
    return [name[:40]] if name else []


def _resolve(ctx: RequestContext, data: RecordFields, changed: set[str], previous: Any) -> dict[str, Any]:
    """An owner named is one of the tenant's active users (422 naming owner_id otherwise)."""
    references.require_active_user(ctx, data, changed, "owner_id")
    return {}


def _derive(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, record_id: str | None
) -> RecordFields:
    """A filter written (new or changed) is checked against the tenant's properties: 422 naming each bad
    condition. One left as it was is not checked again (a property archived since leaves it alone)."""
    if data.get("filter") is not None and (before is None or before.get("filter") != data["filter"]):
        compile_filter(ctx.tenant_id, data["filter"], for_write=True)
    return data


SEGMENTS = RecordService(
    ObjectSpec(
        object_type="segment",
        create_model=SegmentCreate,
        update_model=SegmentUpdate,
        defaults=SEGMENT_DEFAULTS,
        tokens=_tokens,
        resolve=_resolve,
        derive=_derive,
    )
)

# A page reads each source in at most this many rounds, each of at most this many keys.
MAX_ROUNDS = 4
MAX_READ_PER_ROUND = 1000
# What a count reads at a time from each source.
COUNT_CHUNK = 1000


@dataclass
class Evaluation:
    """One evaluation of a filter over the tenant's contacts, and what it read (for the tests and the
    bench: keys from the indexes, records and companies by key)."""

    tenant_id: str
    compiled: CompiledFilter
    keys_read: int = 0
    records_read: int = 0
    companies_read: int = 0
    queries: int = 0

    def __post_init__(self) -> None:
        self.sources = self.compiled.sources(self.tenant_id)
        self.companies: dict[str, RecordBody | None] = {}

    def page(
        self, after: str | None, limit: int, *, rounds: int = MAX_ROUNDS
    ) -> tuple[list[RecordBody], str | None]:
        """Up to ``limit`` members with ids after ``after``, in id order, and where the next page starts
        (the last id answered, or the frontier reached when the rounds ran out; None: no more)."""
        found: list[RecordBody] = []
        wanted = limit + 1
        for number in range(rounds):
            chunk = min(MAX_READ_PER_ROUND, max(wanted - len(found), 1) * 4**number + 1)
            members, frontier = self._round(after, chunk)
            for member in members:
                found.append(member)
                if len(found) == wanted:
                    return found[:limit], found[limit - 1]["id"]
            if frontier is None:
                return found, None
            after = frontier
        return found, after

    def _round(self, after: str | None, chunk: int) -> tuple[list[RecordBody], str | None]:
        """The members among what every source lists after ``after`` up to the frontier, and the frontier
        (None: every source ended)."""
        listed: set[str] = set()
        frontier: str | None = None
        for source in self.sources:
            ids, ended = repo.ids_after(source.pk, index=source.index, after=after, limit=chunk)
            self.queries += 1
            self.keys_read += len(ids)
            listed.update(ids)
            if not ended and ids and (frontier is None or ids[-1] < frontier):
                frontier = ids[-1]
        wanted = sorted(one for one in listed if frontier is None or one <= frontier)
        return self._members(wanted), frontier

    def _members(self, ids: list[str]) -> list[RecordBody]:
        members: list[RecordBody] = []
        for start in range(0, len(ids), 100):
            found = repo.batch_get_records(self.tenant_id, "contact", ids[start : start + 100])
            self.records_read += len(found)
            contacts = [
                represent(_contact_spec(), found[one])
                for one in ids[start : start + 100]
                if one in found and found[one].archived_at is None
            ]
            if self.compiled.needs_company:
                self._read_companies({str(c["company_id"]) for c in contacts if c.get("company_id")})
            members += [
                contact
                for contact in contacts
                if self.compiled.matches(contact, self.companies.get(contact.get("company_id") or ""))
            ]
        return members

    def _read_companies(self, ids: set[str]) -> None:
        wanted = sorted(ids - self.companies.keys())
        if not wanted:
            return
        from crm_core.services.companies import COMPANIES

        for start in range(0, len(wanted), 100):
            found = repo.batch_get_records(self.tenant_id, "company", wanted[start : start + 100])
            self.companies_read += len(found)
            for one in wanted[start : start + 100]:
                item = found.get(one)
                active = item is not None and item.archived_at is None
                self.companies[one] = represent(COMPANIES.spec, item) if item is not None and active else None

    def count(self, *, keep: int = 0) -> tuple[int, list[RecordBody]]:
        """Every member, read to the end (its cost grows with the contacts the sources list), and the
        first ``keep`` of them in id order."""
        total, after = 0, None
        first: list[RecordBody] = []
        while True:
            members, frontier = self._round(after, COUNT_CHUNK)
            total += len(members)
            first += members[: max(keep - len(first), 0)]
            if frontier is None:
                return total, first
            after = frontier


def _contact_spec() -> ObjectSpec:
    from crm_core.services.contacts import CONTACTS

    return CONTACTS.spec


def segment_filter(tenant_id: str, segment_id: str) -> dict[str, Any]:
    """The stored filter of one of the tenant's segments (archived ones too: a campaign scheduled before
    its segment was archived still sends); 404 for none."""
    item = repo.get_record(tenant_id, "segment", segment_id)
    if item is None:
        raise not_found("segment", segment_id)
    stored: dict[str, Any] = record_data(item).get("filter") or {"any": []}
    return stored


def evaluation(tenant_id: str, raw_filter: dict[str, Any]) -> Evaluation:
    return Evaluation(tenant_id, compile_filter(tenant_id, raw_filter, for_write=False))


def _bound_to(segment_id: str) -> str:
    return f"segment-members:{segment_id}"


def segment_member_page(
    tenant_id: str, segment_id: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the segment's active member contacts (as the API shows contacts), in id order, and the
    cursor of the next page (None: the last page). A page may be shorter than ``limit`` with a cursor
    when its filter is sparse among what its sources list (each page reads a bounded number of keys).
    The cursor is signed and bound to the tenant and the segment (another one's is 400)."""
    after = decode_cursor(tenant_id, _bound_to(segment_id), cursor)["after"] if cursor else None
    members, last = evaluation(tenant_id, segment_filter(tenant_id, segment_id)).page(after, limit)
    return members, (encode_cursor(tenant_id, _bound_to(segment_id), {"after": last}) if last else None)


def members_among(tenant_id: str, segment_id: str, contacts: list[RecordBody]) -> list[RecordBody]:
    """Those of ``contacts`` (active ones, as the API shows them) that the segment selects, without reading
    its sources: the filter matched against them (and their companies, one BatchGetItem per 100, when it
    names company fields). For work that found its contacts otherwise (a birthday campaign's day)."""
    found = evaluation(tenant_id, segment_filter(tenant_id, segment_id))
    if found.compiled.needs_company:
        found._read_companies({str(c["company_id"]) for c in contacts if c.get("company_id")})
    return [c for c in contacts if found.compiled.matches(c, found.companies.get(c.get("company_id") or ""))]


def count_segment_members(tenant_id: str, segment_id: str) -> int:
    """How many active contacts the segment selects now."""
    return evaluation(tenant_id, segment_filter(tenant_id, segment_id)).count()[0]


def preview(tenant_id: str, raw_filter: dict[str, Any], limit: int) -> tuple[int, list[RecordBody]]:
    """A filter not saved yet (the segment builder's): checked as a write checks it (422 naming the bad
    parts), its member count and its first ``limit`` members."""
    return Evaluation(tenant_id, compile_filter(tenant_id, raw_filter, for_write=True)).count(keep=limit)
