"""Sending a campaign (docs/decisions/0018-campaigns.md).

- ``on_message`` (the campaign events consumer): a campaign's events keep its at() schedule in step
  (scheduled: made; sending or cancelled: deleted); a schedule's firing moves it to sending; campaign.sending
  starts the fan-out; deal.won is attributed to the campaign sent last to the deal's contacts.
- ``fan_out``: pages of the segment's members, queued to the send queue in batches of ``SEND_BATCH``; its
  progress (page, cursor, members and batches queued) is one item advanced on a condition, so a message
  handled twice queues a page twice at worst (harmless: the recipients' markers) and counts it once.
- ``send_batch`` (the sender): each recipient is claimed by a conditional put of its marker before its email
  goes (at most one email per recipient and campaign however often a message comes or send is asked), those
  without granted consent, suppressed or without an address are marked skipped; the emails go through SES
  (a configuration set, tags naming tenant, campaign and contact, a one-click List-Unsubscribe) at the
  tenant's rate; then their markers, ``email.sent`` events and counters in one transaction, with the batch's
  own marker. When every queued batch is done, the campaign is sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools import Logger

from crm_core import aws, metrics, plans
from crm_core.auth import Principal
from crm_core.config import settings
from crm_core.consumers import send_continuation
from crm_core.context import RequestContext
from crm_core.definitions import CAMPAIGN_EVENTS_QUEUE, CAMPAIGN_SCHEDULE_PREFIX, CAMPAIGN_SENDS_QUEUE
from crm_core.events import EVENT_SK_PREFIX, build_event
from crm_core.ids import derived_id, utc_now, utc_text
from crm_core.repositories import campaign_repository as campaigns_repo
from crm_core.repositories import keys, suppression_repository, tenant_repository
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import CampaignRecipientItem, EventItem, RecordItem, UniqueMarker
from crm_core.repositories.transaction import ChangeSet
from crm_core.services import campaigns, consent, outbound_mail, schedules, sender_identity
from crm_core.services.campaigns import ATTRIBUTION_DAYS, CAMPAIGNS
from crm_core.services.contacts import CONTACTS
from crm_core.services.records import record_data, represent
from crm_core.signing import sign

SEND_BATCH = 25  # recipients a send message names
PAGE_SIZE = 100  # segment members a fan-out reads at once
PAGES_PER_MESSAGE = 10  # then it goes on in a message of its own
MAX_ATTRIBUTED_CONTACTS = 10  # a won deal's contacts looked at (each one Query)
TRACKING_PURPOSE = "track"
logger = Logger()


def system_context(tenant_id: str) -> RequestContext:
    return RequestContext(Principal.system(tenant_id, "campaigns"))


# ----------------------------------------------------------------------------------------- the consumer


def on_message(body: dict[str, Any]) -> str:
    """One message of the campaign events queue: a bus event, a schedule's firing, or the fan-out's next
    turn."""
    if "detail" in body:
        detail = body["detail"]
        tenant_id, data = detail["tenant_id"], detail["data"]
        event_type = detail["type"]
        if event_type == "deal.won":
            return attribute_won_deal(tenant_id, data)
        if event_type == "campaign.scheduled":
            return sync_schedule(tenant_id, data["id"])
        delete_schedule(data["id"])
        if event_type == "campaign.sending":
            return fan_out(tenant_id, data["id"])
        return "schedule deleted"
    if body.get("kind") == "scheduled":
        return CAMPAIGNS.start_scheduled(
            system_context(body["tenant_id"]), body["campaign_id"], body["send_at"]
        )
    return fan_out(body["tenant_id"], body["campaign_id"])


def schedule_name(campaign_id: str) -> str:
    return f"{CAMPAIGN_SCHEDULE_PREFIX}{campaign_id}"


def sync_schedule(tenant_id: str, campaign_id: str) -> str:
    """The campaign's at() schedule as its record has it now (events may come twice or out of order)."""
    item = repo.get_record(tenant_id, "campaign", campaign_id, consistent=True)
    data = record_data(item) if item is not None else {}
    if item is None or item.archived_at is not None or data.get("status") != "scheduled":
        delete_schedule(campaign_id)
        return "none"
    send_at = str(data["send_at"])
    message = {"kind": "scheduled", "tenant_id": tenant_id, "campaign_id": campaign_id, "send_at": send_at}
    at = datetime.fromisoformat(send_at.replace("Z", "+00:00")).astimezone(UTC)
    if at <= datetime.now(UTC):
        return CAMPAIGNS.start_scheduled(system_context(tenant_id), campaign_id, send_at)
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=CAMPAIGN_EVENTS_QUEUE.name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return schedules.put_at(schedule_name(campaign_id), send_at, message, target_arn=queue_arn)


def delete_schedule(campaign_id: str) -> None:
    schedules.remove(schedule_name(campaign_id))


# ------------------------------------------------------------------------------------------ the fan-out


def _member_page(
    tenant_id: str, segment_id: str, cursor: str | None, limit: int
) -> tuple[list[str], str | None]:
    from crm_core.services.segments import segment_member_page  # the segments' own rules

    members, next_cursor = segment_member_page(tenant_id, segment_id, cursor, limit)
    ids = [m["id"] if isinstance(m, dict) else m.id for m in members]
    return ids, next_cursor


def fan_out(tenant_id: str, campaign_id: str) -> str:
    """Queue the next pages of the segment's members, from where the progress item says the fan-out is
    (so any message of it, repeated or late, goes on from there); its own next message when there is more."""
    campaign = repo.get_record(tenant_id, "campaign", campaign_id, consistent=True)
    if campaign is None or record_data(campaign).get("status") != "sending":
        return "not sending"
    if campaigns.is_birthday(record_data(campaign)):
        return "active: greets each day's birthdays (services/birthday_campaigns.py)"
    segment_id = str(record_data(campaign)["segment_id"])
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=CAMPAIGN_SENDS_QUEUE.name)["QueueUrl"]
    for _ in range(PAGES_PER_MESSAGE):
        progress = campaigns_repo.progress(tenant_id, campaign_id)
        if progress is not None and progress.fanned_out:
            finish_if_done(tenant_id, campaign_id)
            return "fanned out"
        page = int(progress.page) if progress is not None else 0
        cursor = progress.cursor if progress is not None else None
        ids, next_cursor = _member_page(tenant_id, segment_id, cursor, PAGE_SIZE)
        batches = [ids[i : i + SEND_BATCH] for i in range(0, len(ids), SEND_BATCH)]
        entries = [
            {
                "Id": str(n),
                "MessageBody": json.dumps(
                    {
                        "tenant_id": tenant_id,
                        "campaign_id": campaign_id,
                        "batch": f"{page}-{n}",
                        "contact_ids": batch,
                    }
                ),
            }
            for n, batch in enumerate(batches)
        ]
        for start in range(0, len(entries), 10):
            answer = sqs.send_message_batch(QueueUrl=url, Entries=entries[start : start + 10])
            if answer.get("Failed"):
                raise RuntimeError(f"the send queue refused {len(answer['Failed'])} messages")
        if not campaigns_repo.advance(tenant_id, campaign_id, page, next_cursor, len(ids), len(batches)):
            return "taken by another message"
        metrics.count("CampaignRecipientsQueued", len(ids))
        if next_cursor is None:
            finish_if_done(tenant_id, campaign_id)
            return "fanned out"
    send_continuation(CAMPAIGN_EVENTS_QUEUE, {"tenant_id": tenant_id, "campaign_id": campaign_id})
    return "continues"


def finish_if_done(tenant_id: str, campaign_id: str) -> bool:
    """sending -> sent once the fan-out is over and every batch it queued is done."""
    progress = campaigns_repo.progress(tenant_id, campaign_id)
    if progress is None or not progress.fanned_out:
        return False
    if campaigns_repo.totals(tenant_id, campaign_id)["batches"] < int(progress.batches or 0):
        return False
    return CAMPAIGNS.finish(system_context(tenant_id), campaign_id)


# ------------------------------------------------------------------------------------------- the sender


def email_id(campaign_id: str, contact_id: str, occasion: str | None = None) -> str:
    return derived_id(campaign_id, f"{contact_id}#{occasion}" if occasion else contact_id)


def email_event(
    tenant_id: str,
    campaign_id: str,
    contact_id: str,
    kind: str,
    occurred_at: str,
    occasion: str | None = None,
    **data: Any,
) -> EventItem:
    """``email.<kind>`` of one recipient (of an occasion: a birthday campaign's year), as an event item in
    its marker's partition (the outbox)."""
    the_id = email_id(campaign_id, contact_id, occasion)
    detail = build_event(
        event_type=f"email.{kind}",
        tenant_id=tenant_id,
        actor=Principal.system(tenant_id, "campaigns").actor,
        correlation_id=campaign_id,
        data={
            "id": the_id,
            "campaign_id": campaign_id,
            "contact_id": contact_id,
            "occurred_at": occurred_at,
            "url": data.get("url"),
            "bounce_type": data.get("bounce_type"),
            "message_id": data.get("message_id"),
        },
        event_id=derived_id(the_id, kind),
        occurred_at=occurred_at,
    )
    pk = keys.campaign_recipient_pk(tenant_id, campaign_id, contact_id, occasion)
    return EventItem(
        pk,
        f"{EVENT_SK_PREFIX}{detail['id']}",
        event_type=detail["type"],
        occurred_at=occurred_at,
        detail=detail,
    )


def eligible(
    tenant_id: str, contacts: dict[str, RecordItem], contact_ids: list[str]
) -> dict[str, str | None]:
    """Each contact: None when it may be sent to now (services/consent.py, the one rule: granted consent, an
    address, active, not erased, not suppressed), else why not."""
    shown = {cid: represent(CONTACTS.spec, item) for cid, item in contacts.items()}
    allowed = {str(c["id"]) for c in consent.emailable(tenant_id, list(shown.values()))}
    reasons: dict[str, str | None] = {}
    for contact_id in contact_ids:
        contact = shown.get(contact_id)
        if contact is None:
            reasons[contact_id] = "no such contact"
        elif contact_id in allowed:
            reasons[contact_id] = None
        elif (contact.get("consent") or {}).get("email") != "granted" or not contact.get("email"):
            reasons[contact_id] = "no granted consent or no address"
        else:
            reasons[contact_id] = "suppressed, archived or erased"
    return reasons


def send_batch(body: dict[str, Any]) -> str:
    """One message of the send queue: ``{tenant_id, campaign_id, batch, contact_ids}``, and ``occasion``
    for a campaign that greets each contact once per occasion (a birthday campaign: the year)."""
    tenant_id, campaign_id, batch = body["tenant_id"], body["campaign_id"], body["batch"]
    occasion: str | None = body.get("occasion")
    contact_ids: list[str] = list(dict.fromkeys(body["contact_ids"]))
    campaign = repo.get_record(tenant_id, "campaign", campaign_id, consistent=True)
    if campaign is None or record_data(campaign).get("status") != "sending":
        return "not sending"
    contacts = repo.batch_get_records(tenant_id, "contact", contact_ids, consistent=True)
    reasons = eligible(tenant_id, contacts, contact_ids)
    now = utc_now()
    month = now[:7]
    _within_email_quota(tenant_id, month, contact_ids, reasons)

    def claims(wanted: list[str]) -> ChangeSet:
        changes = ChangeSet()
        for contact_id in wanted:
            reason = reasons[contact_id]
            changes.save(
                campaigns_repo.recipient(
                    tenant_id,
                    campaign_id,
                    contact_id,
                    occasion,
                    state="claimed" if reason is None else "skipped",
                    reason=reason,
                    claimed_at=now,
                ),
                condition=CampaignRecipientItem.PK.does_not_exist(),
                label=contact_id,
            )
        to_send = sum(1 for c in wanted if reasons[c] is None)
        changes.add_to(
            campaigns_repo.counter(tenant_id, campaign_id, batch),
            {"claimed": to_send, "skipped": len(wanted) - to_send},
        )
        if to_send:  # the month's emails, against the plan's quota: one more item, not a write per email
            changes.add_to(tenant_repository.email_month(tenant_id, month), {"emails": to_send})
        return changes

    data = record_data(campaign)
    sender_identity.verify_locally(str(data["from"]))
    claimed = campaigns_repo.claim(claims, contact_ids)
    # From here on a recipient claimed is never sent to again: whatever happens to one email, the others
    # go and every one is recorded (a failure is a failed recipient, not a failed message).
    outcomes: dict[str, tuple[str, str | None]] = {}  # contact -> (sent|failed, message id or reason)
    to_send = [c for c in contact_ids if c in claimed and reasons[c] is None]
    rate = max(1, settings().email_rate_per_second)
    for start in range(0, len(to_send), rate):
        chunk = to_send[start : start + rate]
        campaigns_repo.take_send_rate(tenant_id, len(chunk), rate)
        for contact_id in chunk:
            try:
                outcomes[contact_id] = _send_one(tenant_id, campaign_id, data, contacts[contact_id], occasion)
            except Exception as error:
                logger.exception("campaign email not sent", extra={"campaign_id": campaign_id})
                outcomes[contact_id] = ("failed", type(error).__name__)
    _record_outcomes(tenant_id, campaign_id, batch, outcomes, occasion)
    if not campaigns.is_birthday(data):  # a birthday campaign is active until cancelled: never done
        finish_if_done(tenant_id, campaign_id)
    sent = sum(1 for kind, _ in outcomes.values() if kind == "sent")
    metrics.count("CampaignEmailsSent", sent)
    return f"sent {sent}, skipped {len(contact_ids) - len(to_send)}"


EMAIL_QUOTA = "email_quota"  # a recipient's skip reason once the tenant's emails of the month are spent


def _within_email_quota(
    tenant_id: str, month: str, contact_ids: list[str], reasons: dict[str, str | None]
) -> None:
    """Recipients beyond what the plan's emails a month leave (crm_core/plans.py) are skipped: the sender
    stops at the quota. One GetItem of the month's count a batch; batches sending at once may pass it by
    at most a batch each (docs/decisions/0028)."""
    quota = plans.tenant_quotas(tenant_id).emails_per_month
    room = max(0, quota - tenant_repository.emails_in_month(tenant_id, month))
    for contact_id in contact_ids:
        if reasons[contact_id] is None:
            if room > 0:
                room -= 1
            else:
                reasons[contact_id] = EMAIL_QUOTA


def _record_outcomes(
    tenant_id: str,
    campaign_id: str,
    batch: str,
    outcomes: dict[str, tuple[str, str | None]],
    occasion: str | None = None,
) -> None:
    """The recipients' markers, events and entries, the counters and the batch's own marker, in one
    transaction; without the batch's marker and its count when another delivery of the message counted it."""
    now = utc_now()

    def changes_for(labels: list[str]) -> ChangeSet:
        changes = ChangeSet()
        sent = failed = 0
        for contact_id, (kind, value) in outcomes.items():
            marker = campaigns_repo.recipient(tenant_id, campaign_id, contact_id, occasion)
            if kind == "sent":
                sent += 1
                changes.update(
                    marker,
                    [
                        CampaignRecipientItem.state.set("sent"),
                        CampaignRecipientItem.message_id.set(str(value)),
                        CampaignRecipientItem.sent_at.set(now),
                    ],
                )
                changes.save(
                    email_event(tenant_id, campaign_id, contact_id, "sent", now, occasion, message_id=value)
                )
                changes.save(campaigns_repo.sent_entry(tenant_id, contact_id, now, campaign_id, occasion))
            else:
                failed += 1
                changes.update(
                    marker,
                    [CampaignRecipientItem.state.set("failed"), CampaignRecipientItem.reason.set(str(value))],
                )
        amounts = {"sent": sent, "failed": failed}
        if "batch" in labels:
            amounts["batches"] = 1
            changes.save(
                UniqueMarker(
                    f"{keys.campaign_progress_pk(tenant_id, campaign_id)}#batch#{batch}",
                    keys.UNIQUE_SK,
                    record_id=campaign_id,
                ),
                condition=UniqueMarker.PK.does_not_exist(),
                label="batch",
            )
        changes.add_to(campaigns_repo.counter(tenant_id, campaign_id, batch), amounts)
        return changes

    if not campaigns_repo.claim(changes_for, ["batch"]):
        changes_for([]).commit()


def tracking_url(
    tenant_id: str, campaign_id: str, contact_id: str, action: str, occasion: str | None = None
) -> str:
    payload = {"c": campaign_id, "k": contact_id}
    if occasion:
        payload["o"] = occasion
    token = sign(TRACKING_PURPOSE, tenant_id, payload)
    return f"{settings().public_url}/t/{token}/{action}"


def survey_link(tenant_id: str, campaign_id: str, campaign: dict[str, Any], contact_id: str) -> str | None:
    """A survey campaign's link for one recipient (its own signed token), not click-tracked; None else."""
    if campaign.get("survey") != "nps":
        return None
    from crm_core.services import surveys

    survey_id = surveys.nps_id(campaign_id, contact_id)
    return surveys.survey_url(tenant_id, "nps", survey_id, contact_id, campaign_id=campaign_id)


def _send_one(
    tenant_id: str,
    campaign_id: str,
    campaign: dict[str, Any],
    contact: RecordItem,
    occasion: str | None = None,
) -> tuple[str, str | None]:
    data = record_data(contact)
    address = str(data["email"])
    unsubscribe = tracking_url(tenant_id, campaign_id, contact.id, "unsubscribe", occasion)
    click = tracking_url(tenant_id, campaign_id, contact.id, "click", occasion)
    values = {name: data.get(name) for name in ("first_name", "last_name", "email", "title")}
    values["unsubscribe_url"] = unsubscribe
    survey = survey_link(tenant_id, campaign_id, campaign, contact.id)
    values["survey_url"] = survey
    body = campaigns.render(str(campaign["body"]), values)
    body = campaigns.rewrite_links(
        body, lambda url: url if url == survey else f"{click}?u={quote(url, safe='')}"
    )
    if "unsubscribe_url" not in str(campaign["body"]):
        body += f'<p style="font-size:small"><a href="{unsubscribe}">Unsubscribe</a></p>'
    body += (
        f'<img src="{tracking_url(tenant_id, campaign_id, contact.id, "open", occasion)}" '
        'width="1" height="1" alt="">'
    )
    # Lines up to RFC 5322's 998 characters: the List-Unsubscribe address is one long word, which the
    # default policy would encode (RFC 2047), and mail programs look for it as it is.
    message = EmailMessage(policy=SMTP.clone(max_line_length=998))
    message["From"] = str(campaign["from"])
    message["To"] = address
    message["Subject"] = str(campaign["subject"])
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content("This email is in HTML; open it in a mail program that shows HTML.")
    message.add_alternative(body, subtype="html")
    tags = {"tenant_id": tenant_id, "campaign_id": campaign_id, "contact_id": contact.id}
    if occasion:
        tags["occasion"] = occasion
    try:
        return "sent", outbound_mail.send_email(str(campaign["from"]), address, message, tags)
    except outbound_mail.MailRejected as error:
        return "failed", str(error)[:200]


# -------------------------------------------------------------------------------------- what comes back


def record_once(
    tenant_id: str,
    campaign_id: str,
    contact_id: str,
    kind: str,
    *,
    extra: ChangeSet | None = None,
    occasion: str | None = None,
    **data: Any,
) -> bool:
    """``email.<kind>`` of a recipient recorded once (its ``<kind>_at`` set on a condition, its counter, its
    event, and ``extra`` in the same transaction); False when it was recorded before or there is no such
    recipient (a token of a campaign never sent to it). ``extra`` is written either way."""
    now = utc_now()
    at = getattr(CampaignRecipientItem, f"{kind}_at")

    def changes_for(labels: list[str]) -> ChangeSet:
        changes = ChangeSet()
        if extra is not None:
            changes.extend(extra)
        if "once" in labels:
            changes.update(
                campaigns_repo.recipient(tenant_id, campaign_id, contact_id, occasion),
                [at.set(now)],
                condition=CampaignRecipientItem.PK.exists() & at.does_not_exist(),
                label="once",
            )
            changes.add_to(campaigns_repo.counter(tenant_id, campaign_id, contact_id), {kind: 1})
            changes.save(email_event(tenant_id, campaign_id, contact_id, kind, now, occasion, **data))
        return changes

    done = campaigns_repo.claim(changes_for, ["once"])
    if not done and extra is not None:
        extra.commit()
    return bool(done)


def on_ses_notification(body: dict[str, Any]) -> str:
    """An SES event of the configuration set (through SNS: the envelope's Message, or the raw event):
    Delivery, Bounce, Complaint. Hard bounces and complaints suppress the address."""
    event = json.loads(body["Message"]) if "Message" in body else body
    kind = event.get("eventType") or event.get("notificationType")
    mail = event.get("mail") or {}
    tags = mail.get("tags") or {}
    try:
        tenant_id, campaign_id, contact_id = (
            tags[name][0] for name in ("tenant_id", "campaign_id", "contact_id")
        )
    except (KeyError, IndexError):
        return _on_other_notification(kind, event, tags)
    occasion = (tags.get("occasion") or [None])[0]
    message_id = mail.get("messageId")
    if kind == "Delivery":
        delivered = record_once(
            tenant_id, campaign_id, contact_id, "delivered", occasion=occasion, message_id=message_id
        )
        return "delivered" if delivered else "again"
    if kind not in ("Bounce", "Complaint"):
        return "ignored"
    bounce_type = "Complaint" if kind == "Complaint" else (event.get("bounce") or {}).get("bounceType")
    extra = ChangeSet()
    if bounce_type in ("Permanent", "Complaint"):
        for address in mail.get("destination") or []:
            reason = "complaint" if kind == "Complaint" else "hard_bounce"
            extra.save(
                suppression_repository.suppression_item(
                    tenant_id, address, reason=reason, suppressed_at=utc_now()
                )
            )
    done = record_once(
        tenant_id,
        campaign_id,
        contact_id,
        "bounced",
        extra=extra,
        occasion=occasion,
        bounce_type=bounce_type,
        message_id=message_id,
    )
    return "bounced" if done else "again"


def _on_other_notification(kind: str | None, event: dict[str, Any], tags: dict[str, Any]) -> str:
    """An event of another email of a tenant (a quote's link, a survey): a hard bounce or a complaint
    suppresses the address for the tenant's later emails, as a campaign's does; nothing else is kept."""
    tenant_id = (tags.get("tenant_id") or [None])[0]
    if not tenant_id:
        return "not the CRM's"
    bounce_type = "Complaint" if kind == "Complaint" else (event.get("bounce") or {}).get("bounceType")
    if kind not in ("Bounce", "Complaint") or bounce_type not in ("Permanent", "Complaint"):
        return "ignored"
    reason = "complaint" if kind == "Complaint" else "hard_bounce"
    for address in (event.get("mail") or {}).get("destination") or []:
        suppression_repository.suppress(tenant_id, address, reason=reason, suppressed_at=utc_now())
    return "suppressed"


# ---------------------------------------------------------------------------------------- attribution


def attribute_won_deal(tenant_id: str, deal: dict[str, Any]) -> str:
    """A won deal counts for the campaign sent last (within ``ATTRIBUTION_DAYS`` before it was won) to one
    of its contacts (last touch): that recipient converted (once), and the deal's amount is the campaign's
    revenue (once per deal)."""
    won_at = str(deal.get("closed_at") or utc_now())
    since = utc_text(datetime.fromisoformat(won_at.replace("Z", "+00:00")) - timedelta(days=ATTRIBUTION_DAYS))
    latest: tuple[str, str, str, str | None] | None = None  # (sent_at, campaign, contact, occasion)
    for contact_id in (deal.get("contact_ids") or [])[:MAX_ATTRIBUTED_CONTACTS]:
        for entry in campaigns_repo.campaigns_sent_to(tenant_id, contact_id, since):
            sent_at = entry.SK.rsplit("#", 1)[0]
            if sent_at <= won_at and (latest is None or sent_at > latest[0]):
                latest = (sent_at, entry.campaign_id, contact_id, entry.occasion)
            break
    if latest is None:
        return "no campaign"
    _, campaign_id, contact_id, occasion = latest
    units = int(Decimal(str(deal.get("amount") or 0)) * 10_000)
    currency = str(deal.get("currency") or "EUR")
    now = utc_now()

    def changes_for(labels: list[str]) -> ChangeSet:
        changes = ChangeSet()
        if "converted" in labels:
            changes.update(
                campaigns_repo.recipient(tenant_id, campaign_id, contact_id, occasion),
                [CampaignRecipientItem.converted_at.set(now)],
                condition=CampaignRecipientItem.PK.exists()
                & CampaignRecipientItem.converted_at.does_not_exist(),
                label="converted",
            )
            changes.add_to(campaigns_repo.counter(tenant_id, campaign_id, contact_id), {"converted": 1})
        if "deal" in labels:
            changes.save(
                UniqueMarker(
                    f"{keys.campaign_progress_pk(tenant_id, campaign_id)}#deal#{deal['id']}",
                    keys.UNIQUE_SK,
                    record_id=campaign_id,
                ),
                condition=UniqueMarker.PK.does_not_exist(),
                label="deal",
            )
            if units:
                changes.add_to(
                    campaigns_repo.revenue(tenant_id, campaign_id, currency), {"amount_units": units}
                )
        return changes

    done = campaigns_repo.claim(changes_for, ["converted", "deal"])
    return f"attributed to {campaign_id}: {sorted(done)}"
