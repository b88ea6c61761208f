"""Surveys over HTTP on the local runtime: a resolved ticket's contact gets one CSAT email per resolution,
whose link opens a public page that records the score on the ticket (``ticket.rated``) with a
``survey.answered``; a second answer replaces the first; forged and foreign tokens are 404; a contact who
denied email consent is not asked."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import urlparse

import requests
from crm_core.repositories import keys
from crm_core.repositories.table import EventItem, SurveyItem, TableItem

from tests.integration.test_campaigns import html_of, sent_to
from tests.support.client import ApiClient
from tests.support.waiting import eventually


def survey_link(message: Message) -> str:
    found = re.search(r'href="([^"]+/s/[^"]+)"', html_of(message))
    assert found, html_of(message)
    return urlparse(found.group(1).replace("&amp;", "&")).path


def answered_events(tenant_id: str, survey_id: str) -> list[dict[str, Any]]:
    """The survey's ``survey.answered`` events as its transactions wrote them (the outbox items)."""
    items = TableItem.query(
        keys.survey_pk(tenant_id, survey_id), TableItem.SK.startswith("EVT#"), consistent_read=True
    )
    return [item.detail for item in items if isinstance(item, EventItem)]


def survey_items(tenant_id: str, survey_id: str) -> SurveyItem | None:
    try:
        return SurveyItem.get(keys.survey_pk(tenant_id, survey_id), keys.SURVEY_SK, consistent_read=True)
    except SurveyItem.DoesNotExist:
        return None


def month_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def report_rows(client: ApiClient, name: str, **params: str) -> list[dict[str, Any]]:
    answer = client.get(f"/v1/reports/{name}", params=params)
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["rows"]
    return rows


def reported_eventually(client: ApiClient, name: str, want: list[dict[str, Any]]) -> None:
    """The report's rows become ``want`` once the answers are exported (the analytics micro-batches)."""
    assert eventually(lambda: report_rows(client, name) == want, timeout=90, every=0.5), report_rows(
        client, name
    )


def refuses_forged_and_foreign_tokens(
    client: ApiClient, other: ApiClient, path: str, survey_id: str, contact_id: str, tid: str
) -> None:
    """A forged token, and another tenant's token naming this tenant's survey: 404, nothing changed."""
    from crm_core.services import surveys

    base = client.base_url
    token = path.rsplit("/", 1)[-1]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert requests.get(f"{base}/s/{forged}", timeout=10).status_code == 404
    assert requests.post(f"{base}/s/{forged}", data={"score": "5"}, timeout=10).status_code == 404
    foreign = urlparse(surveys.survey_url(other.tenant_id, "csat", survey_id, contact_id, ticket_id=tid)).path
    assert requests.get(base + foreign, timeout=10).status_code == 404
    assert requests.post(base + foreign, data={"score": "5"}, timeout=10).status_code == 404
    assert other.get(f"/v1/tickets/{tid}").status_code == 404
    assert client.get(f"/v1/tickets/{tid}").json()["satisfaction"]["score"] == 2


WORDS = "Ada says: thanks Marta"


def rated_with_words(client: ApiClient, url: str, tid: str) -> str:
    """The survey at ``url`` answered 5 with a comment: the survey's id, its answer holding the comment."""
    assert requests.post(url, data={"score": "5", "comment": WORDS}, timeout=10).status_code == 200
    latest_id = str(client.get(f"/v1/tickets/{tid}").json()["satisfaction"]["survey_id"])
    item = survey_items(client.tenant_id, latest_id)
    assert item is not None and item.comment == WORDS
    return latest_id


def erasure_blanks_the_comments(
    client: ApiClient, contact_id: str, tid: str, survey_ids: list[str], report: dict[str, Any]
) -> None:
    """Erasing the contact blanks its survey comments: the ticket's satisfaction, the surveys' answers and
    their survey.answered events; the scores stay (no one's words), and so does the csat report."""
    words = WORDS

    def scrubbed() -> bool:
        answer = client.post(f"/v1/privacy/contacts/{contact_id}/erase")
        assert answer.status_code == 200, answer.text
        return answer.headers["Scrub-Status"] == "done"

    assert eventually(scrubbed, timeout=60)
    rated = client.get(f"/v1/tickets/{tid}").json()
    assert rated["satisfaction"]["score"] == 5 and rated["satisfaction"].get("comment") is None, rated
    assert rated["satisfaction"]["survey_id"] == survey_ids[-1]
    export = client.get(f"/v1/privacy/contacts/{contact_id}/export")
    assert export.status_code == 200 and words not in export.text and "Quick" not in export.text
    for one in survey_ids:
        item = survey_items(client.tenant_id, one)
        assert item is not None and item.comment is None and item.score in (2, 5), one
        events = answered_events(client.tenant_id, one)
        assert events and all("comment" not in e["data"] and words not in str(e) for e in events), events
    timeline = client.get(f"/v1/tickets/{tid}/timeline").json()
    assert words not in str(timeline) and "Quick" not in str(timeline)
    reported_eventually(client, "csat", [report])


def test_a_resolved_tickets_contact_rates_it_once_per_resolution(client: ApiClient, other: ApiClient) -> None:
    from crm_core.services import surveys

    domain = f"s{client.tenant_id.lower()}.example"
    contact = client.create("contacts", {"email": f"ada@{domain}", "first_name": "Ada"})
    denied = client.create(
        "contacts", {"email": f"bob@{domain}", "consent": {"email": "denied"}, "first_name": "Bob"}
    )
    ticket = client.create("tickets", {"subject": "Engine <stalls>", "contact_id": contact["id"]})
    quiet = client.create("tickets", {"subject": "Not asked", "contact_id": denied["id"]})
    tid = ticket["id"]
    for one in (quiet, ticket):
        assert client.patch(f"/v1/tickets/{one['id']}", {"status": "resolved"}).status_code == 200
    resolved = client.get(f"/v1/tickets/{tid}").json()

    # One email, with a link to the survey's page, for this resolution.
    messages = eventually(lambda: sent_to(domain), timeout=30)
    assert [str(m["To"]) for m in messages] == [f"ada@{domain}"], [str(m["To"]) for m in messages]
    path = survey_link(messages[0])
    survey_id = surveys.csat_id(tid, resolved["resolved_at"])
    # The ticket's resolved event delivered again sends nothing more; the denied contact was not asked.
    detail = {"type": "ticket.resolved", "tenant_id": client.tenant_id, "data": resolved}
    assert surveys.on_ticket_event(detail) == "already sent"
    quiet_resolved = client.get(f"/v1/tickets/{quiet['id']}").json()["resolved_at"]
    skipped = eventually(lambda: survey_items(client.tenant_id, surveys.csat_id(quiet["id"], quiet_resolved)))
    assert skipped is not None and skipped.state == "skipped" and skipped.reason == "email consent denied"

    base = client.base_url
    page = requests.get(base + path, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"], page.text
    assert page.text.count('type="radio"') == 5 and "<textarea" in page.text and "<form" in page.text

    # A bad score changes nothing (422, the form again naming the field).
    bad = requests.post(base + path, data={"score": "9", "comment": "x"}, timeout=10)
    assert bad.status_code == 422 and "score" in bad.text
    assert client.get(f"/v1/tickets/{tid}").json()["satisfaction"] is None

    thanks = requests.post(base + path, data={"score": "4", "comment": "Quick <b>fix</b>"}, timeout=10)
    assert thanks.status_code == 200 and "Thank you" in thanks.text, thanks.text
    rated = client.get(f"/v1/tickets/{tid}").json()
    assert rated["satisfaction"]["score"] == 4 and rated["satisfaction"]["comment"] == "Quick <b>fix</b>"
    assert rated["satisfaction"]["survey_id"] == survey_id
    timeline = eventually(
        lambda: (
            (t := [e["type"] for e in client.get(f"/v1/tickets/{tid}/timeline").json()["items"]])
            and "ticket.rated" in t
            and t
        )
    )
    assert timeline and timeline.count("ticket.rated") == 1, timeline

    # A second answer replaces the first: the ticket's score, a second survey.answered.
    again = requests.post(base + path, data={"score": "2"}, timeout=10)
    assert again.status_code == 200
    rated = client.get(f"/v1/tickets/{tid}").json()
    assert rated["satisfaction"]["score"] == 2 and rated["satisfaction"]["comment"] is None
    events = answered_events(client.tenant_id, survey_id)
    assert sorted((e["data"]["version"], e["data"]["score"]) for e in events) == [(1, 4), (2, 2)], events
    assert {(e["data"]["ticket_id"], e["data"]["kind"], bool(e["data"]["sent_at"])) for e in events} == {
        (tid, "csat", True)
    }
    shown = requests.get(base + path, timeout=10).text
    assert 'value="2" required checked' in shown  # the page shows the answer that stands

    refuses_forged_and_foreign_tokens(client, other, path, survey_id, contact["id"], tid)
    # Reopened and resolved again: a new resolution, a new survey.
    assert client.patch(f"/v1/tickets/{tid}", {"status": "open"}).status_code == 200
    assert client.patch(f"/v1/tickets/{tid}", {"status": "resolved"}).status_code == 200
    later = eventually(lambda: len(sent_to(domain)) == 2 and sent_to(domain), timeout=30)
    assert later and survey_link(later[1]) != path
    latest_id = rated_with_words(client, base + survey_link(later[1]), tid)

    # The csat report counts each survey's latest answer (2, then 5): 2 answers, 1 satisfied (checked after
    # the erasure below, which leaves the scores).
    want = {"period": month_now(), "responses": 2, "average_score": 3.5, "satisfied": 1, "csat": 50.0}
    assert report_rows(other, "csat") == []

    erasure_blanks_the_comments(client, contact["id"], tid, [survey_id, latest_id], want)


def test_an_nps_campaign_asks_each_consenting_member_and_records_answers(
    client: ApiClient, other: ApiClient
) -> None:
    from crm_core.services import surveys

    from tests.integration.test_campaigns import contacts, finished, segment_of

    domain = f"n{client.tenant_id.lower()}.example"
    people = contacts(client, domain, ["granted", "denied", "granted"], "nps")
    segment_id = segment_of(client, "nps")
    body = '<p>Hello {{ first_name }}, <a href="{{ survey_url }}">how likely are you to recommend us?</a></p>'
    base_fields = {
        "name": "NPS",
        "segment_id": segment_id,
        "subject": "One question",
        "from": f"nps@{domain}",
    }
    # The survey's link belongs to a survey campaign, and a survey campaign's body has it.
    no_survey = client.post("/v1/campaigns", {**base_fields, "body": body})
    assert no_survey.status_code == 422 and no_survey.json()["errors"][0]["field"] == "body", no_survey.text
    no_link = client.post("/v1/campaigns", {**base_fields, "body": "<p>Hi</p>", "survey": "nps"})
    assert no_link.status_code == 422 and no_link.json()["errors"][0]["field"] == "body", no_link.text
    campaign = client.create("campaigns", {**base_fields, "body": body, "survey": "nps"})
    assert campaign["survey"] == "nps"
    assert client.post(f"/v1/campaigns/{campaign['id']}/send").status_code == 200
    finished(client, campaign["id"])
    messages = eventually(lambda: len(sent_to(domain)) >= 2 and sent_to(domain), timeout=30)
    assert messages and sorted(str(m["To"]) for m in messages) == sorted(
        [people[0]["email"], people[2]["email"]]
    )

    first = next(m for m in messages if str(m["To"]) == people[0]["email"])
    path = survey_link(first)  # the survey's own link, not a click-tracking redirect
    base = client.base_url
    page = requests.get(base + path, timeout=10)
    assert page.status_code == 200 and page.text.count('type="radio"') == 11, page.text
    assert requests.post(base + path, data={"score": "11"}, timeout=10).status_code == 422
    for score in ("9", "10"):
        answer = requests.post(base + path, data={"score": score, "comment": "Good"}, timeout=10)
        assert answer.status_code == 200 and "Thank you" in answer.text
    survey_id = surveys.nps_id(campaign["id"], people[0]["id"])
    item = survey_items(client.tenant_id, survey_id)
    assert item is not None and (item.kind, int(item.score or 0), int(item.answers or 0)) == ("nps", 10, 2)
    events = sorted(answered_events(client.tenant_id, survey_id), key=lambda e: e["data"]["version"])
    assert all(e["data"]["sent_at"] and e["data"]["kind"] == "nps" for e in events), events
    assert [(e["data"]["score"], e["data"]["campaign_id"]) for e in events] == [
        (9, campaign["id"]),
        (10, campaign["id"]),
    ]
    # A second recipient's answer; the nps report per month and per campaign: one promoter (the latest, 10),
    # one detractor (3): 0 points.
    third = next(m for m in messages if str(m["To"]) == people[2]["email"])
    assert requests.post(base + survey_link(third), data={"score": "3"}, timeout=10).status_code == 200
    want = {"responses": 2, "promoters": 1, "passives": 0, "detractors": 1, "nps": 0.0}
    reported_eventually(client, "nps", [{"group_id": month_now(), **want}])
    assert report_rows(client, "nps", group_by="campaign") == [{"group_id": campaign["id"], **want}]
    assert report_rows(client, "csat") == []
    # Another tenant's token naming this survey, and a token for a contact the campaign never reached: 404.
    foreign = surveys.survey_url(
        other.tenant_id, "nps", survey_id, people[0]["id"], campaign_id=campaign["id"]
    )
    assert requests.post(base + urlparse(foreign).path, data={"score": "0"}, timeout=10).status_code == 404
    denied_id = surveys.nps_id(campaign["id"], people[1]["id"])
    never = surveys.survey_url(
        client.tenant_id, "nps", denied_id, people[1]["id"], campaign_id=campaign["id"]
    )
    assert requests.get(base + urlparse(never).path, timeout=10).status_code == 404
    erasure_blanks_the_nps_comment(client, people[0]["id"], survey_id, [{"group_id": campaign["id"], **want}])


def erasure_blanks_the_nps_comment(
    client: ApiClient, contact_id: str, survey_id: str, report: list[dict[str, Any]]
) -> None:
    """Erasing a recipient blanks its NPS comment (found through the campaigns sent to it); the score stays,
    and so does the report."""

    def scrubbed() -> bool:
        answer = client.post(f"/v1/privacy/contacts/{contact_id}/erase")
        assert answer.status_code == 200, answer.text
        return answer.headers["Scrub-Status"] == "done"

    assert eventually(scrubbed, timeout=60)
    item = survey_items(client.tenant_id, survey_id)
    assert item is not None and item.comment is None and int(item.score or 0) == 10
    events = answered_events(client.tenant_id, survey_id)
    assert events and all("comment" not in e["data"] and "Good" not in str(e) for e in events), events
    assert report_rows(client, "nps", group_by="campaign") == report
