"""Knowledge base articles: /v1/kb-articles."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from crm_core.http.api_docs import answers, list_page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import (
    Cursor,
    Limit,
    OwnerFilter,
    Sort,
    add_record_routes,
    list_description,
    list_response,
)
from crm_core.models.kb_article import ArticleStatus, KbArticle, KbArticleCreate, KbArticleUpdate
from crm_core.services.kb_articles import KB_ARTICLES

PATH = "/v1/kb-articles"
router = Router()


@router.get(
    "/",
    tags=["kb-articles"],
    summary="List or search knowledge base articles",
    description=list_description(KB_ARTICLES),
    responses=answers(200, list_page_model("KbArticlePage", KbArticle), 400, 422),
)
def list_articles(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived articles instead.")] = False,
    q: Annotated[
        str | None, Query(max_length=100, description="Type-ahead prefix over the title (any of its words).")
    ] = None,
    status: Annotated[ArticleStatus | None, Query()] = None,
    owner_id: OwnerFilter = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    sort: Sort = None,
) -> Response[str]:
    return list_response(
        KB_ARTICLES,
        request_context(router),
        filters={"status": status, "owner_id": owner_id, "tag": tag},
        q=q,
        archived=archived,
        limit=limit,
        cursor=cursor,
        sort=sort,
    )


add_record_routes(
    router,
    KB_ARTICLES,
    PATH,
    KbArticleCreate,
    KbArticleUpdate,
    KbArticle,
    routes=frozenset({"create", "read", "update", "archive", "restore", "timeline", "batch"}),
)
