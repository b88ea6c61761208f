"""The web app offers what the API offers (issue 13: "pages for everything the API offers"): every operation
of docs/openapi.json is called by some page of web/src, or is named below with the reason a person does not
need it in the browser. A new route fails here until it has a page or a reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"api\.(GET|POST|PATCH|PUT|DELETE)\(\s*\"(/v1/[^\"]*)\"")
SETTINGS_HISTORY = (
    "a setting's history is read in Settings, Audit log, which shows each change, who made it and when"
)
SETTINGS_FROM_LISTS = "Settings edits from its lists, whose items carry every field"

NOT_IN_THE_WEB_APP: dict[tuple[str, str], str] = {
    ("POST", "/v1/inbound/leads"): "a partner's web form sends leads with the tenant's key, not a person",
    ("GET", "/v1/usage"): "the Reports page draws the same rows as the usage report (admins see it there)",
    ("GET", "/v1/users/{record_id}/timeline"): SETTINGS_HISTORY,
    ("GET", "/v1/teams/{record_id}/timeline"): SETTINGS_HISTORY,
    ("GET", "/v1/api-keys/{record_id}/timeline"): SETTINGS_HISTORY,
    ("GET", "/v1/pipelines/{record_id}/timeline"): SETTINGS_HISTORY,
    ("GET", "/v1/event-targets/{record_id}/timeline"): SETTINGS_HISTORY,
    ("GET", "/v1/event-sources/{record_id}/timeline"): SETTINGS_HISTORY,
    ("GET", "/v1/users/{record_id}"): SETTINGS_FROM_LISTS,
    ("GET", "/v1/teams/{record_id}"): SETTINGS_FROM_LISTS,
    ("GET", "/v1/api-keys/{record_id}"): SETTINGS_FROM_LISTS,
    ("GET", "/v1/event-sources/{record_id}"): SETTINGS_FROM_LISTS,
    ("GET", "/v1/activities/{record_id}"): "activities are read and changed from their lists and timelines",
    ("GET", "/v1/activities/{record_id}/timeline"): "an activity's changes show in its contact's, company's "
    "and deal's timelines",
    ("GET", "/v1/deals"): "the Deals page is the pipeline's board; a company's deals are on its page",
    ("GET", "/v1/activities/duplicates"): "the web app finds and merges duplicate contacts and companies, "
    "where people enter the same one twice; deals' and activities' duplicates are an integration's to merge",
    ("POST", "/v1/activities/{record_id}/merge"): "as /v1/activities/duplicates",
    ("GET", "/v1/deals/duplicates"): "as /v1/activities/duplicates",
    ("POST", "/v1/deals/{record_id}/merge"): "as /v1/activities/duplicates",
    ("POST", "/v1/activities/batch/{action}"): "bulk changes in the web app are on contacts and companies; "
    "deals move on the board one by one, and an integration batches activities",
    ("POST", "/v1/deals/batch/{action}"): "as /v1/activities/batch/{action}",
    ("POST", "/v1/activities/{record_id}/restore"): "a deleted activity is restored through the API (the "
    "Activities page deletes after a confirmation)",
    ("GET", "/v1/properties/{object}/{name}"): SETTINGS_FROM_LISTS,
    ("POST", "/v1/inbound/tickets"): "web forms and mail gateways send tickets with the tenant's key, not a "
    "person",
    ("GET", "/v1/segments/{record_id}/timeline"): "a segment's changes are in Settings, Audit log",
    (
        "POST",
        "/v1/segments/batch/{action}",
    ): "segments are built one at a time in the builder; an integration batches them",
    ("POST", "/v1/segments/{record_id}/restore"): "a deleted segment is restored through the API (as an "
    "activity)",
    ("GET", "/v1/campaigns/{record_id}/timeline"): "a campaign's changes are in Settings, Audit log; its "
    "sends are counted in its results",
    ("POST", "/v1/campaigns/{record_id}/restore"): "a deleted campaign is restored through the API (as a "
    "deleted segment is)",
}
# The service pages (issue 17 item 7): the queue, the ticket view, Settings → SLA policies and the knowledge
# base call the rest; these are what a person does not need in the browser, each with its reason.
SERVICE_READS_FROM_LISTS = "the page edits from its list, whose items carry every field"
NOT_IN_THE_WEB_APP.update(
    {
        ("GET", "/v1/sla-policies/{record_id}"): SERVICE_READS_FROM_LISTS,
        ("GET", "/v1/sla-policies/{record_id}/timeline"): SETTINGS_HISTORY,
        ("GET", "/v1/kb-articles/{record_id}/timeline"): "an article's changes are in Settings, Audit log",
        (
            "POST",
            "/v1/sla-policies/{record_id}/restore",
        ): "an archived SLA policy is restored through the API; an admin makes a new one in Settings",
        ("POST", "/v1/kb-articles/{record_id}/restore"): "an archived article is restored through the API "
        "(as an activity)",
        ("POST", "/v1/tickets/batch/{action}"): "tickets are worked one at a time in the queue; an "
        "integration batches them",
        ("POST", "/v1/sla-policies/batch/{action}"): "as /v1/tickets/batch/{action}",
        ("POST", "/v1/kb-articles/batch/{action}"): "as /v1/tickets/batch/{action}",
        ("GET", "/v1/tickets/duplicates"): "as /v1/activities/duplicates: duplicate tickets are closed, or "
        "merged by an integration",
        ("POST", "/v1/tickets/{record_id}/merge"): "as /v1/tickets/duplicates",
    }
)
# Products and quotes (the Quotes area): the catalogue page adds products and lists them; the builder edits
# a draft quote on its own page (decision 0029).
NOT_IN_THE_WEB_APP.update(
    {
        ("GET", "/v1/products/{record_id}"): "products are read from their list (the catalogue, the builder)",
        ("GET", "/v1/products/{record_id}/timeline"): "a product's changes are in Settings, Audit log",
        ("POST", "/v1/products/{record_id}/restore"): "an archived product is restored through the API: the "
        "catalogue lists the active ones (edit, deactivate, archive)",
        ("POST", "/v1/products/batch/{action}"): "a catalogue is loaded by an integration in batches",
        ("GET", "/v1/quotes/{record_id}/pdf"): "the builder's preview fetches it with fetch() as a blob "
        "(openapi-fetch reads JSON): QuoteDetail.tsx PdfPreview",
        ("DELETE", "/v1/quotes/{record_id}"): "a quote is archived through the API; a draft can be left as "
        "it is (not done yet in the web app)",
        ("POST", "/v1/quotes/{record_id}/restore"): "as DELETE /v1/quotes/{record_id}",
    }
)
# Contracts and payments (issue 18 part 2): the contracts list, the new contract form, the contract's page
# (status moves, plan, payments recorded and voided, renewal, timeline) and the company's receivables call
# the rest; these are what a person does not need in the browser, each with its reason.
NOT_IN_THE_WEB_APP.update(
    {
        ("DELETE", "/v1/contracts/{record_id}"): "a contract ends by its status (terminated, expired) on "
        "its page; archiving one, which takes it out of the receivables, is an integration's clean-up",
        ("POST", "/v1/contracts/{record_id}/restore"): "as DELETE /v1/contracts/{record_id}",
        ("GET", "/v1/payments/{record_id}"): "the contract's page lists its payments, whose items carry "
        "every field",
        ("PATCH", "/v1/payments/{record_id}"): "a payment's amount never changes (decision 0025): a wrong "
        "one is voided on the contract's page and recorded again; its method and reference are corrected "
        "through the API",
        ("GET", "/v1/payments/{record_id}/timeline"): "a payment's events show in its contract's timeline",
    }
)


def _operations() -> set[tuple[str, str]]:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    methods = {"get", "post", "patch", "put", "delete"}
    return {(m.upper(), path) for path, item in document["paths"].items() for m in item if m in methods}


def _called_by_the_web_app() -> set[tuple[str, str]]:
    called = set()
    for source in (ROOT / "web" / "src").rglob("*.ts*"):
        if source.name != "schema.d.ts":
            called |= {(m.group(1), m.group(2)) for m in CALL.finditer(source.read_text())}
    return called


def test_every_operation_has_a_page_or_a_reason() -> None:
    missing = _operations() - _called_by_the_web_app() - NOT_IN_THE_WEB_APP.keys()
    assert not missing, f"no page calls these, and no reason says why: {sorted(missing)}"


def test_the_reasons_name_only_operations_that_exist_and_no_page_calls() -> None:
    stale = {op for op in NOT_IN_THE_WEB_APP if op not in _operations() or op in _called_by_the_web_app()}
    assert not stale, f"remove these reasons: {sorted(stale)}"


def test_the_web_app_calls_only_documented_operations() -> None:
    # The typed client refuses other paths at build time; this keeps the check above honest.
    assert _called_by_the_web_app() <= _operations()
    assert len(_called_by_the_web_app()) > 40
