"""What a knowledge base article is made of."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from crm_core.models.common import EXAMPLE_USER_ID, RecordId, ShortText, StrictModel, Tags, record_model

ArticleStatus = Literal["draft", "published"]


class KbArticleFields(StrictModel):
    title: ShortText | None = None
    body: Annotated[str, StringConstraints(max_length=50_000)] | None = None  # Markdown
    status: ArticleStatus | None = None
    tags: Tags | None = None
    owner_id: RecordId | None = Field(
        None, description="Its author (the role rules); the creator by default."
    )


class KbArticleCreate(KbArticleFields):
    title: ShortText


class KbArticleUpdate(KbArticleFields):
    """Every field optional; a field sent as null is cleared (status back to draft)."""


KB_ARTICLE_DEFAULTS: dict[str, object] = {
    "title": None,
    "body": None,
    "status": "draft",
    "tags": [],
    "owner_id": None,
}

KbArticle = record_model("KbArticle", KbArticleFields)
EXAMPLE_ID = "01JHC1KBART1C1E00000000001"
EXAMPLE: dict[str, Any] = {
    "title": "How to read your invoice",
    "body": "# Your invoice\n\nEach line is one engine.",
    "status": "published",
    "tags": ["billing"],
    "owner_id": EXAMPLE_USER_ID,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("status", "draft")


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` names it."""
    return {"title": f"Example article {n}", "body": "Some help.", "status": "published"}
