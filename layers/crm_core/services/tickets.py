"""Tickets: customer service cases, with their status moves, replies and the due times of their SLA policy.

The rules (docs/decisions/0021-tickets-and-slas.md):

- status: ``new`` on creation; moves as ``STATUS_MOVES`` allows, anything else is a 422 naming ``status``.
  An agent's public reply opens a new ticket; a customer's reply reopens a pending or resolved one.
- ``first_responded_at``: the first public reply by an agent. ``resolved_at``: set on entering resolved
  (or closed without being resolved first), cleared on reopening.
- ``sla``: due times from the ticket's SLA policy (services/sla_policies.policy_for) for its priority,
  counted in the policy's business hours from the ticket's creation, set on creation and again when its
  priority or category changes; the clock stops while the ticket is ``pending`` (its due times move by
  the business time it waited when it leaves pending); the ``*_breached`` flags are set by the SLA
  timers (services/ticket_sla) and stay set.
- the assignee is the ticket's owner for the role rules (``owner_field``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crm_core.auth import Principal
from crm_core.business_hours import BusinessHours, add_business_minutes, business_time_between
from crm_core.context import RequestContext
from crm_core.errors import conflict, invalid_field
from crm_core.ids import utc_now, utc_text
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.models.ticket import TICKET_DEFAULTS, TicketCreate, TicketUpdate
from crm_core.repositories import keys, record_repository, reply_repository
from crm_core.repositories.table import RecordItem, ReplyItem, UniqueMarker
from crm_core.services import references

# A ticket links to a contact, company and deal as an activity does (its events in their timelines), and
# is found by its subject as an activity is.
from crm_core.services.activities import LINKS, timeline_links
from crm_core.services.activities import activity_tokens as ticket_tokens
from crm_core.services.records import (
    Expansion,
    MergeMove,
    ObjectSpec,
    RecordService,
    SortKey,
    record_data,
    represent,
)
from crm_core.services.records.writes import Prepared, write_retrying
from crm_core.services.sla_policies import policy_for

DONE = ("resolved", "closed")
STATUS_MOVES: dict[str, tuple[str, ...]] = {
    "new": ("open", "pending", "resolved", "closed"),
    "open": ("pending", "resolved", "closed"),
    "pending": ("open", "resolved", "closed"),
    "resolved": ("open", "closed"),
    "closed": (),
}
CREATED_AS = ("new", "open", "pending")
DEADLINES = ("first_response", "resolution")
# The fields whose change is a ticket.updated of its own (the others have events named for them).
_NOT_UPDATES = {
    "last_reply",
    "assignee_id",
    "status",
    "resolved_at",
    "first_responded_at",
    "sla",
    "sla_breached",
    "satisfaction",
}
SUBMISSION = "submission"  # the marker of an inbound submission's key: its ticket, made once
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def created_time(ticket_id: str) -> datetime:
    """When a ticket was created, from its id (a ULID's first 48 bits are its milliseconds)."""
    milliseconds = 0
    for char in ticket_id[:10]:
        milliseconds = milliseconds * 32 + _CROCKFORD.index(char)
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    for field_name, object_type in LINKS:
        linked = data.get(field_name)
        if linked and field_name in changed and references.active_record(ctx, object_type, linked) is None:
            raise invalid_field(field_name, f"no {object_type} with this id")
    references.require_active_user(ctx, data, changed, "assignee_id")
    team_id = data.get("team_id")
    if team_id and "team_id" in changed and references.active_record(ctx, "team", team_id) is None:
        raise invalid_field("team_id", "no team with this id")
    if "article_ids" in changed:
        article_ids = data.get("article_ids") or []
        found = references.active_records(ctx, "kb_article", article_ids)
        for position, article_id in enumerate(article_ids):
            if article_id not in found:
                raise invalid_field(f"article_ids[{position}]", "no knowledge base article with this id")
    return {}


def due_times(
    ctx: RequestContext,
    data: RecordFields,
    started: datetime,
    before: dict[str, Any] | None,
    *,
    pausing_only: bool = False,
) -> dict[str, Any] | None:
    """The ticket's ``sla`` from its policy's target for its priority, counted from ``started`` and moved by
    the business time it spent ``pending`` (waiting on the customer: the clock stops); the breach flags it
    had are kept. None when no policy or no target applies.

    ``paused_at`` is when the ticket last entered pending (set while it is there); ``paused_seconds`` the
    business time of its pauses so far. Leaving pending adds the business time since ``paused_at``; with
    ``pausing_only`` (nothing else that sets them changed) the due and warning times it had move by that
    much, which is the same sum (business time adds up) without counting from ``started`` again."""
    policy = policy_for(ctx, data.get("category"))
    target = ((policy or {}).get("targets") or {}).get(data.get("priority") or "normal")
    if policy is None or not target:
        return None
    hours = BusinessHours.of(policy.get("business_hours"))
    warn = int(policy.get("warn_before_minutes") or 0)
    before = before or {}
    paused = int(before.get("paused_seconds") or 0)
    paused_at = before.get("paused_at")
    waited = 0
    now = datetime.now(UTC)
    if data.get("status") == "pending":
        paused_at = paused_at or utc_text(now)
    elif paused_at:
        waited = round(business_time_between(_parsed(str(paused_at)), now, hours).total_seconds())
        paused, paused_at = paused + waited, None
    sla: dict[str, Any] = {"policy_id": policy["id"]}
    for deadline in DEADLINES:
        minutes = int(target[f"{deadline}_minutes"]) + paused / 60
        for name, total in ((f"{deadline}_due_at", minutes), (f"{deadline}_warn_at", max(0, minutes - warn))):
            if pausing_only and before.get(name):
                moved = (
                    add_business_minutes(_parsed(str(before[name])), waited / 60, hours) if waited else None
                )
                sla[name] = utc_text(moved) if moved else before[name]
            elif name.endswith("_due_at") or warn:
                sla[name] = utc_text(add_business_minutes(started, total, hours))
            else:
                sla[name] = None
        sla[f"{deadline}_breached"] = bool(before.get(f"{deadline}_breached"))
    sla["paused_at"] = paused_at
    sla["paused_seconds"] = paused or None
    return sla


def _parsed(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def derive(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, ticket_id: str | None
) -> RecordFields:
    """Status (its moves checked), priority, ``resolved_at`` and the ``sla`` due times."""
    data = dict(data)
    data["status"] = status = data.get("status") or "new"
    data["priority"] = data.get("priority") or "normal"
    old = (before or {}).get("status")
    if before is None and status not in CREATED_AS:
        raise invalid_field("status", f"a new ticket is {', '.join(CREATED_AS)}")
    if old is not None and status != old and status not in STATUS_MOVES[old]:
        allowed = ", ".join(STATUS_MOVES[old]) or "nothing (closed is final)"
        raise invalid_field("status", f"a {old} ticket can move to {allowed}, not {status}")
    if status in DONE:
        if old not in DONE or not data.get("resolved_at"):
            data["resolved_at"] = utc_now()
    else:
        data.pop("resolved_at", None)
    pausing = (old == "pending") != (status == "pending")  # the SLA clock stops while pending
    targets_changed = any(data.get(k) != (before or {}).get(k) for k in ("priority", "category"))
    if before is None or pausing or targets_changed:
        started = created_time(ticket_id) if ticket_id else datetime.now(UTC)
        previous = (before or {}).get("sla")
        data["sla"] = due_times(
            ctx, data, started, previous, pausing_only=before is not None and not targets_changed
        )
    sla = data.get("sla") or {}
    data["sla_breached"] = True if any(sla.get(f"{d}_breached") for d in DEADLINES) else None
    return data


def update_events(before: RecordFields, after: RecordFields) -> list[str]:
    """What one change of a ticket is: replied, assigned, resolved, closed, reopened, rated, sla_breached, and
    ``updated`` for any other field (or a move between new, open and pending that is not a reply's)."""
    events: list[str] = []
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    # a reply moved in by a merge (``merged_from``) was not written now: the ticket is updated, not replied
    replied = "last_reply" in changed and not (after.get("last_reply") or {}).get("merged_from")
    old, new = before.get("status") or "new", after.get("status") or "new"
    moved_plainly = old != new and new not in DONE and old not in DONE
    if changed - _NOT_UPDATES or (moved_plainly and not replied):
        events.append("updated")
    if replied:
        events.append("replied")
    if "assignee_id" in changed:
        events.append("assigned")
    if old != new and new in DONE:
        events.append(new)
    elif old != new and old in DONE:
        events.append("reopened")
    if "satisfaction" in changed:
        events.append("rated")
    old_sla, new_sla = before.get("sla") or {}, after.get("sla") or {}
    if any(new_sla.get(f"{d}_breached") and not old_sla.get(f"{d}_breached") for d in DEADLINES):
        events.append("sla_breached")
    return events or ["updated"]


def queue_order(data: RecordFields) -> str | None:
    """The queue's order: the next due time still to meet (a breached one is the earliest), none last."""
    sla = data.get("sla") or {}
    if data.get("status") in DONE:
        return None
    if not data.get("first_responded_at") and sla.get("first_response_due_at"):
        return str(sla["first_response_due_at"])
    due = sla.get("resolution_due_at")
    return str(due) if due else None


def reply_view(ticket_id: str, item: ReplyItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "ticket_id": ticket_id,
        "body": item.body,
        "public": bool(item.public),
        "author": item.author,
        "author_id": item.author_id,
        "created_at": item.created_at,
    }


class TicketService(RecordService):
    def create_once(self, ctx: RequestContext, fields: RecordFields, key: str) -> tuple[bool, RecordBody]:
        """(created, the ticket): the ticket ``key`` names (a partner event's id, a mail's Message-ID), made
        with a marker of the key in its transaction, so the same submission twice makes one ticket."""

        def existing() -> str | None:
            return record_repository.get_unique_owner(ctx.tenant_id, "ticket", SUBMISSION, key)

        def prepare() -> Prepared | None:
            if existing() is not None:
                return None
            prepared = self.prepare_create(ctx, fields)
            marker = UniqueMarker(
                keys.unique_pk(ctx.tenant_id, "ticket", SUBMISSION, key),
                keys.UNIQUE_SK,
                record_id=prepared.item.id,
            )
            prepared.changes.save(marker, condition=UniqueMarker.PK.does_not_exist(), label=SUBMISSION)
            return prepared

        committed = write_retrying(self.spec, ctx, prepare)
        if committed is not None:
            return True, represent(self.spec, committed.item)
        found = existing()
        assert found is not None
        return False, self.get(ctx, found, archived=True)

    def prepare_change(
        self, ctx: RequestContext, before: RecordItem, fields: RecordFields
    ) -> Prepared | None:
        """A change of the ticket read as ``before`` (the SLA timers' breach), to commit with more items."""
        return self._prepare_change(ctx, before, fields)

    def follow_latest_reply(self, ctx: RequestContext, ticket_id: str, merged_from: str) -> None:
        """``last_reply`` set to the ticket's newest reply when it names another (replies moved in by a
        merge from ``merged_from``), with ``ticket.updated`` (no reply was written: not ``replied``);
        nothing when it already does."""

        def prepare() -> Prepared | None:
            before = self.load(ctx, ticket_id, archived=None)
            newest = reply_repository.latest(ctx.tenant_id, ticket_id)
            current = record_data(before).get("last_reply") or {}
            if newest is None or current.get("id") == newest.id:
                return None
            last_reply = {
                "id": newest.id,
                "public": bool(newest.public),
                "author": newest.author,
                "created_at": newest.created_at,
                "merged_from": merged_from,
            }
            return self._prepare_change(ctx, before, {"last_reply": last_reply})

        write_retrying(self.spec, ctx, prepare)

    def reply(
        self, ctx: RequestContext, ticket_id: str, *, body: str, public: bool, author: str
    ) -> dict[str, Any]:
        """A reply (``public``) or an internal note, written with the ticket's change (``last_reply``,
        the first response, a reopening) and its ``ticket.replied`` event in one transaction. The caller
        must be allowed to change the ticket. A closed ticket takes internal notes only (409)."""
        written: list[ReplyItem] = []

        def prepare() -> Prepared | None:
            written.clear()
            before = self.load(ctx, ticket_id)
            current = record_data(before)
            status = current.get("status") or "new"
            if status == "closed" and (public or author == "customer"):
                raise conflict("This ticket is closed: it takes internal notes only. Open a new ticket.")
            reply = reply_repository.new_reply(
                ctx.tenant_id,
                ticket_id,
                body=body,
                public=public or author == "customer",
                author=author,
                author_id=None if ctx.principal.is_system else ctx.principal.user_id,
            )
            fields: RecordFields = {
                "last_reply": {
                    "id": reply.id,
                    "public": bool(reply.public),
                    "author": author,
                    "created_at": reply.created_at,
                }
            }
            if author == "customer" and status in ("pending", "resolved"):
                fields["status"] = "open"
            elif author == "agent" and public:
                if not current.get("first_responded_at"):
                    fields["first_responded_at"] = reply.created_at
                if status == "new":
                    fields["status"] = "open"
            prepared = self._prepare_change(ctx, before, fields)
            assert prepared is not None  # last_reply always changes
            prepared.changes.save(reply, label="reply")
            written.append(reply)
            return prepared

        write_retrying(self.spec, ctx, prepare)
        return reply_view(ticket_id, written[-1])

    def replies(
        self,
        ctx: RequestContext,
        ticket_id: str,
        *,
        public_only: bool,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the ticket's replies, oldest first (one GetItem of the ticket, one Query)."""
        from crm_core import signing

        self.get(ctx, ticket_id)  # 404 for a missing, archived or foreign ticket
        fingerprint = f"replies:{ticket_id}:{public_only}"
        start = signing.decode_cursor(ctx.tenant_id, fingerprint, cursor) if cursor else None
        items, last = reply_repository.page(
            ctx.tenant_id, ticket_id, limit=limit, start_key=start, public_only=public_only
        )
        next_cursor = signing.encode_cursor(ctx.tenant_id, fingerprint, last) if last else None
        return [reply_view(ticket_id, item) for item in items], next_cursor


def move_replies(tenant_id: str, duplicate_id: str, survivor_id: str, limit: int) -> bool:
    """A merge's move of the duplicate ticket's replies to the survivor (``MergeMove``); once none is left,
    the survivor's ``last_reply`` names its newest reply (one of the duplicate's may be newer)."""
    done = reply_repository.move_replies(tenant_id, duplicate_id, survivor_id, limit=limit)
    if done:
        ctx = RequestContext(Principal.system(tenant_id, "merge"))
        TICKETS.follow_latest_reply(ctx, survivor_id, duplicate_id)
    return done


TICKETS = TicketService(
    ObjectSpec(
        object_type="ticket",
        custom_object="tickets",
        create_model=TicketCreate,
        update_model=TicketUpdate,
        defaults=TICKET_DEFAULTS,
        tokens=ticket_tokens,
        resolve=resolve_references,
        owner_field="assignee_id",
        parent_field="contact_id",
        category_field="status",
        expansions={
            "contact": Expansion("contact_id", "contact"),
            "company": Expansion("company_id", "company"),
            "deal": Expansion("deal_id", "deal"),
        },
        sorts=(SortKey("due_at", 6, queue_order),),
        derive=derive,
        update_events=update_events,
        timeline_links=timeline_links,
        # a company's tickets, a team's queue and the breached ones: one Query and one BatchGetItem a page
        entry_fields=("company_id", "team_id", "sla_breached"),
        # a merged duplicate's replies and notes join the survivor's thread, in time order
        merge_moves=(MergeMove("replies", move_replies),),
    )
)
