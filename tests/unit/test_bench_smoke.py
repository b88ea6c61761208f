"""The bench's call counting on a tiny tenant: each endpoint's DynamoDB calls stay at their fixed number.

A change that adds a DynamoDB call to one of these requests fails here, before it shows in ``make bench``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.capacity import IndexKeys, index_write_units, item_size, read_units, write_units
from bench.endpoints import Dataset, Measured, load_dataset, measure
from bench.recorder import DynamoRecorder
from crm_local.runtime import LocalRuntime

# ------------------------------------------------------------------------------- capacity arithmetic


def test_item_size_follows_dynamodb_rules() -> None:
    assert item_size({"PK": {"S": "abc"}}) == 2 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits: 3 bytes + 1
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    # A map: 3 bytes, then per element 1 byte + its name + its value.
    assert item_size({"m": {"M": {"k": {"S": "vv"}}}}) == 1 + 3 + (1 + 1 + 2)
    assert item_size({"l": {"L": [{"S": "a"}, {"S": "bc"}]}}) == 1 + 3 + (1 + 1) + (1 + 2)
    assert item_size({"s": {"S": "é"}}) == 1 + 2  # UTF-8 bytes


def test_capacity_units_round_up_and_halve_eventual_reads() -> None:
    assert read_units(0, consistent=False) == 0.5  # a read that finds nothing still costs
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=False) == 1
    assert write_units(1) == 1 and write_units(1025) == 2
    index = IndexKeys("GSI1", "GSI1PK", "GSI1SK")
    small = {"PK": {"S": "a"}, "GSI1PK": {"S": "x"}, "GSI1SK": {"S": "1"}}
    moved = {**small, "GSI1PK": {"S": "y"}}
    assert index_write_units([index], None, small) == 1  # enters the index
    assert index_write_units([index], small, moved) == 2  # its index key changes: delete + put
    assert index_write_units([index], small, {"PK": {"S": "a"}}) == 1  # leaves the index
    # KEYS_ONLY: the entry is the keys, so a large item costs one unit, and nothing when only what the
    # index does not hold changes.
    keys_only = IndexKeys("GSI1", "GSI1PK", "GSI1SK", projection="KEYS_ONLY")
    large = {**small, "data": {"S": "x" * 3000}}
    changed = {**large, "data": {"S": "y" * 3000}}
    assert index_write_units([keys_only], None, large) == 1
    assert index_write_units([keys_only], large, changed) == 0
    assert index_write_units([keys_only], large, {**changed, "GSI1SK": {"S": "2"}}) == 2
    assert index_write_units([index], large, changed) == 3  # ALL: the whole item again


# ------------------------------------------------------------------------------- calls per request


@pytest.fixture(scope="module")
def recorder(runtime: LocalRuntime) -> Iterator[DynamoRecorder]:
    assert runtime.instance is not None
    installed = DynamoRecorder(runtime.instance.aws_endpoint, runtime.instance.region).install(runtime)
    yield installed
    installed.uninstall()


@pytest.fixture(scope="module")
def tiny(runtime: LocalRuntime, recorder: DynamoRecorder) -> Dataset:
    from bench.api import new_tenant_api

    dataset = load_dataset("tiny", new_tenant_api(runtime.api_url, "Bench smoke"), contacts=6, companies=2)
    dataset.api.warm()
    return dataset


def _measure(recorder: DynamoRecorder, tiny: Dataset, method: str, path: str, **kwargs: Any) -> Measured:
    measured, _ = measure(recorder, tiny.api, "smoke", method, path, **kwargs)
    assert not measured.measurement.other_calls, measured.measurement.other_calls
    return measured


def _contact(tiny: Dataset, **fields: Any) -> dict[str, Any]:
    created: dict[str, Any] = tiny.api.call("POST", "/v1/contacts", expect=201, body=fields)
    return created


def test_get_one_contact_is_one_get_item(recorder: DynamoRecorder, tiny: Dataset) -> None:
    contact = _contact(tiny, first_name="Ada", email="ada.get@bench.example")
    measured = _measure(recorder, tiny, "GET", f"/v1/contacts/{contact['id']}")
    assert dict(measured.measurement.calls) == {"GetItem": 1}
    assert measured.measurement.units.read == 0.5  # one small item, eventually consistent


def test_list_is_one_query_and_one_batch_get(recorder: DynamoRecorder, tiny: Dataset) -> None:
    # The index holds keys: one Query of it and one BatchGetItem of the page's records. An unfiltered
    # list also reads its total: one Query of the type's count shards.
    listed = _measure(recorder, tiny, "GET", "/v1/contacts")
    assert dict(listed.measurement.calls) == {"Query": 2, "BatchGetItem": 1}
    # A filter an index serves: that index instead, and no total.
    filtered = _measure(recorder, tiny, "GET", "/v1/contacts", params={"lifecycle_stage": "lead"})
    assert dict(filtered.measurement.calls) == {"Query": 1, "BatchGetItem": 1}


def test_list_by_tag_or_search_is_one_query_and_one_batch_get(
    recorder: DynamoRecorder, tiny: Dataset
) -> None:
    for params in ({"tag": "vip"}, {"q": "ada"}):
        measured = _measure(recorder, tiny, "GET", "/v1/contacts", params=params)
        assert dict(measured.measurement.calls) == {"Query": 1, "BatchGetItem": 1}, params


def test_create_is_a_few_reads_and_one_transaction(recorder: DynamoRecorder, tiny: Dataset) -> None:
    body = {"first_name": "Grace", "last_name": "Hopper", "email": "grace.smoke@bench.example"}
    measured = _measure(recorder, tiny, "POST", "/v1/contacts", expect=201, body=body)
    calls = measured.measurement.calls
    # The owner is the caller (no read) and no company is named; the one duplicate key (the full name)
    # looks for others.
    # The contacts' custom property definitions, read consistently (a create is validated against the
    # required ones: decision 0012).
    # One transaction (the record, its count), then what follows from it: its entries and its timeline
    # entry, which is written last (docs/decisions/0008).
    # The plan's contacts quota: the tenant's active count (one Query of its count shards; the quota itself
    # is kept a minute per container, crm_core/plans.py).
    assert dict(calls) == {"GetItem": 1, "Query": 2, "TransactWriteItems": 1, "BatchWriteItem": 2}
    assert measured.measurement.write_units_by_item["timeline"] == 1


def test_patch_is_one_read_and_one_conditional_put(recorder: DynamoRecorder, tiny: Dataset) -> None:
    contact = _contact(tiny, first_name="Linus", email="linus.patch@bench.example")
    measured = _measure(
        recorder,
        tiny,
        "PATCH",
        f"/v1/contacts/{contact['id']}",
        body={"title": "Engineer"},
        headers={"If-Match": '"1"'},
    )
    # After the put: its audit item, then its own timeline entry, which says the rest is written
    # (decision 0010).
    assert dict(measured.measurement.calls) == {"GetItem": 1, "PutItem": 1, "BatchWriteItem": 2}


def test_patch_of_custom_reads_the_definitions_once_more(recorder: DynamoRecorder, tiny: Dataset) -> None:
    tiny.api.call(
        "POST",
        "/v1/properties/contacts",
        expect=201,
        body={"name": "shoe", "label": "Shoe", "type": "number"},
    )
    contact = _contact(tiny, first_name="Barbara", email="barbara.custom@bench.example")
    measured = _measure(
        recorder, tiny, "PATCH", f"/v1/contacts/{contact['id']}", body={"custom": {"shoe": 38}}
    )
    # The record and the definitions (decision 0012), then the record alone, as any other change.
    assert dict(measured.measurement.calls) == {"GetItem": 2, "PutItem": 1, "BatchWriteItem": 2}


def test_timeline_is_one_query(recorder: DynamoRecorder, tiny: Dataset) -> None:
    contact = _contact(tiny, first_name="Edsger", email="edsger.timeline@bench.example")
    measured = _measure(recorder, tiny, "GET", f"/v1/contacts/{contact['id']}/timeline")
    assert dict(measured.measurement.calls) == {"Query": 1}


def test_batch_create_at_one_company_reads_it_once(recorder: DynamoRecorder, tiny: Dataset) -> None:
    company = tiny.api.call("POST", "/v1/companies", expect=201, body={"name": "Once Ltd"})
    inputs = [{"email": f"once{n}@bench.example", "company_id": company["id"]} for n in range(5)]
    measured = _measure(recorder, tiny, "POST", "/v1/contacts/batch/create", body={"inputs": inputs})
    # The company and the custom property definitions, each read once for the five inputs, and the
    # tenant's contact count (the plan's quota) once too.
    assert dict(measured.measurement.calls) == {
        "GetItem": 2,
        "Query": 1,
        "TransactWriteItems": 5,
        "BatchWriteItem": 10,
    }


def test_batch_read_is_one_batch_get(recorder: DynamoRecorder, tiny: Dataset) -> None:
    ids = [_contact(tiny, first_name="Ken", email=f"ken{n}.read@bench.example")["id"] for n in range(3)]
    measured = _measure(
        recorder, tiny, "POST", "/v1/contacts/batch/read", body={"inputs": [{"id": i} for i in ids]}
    )
    assert dict(measured.measurement.calls) == {"BatchGetItem": 1}


# ------------------------------------------------------------------------------- deals and activities


def _deal(tiny: Dataset, **fields: Any) -> dict[str, Any]:
    created: dict[str, Any] = tiny.api.call("POST", "/v1/deals", expect=201, body=fields)
    return created


def test_board_is_one_get_item_a_query_per_open_stage_and_one_batch_get(
    recorder: DynamoRecorder, tiny: Dataset
) -> None:
    assert len(tiny.open_stages) == 3  # the default pipeline: Qualified, Proposal, Negotiation
    for n, stage_id in enumerate(tiny.open_stages):
        _deal(tiny, name=f"Board {n}", amount="100.50", stage_id=stage_id)
    measured = _measure(
        recorder, tiny, "GET", f"/v1/pipelines/{tiny.pipeline_id}/board", params={"deals_per_stage": 25}
    )
    # The pipeline, then one Query of every stage's totals, one Query of each open stage's index, and one
    # BatchGetItem of the deals they name (3 stages of at most 26 deals: 100 keys hold them).
    stages = len(tiny.open_stages)
    assert dict(measured.measurement.calls) == {"GetItem": 1, "Query": 1 + stages, "BatchGetItem": 1}


def test_get_one_deal_is_one_get_item(recorder: DynamoRecorder, tiny: Dataset) -> None:
    deal = _deal(tiny, name="Get me", amount="10")
    measured = _measure(recorder, tiny, "GET", f"/v1/deals/{deal['id']}")
    assert dict(measured.measurement.calls) == {"GetItem": 1}


def test_deal_timeline_is_one_query(recorder: DynamoRecorder, tiny: Dataset) -> None:
    deal = _deal(tiny, name="History", amount="10")
    measured = _measure(recorder, tiny, "GET", f"/v1/deals/{deal['id']}/timeline")
    assert dict(measured.measurement.calls) == {"Query": 1}


def test_deal_create_is_three_reads_and_one_transaction(recorder: DynamoRecorder, tiny: Dataset) -> None:
    measured = _measure(
        recorder, tiny, "POST", "/v1/deals", expect=201, body={"name": "Defaults", "amount": "1250.00"}
    )
    # No pipeline given: the tenant (its default_pipeline_id), then the pipeline (its stages and currency);
    # the owner is the caller (no read); a deal has no duplicate keys (no Query). The one transaction holds
    # the deal (with its event's envelope), its count and the board's counter; its entries follow. And the
    # deals' custom property definitions (decision 0012).
    assert dict(measured.measurement.calls) == {"GetItem": 3, "TransactWriteItems": 1, "BatchWriteItem": 2}
    # Naming the pipeline skips the tenant's read.
    named = _measure(
        recorder,
        tiny,
        "POST",
        "/v1/deals",
        expect=201,
        body={"name": "Named", "amount": "1", "pipeline_id": tiny.pipeline_id},
    )
    assert dict(named.measurement.calls) == {"GetItem": 2, "TransactWriteItems": 1, "BatchWriteItem": 2}


def test_deal_batch_create_reads_tenant_pipeline_and_definitions_once(
    recorder: DynamoRecorder, tiny: Dataset
) -> None:
    inputs = [{"name": f"Bulk {n}", "amount": "5", "stage_id": tiny.open_stages[n % 3]} for n in range(5)]
    measured = _measure(recorder, tiny, "POST", "/v1/deals/batch/create", body={"inputs": inputs})
    assert dict(measured.measurement.calls) == {"GetItem": 3, "TransactWriteItems": 5, "BatchWriteItem": 10}


def test_deal_stage_move_is_two_reads_and_one_transaction(recorder: DynamoRecorder, tiny: Dataset) -> None:
    deal = _deal(tiny, name="Mover", amount="10")
    measured = _measure(
        recorder,
        tiny,
        "PATCH",
        f"/v1/deals/{deal['id']}",
        body={"stage_id": tiny.open_stages[1]},
        headers={"If-Match": '"1"'},
    )
    # The deal (consistent) and its pipeline (to check the stage); both board counters move in the
    # transaction; its audit item, then its own timeline entry.
    assert dict(measured.measurement.calls) == {"GetItem": 2, "TransactWriteItems": 1, "BatchWriteItem": 2}


def test_activity_complete_reads_twice_and_writes_once(recorder: DynamoRecorder, tiny: Dataset) -> None:
    contact = _contact(tiny, first_name="Hedy", email="hedy.activity@bench.example")
    activity = tiny.api.call(
        "POST", "/v1/activities", expect=201, body={"type": "task", "contact_id": contact["id"]}
    )
    measured = _measure(recorder, tiny, "POST", f"/v1/activities/{activity['id']}/complete")
    # complete() reads the activity (get, eventually consistent: is it completed already?), then update()
    # loads it again (consistent, for its version) and commits one transaction.
    assert dict(measured.measurement.calls) == {"GetItem": 2, "PutItem": 1, "BatchWriteItem": 2}
    assert measured.measurement.units.read == 0.5 + 1
    # Completing it again reads it once and changes nothing.
    again = _measure(recorder, tiny, "POST", f"/v1/activities/{activity['id']}/complete")
    assert dict(again.measurement.calls) == {"GetItem": 1}


def test_activity_create_and_list_by_contact(recorder: DynamoRecorder, tiny: Dataset) -> None:
    contact = _contact(tiny, first_name="Radia", email="radia.activity@bench.example")
    deal = _deal(tiny, name="Linked", amount="10")
    body = {"type": "call", "subject": "Kick-off", "contact_id": contact["id"], "deal_id": deal["id"]}
    created = _measure(recorder, tiny, "POST", "/v1/activities", expect=201, body=body)
    # The contact and the deal it links to are checked (one GetItem each); one transaction writes the
    # activity, its event and the entries in the contact's and the deal's timelines.
    assert dict(created.measurement.calls) == {"GetItem": 2, "TransactWriteItems": 1, "BatchWriteItem": 2}
    listed = _measure(recorder, tiny, "GET", "/v1/activities", params={"contact_id": contact["id"]})
    assert dict(listed.measurement.calls) == {"Query": 1, "BatchGetItem": 1}
    assert listed.items_returned == 1


def test_notifications_are_one_query(recorder: DynamoRecorder, tiny: Dataset) -> None:
    assert dict(_measure(recorder, tiny, "GET", "/v1/notifications").measurement.calls) == {"Query": 1}


def test_an_authorizer_refresh_is_counted_apart(runtime: LocalRuntime, recorder: DynamoRecorder) -> None:
    """A request whose credential the gateway has not cached yet runs the authorizer first; its calls are
    the authorizer's, not the endpoint's (API Gateway caches its answer)."""
    from bench.api import new_tenant_api

    cold = new_tenant_api(runtime.api_url, "Bench cold authorizer")
    with recorder.measure() as measurement:
        response = cold.request("GET", "/v1/contacts")
    assert response.status_code == 200, response.text
    assert measurement.authorizer_calls >= 1
    assert dict(measurement.calls) == {"Query": 2}  # the page and its total


def test_a_managers_patch_reads_the_owners_user_once_more(recorder: DynamoRecorder, tiny: Dataset) -> None:
    """The bench's own scenario: a manager changing what its team's rep owns reads the owner's user record
    (its team) beside the record, and nothing else more than an admin's change."""
    from bench.endpoints import team_member_api

    team = tiny.api.call("POST", "/v1/teams", expect=201, body={"name": "Smoke team"})
    manager = team_member_api(tiny.api, "smoke", "manager", team_id=team["id"])
    rep = team_member_api(tiny.api, "smoke", "rep", team_id=team["id"])
    owned = rep.call("POST", "/v1/contacts", expect=201, body={"email": "owned.smoke@bench.example"})
    measured, _ = measure(
        recorder,
        manager,
        "smoke",
        "PATCH",
        f"/v1/contacts/{owned['id']}",
        body={"title": "Reviewed"},
        headers={"If-Match": '"1"'},
    )
    assert dict(measured.measurement.calls) == {"GetItem": 2, "PutItem": 1, "BatchWriteItem": 2}


# ------------------------------------------------------------------------------- CSV import


def test_import_pipeline_figure_on_a_small_file(runtime: LocalRuntime) -> None:
    """``make bench``'s import figure on 60 rows: every row created, and the rows' writes shared (a row
    written alone, as before, cost 4.4 DynamoDB calls: its transaction, a Query, two BatchWriteItems)."""
    from bench.import_pipeline import measure as measure_import

    # make bench stops its runtime's relay: this one's is paused, so that neither it nor the work its
    # events start (consumers, webhooks) lands in the figure as it happens to keep up.
    assert runtime.relay is not None
    with runtime.relay.paused():
        result = measure_import(60, runtime)
    assert result["rows"] == 60 and result["pipeline_rows_per_second"] > 0
    calls = result["dynamodb_calls"]
    # Two shared transactions hold the 60 new contacts (one each, written alone, before), the derived
    # entries go 25 to a call.
    assert calls["TransactWriteItems"] <= 6, calls
    assert calls["BatchWriteItem"] <= 40, calls
    assert result["dynamodb_calls_per_row"] < 3, calls
    # A row's record, marker, three type-ahead entries, timeline entry and share of the counts: no audit
    # item of its own (decision 0027; 7.2 items a row with it).
    assert result["items_written_per_row"] < 6.6, result
    # No duplicate-key Query a row (60 here): the splitter found the file's pairs, and a new tenant has no
    # others. The plan's contacts quota reads the tenant's count once a chunk's try (two chunks; a try lost
    # to a conflict on a loaded machine reads it again).
    assert calls.get("Query", 0) <= 12, calls


def test_quote_create_reads_its_deal_products_and_number_and_writes_one_transaction(
    recorder: DynamoRecorder, tiny: Dataset
) -> None:
    """20 lines of one product: its product is read once (one BatchGetItem), the number once (a consistent
    GetItem), the deal once; one transaction (the quote, its count, the sequence). Its PDF reads the quote
    and the tenant's name."""
    api = tiny.api
    deal = api.call("POST", "/v1/deals", expect=201, body={"name": "Smoke quote"})
    product = api.call(
        "POST",
        "/v1/products",
        expect=201,
        body={"sku": "SMOKE-1", "name": "Gear", "prices": [{"currency": "EUR", "unit_price": "9.99"}]},
    )
    lines = [{"product_id": product["id"], "quantity": str(n + 1)} for n in range(20)]
    body = {"deal_id": deal["id"], "currency": "EUR", "line_items": lines}
    created = _measure(recorder, tiny, "POST", "/v1/quotes", expect=201, body=body)
    calls = dict(created.measurement.calls)
    assert calls.pop("TransactWriteItems") == 1 and calls.pop("BatchGetItem") == 1, calls
    assert calls.get("GetItem", 0) <= 3 and calls.get("Query", 0) <= 1, calls  # deal, sequence, definitions
    quote_id = api.call("GET", "/v1/quotes", params={"deal_id": deal["id"]})["items"][0]["id"]
    pdf = _measure(recorder, tiny, "GET", f"/v1/quotes/{quote_id}/pdf")
    assert dict(pdf.measurement.calls) == {"GetItem": 2}
