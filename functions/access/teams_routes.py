"""Teams: /v1/teams. A manager changes the records its team's users own."""

from aws_lambda_powertools.event_handler.api_gateway import Router
from crm_core.http.record_routes import add_record_routes
from crm_core.models.team import Team, TeamCreate, TeamUpdate
from crm_core.services.teams import TEAMS

PATH = "/v1/teams"
router = Router()


add_record_routes(
    router,
    TEAMS,
    PATH,
    TeamCreate,
    TeamUpdate,
    Team,
    routes=frozenset({"list", "create", "read", "update", "archive", "restore", "timeline"}),
    descriptions={
        "create": "Its members are the users whose team_id is this team; its manager_id (a user with the "
        "manager role) changes the records they own.",
        "archive": "Only a team without members (409 otherwise).",
    },
)
