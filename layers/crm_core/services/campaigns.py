"""Email campaigns: the record (a draft, edited only while a draft), its template, and the moves of its
status: ``schedule`` and ``send`` (draft -> scheduled -> sending), ``cancel``, and ``sent`` once every
recipient is accounted for (services/campaign_sends.py). Each move is an update of the record whose event
(campaign.scheduled|sending|sent|cancelled) is in its own write (the outbox, decision 0008); what follows a
move (the schedule kept in step, the fan-out) runs in the consumer of those events."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import FieldError, ProblemError, conflict, invalid_field, validation_failed
from crm_core.ids import utc_now, utc_text
from crm_core.models.campaign import CAMPAIGN_DEFAULTS, CampaignCreate, CampaignUpdate
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.record_types import BY_NAME
from crm_core.repositories import campaign_repository
from crm_core.repositories.table import RecordItem
from crm_core.services import references
from crm_core.services.records import ObjectSpec, RecordService, normalize_text, record_data, represent
from crm_core.services.records.writes import write_retrying

# ------------------------------------------------------------------------------------------ the template

TEMPLATE_FIELDS = ("first_name", "last_name", "email", "title", "unsubscribe_url", "survey_url")
SURVEY_FIELD = "survey_url"  # a survey campaign's link, each recipient's own (services/surveys.py)
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_HREF = re.compile(r"""href\s*=\s*(["'])(https?://[^"'\s]+)\1""", re.IGNORECASE)
# Only a draft's; its owner changes any time.
EDITABLE = ("name", "trigger", "segment_id", "subject", "from", "body", "survey")
NEEDED_TO_SEND = ("segment_id", "subject", "from", "body")
BIRTHDAY = "birthday"  # the trigger of a campaign that greets contacts on their birthday (birthday_campaigns)
# A deal won by a recipient within this many days after its email was sent counts for the campaign.
ATTRIBUTION_DAYS = 30


def template_errors(body: str) -> list[str]:
    """What is wrong with a template: placeholders naming no field, braces left open."""
    problems = [
        f"unknown field {{{{ {name} }}}} (fields: {', '.join(TEMPLATE_FIELDS)})"
        for name in dict.fromkeys(_PLACEHOLDER.findall(body))
        if name not in TEMPLATE_FIELDS
    ]
    rest = _PLACEHOLDER.sub("", body)
    if "{{" in rest or "}}" in rest:
        problems.append("has '{{' or '}}' that is not a whole {{ field }}")
    return problems


def render(template: str, values: dict[str, str | None], *, escape: bool = True) -> str:
    """The template with each field's value, HTML-escaped (a name is text, never markup)."""

    def value(match: re.Match[str]) -> str:
        text = values.get(match.group(1)) or ""
        return html.escape(text, quote=True) if escape else text

    return _PLACEHOLDER.sub(value, template)


def links(body: str) -> list[str]:
    """The http(s) links of a body (its ``href``s): the only addresses its click tracking redirects to."""
    return list(dict.fromkeys(html.unescape(match.group(2)) for match in _HREF.finditer(body)))


def rewrite_links(body: str, tracked: Any) -> str:
    """Each link of the body replaced by ``tracked(url)`` (the click-tracking address)."""
    return _HREF.sub(
        lambda m: f"href={m.group(1)}{html.escape(tracked(html.unescape(m.group(2))))}{m.group(1)}", body
    )


# ------------------------------------------------------------------------------------------- the record


def campaign_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    name = normalize_text(data.get("name") or "")
    return list(dict.fromkeys(t[:40] for t in [name, *name.split()[1:4]] if t))


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    segment_id = data.get("segment_id")
    if (
        segment_id
        and "segment_id" in changed
        and "segment" in BY_NAME
        and references.active_record(ctx, "segment", segment_id) is None
    ):
        raise invalid_field("segment_id", "no segment with this id")
    references.require_active_user(ctx, data, changed, "owner_id")
    return {}


def derive(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, campaign_id: str | None
) -> RecordFields:
    """A new campaign is a draft; only a draft's fields change (409 otherwise); a body naming a field the
    template does not have is 422 naming ``body``."""
    data = dict(data)
    data.setdefault("status", "draft")
    if not data.get("trigger"):
        data["trigger"] = "once"
    if before is not None and before.get("status", "draft") != "draft":
        # (a campaign stored before triggers existed has none: it is a "once")
        was = {**before, "trigger": before.get("trigger") or "once"}
        edited = [name for name in EDITABLE if data.get(name) != was.get(name)]
        if edited:
            raise conflict(
                f"Only a draft campaign can be edited; this one is {before.get('status')}.",
                field_name=edited[0],
                campaign_status=before.get("status"),
            )
    body = data.get("body")
    if body and (before is None or body != before.get("body")):
        problems = template_errors(str(body))
        if problems:
            raise validation_failed([FieldError("body", p) for p in problems], f"body: {problems[0]}")
    if before is None or any(data.get(k) != before.get(k) for k in ("body", "survey")):
        asks = SURVEY_FIELD in _PLACEHOLDER.findall(str(body or ""))
        if data.get("survey") and body and not asks:
            raise invalid_field(
                "body", "a survey campaign's body has {{ survey_url }}, each recipient's link"
            )
        if asks and not data.get("survey"):
            raise invalid_field("body", "{{ survey_url }} is a survey campaign's field: set survey")
    return data


def update_events(before: RecordFields, after: RecordFields) -> list[str]:
    status = after.get("status")
    if status != before.get("status") or (
        status == "scheduled" and after.get("send_at") != before.get("send_at")
    ):
        return [str(status)]
    return ["updated"]


def before_archive(ctx: RequestContext, item: RecordItem) -> None:
    status = record_data(item).get("status")
    if status in ("scheduled", "sending"):
        raise conflict(f"A {status} campaign cannot be archived; cancel it first.", campaign_status=status)


class CampaignService(RecordService):
    def _move(
        self, ctx: RequestContext, campaign_id: str, allowed_from: tuple[str, ...], fields: RecordFields
    ) -> RecordBody:
        """The campaign moved to ``fields`` (its status and times) from one of ``allowed_from``: 409 from
        any other, so a second ``send`` (or a send of a sent one) changes nothing."""

        def prepare() -> Any:
            before = self.load(ctx, campaign_id)
            data = record_data(before)
            self.require_change(ctx, data)  # who may change it may send it: 403 before anything else
            status = data.get("status", "draft")
            if status not in allowed_from:
                raise conflict(
                    f"The campaign is {status}: it cannot be {_done(fields['status'])}.",
                    campaign_status=status,
                )
            if fields["status"] == "scheduled" and is_birthday(data):
                raise conflict(
                    "A birthday campaign is not scheduled: POST /send makes it greet each day's birthdays.",
                    field_name="trigger",
                    campaign_status=status,
                )
            if fields["status"] in ("scheduled", "sending"):
                needed = [n for n in NEEDED_TO_SEND if n != "segment_id" or not is_birthday(data)]
                missing = [name for name in needed if not data.get(name)]
                if missing:
                    raise validation_failed(
                        [FieldError(name, "is required to send the campaign") for name in missing],
                        f"{', '.join(missing)}: required to send the campaign",
                    )
            return self._prepare_change(ctx, before, fields)

        committed = write_retrying(self.spec, ctx, prepare)
        return self.get(ctx, campaign_id) if committed is None else represent(self.spec, committed.item)

    def send(self, ctx: RequestContext, campaign_id: str) -> RecordBody:
        return self._move(
            ctx, campaign_id, ("draft", "scheduled"), {"status": "sending", "sending_at": utc_now()}
        )

    def schedule(self, ctx: RequestContext, campaign_id: str, send_at: datetime) -> RecordBody:
        if send_at.astimezone(UTC) <= datetime.now(UTC):
            raise invalid_field("send_at", "must be in the future")
        return self._move(
            ctx, campaign_id, ("draft", "scheduled"), {"status": "scheduled", "send_at": utc_text(send_at)}
        )

    def cancel(self, ctx: RequestContext, campaign_id: str) -> RecordBody:
        return self._move(ctx, campaign_id, ("draft", "scheduled", "sending"), {"status": "cancelled"})

    def start_scheduled(self, ctx: RequestContext, campaign_id: str, send_at: str) -> str:
        """A schedule's time came: scheduled -> sending, when it is still scheduled for that time."""
        item = self.load(ctx, campaign_id, archived=None)
        data = record_data(item)
        if data.get("status") != "scheduled" or data.get("send_at") != send_at:
            return "stale"
        try:
            self._move(ctx, campaign_id, ("scheduled",), {"status": "sending", "sending_at": utc_now()})
        except ProblemError as problem:
            if problem.status == 409:
                return "stale"
            raise
        return "started"

    def finish(self, ctx: RequestContext, campaign_id: str) -> bool:
        """sending -> sent (once every recipient is accounted for); False when it is no longer sending. A
        birthday campaign is never sent: it is active (sending) until it is cancelled."""
        try:
            self._move(ctx, campaign_id, ("sending",), {"status": "sent", "sent_at": utc_now()})
        except ProblemError as problem:
            if problem.status == 409:
                return False
            raise
        return True


def is_birthday(data: RecordFields) -> bool:
    """Whether a campaign (its fields) greets contacts on their birthdays rather than going out once."""
    return data.get("trigger") == BIRTHDAY


def stats(ctx: RequestContext, campaign_id: str) -> dict[str, Any]:
    """The campaign's counters (GET /{id}/stats): the record (404 for none, or another tenant's), then one
    BatchGetItem of its counter shards and one Query of its progress and revenue."""
    campaign = CAMPAIGNS.get(ctx, campaign_id)
    counts = campaign_repository.totals(ctx.tenant_id, campaign_id)
    _, revenue = campaign_repository.progress_and_revenue(ctx.tenant_id, campaign_id)
    return {
        "campaign_id": campaign_id,
        "status": campaign["status"],
        "recipients": counts["claimed"] + counts["skipped"],
        **{name: counts[name] for name in ("sent", "skipped", "delivered", "bounced", "opened", "clicked")},
        "unsubscribed": counts["unsubscribed"],
        "converted": counts["converted"],
        "revenue": [
            {"amount": f"{Decimal(units) / 10_000:.2f}", "currency": currency}
            for currency, units in sorted(revenue.items())
        ],
        "attribution_days": ATTRIBUTION_DAYS,
    }


def _done(status: str) -> str:
    return {"sending": "sent", "scheduled": "scheduled", "cancelled": "cancelled", "sent": "sent"}[status]


CAMPAIGNS = CampaignService(
    ObjectSpec(
        object_type="campaign",
        create_model=CampaignCreate,
        update_model=CampaignUpdate,
        defaults=CAMPAIGN_DEFAULTS,
        tokens=campaign_tokens,
        resolve=resolve_references,
        category_field="status",
        derive=derive,
        update_events=update_events,
        before_archive=before_archive,
    )
)
