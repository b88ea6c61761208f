"""A person's data: /v1/privacy (API.md section 3, privacy; docs/privacy.md)."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from crm_core.http.api_docs import answers
from crm_core.http.app import request_context
from crm_core.http.record_routes import ADMIN_ONLY, RecordIdPath
from crm_core.http.responses import json_response, record_response
from crm_core.models.contact import Contact
from crm_core.models.privacy import PersonExport
from crm_core.services import privacy

PATH = "/v1/privacy"
router = Router()


@router.get(
    "/contacts/<record_id>/export",
    tags=["privacy"],
    summary="Everything held about a person (admins only)",
    description="The contact (archived or not), its company, its timeline, the records that refer to it "
    "(activities whole; deals by id and name), and its audit trail, as one JSON document. Read-only. An "
    "erased contact's export is its tombstone alone.",
    openapi_extensions=dict(ADMIN_ONLY),
    responses=answers(200, PersonExport, 403, 404, 422),
)
def export_contact(record_id: RecordIdPath) -> Response[str]:
    return json_response(privacy.export_contact(request_context(router), record_id))


@router.post(
    "/contacts/<record_id>/erase",
    tags=["privacy"],
    summary="Erase a person's data, leaving a tombstone (admins only)",
    description="Clears the contact's personal fields (names, email, phone, title, tags, source, consent, "
    "custom values), its search entries, unique email marker and duplicate pairs, the subject and body of "
    "its activities, and the values copied into timelines, the audit trail, notifications, webhook "
    "delivery logs and idempotency records. The record stays as a tombstone (`erased_at`, id, owner, "
    "company, lifecycle stage, times) so counts and reports stay true; its address is suppressed for "
    "future sends; `contact.erased` is sent, carrying none of the erased values. Asking again answers the "
    "same tombstone and sends no second event. A tombstone cannot be changed (PATCH is 409); a new contact "
    "with the same email is a new person record. No body. The scrub of the copies (activities' text, "
    "timelines, audit, notifications, delivery logs, idempotency records) runs in the background after the "
    "answer; its header `Scrub-Status` says `pending` until it has completed, then `done` (ask again "
    "to see).",
    openapi_extensions=dict(ADMIN_ONLY),
    responses=answers(
        200,
        Contact,
        403,
        404,
        409,
        422,
        etag=True,
        headers_of_success={
            "Scrub-Status": "`pending` while the copies of the person's data are scrubbed in the "
            "background, then `done`."
        },
    ),
)
def erase_contact(record_id: RecordIdPath) -> Response[str]:
    ctx = request_context(router)
    answer = record_response(privacy.erase_contact(ctx, record_id))
    answer.headers[privacy.SCRUB_STATUS_HEADER] = privacy.scrub_status(ctx.tenant_id, record_id)
    return answer
