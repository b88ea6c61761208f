"""A list's filters, as the routes name them, and what a record that does not store a field is filed
under. (Indexes hold only keys, docs/decisions/0008: a filter is matched on the record as the API shows
it, by ``FieldFilter.matches`` alone; there is no second interpreter in DynamoDB to disagree with it.)
"""

from __future__ import annotations

from typing import Any

from crm_core.repositories import keys
from crm_core.repositories.table import RecordItem
from crm_core.services.activities import ACTIVITIES
from crm_core.services.companies import COMPANIES
from crm_core.services.contacts import CONTACTS
from crm_core.services.deals import DEALS
from crm_core.services.records import RecordService
from crm_core.services.records.items import place_in_indexes, side_entries
from crm_core.services.records.queries import FieldFilter, parse_filters
from crm_core.services.records.shape import represent, without_empty
from crm_core.services.records.spec import index_value
from crm_core.services.records.text import normalize_text
from hypothesis import given, settings
from hypothesis import strategies as st

TENANT = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
IDS = st.sampled_from(["01A", "01B"])
TIMES = st.sampled_from(["2026-03-01T09:00:00.000Z", "2026-03-01T10:00:00.000Z", "2026-04-01T00:00:00.000Z"])
DAYS = st.sampled_from(["2026-03-01", "2026-03-15", "2026-04-01"])
# Tags as stored, in the case they were given; a tag filter is matched without regard to case.
TAGS = st.lists(st.sampled_from(["vip", "VIP", "Trial", "trial", "partner"]), max_size=2, unique=True)
TAG_FILTERS = st.sampled_from(["vip", "VIP", "trial", "Vip"])

# Per record type: its service, the fields a record may have, and the filters its list route sends
# (the route's query parameter turned into the filter name it passes to list_records).
TYPES: dict[str, tuple[RecordService, dict[str, Any], dict[str, Any]]] = {
    "deal": (
        DEALS,
        {
            "pipeline_id": IDS,
            "stage_id": st.sampled_from(["qualified", "won"]),
            "status": st.sampled_from(["open", "won", "lost"]),
            "owner_id": IDS,
            "company_id": IDS,
            "contact_ids": st.lists(IDS, max_size=2, unique=True),
            "close_date": DAYS,
            "tags": TAGS,
        },
        {
            "pipeline_id": IDS,
            "stage_id": st.sampled_from(["qualified", "won"]),
            "status": st.sampled_from(["open", "won", "lost"]),
            "owner_id": IDS,
            "company_id": IDS,
            "contact_ids": IDS,
            "close_date__lte": DAYS,
            "close_date__gte": DAYS,
            "tag": TAG_FILTERS,
            "updated_since": TIMES,
            # not a route's, but the same rules: a field with a default shown when it is not stored
            "status__exists": st.booleans(),
            "contact_ids__exists": st.booleans(),
        },
    ),
    "activity": (
        ACTIVITIES,
        {
            "type": st.sampled_from(["task", "call"]),
            "owner_id": IDS,
            "completed_at": TIMES,
            "due_at": TIMES,
            "contact_id": IDS,
            "company_id": IDS,
            "deal_id": IDS,
        },
        {
            "type": st.sampled_from(["task", "call"]),
            "owner_id": IDS,
            "completed_at__exists": st.booleans(),
            "due_at__lte": TIMES,
            "contact_id": IDS,
            "company_id": IDS,
            "deal_id": IDS,
        },
    ),
    "company": (
        COMPANIES,
        {"industry": st.sampled_from(["Software", "software", "Retail"]), "owner_id": IDS, "tags": TAGS},
        {
            "industry": st.sampled_from(["SOFTWARE", "retail"]),
            "owner_id": IDS,
            "tag": TAG_FILTERS,
            "updated_since": TIMES,
        },
    ),
    "contact": (
        CONTACTS,
        {
            "email": st.sampled_from(["ada@example.com"]),
            "owner_id": IDS,
            "company_id": IDS,
            "lifecycle_stage": st.sampled_from(["lead", "customer"]),
            "tags": TAGS,
        },
        {
            "owner_id": IDS,
            "company_id": IDS,
            "lifecycle_stage": st.sampled_from(["lead", "customer"]),
            "tag": TAG_FILTERS,
            "updated_since": TIMES,
        },
    ),
}


@st.composite
def cases(draw: st.DrawFn) -> tuple[RecordService, RecordItem, dict[str, Any]]:
    object_type = draw(st.sampled_from(sorted(TYPES)))
    service, fields, filters = TYPES[object_type]
    data = {name: draw(values) for name, values in fields.items() if draw(st.booleans())}
    item = RecordItem(
        keys.record_pk(TENANT, object_type, "01R"),
        keys.RECORD_SK,
        object_type=object_type,
        id="01R",
        tenant_id=TENANT,
        version=1,
        created_at="2026-01-01T00:00:00.000Z",
        updated_at=draw(TIMES),
        archived_at=draw(st.one_of(st.none(), TIMES)),
        data=without_empty(data),  # as a write stores it
    )
    chosen = {name: draw(values) for name, values in filters.items() if draw(st.booleans())}
    chosen["archived_at"] = draw(st.sampled_from(["active", "archived"]))  # what list_records adds
    return service, item, chosen


def filed_under(service: RecordService, item: RecordItem, one: FieldFilter) -> bool | None:
    """Whether the read that serves ``one`` by a key (an index or the record's side entries, the plans of
    queries._plan) finds the item; None for a filter only ever matched in memory."""
    spec, kind = service.spec, service.spec.object_type
    state = "archived" if item.archived_at else "active"
    if one.op == "has_tag":
        pk = keys.attribute_pk(TENANT, kind, state, "tag", normalize_text(str(one.value)))
        return (pk, item.id) in side_entries(spec, item)
    if one.op not in ("equals", "equals_text", "includes"):
        return None
    if one.field in spec.entry_fields:
        return (keys.attribute_pk(TENANT, kind, state, one.field, str(one.value)), item.id) in side_entries(
            spec, item
        )
    for number, attribute, name in (
        (3, "owner_id", "owner"),
        (4, spec.parent_field, "parent"),
        (5, spec.category_field, "category"),
    ):
        if attribute == one.field:
            place_in_indexes(spec, item)
            wanted = keys.attribute_pk(TENANT, kind, state, name, index_value(spec, attribute, one.value))
            return bool(getattr(item, f"GSI{number}PK") == wanted)
    return None


@settings(max_examples=300, deadline=None)
@given(cases())
def test_a_filter_served_by_a_key_finds_exactly_the_records_it_matches(
    case: tuple[RecordService, RecordItem, dict[str, Any]],
) -> None:
    """The same list read through an index or side entries, or read otherwise and matched in memory,
    holds the same records: the key a record is filed under agrees with the match on what it shows."""
    service, item, chosen = case
    chosen.pop("archived_at")
    body = represent(service.spec, item)
    for one in parse_filters(service.spec, chosen):
        filed = filed_under(service, item, one)
        if filed is not None:
            assert filed == one.matches(body), (one, item.data, body)


def test_route_filter_names_become_the_comparisons_they_say() -> None:
    assert parse_filters(
        DEALS.spec,
        {
            "owner_id": "01A",
            "tag": "vip",
            "updated_since": "2026-03-01T00:00:00.000Z",
            "due_at__lte": "2026-03-02T00:00:00.000Z",
            "close_date__gte": "2026-03-01",
            "completed_at__exists": False,
            "company_id": None,  # unset: no filter
            "deal_id": "",
            "contact_ids": "01B",
        },
    ).filters == (
        FieldFilter("owner_id", "equals", "01A"),
        FieldFilter("tags", "has_tag", "vip", default=[]),
        FieldFilter("updated_at", "changed_since", "2026-03-01T00:00:00.000Z"),
        FieldFilter("due_at", "at_most", "2026-03-02T00:00:00.000Z"),
        FieldFilter("close_date", "at_least", "2026-03-01"),
        FieldFilter("completed_at", "exists", False),
        FieldFilter("contact_ids", "includes", "01B", default=[]),
    )


def test_a_record_is_indexed_under_the_value_it_shows_for_a_field_it_does_not_store() -> None:
    """A status filter served by its side entries finds a deal that stores no status, as the match in
    memory (which sees the default "open") does."""
    item = RecordItem(
        keys.record_pk(TENANT, "deal", "01R"),
        keys.RECORD_SK,
        object_type="deal",
        id="01R",
        tenant_id=TENANT,
        version=1,
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        data={"name": "No status"},
    )
    entries = side_entries(DEALS.spec, item)
    assert entries[(keys.attribute_pk(TENANT, "deal", "active", "status", "open"), "01R")] == "status"
    assert parse_filters(DEALS.spec, {"status": "open"}).matches(represent(DEALS.spec, item))
