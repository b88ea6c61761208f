"""Every registered record type is registered whole (crm_core.record_types; docs/adding-a-record-type.md):
its models module has what the catalog and the tests derive from, its service is the type's, its examples
are valid records and bodies, its routes are on the function it names, and its events are in the catalog."""

from __future__ import annotations

import importlib

import pytest
from crm_core.definitions import API_FUNCTIONS
from crm_core.event_catalog import EVENT_TYPES
from crm_core.record_types import BY_NAME, RECORD_TYPES, RecordType, record_type

from tests.support.api_document import document

TYPES = [pytest.param(t, id=t.name) for t in RECORD_TYPES]


def test_names_and_paths_are_unique() -> None:
    assert len({t.name for t in RECORD_TYPES}) == len(RECORD_TYPES)
    assert len({t.collection for t in RECORD_TYPES}) == len(RECORD_TYPES)
    assert record_type("deal") is BY_NAME["deal"]
    with pytest.raises(KeyError):
        record_type("invoice")


@pytest.mark.parametrize("registered", TYPES)
def test_models_module_has_what_is_derived_from_it(registered: RecordType) -> None:
    models = registered.models()
    for name in ("EXAMPLE_ID", "EXAMPLE", "EXAMPLE_UPDATE", "example_input", registered.model):
        assert hasattr(models, name), f"{registered.models_module} has no {name}"
    record = registered.record_model()
    # The example is a whole record as the API answers it.
    record.model_validate({"id": models.EXAMPLE_ID, **_meta(), **registered.example()})
    field, value = models.EXAMPLE_UPDATE
    assert field in record.model_fields, f"EXAMPLE_UPDATE changes {field}, which a {registered.label} lacks"
    spec = registered.record_service().spec
    spec.update_model.model_validate({field: value})


@pytest.mark.parametrize("registered", TYPES)
def test_service_is_the_types(registered: RecordType) -> None:
    spec = registered.record_service().spec
    assert spec.object_type == registered.name
    # Two example bodies are valid creates that differ in what is unique in a tenant.
    first, second = (spec.create_model.model_validate(registered.example_input(n)) for n in (1, 2))
    if spec.unique_field:
        assert getattr(first, spec.unique_field) != getattr(second, spec.unique_field)


@pytest.mark.parametrize("registered", TYPES)
def test_routes_are_on_the_function_it_names(registered: RecordType) -> None:
    function = next((f for f in API_FUNCTIONS if f.name == registered.function), None)
    assert function is not None, f"no API function {registered.function}"
    assert f"ANY {registered.path}" in function.routes
    importlib.import_module(
        f"functions.{registered.function}.{registered.collection.replace('-', '_')}_routes"
    )
    paths = document()["paths"]
    # Its list and create: at its path, or (a property, named by its object and name) its object's.
    listed = registered.path + "".join(f"/{part}" for part in registered.key_path.split("/")[:-1])
    assert listed in paths or f"{listed}/" in paths, f"{listed} is not served"
    assert f"{registered.path}/{registered.key_path}" in paths
    assert (f"{registered.path}/{registered.key_path}/merge" in paths) == registered.mergeable


@pytest.mark.parametrize("registered", TYPES)
def test_events_are_in_the_catalog(registered: RecordType) -> None:
    catalog = {e.name: e for e in EVENT_TYPES if e.record_type == registered.name}
    assert set(catalog) == {f"{registered.name}.{action}" for action in registered.event_actions()}
    assert all(e.when.endswith(".") for e in catalog.values())


def _meta() -> dict[str, object]:
    from crm_core.models.common import EXAMPLE_TENANT_ID

    stamp = "2026-01-15T09:30:00Z"
    return {
        "tenant_id": EXAMPLE_TENANT_ID,
        "version": 1,
        "archived": False,
        "archived_at": None,
        "merged_into": None,
        "created_at": stamp,
        "updated_at": stamp,
    }
