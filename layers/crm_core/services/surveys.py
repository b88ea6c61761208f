"""Satisfaction (CSAT) and relationship (NPS) surveys (decision 0025).

- **CSAT**: ``ticket.resolved`` reaches the sender (a rule on the bus, the campaign sender's queue), which
  sends the ticket's contact one email with a link to the public page ``/s/{token}``: once per resolution
  (the survey's id derives from the ticket and its ``resolved_at``; its item is claimed by a conditional put
  before the email goes), so a repeated event sends nothing more, and a reopened ticket resolved again is
  asked again. It is a service email: a contact whose email consent is ``denied``, whose address is
  suppressed, or who is archived or erased is not asked; ``unknown`` consent is asked.
- **NPS**: a campaign with ``survey: "nps"`` puts ``{{ survey_url }}`` in each recipient's email
  (services/campaign_sends.py: the campaign's consent rules); the recipient's marker is the claim.
- **The page**: the token is signed (crm_core.signing, purpose ``survey``) and names the tenant, the kind, the
  survey, the contact and the ticket or campaign; a forged token, or one naming no survey sent, is 404. An
  answer is one transaction: the survey's item (score, comment, when, how many answers), a
  ``survey.answered`` event and, for CSAT, the ticket's ``satisfaction`` with its ``ticket.rated``. A later
  answer replaces the earlier one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from aws_lambda_powertools import Logger

from crm_core import metrics
from crm_core.auth import Principal
from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.events import EVENT_SK_PREFIX, build_event
from crm_core.ids import derived_id, utc_now
from crm_core.repositories import campaign_repository as campaigns_repo
from crm_core.repositories import keys, suppression_repository
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import EventItem, RecordItem, SurveyItem
from crm_core.repositories.transaction import ChangeSet, WriteConflict
from crm_core.services import outbound_mail
from crm_core.services.records import record_data
from crm_core.services.records.writes import StaleWrite, back_off, commit, write_attempts
from crm_core.signing import sign, verify_carrying_tenant

SURVEY_PURPOSE = "survey"
SCORES = {"csat": (1, 5), "nps": (0, 10)}
MAX_COMMENT = 2000
SYSTEM = "surveys"
QUESTIONS = {
    "csat": "How satisfied are you with how we handled your request?",
    "nps": "How likely are you to recommend us to a friend or colleague?",
}
LOW_HIGH = {"csat": ("Very unsatisfied", "Very satisfied"), "nps": ("Not at all likely", "Extremely likely")}
logger = Logger(child=True)


def csat_id(ticket_id: str, resolved_at: str) -> str:
    """The CSAT survey of one resolution of a ticket: the same however often its event comes."""
    return derived_id(ticket_id, "csat", resolved_at)


def nps_id(campaign_id: str, contact_id: str) -> str:
    """The NPS survey a campaign sent one recipient."""
    return derived_id(campaign_id, "nps", contact_id)


def survey_url(
    tenant_id: str,
    kind: str,
    survey_id: str,
    contact_id: str,
    *,
    ticket_id: str | None = None,
    campaign_id: str | None = None,
) -> str:
    token = sign(
        SURVEY_PURPOSE,
        tenant_id,
        {"k": kind, "s": survey_id, "c": contact_id, "r": ticket_id, "m": campaign_id},
    )
    return f"{settings().public_url}/s/{token}"


# ------------------------------------------------------------------------------------------ CSAT: sending


def why_not_asked(tenant_id: str, contact: RecordItem | None) -> str | None:
    """None when a service email (a CSAT survey) may go to the contact, else why not: no address, archived,
    erased, email consent denied, or the address suppressed (unsubscribed, bounced, complained)."""
    if contact is None or contact.archived_at is not None:
        return "no active contact"
    data = record_data(contact)
    if data.get("erased_at") or not data.get("email"):
        return "no address"
    if (data.get("consent") or {}).get("email") == "denied":
        return "email consent denied"
    if suppression_repository.is_suppressed(tenant_id, str(data["email"])):
        return "address suppressed"
    return None


def on_ticket_event(detail: dict[str, Any]) -> str:
    """A ``ticket.resolved`` from the bus: its contact's CSAT survey, sent once for that resolution. The
    ticket is read again: a resolution undone since (reopened) or a ticket archived asks nothing."""
    if detail.get("type") != "ticket.resolved":
        return "ignored"
    tenant_id, ticket_id = str(detail["tenant_id"]), str(detail["data"]["id"])
    resolved_at = detail["data"].get("resolved_at")
    ticket = repo.get_record(tenant_id, "ticket", ticket_id, consistent=True)
    if ticket is None or ticket.archived_at is not None or not resolved_at:
        return "no ticket"
    data = record_data(ticket)
    if data.get("resolved_at") != resolved_at:
        return "stale: resolved again or reopened since"
    contact_id = data.get("contact_id")
    if not contact_id:
        return "no contact"
    contact = repo.get_record(tenant_id, "contact", str(contact_id), consistent=True)
    reason = why_not_asked(tenant_id, contact)
    survey_id = csat_id(ticket_id, str(resolved_at))
    claim = SurveyItem(
        keys.survey_pk(tenant_id, survey_id),
        keys.SURVEY_SK,
        survey_id=survey_id,
        kind="csat",
        contact_id=str(contact_id),
        ticket_id=ticket_id,
        state="claimed" if reason is None else "skipped",
        reason=reason,
    )
    changes = ChangeSet()
    changes.save(claim, condition=SurveyItem.PK.does_not_exist(), label="claim")
    try:
        changes.commit()
    except WriteConflict:
        return "already sent"
    if reason is not None or contact is None:
        return f"skipped: {reason}"
    # Claimed: never sent again, whatever happens to this email.
    url = survey_url(tenant_id, "csat", survey_id, str(contact_id), ticket_id=ticket_id)
    try:
        message_id = _send(tenant_id, survey_id, str(record_data(contact)["email"]), data, url)
    except Exception as error:
        logger.exception("survey email not sent", extra={"ticket_id": ticket_id})
        claim.update(actions=[SurveyItem.state.set("failed"), SurveyItem.reason.set(type(error).__name__)])
        return "failed"
    claim.update(
        actions=[
            SurveyItem.state.set("sent"),
            SurveyItem.message_id.set(message_id),
            SurveyItem.sent_at.set(utc_now()),
        ]
    )
    metrics.count("SurveysSent")
    return "sent"


def _send(tenant_id: str, survey_id: str, address: str, ticket: dict[str, Any], url: str) -> str:
    sender = settings().service_email_from
    subject = str(ticket.get("subject") or "your request")
    message = EmailMessage(policy=SMTP.clone(max_line_length=998))
    message["From"] = sender
    message["To"] = address
    message["Subject"] = f"How did we do? {subject}"[:200]
    message.set_content(
        f'Your request "{subject}" was resolved. Tell us how we did (one click, no sign-in):\n{url}\n'
    )
    message.add_alternative(
        f"<p>Your request <b>{html.escape(subject)}</b> was resolved.</p>"
        f'<p><a href="{html.escape(url)}">Tell us how we did</a> (one click, no sign-in).</p>',
        subtype="html",
    )
    return outbound_mail.send_email(
        sender, address, message, {"tenant_id": tenant_id, "survey_id": survey_id}
    )


# ------------------------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Survey:
    tenant_id: str
    survey_id: str
    kind: str
    contact_id: str
    ticket_id: str | None
    campaign_id: str | None
    item: SurveyItem | None  # None: an NPS survey not answered yet
    sent_at: str | None  # when its email went


def _not_found() -> ProblemError:
    return ProblemError(404, "Not Found", "No such survey.")


def _item(tenant_id: str, survey_id: str) -> SurveyItem | None:
    try:
        return SurveyItem.get(keys.survey_pk(tenant_id, survey_id), keys.SURVEY_SK, consistent_read=True)
    except SurveyItem.DoesNotExist:
        return None


def survey_of(token: str) -> Survey:
    """The survey a token names: 404 when it is forged or altered, or names no survey that was sent."""
    verified = verify_carrying_tenant(SURVEY_PURPOSE, token)
    if verified is None:
        raise _not_found()
    tenant_id, payload = verified
    kind, survey_id, contact_id = payload.get("k"), payload.get("s"), payload.get("c")
    if kind not in SCORES or not isinstance(survey_id, str) or not isinstance(contact_id, str):
        raise _not_found()
    item = _item(tenant_id, survey_id)
    if kind == "csat":
        ticket_id = payload.get("r")
        sent = item is not None and item.state == "sent"
        if item is None or not sent or (item.ticket_id, item.contact_id) != (ticket_id, contact_id):
            raise _not_found()
        return Survey(tenant_id, survey_id, kind, contact_id, item.ticket_id, None, item, item.sent_at)
    campaign_id = payload.get("m")
    if not isinstance(campaign_id, str) or survey_id != nps_id(campaign_id, contact_id):
        raise _not_found()
    marker = campaigns_repo.get_recipient(tenant_id, campaign_id, contact_id)
    if marker is None or marker.state != "sent":
        raise _not_found()
    return Survey(tenant_id, survey_id, kind, contact_id, None, campaign_id, item, marker.sent_at)


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><main>{body}</main></body></html>"
    )


def page(token: str, *, error: str | None = None) -> str:
    """The survey's form: the question, one radio button per score, a comment, a Send button; the last
    answer chosen again when there is one."""
    survey = survey_of(token)
    low, high = SCORES[survey.kind]
    chosen = int(survey.item.score) if survey.item is not None and survey.item.score is not None else None
    choices = "".join(
        f'<label><input type="radio" name="score" value="{n}" required{" checked" if n == chosen else ""}>'
        f" {n}</label> "
        for n in range(low, high + 1)
    )
    low_text, high_text = LOW_HIGH[survey.kind]
    comment = html.escape(survey.item.comment or "") if survey.item is not None else ""
    problem = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    body = (
        f"<h1>{html.escape(QUESTIONS[survey.kind])}</h1>{problem}"
        '<form method="post">'
        f"<fieldset><legend>{low} = {low_text}, {high} = {high_text}</legend>{choices}</fieldset>"
        f'<p><label for="comment">Comment (optional)</label><br>'
        f'<textarea id="comment" name="comment" rows="4" maxlength="{MAX_COMMENT}">{comment}</textarea></p>'
        '<button type="submit">Send</button></form>'
    )
    return _document("Survey", body)


def answer(token: str, form: dict[str, str]) -> tuple[int, str]:
    """(status, page) for a posted answer: the thank-you page (200), or the form again naming what is wrong
    (422, nothing recorded)."""
    survey = survey_of(token)
    low, high = SCORES[survey.kind]
    raw = (form.get("score") or "").strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        return 422, page(token, error=f"score: choose a number from {low} to {high}.")
    comment = (form.get("comment") or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        return 422, page(token, error=f"comment: at most {MAX_COMMENT} characters.")
    record(survey, int(raw), comment)
    text = "<h1>Thank you</h1><p>Your answer was recorded. You may change it with the same link.</p>"
    return 200, _document("Thank you", text)


def record(survey: Survey, score: int, comment: str | None) -> None:
    """The answer, its ``survey.answered`` and (CSAT) the ticket's satisfaction with its ``ticket.rated``,
    in one transaction on the survey and ticket as read (a concurrent answer: read both again)."""
    from crm_core.services.tickets import TICKETS

    ctx = RequestContext(Principal.system(survey.tenant_id, SYSTEM))
    for attempt in write_attempts():
        now = utc_now()
        item = _item(survey.tenant_id, survey.survey_id)
        answers = int(item.answers or 0) + 1 if item is not None else 1
        changes = ChangeSet()
        if item is None:  # an NPS survey's first answer
            changes.save(
                SurveyItem(
                    keys.survey_pk(survey.tenant_id, survey.survey_id),
                    keys.SURVEY_SK,
                    survey_id=survey.survey_id,
                    kind=survey.kind,
                    contact_id=survey.contact_id,
                    campaign_id=survey.campaign_id,
                    state="sent",
                    sent_at=survey.sent_at,
                    score=score,
                    comment=comment,
                    answered_at=now,
                    answers=1,
                ),
                condition=SurveyItem.PK.does_not_exist(),
                label="survey",
            )
        else:
            previous = (
                SurveyItem.answers == item.answers if item.answers else SurveyItem.answers.does_not_exist()
            )
            changes.update(
                item,
                [
                    SurveyItem.score.set(score),
                    SurveyItem.comment.set(comment) if comment else SurveyItem.comment.remove(),
                    SurveyItem.answered_at.set(now),
                    SurveyItem.answers.set(answers),
                ],
                condition=SurveyItem.PK.exists() & previous,
                label="survey",
            )
        changes.save(_answered_event(survey, score, comment, now, answers))
        try:
            if survey.ticket_id is not None:
                satisfaction = {
                    "score": score,
                    "comment": comment,
                    "survey_id": survey.survey_id,
                    "answered_at": now,
                }
                ticket = TICKETS.load(ctx, survey.ticket_id, archived=None)
                prepared = TICKETS.prepare_change(ctx, ticket, {"satisfaction": satisfaction})
                if prepared is not None:
                    prepared.changes.extend(changes)
                    commit(TICKETS.spec, ctx, prepared)
                    break
            changes.commit()
        except (StaleWrite, WriteConflict):
            back_off(attempt)
            continue
        break
    else:
        raise ProblemError(409, "Conflict", "The survey is being answered elsewhere; send it again.")
    metrics.count("SurveysAnswered")


def _answered_event(survey: Survey, score: int, comment: str | None, now: str, answers: int) -> EventItem:
    detail = build_event(
        event_type="survey.answered",
        tenant_id=survey.tenant_id,
        actor=Principal.system(survey.tenant_id, SYSTEM).actor,
        correlation_id=survey.survey_id,
        data={
            "id": survey.survey_id,
            "kind": survey.kind,
            "contact_id": survey.contact_id,
            "ticket_id": survey.ticket_id,
            "campaign_id": survey.campaign_id,
            "score": score,
            "comment": comment,
            "sent_at": survey.sent_at,
            "answered_at": now,
            "version": answers,
        },
        event_id=derived_id(survey.survey_id, "answer", str(answers)),
        occurred_at=now,
    )
    return EventItem(
        keys.survey_pk(survey.tenant_id, survey.survey_id),
        f"{EVENT_SK_PREFIX}{detail['id']}",
        event_type=detail["type"],
        occurred_at=now,
        detail=detail,
    )
