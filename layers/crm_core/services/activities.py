"""Activities: notes, calls, emails, meetings and tasks, shown in the timelines of what they are linked to."""

from __future__ import annotations

from crm_core.context import RequestContext
from crm_core.errors import invalid_field
from crm_core.ids import utc_now
from crm_core.models.activity import ACTIVITY_DEFAULTS, ActivityCreate, ActivityUpdate
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.services import references
from crm_core.services.records import Expansion, ObjectSpec, RecordService, SortKey, normalize_text

LINKS = (("contact_id", "contact"), ("company_id", "company"), ("deal_id", "deal"))


def activity_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    subject = normalize_text(data.get("subject") or "")
    return list(dict.fromkeys(t[:40] for t in [subject, *subject.split()[1:4]] if t))


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    for field_name, object_type in LINKS:
        linked = data.get(field_name)
        if linked and field_name in changed and references.active_record(ctx, object_type, linked) is None:
            raise invalid_field(field_name, f"no {object_type} with this id")
    references.require_active_user(ctx, data, changed, "owner_id")
    return {}


def timeline_links(data: RecordFields) -> list[tuple[str, str]]:
    return [(object_type, data[field_name]) for field_name, object_type in LINKS if data.get(field_name)]


def update_events(before: RecordFields, after: RecordFields) -> list[str]:
    if not before.get("completed_at") and after.get("completed_at"):
        return ["completed"]
    return ["updated"]


class ActivityService(RecordService):
    def complete(self, ctx: RequestContext, activity_id: str) -> RecordBody:
        """Completed now; completing a completed activity changes nothing."""
        current = self.get(ctx, activity_id)
        if current["completed_at"]:
            return current
        return self.update(ctx, activity_id, {"completed_at": utc_now()})


ACTIVITIES = ActivityService(
    ObjectSpec(
        object_type="activity",
        create_model=ActivityCreate,
        update_model=ActivityUpdate,
        defaults=ACTIVITY_DEFAULTS,
        tokens=activity_tokens,
        resolve=resolve_references,
        parent_field="deal_id",
        category_field="type",
        expansions={
            "contact": Expansion("contact_id", "contact"),
            "company": Expansion("company_id", "company"),
            "deal": Expansion("deal_id", "deal"),
        },
        # due_at also serves due_before as a range of its index
        sorts=(SortKey("due_at", 7, lambda data: data.get("due_at")),),
        update_events=update_events,
        timeline_links=timeline_links,
        entry_fields=("contact_id", "company_id"),
    )
)
