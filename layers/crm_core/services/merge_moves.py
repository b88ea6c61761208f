"""What refers to a merged duplicate (a contact's activities and deals; a company's contacts, deals and
activities; a deal's activities) is moved to the survivor. The merge request moves a kind itself when
there are at most ``records.merge.MAX_MOVED_BY_MERGE`` of it; a kind with more is moved here, by a consumer of
the merge's event (``contact.merged``, ``company.merged``, ``deal.merged``), after the merge committed,
and the merge's answer lists it in ``pending_moves``.

It converges from state (decision 0005), not from the event: the duplicate is read (archived, with
``merged_into``), and so is the record it was merged into; then the records that still refer to the
duplicate are listed (the Query the merge uses) and each is moved with a normal change, its own
``*.updated`` event included, as in the request. So a repeated, late or reordered message finds nothing
left and writes nothing, and a record linked to the duplicate after the merge (a deal created as it ran)
is moved by whichever message runs after it. A message moves at most ``MOVES_PER_MESSAGE`` records and
queues the rest as a continuation of itself on its own queue, holding its place (the kind and where in
its list), so a record that cannot be moved is passed over rather than read again and again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, final

from crm_core.auth import Principal
from crm_core.consumers import send_continuation
from crm_core.context import RequestContext
from crm_core.definitions import MERGE_MOVES_QUEUE
from crm_core.errors import ProblemError
from crm_core.record_types import BY_NAME
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.services.records import RecordService, Referrer

if TYPE_CHECKING:
    from crm_core.consumers import BusEvent

PAGE_SIZE = 100  # one Query of a referring type's parent index or entries per page
MOVES_PER_MESSAGE = 200  # then a continuation message: each message's work is bounded
MAX_HOPS = 5  # a survivor merged in turn into another: what is left moves to that one (and so on)


@final  # no "detail": what tells it from a merge's event on the same queue
class MovesContinuation(TypedDict):
    """The rest of a merge's moves, as ``_continue`` queues them: from which kind, and where in its list."""

    tenant_id: str
    object_type: str
    duplicate_id: str
    kind: int  # an index into the merged type's referrers
    start: dict[str, str] | None  # a position in that kind's list; None: the first
    correlation_id: str | None


def handle(message: BusEvent | MovesContinuation) -> str:
    """One queue message: a merge's event delivered by the rule on the crm bus, or a continuation."""
    if "detail" in message:
        detail = message["detail"]
        object_type, _, action = str(detail.get("type", "")).partition(".")
        duplicate_id = ((detail.get("changes") or {}).get("merged_from") or {}).get("to")
        if action != "merged" or not duplicate_id:
            return "nothing to do"
        return move(
            detail["tenant_id"], object_type, duplicate_id, correlation_id=detail.get("correlation_id")
        )
    return move(
        message["tenant_id"],
        message["object_type"],
        message["duplicate_id"],
        kind=message.get("kind", 0),
        start=message.get("start"),
        correlation_id=message.get("correlation_id"),
    )


def _merged_type(object_type: str) -> RecordService | None:
    """The service of a registered type that merges (only those whose records others refer to move
    anything)."""
    registered = BY_NAME.get(object_type)
    return registered.record_service() if registered is not None and registered.mergeable else None


def move(
    tenant_id: str,
    object_type: str,
    duplicate_id: str,
    *,
    kind: int = 0,
    start: dict[str, str] | None = None,
    correlation_id: str | None = None,
) -> str:
    """Move what still refers to the merged ``duplicate_id`` to the record it was merged into, from
    ``kind`` (an index into its type's referrers) and ``start`` (a position in that kind's list; None: the
    first), at most ``MOVES_PER_MESSAGE`` records."""
    service = _merged_type(object_type)
    if service is None or (service.spec.referrers is None and not service.spec.merge_moves):
        return "nothing to do"
    # The CRM makes the moves on behalf of the merge (its correlation id, so they can be traced to it).
    ctx = RequestContext(Principal.system(tenant_id, "merge"), correlation_id=correlation_id)
    survivor = _survivor(tenant_id, object_type, duplicate_id)
    if survivor is None:
        return "nothing to do: not merged, or what it was merged into is no longer active"
    # What the moved records' references resolve against (services/references.py): this read, for all.
    ctx.lookups[(object_type, survivor.id)] = survivor
    referrers = service.spec.referrers() if service.spec.referrers is not None else ()
    moved = seen = 0
    refused: list[str] = []
    while kind < len(referrers):
        if seen >= MOVES_PER_MESSAGE:
            _continue(tenant_id, object_type, duplicate_id, kind, start, correlation_id)
            return _outcome(moved, seen, refused) + "; the rest continues"
        referrer = referrers[kind]
        limit = min(PAGE_SIZE, MOVES_PER_MESSAGE - seen)
        ids, start = referrer.service.ids_referring(
            tenant_id, referrer.field_name, duplicate_id, limit=limit, start_key=start
        )
        for record_id in ids:
            moved += _move_one(ctx, referrer, record_id, duplicate_id, survivor.id, refused)
        seen += len(ids)
        if start is None:
            kind += 1
    # Then what else the duplicate holds (a ticket's replies): a kind each, after the referrers.
    extras = service.spec.merge_moves
    while kind - len(referrers) < len(extras):
        extra = extras[kind - len(referrers)]
        if not extra.move(tenant_id, duplicate_id, survivor.id, MOVES_PER_MESSAGE):
            _continue(tenant_id, object_type, duplicate_id, kind, None, correlation_id)
            return _outcome(moved, seen, refused) + f"; {extra.name} continue"
        kind += 1
    return _outcome(moved, seen, refused)


def _survivor(tenant_id: str, object_type: str, duplicate_id: str) -> RecordItem | None:
    """The active record the duplicate was merged into (consistent reads), following a survivor that was
    merged in turn; None when the duplicate is not merged, or that record is archived or gone."""
    item = repo.get_record(tenant_id, object_type, duplicate_id, consistent=True)
    for _ in range(MAX_HOPS):
        if item is None or not item.merged_into:
            return None
        item = repo.get_record(tenant_id, object_type, item.merged_into, consistent=True)
        if item is not None and item.archived_at is None:
            return item
    return None


def _move_one(
    ctx: RequestContext, referrer: Referrer, record_id: str, from_id: str, to_id: str, refused: list[str]
) -> bool:
    """True when the record was moved; False when it no longer refers to the duplicate, was archived
    since it was listed, or its change is refused (it then keeps referring to the duplicate, and the
    reason is in the message's outcome). A conflict that outlasts the retries fails the message, which
    is tried again."""
    try:
        return referrer.service.move_reference(ctx, record_id, referrer.field_name, from_id, to_id)
    except ProblemError as problem:
        if problem.status == 409:
            raise
        if problem.status != 404:
            refused.append(f"{referrer.name} {record_id}: {problem.detail}")
        return False


def _outcome(moved: int, seen: int, refused: list[str]) -> str:
    outcome = f"{moved} of {seen} records moved"
    return outcome + (f"; refused: {'; '.join(refused)}" if refused else "")


def _continue(
    tenant_id: str,
    object_type: str,
    duplicate_id: str,
    kind: int,
    start: dict[str, str] | None,
    correlation_id: str | None,
) -> None:
    """The rest of the moves, in a message of their own to the same queue."""
    continuation: MovesContinuation = {
        "tenant_id": tenant_id,
        "object_type": object_type,
        "duplicate_id": duplicate_id,
        "kind": kind,
        "start": start,
        "correlation_id": correlation_id,
    }
    send_continuation(MERGE_MOVES_QUEUE, continuation)
