"""The event catalog's committed files are the generated ones (regenerate with `make events`), every
schema is a valid draft-04 schema, and the catalog agrees with the code and API.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from crm_core.event_catalog import EVENT_TYPES, PLANNED_EVENT_TYPES, EventType, event_type
from crm_core.record_types import BY_NAME

from crm_local.catalog import DOCS_PATH, SCHEMAS_DIR, example_event, generated_files, stale_files, write_all

REPO_ROOT = Path(__file__).resolve().parents[2]
# The contract lives beside the repository (shared/), on developers' machines and in CI alike.
API_MD = REPO_ROOT.parent / "shared" / "API.md"


def test_committed_files_match_the_catalog() -> None:
    assert stale_files(REPO_ROOT) == [], "events/schemas or docs/events.md is stale: run `make events`"


def test_one_committed_schema_per_emitted_type() -> None:
    committed = sorted(p.stem for p in (REPO_ROOT / SCHEMAS_DIR).glob("*.json"))
    assert committed == sorted(event.name for event in EVENT_TYPES)
    assert not {planned.name for planned in PLANNED_EVENT_TYPES} & set(committed)


def test_write_all_then_check(tmp_path: Path) -> None:
    written = write_all(tmp_path)
    assert sorted(written) == sorted(generated_files())
    (tmp_path / SCHEMAS_DIR / "gone.thing.json").write_text("{}")
    (tmp_path / DOCS_PATH).write_text("old")
    assert stale_files(tmp_path) == [DOCS_PATH, f"{SCHEMAS_DIR}/gone.thing.json"]
    write_all(tmp_path)
    assert stale_files(tmp_path) == []
    assert not (tmp_path / SCHEMAS_DIR / "gone.thing.json").exists()


def test_catalog_is_consistent() -> None:
    names = [event.name for event in EVENT_TYPES]
    assert len(names) == len(set(names))
    assert not set(names) & {planned.name for planned in PLANNED_EVENT_TYPES}
    for event in EVENT_TYPES:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", event.name), event.name
        assert event.record_type in BY_NAME or not event.of_record
        assert event.when and "\n" not in event.when
        assert event.version == "1"
        assert event_type(event.name) is event
    with pytest.raises(KeyError):
        event_type("company.erased")  # planned: nothing emits it yet


def test_catalog_names_every_type_of_the_contract() -> None:
    """Every type API.md section 4 lists is either emitted or planned."""
    if not API_MD.is_file():
        pytest.skip("API.md is not on this machine")
    text = API_MD.read_text()
    section = text[text.index("## 4. Events") : text.index("## 5.")]
    # The "- Types:" item and its continuation lines (inbound partner events are not the CRM's).
    types = section[section.index("- Types:") :]
    types = types[: types.index("\n- ", 1)]
    promised: set[str] = set()
    for group, names in re.findall(r"`([a-z]+)\.([a-z_|*]+)`", types):
        promised |= {f"{group}.{name}" for name in names.split("|") if name != "*"}
    if "`company.*` likewise" in types:
        promised |= {n.replace("contact.", "company.") for n in promised if n.startswith("contact.")}
    known = {event.name for event in EVENT_TYPES} | {planned.name for planned in PLANNED_EVENT_TYPES}
    assert promised, "found no types in API.md section 4"
    assert sorted(promised - known) == []


def test_emitted_update_events_are_in_the_catalog() -> None:
    """What the record services' update_events can answer is in the catalog."""
    from crm_core.services.activities import update_events as activity_events
    from crm_core.services.deals import update_events as deal_events

    deal = {"stage_id": "a", "pipeline_id": "p", "status": "open"}
    answers = {
        *(f"deal.{name}" for name in deal_events(deal, deal)),
        *(f"deal.{name}" for name in deal_events(deal, {**deal, "stage_id": "b"})),
        *(f"deal.{name}" for name in deal_events(deal, {**deal, "stage_id": "w", "status": "won"})),
        *(f"deal.{name}" for name in deal_events(deal, {**deal, "stage_id": "l", "status": "lost"})),
        *(f"activity.{name}" for name in activity_events({}, {})),
        *(f"activity.{name}" for name in activity_events({}, {"completed_at": "now"})),
    }
    assert answers <= {event.name for event in EVENT_TYPES}


@pytest.mark.parametrize("event", EVENT_TYPES, ids=lambda e: e.name)
def test_schema_is_valid_draft_04_and_accepts_its_example(event: EventType) -> None:
    schema = json.loads((REPO_ROOT / event.schema_path).read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    text = json.dumps(schema)
    assert "$defs" not in text and '"const"' not in text  # draft 2020-12 spellings
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    example = example_event(event)
    assert list(validator.iter_errors(example)) == []
    assert f'"detail-type": "{event.name}"' in (REPO_ROOT / DOCS_PATH).read_text()

    # What the schema refuses: another type, an unknown detail field, a record field missing.
    required = "sequence" if event.of_record else "changes"
    for broken in (
        {**example, "detail-type": "company.erased"},
        {**example, "source": "partner.x"},
        {**example, "detail": {**example["detail"], "extra": 1}},
        {**example, "detail": {k: v for k, v in example["detail"].items() if k != required}},
        {**example, "detail": {**example["detail"], "data": {**example["detail"]["data"], "unknown": 1}}},
        {**example, "detail": {**example["detail"], "changes": {"x": {"to": 1}}}},
    ):
        assert not validator.is_valid(broken)
    data = dict(example["detail"]["data"])
    data.pop("tenant_id" if event.of_record else "id")
    assert not validator.is_valid({**example, "detail": {**example["detail"], "data": data}})


def test_docs_list_emitted_and_planned_types() -> None:
    docs = (REPO_ROOT / DOCS_PATH).read_text()
    for event in EVENT_TYPES:
        assert f"`{event.name}`" in docs
    for planned in PLANNED_EVENT_TYPES:
        assert f"| `{planned.name}` | {planned.arrives_with} |" in docs
