"""Batches of up to 100 inputs (API.md section 2): create, update, upsert, read or archive, one result per
input in order. Without ``all_or_none`` each input commits on its own, as a request of its own would;
with it, every input commits in one transaction or none does."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from crm_core.context import RequestContext
from crm_core.errors import FieldError, ProblemError, invalid_field, not_found, validation_failed
from crm_core.models.record import RecordBody
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.repositories.transaction import (
    MAX_TRANSACTION_ITEMS,
    ChangeSet,
    TransactionTooLarge,
    WriteConflict,
)
from crm_core.services.records.derived import write_after_commit
from crm_core.services.records.shape import represent
from crm_core.services.records.writes import (
    Prepared,
    StaleWrite,
    back_off,
    commit,
    conflict_problem,
    holder_of_own_unique,
    write_attempts,
)
from crm_core.validation import reprefix, set_fields, validate

if TYPE_CHECKING:
    from crm_core.services.records.service import RecordService

logger = Logger(child=True)

MAX_BATCH = 100
BATCH_CONCURRENCY = 10  # inputs of a non-atomic batch written at once


@dataclass(frozen=True)
class Unchanged:
    """A batch input that asked for no change: answered with the record as it is."""

    record_id: str


Outcome = Prepared | Unchanged


@dataclass(frozen=True)
class BatchResult:
    """One input's result: its status and the record as it is after, or the problem that stopped it."""

    status: int
    record_id: str | None = None
    record: RecordBody | None = None
    error: ProblemError | None = None

    def body(self) -> dict[str, Any]:
        """As the API answers it (models BatchResults): ``id`` and ``record``, or ``error``."""
        if self.error is not None:
            return {"status": self.status, "error": self.error.to_dict()}
        return {"status": self.status, "id": self.record_id, "record": self.record}


def batch(
    service: RecordService, ctx: RequestContext, action: str, inputs: list[Any], *, all_or_none: bool
) -> list[BatchResult]:
    if action == "read":
        return _read(service, ctx, inputs)
    if all_or_none:
        return _atomic(service, ctx, action, inputs)

    def one(position: int) -> BatchResult:
        # Each input commits on its own, so each gets its own answer, whatever befalls the others.
        try:
            return _apply_one(service, ctx, action, inputs[position])
        except ProblemError as problem:
            return _error_result(reprefix(problem, f"inputs[{position}]."))
        except Exception:
            logger.exception("batch input failed", extra={"position": position})
            failure = ProblemError(
                500,
                "Internal Server Error",
                f"This input failed on our side (request {ctx.correlation_id}); read the record "
                "before sending it again.",
            )
            return _error_result(failure)

    if not inputs:
        return []
    # The first input alone: what it reads for its references (the company, the tenant's default
    # pipeline) is kept in the request's lookups, which the others then share instead of each reading it.
    first = one(0)
    # The inputs' transactions are independent: run a bounded number at once, so a batch of 100 costs
    # a few transactions' latency rather than a hundred (inputs that race on one record or unique value
    # are resolved as concurrent requests are: retried from a fresh read, an upsert updating).
    # Each input runs in a copy of the request's context (context variables: what logs and measures it).
    contexts = [contextvars.copy_context() for _ in inputs]
    with ThreadPoolExecutor(max_workers=BATCH_CONCURRENCY) as pool:
        return [
            first,
            *pool.map(lambda position: contexts[position].run(one, position), range(1, len(inputs))),
        ]


def _apply_one(service: RecordService, ctx: RequestContext, action: str, raw: Any) -> BatchResult:
    """One input of a batch that is not all-or-none: prepared and committed as a request of its own
    (a lost race is tried again from a fresh read, as a single write is), its result."""
    found_id: str | None = None
    for attempt in write_attempts():
        outcome = _prepare(service, ctx, action, raw, found_id=found_id)
        if isinstance(outcome, Unchanged):
            return _result(service, ctx, outcome)
        try:
            commit(service.spec, ctx, outcome)
        except StaleWrite:
            back_off(attempt)
            continue
        except ProblemError as problem:
            existing = holder_of_own_unique(service.spec, problem)
            if action == "upsert" and outcome.status == 201 and existing and found_id is None:
                found_id = str(existing)  # created meanwhile by another request: update it instead
                continue
            raise
        return _result(service, ctx, outcome)
    raise ProblemError(409, "Conflict", "The record is being changed by others; retry this input.")


def _result(service: RecordService, ctx: RequestContext, outcome: Outcome) -> BatchResult:
    if isinstance(outcome, Unchanged):
        return BatchResult(200, outcome.record_id, service.get(ctx, outcome.record_id))
    return BatchResult(outcome.status, outcome.item.id, represent(service.spec, outcome.item))


def _read(service: RecordService, ctx: RequestContext, inputs: list[Any]) -> list[BatchResult]:
    spec = service.spec
    ids = [str(raw.get("id")) if isinstance(raw, dict) else "" for raw in inputs]
    found = repo.batch_get_records(ctx.tenant_id, spec.object_type, [i for i in ids if i])
    results = []
    for record_id in ids:
        item = found.get(record_id)
        if item is None or item.archived_at is not None:
            results.append(_error_result(not_found(spec.object_type, record_id)))
        else:
            results.append(BatchResult(200, record_id, represent(spec, item)))
    return results


def _atomic(service: RecordService, ctx: RequestContext, action: str, inputs: list[Any]) -> list[BatchResult]:
    """One TransactWriteItems for the whole batch: every input commits, or none does."""
    spec = service.spec
    outcomes: list[Outcome] = []
    errors: list[FieldError] = []
    seen_unique: dict[tuple[str, str], int] = {}
    changes = ChangeSet()
    for position, raw in enumerate(inputs):
        try:
            outcome = _prepare(service, ctx, action, raw)
        except ProblemError as problem:
            if problem.status in (401, 403):
                raise reprefix(problem, f"inputs[{position}].") from None  # not the input's fault
            errors += reprefix(problem, f"inputs[{position}].").errors or [
                FieldError(f"inputs[{position}]", problem.detail)
            ]
            continue
        outcomes.append(outcome)
        if isinstance(outcome, Unchanged):
            continue
        for claim in outcome.claims():  # one transaction cannot claim a marker twice
            if claim in seen_unique:
                errors.append(
                    FieldError(
                        f"inputs[{position}].{claim[0] or spec.unique_field}",
                        f"repeats inputs[{seen_unique[claim]}]",
                    )
                )
            seen_unique[claim] = position
        for op in outcome.changes.operations:
            op.label = f"{position}:{op.label}"
        changes.extend(outcome.changes)
    if errors:
        raise validation_failed(errors, "The batch was not applied: some inputs are invalid.")
    try:
        changes.commit()
    except TransactionTooLarge:
        raise ProblemError(
            422,
            "Unprocessable Content",
            f"These inputs need {len(changes)} table items, more than one transaction holds "
            f"({MAX_TRANSACTION_ITEMS}); send fewer inputs with all_or_none=true.",
            [FieldError("inputs", "too many for one transaction")],
        ) from None
    except WriteConflict as error:
        label_position, _, label = error.label.partition(":")
        position = int(label_position) if label else 0
        failure = conflict_problem(
            spec, ctx, WriteConflict(label or error.label, error.existing), _prepared_at(outcomes, position)
        )
        if isinstance(failure, StaleWrite):
            failure = ProblemError(409, "Conflict", "A record changed while the batch ran.")
        failure.detail += " Nothing was applied."
        raise reprefix(failure, f"inputs[{position}].") from error
    return _committed(service, ctx, outcomes)


def _committed(service: RecordService, ctx: RequestContext, outcomes: list[Outcome]) -> list[BatchResult]:
    """The answers of a batch that committed in one transaction, once what derives from each change is
    written."""
    write_after_commit(*(outcome.derived for outcome in outcomes if isinstance(outcome, Prepared)))
    return [_result(service, ctx, outcome) for outcome in outcomes]


def _prepare(
    service: RecordService, ctx: RequestContext, action: str, raw: Any, *, found_id: str | None = None
) -> Outcome:
    """One input's change, ready to commit. ``found_id``: the record an upsert without an id updates, when
    it is known already."""
    spec = service.spec
    if not isinstance(raw, dict):
        raise validation_failed([FieldError("", "must be a JSON object")])
    record_id = raw.get("id")
    fields_raw = raw.get("properties", {k: v for k, v in raw.items() if k != "id"})
    if action == "create":
        if "id" in raw:
            raise invalid_field("id", "is read-only and cannot be set")
        return service.prepare_create(ctx, set_fields(validate(spec.create_model, fields_raw)))
    if record_id is not None and not isinstance(record_id, str):
        raise invalid_field("id", "must be a string")
    if action == "upsert" and record_id is None:
        record_id = found_id or _find_by_unique_value(service, ctx, fields_raw)
        if record_id is None:
            return service.prepare_create(ctx, set_fields(validate(spec.create_model, fields_raw)))
    if record_id is None:
        raise invalid_field("id", "is required")
    if action == "archive":
        return service.prepare_archive(ctx, record_id, None)
    if action in ("update", "upsert"):
        fields = set_fields(validate(spec.update_model, fields_raw))
        return service.prepare_update(ctx, record_id, fields, None) or Unchanged(record_id)
    raise invalid_field("action", f"unknown batch action {action!r}")


def _find_by_unique_value(service: RecordService, ctx: RequestContext, fields_raw: Any) -> str | None:
    """Upsert without an id matches on the type's unique value (a contact's email, a company's domain)."""
    spec = service.spec
    field_name = spec.unique_field
    value = fields_raw.get(field_name) if field_name and isinstance(fields_raw, dict) else None
    if not field_name or not isinstance(value, str) or not value.strip():
        return None
    try:
        normalized = spec.normalize_unique(value)
    except ValueError:
        return None  # not a valid value: the create's validation names the field
    return repo.get_unique_owner(ctx.tenant_id, spec.object_type, field_name, normalized)


def _prepared_at(outcomes: list[Outcome], position: int) -> Prepared:
    outcome = outcomes[position] if position < len(outcomes) else None
    return outcome if isinstance(outcome, Prepared) else Prepared(ChangeSet(), RecordItem(), 409)


def _error_result(problem: ProblemError) -> BatchResult:
    return BatchResult(problem.status, error=problem)
