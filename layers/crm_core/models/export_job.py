"""A tenant export, as the API answers it (API.md ``exports``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crm_core.models.common import EXAMPLE_USER_ID, Closed, StrictModel

ExportStatus = Literal["pending", "running", "completed", "failed", "expired"]

OBJECTS = (
    "Every record type the CRM keeps, by the name of its path (`contacts`, `companies`, `deals`, "
    "`activities`, `pipelines`, `properties`, `users`, `teams`, `api-keys`, `event-targets`, "
    "`event-sources`): how many records of it the export holds, archived ones included. Counted when the "
    "export starts running (empty while `pending`); exactly what the zip holds once `completed`."
)


class ExportCreate(StrictModel):
    """Nothing to choose yet: an export is of the whole tenant. An empty object, or no body at all."""


class ExportJob(Closed):
    """The export's state and progress; the event ``export.completed`` carries it (without the link)."""

    id: str
    status: ExportStatus = Field(
        description="`pending` until a worker takes it, `running` while records are written to the zip, "
        "then `completed` (`download_url` set) or `failed` (`error` says why); `expired` once its zip is "
        "deleted (`expired_at`): 7 days after it completed, or earlier when a person is erased after the "
        "export was made (the zip may hold their data; docs/privacy.md). An expired export has no link."
    )
    error: str | None
    objects: dict[str, int] = Field(description=OBJECTS)
    processed: dict[str, int] = Field(
        description="Records written to the zip so far, by the same names as `objects`: progress."
    )
    size_bytes: int | None = Field(description="The zip's size, once completed.")
    created_by: str
    created_at: str
    updated_at: str
    started_at: str | None = Field(
        description="When the records began to be read: the manifest's `exported_at`."
    )
    completed_at: str | None
    expired_at: str | None = Field(
        default=None, description="When the zip was deleted (`expired`); null before."
    )


class ExportAnswer(ExportJob):
    download_url: str | None = Field(
        description="Once completed: a link to the zip (presigned, valid for an hour; read the export "
        "again for a fresh one). The zip holds `<object>.jsonl` for each name of `objects`, one record a "
        "line exactly as `GET /v1/<object>/{id}` answers it (archived records included, with "
        "`archived_at`), and `manifest.json` (`schema_version`, `export_id`, `tenant_id`, "
        "`exported_at`, `objects` with each file's name and count). The zip is kept 7 days."
    )
    download_expires_at: str | None = Field(description="When `download_url` stops working.")


EXAMPLE_ID = "01JHC2XP0RT000000000000000"
EXAMPLE = {
    "status": "completed",
    "error": None,
    "objects": {"contacts": 1250, "companies": 310, "deals": 95, "activities": 2204},
    "processed": {"contacts": 1250, "companies": 310, "deals": 95, "activities": 2204},
    "size_bytes": 1048576,
    "created_by": EXAMPLE_USER_ID,
    "created_at": "2025-01-15T10:44:00.000Z",
    "updated_at": "2025-01-15T10:45:00.000Z",
    "started_at": "2025-01-15T10:44:02.000Z",
    "completed_at": "2025-01-15T10:45:00.000Z",
    "expired_at": None,
}
