"""Knowledge base articles: drafts and published help, found by a prefix of their titles."""

from __future__ import annotations

from crm_core.context import RequestContext
from crm_core.models.kb_article import KB_ARTICLE_DEFAULTS, KbArticleCreate, KbArticleUpdate
from crm_core.models.record import RecordFields, RelatedFacts
from crm_core.services import references
from crm_core.services.records import ObjectSpec, RecordService, SortKey, normalize_text, text_order


def article_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    """Type-ahead prefixes of the title: from its start, and from each of its next words."""
    title = normalize_text(data.get("title") or "")
    return list(dict.fromkeys(t[:40] for t in [title, *title.split()[1:6]] if t))


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    references.require_active_user(ctx, data, changed, "owner_id")
    return {}


KB_ARTICLES = RecordService(
    ObjectSpec(
        object_type="kb_article",
        create_model=KbArticleCreate,
        update_model=KbArticleUpdate,
        defaults=KB_ARTICLE_DEFAULTS,
        tokens=article_tokens,
        resolve=resolve_references,
        category_field="status",
        sorts=(SortKey("title", 6, lambda data: text_order(data.get("title"))),),
    )
)
