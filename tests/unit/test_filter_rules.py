"""A list's filters mean the same to DynamoDB and in memory.

``FieldFilter.condition()`` is the filter expression a Query sends; ``FieldFilter.matches()`` is the same
filter on a record as the API shows it (for pages read through side entries). Generated records and filters,
in the vocabulary of the list routes, must get the same answer from both: tags in mixed case, list fields
(a deal's contact_ids), records without a field whose default the API shows (a deal's status "open"). A
filter DynamoDB cannot compare (text without regard to case) has no condition and is matched in memory
only. The condition is evaluated by moto's DynamoDB expression evaluator (a pure function on the item as
DynamoDB stores it: no server, no mock), the item being what pynamodb writes.
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
from crm_core.services.records.items import side_entries
from crm_core.services.records.queries import FieldFilter, FilterSet, parse_filters
from crm_core.services.records.shape import represent, without_empty
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models.dynamo_type import DynamoType, Item

TENANT = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
MEMORY_ONLY = ("equals_text", "has_tag")  # compared without regard to case, which DynamoDB cannot
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


def parsed(service: RecordService, chosen: dict[str, Any]) -> FilterSet:
    state = chosen.pop("archived_at")
    return parse_filters(service.spec, chosen).with_filter(FieldFilter("archived_at", "in_state", state))


def dynamodb_says(condition: Any, item: RecordItem) -> bool:
    """The condition as DynamoDB evaluates it on the stored item."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    expression = condition.serialize(names, values)
    stored = item.serialize()
    moto_item = Item(DynamoType(stored["PK"]), DynamoType(stored["SK"]), stored)
    answer = get_filter_expression(expression, {v: k for k, v in names.items()}, values).expr(moto_item)
    return bool(answer)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_each_filter_and_all_of_them_mean_the_same_to_dynamodb_and_in_memory(
    case: tuple[RecordService, RecordItem, dict[str, Any]],
) -> None:
    service, item, chosen = case
    filters = parsed(service, chosen)
    body = represent(service.spec, item)
    for one in filters:
        condition = one.condition()
        if condition is None:
            assert one.op in MEMORY_ONLY, one
            continue
        assert dynamodb_says(condition, item) == one.matches(body), (one, item.data, body)
    combined = filters.condition()
    assert combined is not None  # the state is always a condition
    if all(one.op not in MEMORY_ONLY for one in filters):
        assert dynamodb_says(combined, item) == filters.matches(body)
    elif filters.matches(body):
        assert dynamodb_says(combined, item)  # DynamoDB keeps what the match in memory keeps


def test_the_evaluation_can_tell_a_match_from_a_miss() -> None:
    """The comparison above is not vacuous: the same filter matches one record and not another."""
    due = FieldFilter("due_at", "at_most", "2026-03-01T10:00:00.000Z")
    early, late = (
        {"type": "task", "due_at": t} for t in ("2026-03-01T09:00:00.000Z", "2026-04-01T00:00:00.000Z")
    )
    answers = []
    for data in (early, late):
        item = RecordItem(
            keys.record_pk(TENANT, "activity", "01R"),
            keys.RECORD_SK,
            object_type="activity",
            id="01R",
            tenant_id=TENANT,
            version=1,
            created_at="2026-01-01T00:00:00.000Z",
            updated_at="2026-01-01T00:00:00.000Z",
            data=data,
        )
        body = represent(ACTIVITIES.spec, item)
        answers.append((dynamodb_says(due.condition(), item), due.matches(body)))
    assert answers == [(True, True), (False, False)]


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
