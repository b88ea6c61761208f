"""Products: /v1/products."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from crm_core.http.api_docs import answers, list_page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import (
    Cursor,
    Limit,
    Sort,
    add_record_routes,
    list_description,
    list_response,
)
from crm_core.models.product import Product, ProductCreate, ProductUpdate
from crm_core.services.products import PRODUCTS

PATH = "/v1/products"
router = Router()


@router.get(
    "/",
    tags=["products"],
    summary="List or search products",
    description=list_description(PRODUCTS, "Managers and admins change products; every role reads them."),
    responses=answers(200, list_page_model("ProductPage", Product), 400, 422),
)
def list_products(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived products instead.")] = False,
    q: Annotated[
        str | None, Query(max_length=100, description="Type-ahead prefix over the SKU and the name's words.")
    ] = None,
    sort: Sort = None,
) -> Response[str]:
    return list_response(
        PRODUCTS,
        request_context(router),
        filters={},
        q=q,
        archived=archived,
        limit=limit,
        cursor=cursor,
        sort=sort,
    )


add_record_routes(
    router,
    PRODUCTS,
    PATH,
    ProductCreate,
    ProductUpdate,
    Product,
    routes=frozenset({"create", "read", "update", "archive", "restore", "timeline", "batch"}),
)
