"""Users: /v1/users. Adding, changing and deactivating users is an admin's; every role reads them (to
assign a record to someone)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from crm_core.http.api_docs import answers, list_page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import (
    Cursor,
    IdFilter,
    Limit,
    RecordIdPath,
    Sort,
    add_record_routes,
    list_description,
    list_response,
    write_extensions,
)
from crm_core.http.responses import parse_if_match, record_response
from crm_core.models.user import RoleName, User, UserCreate, UserUpdate
from crm_core.services.users import USERS

PATH = "/v1/users"
router = Router()


@router.get(
    "/",
    tags=["users"],
    summary="List or search users",
    description=list_description(USERS, "Deactivated users are listed too (`active` false)."),
    responses=answers(200, list_page_model("UserPage", User), 400, 422),
)
def list_users(
    limit: Limit = 25,
    cursor: Cursor = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Type-ahead prefix over name and email.")
    ] = None,
    role: Annotated[RoleName | None, Query()] = None,
    team_id: IdFilter = None,
    sort: Sort = None,
) -> Response[str]:
    return list_response(
        USERS,
        request_context(router),
        filters={"role": role, "team_id": team_id},
        q=q,
        archived=False,
        limit=limit,
        cursor=cursor,
        sort=sort,
    )


@router.delete(
    "/<record_id>",
    openapi_extensions=write_extensions(USERS),
    tags=["users"],
    summary="Deactivate a user",
    description="As PATCH with `active: false`: the user keeps what it owns, and every credential it holds "
    "(API keys, web sign-in) is refused from its next request. PATCH `active: true` reactivates it. The "
    "tenant's last active admin cannot be deactivated (409).",
    responses=answers(200, User, 400, 403, 404, 409, 412, 422, etag=True),
)
def deactivate_user(record_id: RecordIdPath) -> Response[str]:
    if_match = parse_if_match(router.current_event.headers.get("if-match"))
    return record_response(USERS.deactivate(request_context(router), record_id, if_match))


add_record_routes(
    router,
    USERS,
    PATH,
    UserCreate,
    UserUpdate,
    User,
    routes=frozenset({"create", "read", "update", "timeline"}),
    descriptions={
        "create": "The user, invited to sign in to the web app where the tenant's user pool is set up "
        "(locally an admin issues it an API key: POST /v1/api-keys with its user_id). Its email is unique "
        "in the tenant (409 with existing_id).",
        "update": "Only the fields sent change. A new role or `active: false` takes effect on the user's "
        "next request, for every credential it holds. The last active admin keeps its role (409).",
    },
)
