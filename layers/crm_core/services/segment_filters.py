"""A segment's filter: the properties a condition may name, each condition checked against its property's
type, matched on a contact (and its company) as the API shows them, and the index partitions whose union
holds every contact the filter can select (docs/decisions/0019-segment-evaluation.md).

A filter is compiled once per request (``compile_filter``): for a write, against the tenant's active
custom property definitions, every problem a 422 naming ``filter.any[i].all[j].<part>``; for an
evaluation, against every definition (archived ones too: a stored filter keeps meaning what it meant),
where a condition on a property that no longer exists selects nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, get_args

from crm_core.errors import FieldError, validation_failed
from crm_core.ids import as_utc, utc_text
from crm_core.models.contact import ConsentState, LifecycleStage
from crm_core.models.segment import MAX_IN_VALUES
from crm_core.repositories import keys
from crm_core.repositories.property_schema_repository import Definition, read_schema
from crm_core.services.records.text import normalize_text

_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_DAY = re.compile(r"^--(\d{2})-(\d{2})$")

# The operators of each type of property.
OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "string": ("eq", "neq", "contains", "in", "exists"),
    "id": ("eq", "neq", "in", "exists"),
    "enum": ("eq", "neq", "in", "exists"),
    "tags": ("contains", "neq", "in", "exists"),
    "multi_enum": ("contains", "neq", "in", "exists"),
    "number": ("eq", "neq", "gt", "lt", "in", "exists"),
    "boolean": ("eq", "neq", "exists"),
    "date": ("eq", "neq", "before", "after", "exists"),
    "datetime": ("before", "after", "exists"),
    "birthday": ("eq", "before", "after", "exists"),
}


@dataclass(frozen=True)
class Property:
    """A property a condition may name: where its value is on a contact and how it compares."""

    name: str  # "email", "consent.email", "company.industry", "custom.tier"
    label: str
    type: str
    options: tuple[str, ...] = ()
    # where a custom property's definition is missing (archived ones are still known): selects nothing
    known: bool = True

    @property
    def on_company(self) -> bool:
        return self.name.startswith("company.")

    def value_of(self, contact: Mapping[str, Any], company: Mapping[str, Any] | None) -> Any:
        head, _, rest = self.name.partition(".")
        if head == "company":
            return _path_value(company or {}, rest)
        return _path_value(contact, self.name)

    def describe(self) -> dict[str, Any]:
        """As GET /v1/segments/properties lists it."""
        return {
            "property": self.name,
            "label": self.label,
            "type": self.type,
            "operators": list(OPERATORS_BY_TYPE[self.type]),
            "options": list(self.options) if self.options else None,
        }


def _path_value(body: Mapping[str, Any], path: str) -> Any:
    found: Any = body
    for part in path.split("."):
        if not isinstance(found, Mapping):
            return None
        found = found.get(part)
    return found


_CONTACT_PROPERTIES: tuple[Property, ...] = (
    Property("first_name", "First name", "string"),
    Property("last_name", "Last name", "string"),
    Property("email", "Email", "string"),
    Property("phone", "Phone", "string"),
    Property("title", "Title", "string"),
    Property("source", "Source", "string"),
    Property("owner_id", "Owner", "id"),
    Property("company_id", "Company", "id"),
    Property("lifecycle_stage", "Lifecycle stage", "enum", get_args(LifecycleStage)),
    Property("consent.email", "Email consent", "enum", get_args(ConsentState)),
    Property("tags", "Tags", "tags"),
    Property("birthday", "Birthday", "birthday"),
    Property("created_at", "Created", "datetime"),
    Property("updated_at", "Last changed", "datetime"),
    Property("company.name", "Company name", "string"),
    Property("company.domain", "Company domain", "string"),
    Property("company.industry", "Company industry", "string"),
    Property("company.employees", "Company employees", "number"),
    Property("company.tags", "Company tags", "tags"),
    Property("company.owner_id", "Company owner", "id"),
)
FIXED_PROPERTIES: dict[str, Property] = {one.name: one for one in _CONTACT_PROPERTIES}


def _custom_property(name: str, definition: Definition) -> Property:
    options = tuple(str(one) for one in definition.get("options") or [])
    return Property(f"custom.{name}", str(definition.get("label") or name), str(definition["type"]), options)


def segment_properties(tenant_id: str) -> list[dict[str, Any]]:
    """Every property a condition may name, the tenant's active custom contact properties included (one
    consistent GetItem of their definitions)."""
    custom = read_schema(tenant_id, "contacts").active()
    found = [one.describe() for one in _CONTACT_PROPERTIES]
    found += [_custom_property(name, one).describe() for name, one in sorted(custom.items())]
    return found


# ----------------------------------------------------------------------------------------- conditions


Matcher = Callable[[Any], bool]


@dataclass(frozen=True)
class Condition:
    prop: Property
    operator: str
    value: Any
    test: Matcher

    def matches(self, contact: Mapping[str, Any], company: Mapping[str, Any] | None) -> bool:
        return self.prop.known and self.test(self.prop.value_of(contact, company))


@dataclass(frozen=True)
class Source:
    """A partition of an index (or of side entries) whose keys end in the contact's id, so that every
    source is read in id order: ``index`` None for entries kept as items (tags)."""

    index: str | None
    pk: str


@dataclass(frozen=True)
class CompiledFilter:
    groups: tuple[tuple[Condition, ...], ...]
    needs_company: bool = field(default=False)

    def matches(self, contact: Mapping[str, Any], company: Mapping[str, Any] | None) -> bool:
        return any(all(one.matches(contact, company) for one in group) for group in self.groups)

    def sources(self, tenant_id: str) -> list[Source]:
        """Partitions whose union holds every contact the filter may select: for each group, those of its
        most selective indexed condition (owner, company, tag, lifecycle stage: one partition per value),
        else the tenant's whole list of active contacts (which then is the only source)."""
        found: list[Source] = []
        for group in self.groups:
            driven = _driver(tenant_id, group)
            if driven is None:
                return [Source("GSI1", keys.list_pk(tenant_id, "contact", "active"))]
            found += [one for one in driven if one not in found]
        return found


# (property, its index, the attribute its partition is named by), most selective first
_DRIVERS: tuple[tuple[str, str | None, str], ...] = (
    ("owner_id", "GSI3", "owner"),
    ("company_id", "GSI4", "parent"),
    ("tags", None, "tag"),
    ("lifecycle_stage", "GSI5", "category"),
)


def _driver(tenant_id: str, group: tuple[Condition, ...]) -> list[Source] | None:
    best: list[Source] | None = None
    for name, index, attribute in _DRIVERS:
        for one in group:
            if one.prop.name != name or one.operator not in ("eq", "in", "contains"):
                continue
            values = one.value if isinstance(one.value, list) else [one.value]
            if name == "tags":
                values = [normalize_text(str(v)) for v in values]
            sources = [
                Source(index, keys.attribute_pk(tenant_id, "contact", "active", attribute, str(v)))
                for v in dict.fromkeys(values)
            ]
            if best is None or len(sources) < len(best):
                best = sources
    return best


def _never(_: Any) -> bool:
    return False


def _exists(found: Any) -> bool:
    return found is not None and found != [] and found != {} and found != ""


def _folded(value: Any) -> str:
    return normalize_text(str(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _utc(value: str) -> str:
    """A date or RFC 3339 time as the records' times are written (``2026-11-27T17:40:56.123Z``)."""
    if _DATE.match(value):
        return value
    return utc_text(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _month_day(value: Any) -> str | None:
    """A birthday (``YYYY-MM-DD`` or ``--MM-DD``) as ``MM-DD``."""
    if not isinstance(value, str):
        return None
    if _DATE.match(value):
        return value[5:]
    matched = _MONTH_DAY.match(value)
    return f"{matched.group(1)}-{matched.group(2)}" if matched else None


def _value_problem(prop: Property, value: Any) -> str | None:  # noqa: PLR0912 - one answer a type
    """Why ``value`` cannot be compared with ``prop`` (one value, not a list), or None."""
    kind = prop.type
    if kind in ("string", "tags"):
        ok = isinstance(value, str) and 0 < len(value) <= 200
        return None if ok else "must be a text of 1 to 200 characters"
    if kind == "id":
        return None if isinstance(value, str) and _ULID.match(value) else "must be an id"
    if kind in ("enum", "multi_enum"):
        return None if value in prop.options else f"must be one of {', '.join(prop.options)}"
    if kind == "number":
        return None if _is_number(value) else "must be a number"
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "date":
        if isinstance(value, str) and _DATE.match(value):
            try:
                date.fromisoformat(value)
                return None
            except ValueError:
                pass
        return "must be a date, YYYY-MM-DD"
    if kind == "datetime":
        if isinstance(value, str):
            try:
                if _DATE.match(value):
                    date.fromisoformat(value)
                    return None
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    return "must be a date or an RFC 3339 time with offset"
                as_utc(moment)  # a time an offset pushes out of years 1 to 9999 in UTC: ValueError
                return None
            except ValueError:
                pass
        return "must be a date (YYYY-MM-DD) or an RFC 3339 time with its offset"
    if kind == "birthday":
        return None if _month_day(value) is not None else "must be a date, YYYY-MM-DD or --MM-DD"
    return f"has an unknown type {kind!r}"


def _test(prop: Property, operator: str, value: Any) -> Matcher:  # noqa: C901, PLR0912 - one per operator
    """How a condition compares what a contact holds with ``value`` (checked already)."""
    kind = prop.type
    if operator == "exists":
        wanted = value is not False
        return lambda found: _exists(found) == wanted
    if kind in ("tags", "multi_enum"):
        fold = _folded if kind == "tags" else str
        wanted_set = {fold(v) for v in (value if isinstance(value, list) else [value])}
        has = lambda found: any(fold(one) in wanted_set for one in (found or []))  # noqa: E731
        return (lambda found: not has(found)) if operator == "neq" else has
    if kind == "string":
        if operator == "contains":
            part = _folded(value)
            return lambda found: isinstance(found, str) and part in _folded(found)
        texts = {_folded(v) for v in (value if isinstance(value, list) else [value])}
        same = lambda found: isinstance(found, str) and _folded(found) in texts  # noqa: E731
        return (lambda found: not same(found)) if operator == "neq" else same
    if kind == "birthday":
        wanted_day = _month_day(value) or ""
        if operator == "eq":
            return lambda found: _month_day(found) == wanted_day
        if operator == "before":
            return lambda found: (_month_day(found) or "99") < wanted_day
        return lambda found: (_month_day(found) or "") > wanted_day
    if kind == "datetime":
        bound = _utc(str(value))
        if operator == "before":
            return lambda found: isinstance(found, str) and found < bound
        if _DATE.match(bound):  # after a day: from the next one on
            return lambda found: isinstance(found, str) and found[:10] > bound
        return lambda found: isinstance(found, str) and found > bound
    valid = _is_number if kind == "number" else (lambda found: found is not None)
    if operator == "in":
        choices = list(value)
        return lambda found: valid(found) and found in choices
    if operator == "eq":
        return lambda found: valid(found) and found == value
    if operator == "neq":
        return lambda found: not (valid(found) and found == value)
    if operator in ("gt", "after"):
        return lambda found: valid(found) and found > value
    if operator in ("lt", "before"):
        return lambda found: valid(found) and found < value
    return _never


def _condition_errors(prop: Property, operator: str, value: Any, at: str) -> list[FieldError]:
    if operator not in OPERATORS_BY_TYPE[prop.type]:
        takes = ", ".join(OPERATORS_BY_TYPE[prop.type])
        return [FieldError(f"{at}.operator", f"{prop.name} ({prop.type}) takes {takes}, not {operator}")]
    if operator == "exists":
        ok = value is None or isinstance(value, bool)
        return [] if ok else [FieldError(f"{at}.value", "must be true, false or null (true) for exists")]
    if operator == "in":
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_IN_VALUES:
            return [FieldError(f"{at}.value", f"must be a list of 1 to {MAX_IN_VALUES} values for in")]
        return [
            FieldError(f"{at}.value[{n}]", problem)
            for n, one in enumerate(value)
            if (problem := _value_problem(prop, one))
        ]
    if isinstance(value, list) or value is None:
        return [FieldError(f"{at}.value", f"must be one value for {operator}")]
    problem = _value_problem(prop, value)
    return [FieldError(f"{at}.value", problem)] if problem else []


def compile_filter(tenant_id: str, raw: Mapping[str, Any], *, for_write: bool) -> CompiledFilter:
    """The filter (its shape checked by ``SegmentFilter``) against the tenant's properties. For a write:
    422 naming every bad part; for an evaluation, a condition on a property that no longer exists
    selects nothing."""
    custom: dict[str, Definition] | None = None
    errors: list[FieldError] = []
    groups: list[tuple[Condition, ...]] = []
    needs_company = False
    for g, group in enumerate(raw.get("any") or []):
        conditions: list[Condition] = []
        for c, one in enumerate(group.get("all") or []):
            at = f"filter.any[{g}].all[{c}]"
            name, operator, value = one.get("property"), one.get("operator"), one.get("value")
            prop = FIXED_PROPERTIES.get(str(name))
            if prop is None and str(name).startswith("custom."):
                if custom is None:
                    schema = read_schema(tenant_id, "contacts")
                    custom = schema.active() if for_write else schema.definitions
                definition = custom.get(str(name).removeprefix("custom."))
                if definition is not None:
                    prop = _custom_property(str(name).removeprefix("custom."), definition)
            if prop is None:
                if for_write:
                    errors.append(FieldError(f"{at}.property", "is not a property of contacts"))
                    continue
                prop = Property(str(name), str(name), "string", known=False)
            problems = _condition_errors(prop, str(operator), value, at)
            if problems:
                if for_write:
                    errors += problems
                    continue
                conditions.append(Condition(prop, str(operator), value, _never))
                continue
            needs_company = needs_company or prop.on_company
            conditions.append(Condition(prop, str(operator), value, _test(prop, str(operator), value)))
        groups.append(tuple(conditions))
    if errors:
        raise validation_failed(errors, "The segment's filter has conditions that cannot be evaluated.")
    return CompiledFilter(tuple(groups), needs_company)
