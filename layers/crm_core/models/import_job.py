"""A CSV import, as the API takes and answers it (API.md ``imports``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from crm_core.models.common import EXAMPLE_USER_ID, Closed, StrictModel

ImportObject = Literal["contacts", "companies", "deals"]
OnDuplicate = Literal["skip", "update", "create"]
Column = Annotated[str, StringConstraints(min_length=1, max_length=200)]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=64)]

ON_DUPLICATE = (
    "What a row whose unique value (a contact's email, a company's domain) a record already has does, "
    "also a record an earlier row of the file made: `skip` it, `update` that record with the row's "
    "non-empty cells, or `create` another record, which the unique value refuses (the row fails with the "
    "API's 409 problem): `create` adds only rows with no such value."
)


class ImportCreate(StrictModel):
    object: ImportObject = Field(description="What each row is: a contact, a company or a deal.")
    mapping: dict[Column, FieldName] | None = Field(
        None,
        max_length=200,
        description="CSV column (as the header names it) -> field. Unmapped columns are ignored. Left out: "
        "guessed from the header, each column whose name is a field's ignoring case, spaces, underscores "
        "and hyphens (`First Name` -> `first_name`, `E-mail` -> `email`), or a common other name of one "
        "(`Email Address`, `Surname`, `Job Title`). Besides an object's fields, columns may name other "
        "records: a deal's `pipeline` and `stage` by name (the stage within the row's pipeline, else the "
        "default pipeline), `company_domain` (a company by its domain, for deals and contacts) and "
        "`contact_email` (a deal's contact by email); a name that matches nothing fails the row.",
    )
    on_duplicate: OnDuplicate = Field("skip", description=ON_DUPLICATE)


class ImportJob(Closed):
    id: str
    object: ImportObject
    on_duplicate: OnDuplicate
    mapping: dict[str, str] | None = Field(
        description="As given, or as guessed from the file's header once it is read."
    )
    status: Literal["pending", "processing", "completed", "failed"] = Field(
        description="`pending` until the file is uploaded and read, `processing` while its rows are "
        "written, then `completed`; `failed` when the file cannot be read at all (`error` says why) and "
        "nothing of it was written."
    )
    error: str | None
    total: int = Field(description="The file's rows (blank lines are not rows).")
    processed: int = Field(
        description="Rows written or refused so far: created + updated + skipped + failed."
    )
    created: int
    updated: int = Field(description="Rows that matched a record and updated it (`on_duplicate` update).")
    skipped: int = Field(description="Rows that matched a record and were left out (`on_duplicate` skip).")
    failed: int = Field(description="Rows refused, each with its reason in the rejected rows' file.")
    created_by: str
    created_at: str
    updated_at: str
    completed_at: str | None
    rejected_rows_url: str | None = Field(
        json_schema_extra={
            "x-not-in-events": True
        },  # crm_local.catalog.NOT_IN_EVENTS: a link, not the import
        description="Once completed with failed rows: a link (valid for an hour; read the import again for "
        "a fresh one) to a CSV of those rows, their original columns and an `error` column with the reason "
        "an API write of the row is refused for.",
    )


class ImportCreated(ImportJob):
    upload_url: str = Field(description="PUT the CSV file (UTF-8, `,` or `;`, a header line) to this URL.")
    upload_expires_at: str


EXAMPLE_ID = "01JHC2MP0RT000000000000000"
EXAMPLE = {
    "object": "contacts",
    "on_duplicate": "skip",
    "mapping": {"E-mail": "email", "First Name": "first_name"},
    "status": "completed",
    "error": None,
    "total": 1200,
    "processed": 1200,
    "created": 1150,
    "updated": 0,
    "skipped": 42,
    "failed": 8,
    "created_by": EXAMPLE_USER_ID,
    "created_at": "2025-01-15T10:40:00.000Z",
    "updated_at": "2025-01-15T10:45:00.000Z",
    "completed_at": "2025-01-15T10:45:00.000Z",
}
