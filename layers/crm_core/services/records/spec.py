"""What a record type declares to the shared record rules: its models, its unique value, its indexed
fields, its search tokens, its references and the rules particular to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from crm_core.context import RequestContext
from crm_core.models.record import RecordFields, RelatedFacts
from crm_core.repositories.table import RecordItem, TableItem
from crm_core.repositories.transaction import CounterStep
from crm_core.services.records.text import normalize_text

if TYPE_CHECKING:
    from crm_core.services.records.service import RecordService


NO_SORT_VALUE = "~"  # a record without the sort field: after every value in ascending order


@dataclass(frozen=True)
class SortKey:
    """A field a list is sorted by (``?sort=close_date``, ``?sort=-amount``), kept in an index of its own:
    GSI6 to GSI8 hold a type's records by state, ordered by ``value`` (the record's sort value as a key
    orders it; None sorts after every value)."""

    name: str
    index: int
    value: Callable[[RecordFields], str | None]


def text_order(value: Any) -> str | None:
    """Text as a list sorted by it orders it: without regard to case or accents."""
    return normalize_text(str(value))[:200] or None if value else None


def amount_order(value: Any) -> str | None:
    """A non-negative decimal (at most 10^15, 4 places kept) as fixed-width digits, which order as numbers."""
    if value is None:
        return None
    return f"{int(Decimal(str(value)) * 10_000):024d}"


@dataclass(frozen=True)
class Expansion:
    """A related record a list or read shows inline with ``?expand=<name>``."""

    field: str  # the field holding its id, or a list of ids: "company_id", "contact_ids"
    object_type: str  # the type it refers to: "company"


@dataclass(frozen=True)
class ObjectSpec:
    object_type: str  # singular, as in event types: "contact"
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    defaults: RecordFields  # every API field with the value it shows when unset
    tokens: Callable[[RecordFields, RelatedFacts], list[str]]  # (data, related) -> type-ahead tokens
    # "<reason>:<token>", the token one of the record's type-ahead tokens: records with the same key are
    # found through the search entries (docs/decisions/0008), which only active records have.
    dedupe_keys: Callable[[RecordFields], list[str]] = lambda data: []
    # (ctx, data, changed fields, the facts resolved last time) -> related facts (e.g. the company's name);
    # raises 422 on a bad reference
    resolve: Callable[[RequestContext, RecordFields, set[str], RelatedFacts], RelatedFacts] = (
        lambda ctx, data, changed, previous: {}
    )
    unique_field: str | None = None
    normalize_unique: Callable[[str], str] = str.lower
    # data -> its unique value when it is not one field's alone (a property's "<object>.<name>"), or None;
    # its marker is named by ``unique_field``, the field a taken value's 409 names
    unique_of: Callable[[RecordFields], str | None] | None = None
    # the collection whose custom property definitions its ``custom`` is validated against ("contacts"):
    # one consistent read of them per write that touches ``custom`` (services/custom_values.py)
    custom_object: str | None = None
    # (ctx, record before or None, record after) -> other items written in its transaction, each with
    # its condition (a property's definition kept in its object's schema item); a failed one is a
    # WriteConflict labelled "schema", which prepares the write again
    companions: (
        Callable[[RequestContext, RecordItem | None, RecordItem], list[tuple[TableItem, Any]]] | None
    ) = None
    # the field naming the user a record belongs to (role rules, GSI3, assignment notices): a ticket's is
    # "assignee_id"
    owner_field: str = "owner_id"
    parent_field: str | None = None  # GSI4
    category_field: str | None = None  # GSI5
    # () -> the records of other types that refer to one of this type (a contact's activities and deals),
    # which a merge moves from the duplicate to the survivor; a function, as those types import this one
    referrers: Callable[[], tuple[Referrer, ...]] | None = None
    # what a merge moves besides the records that refer to the duplicate (a ticket's replies)
    merge_moves: tuple[MergeMove, ...] = ()
    # (ctx, data, the data before or None, the record's id or None when new) -> data with its derived
    # fields (a deal's status); may raise 422
    derive: Callable[[RequestContext, RecordFields, RecordFields | None, str | None], RecordFields] | None = (
        None
    )
    # (data before, data after) -> the event types of an update (default: "updated")
    update_events: Callable[[RecordFields, RecordFields], list[str]] | None = None
    # (record before or None, record after) -> counters kept in the same transaction (a board's totals)
    counters: Callable[[RecordItem | None, RecordItem], list[CounterStep]] | None = None
    # (ctx, record) -> raises if the record cannot be archived (a pipeline with deals)
    before_archive: Callable[[RequestContext, RecordItem], None] | None = None
    # data -> the records whose timelines show this one's events too: [(object type, id)] (an activity's)
    timeline_links: Callable[[RecordFields], list[tuple[str, str]]] | None = None
    # fields (one id or a list of ids) that lists filter by through entries: one Query + one BatchGetItem
    entry_fields: tuple[str, ...] = ()
    # data -> (attribute, value) of side entries derived from its fields, which lists and jobs read by
    # that value: a contact's birthday as "birthday"/"MM-DD", so today's birthdays are one Query
    derived_entries: Callable[[RecordFields], list[tuple[str, str]]] | None = None
    # fields that are kept but never answered nor published (a webhook's secret): shown as has_<name>
    hidden_fields: tuple[str, ...] = ()
    # fields that are kept but never answered nor published, not even as has_<name> (an API key's hash)
    secret_fields: tuple[str, ...] = ()
    # the event type of an archive (DELETE): an API key's is "revoked"
    archive_event: str = "archived"
    # fields about a person (a contact's name, email, phone): the audit trail names them when they change
    # but keeps no value of theirs (it is kept for a year or more, and must not outlive an erasure)
    personal_fields: tuple[str, ...] = ()
    # a setting (a pipeline, an event target): only an admin creates, changes, archives or restores one
    admin_only: bool = False
    # free-text fields that lists filter by without regard to case or accents (a company's industry)
    folded_fields: tuple[str, ...] = ()
    # what its lists sort by besides created_at and updated_at, each kept in its own index
    sorts: tuple[SortKey, ...] = ()
    # the plan's quota a new record of this type counts against ("contacts": crm_core/plans.py), checked
    # against the type's active count (one Query a request) before a create
    quota: str | None = None
    # related records shown inline on request: {name: Expansion}
    expansions: dict[str, Expansion] = field(default_factory=dict)

    def unique_value(self, data: RecordFields) -> str | None:
        """The record's unique value (a contact's email), normalized as its marker keys it; None if none."""
        if not self.unique_field:
            return None
        value = self.unique_of(data) if self.unique_of is not None else data.get(self.unique_field)
        return self.normalize_unique(value) if value else None


@dataclass(frozen=True)
class MergeMove:
    """Items of the duplicate that a merge moves to the survivor besides referring records (a ticket's
    replies, in its own partition): within the merge request up to its bound, the rest by merge_moves."""

    name: str  # as a merge's ``pending_moves`` lists it: "replies"
    # (tenant, duplicate id, survivor id, at most this many) -> True when nothing is left to move
    move: Callable[[str, str, str, int], bool]


@dataclass(frozen=True)
class Referrer:
    """Records of another type that refer to a record in one of their fields (one id, or a list of ids):
    the parent field or one of the entry fields of ``service``'s type, so they are listed by one Query."""

    name: str  # the collection as the API names it ("contacts"): what a merge's ``pending_moves`` lists
    service: RecordService
    field_name: str
    # Its fields that hold what was said with or about the record it refers to (an activity's subject and
    # body, on a contact's): a person's export shows such records whole, and their erasure clears these
    # fields. A referrer without them (a deal, which names several people) is shown by id and name. A
    # dotted name (``satisfaction.comment``) is one key of an object field: that key alone is cleared.
    personal_text: tuple[str, ...] = ()


def index_value(spec: ObjectSpec, field_name: str, value: Any) -> str:
    """A field's value as an index key holds it: folded for a field compared without regard to case."""
    return normalize_text(str(value)) if field_name in spec.folded_fields else str(value)
