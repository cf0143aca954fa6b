"""The staff screens (受付, the crew's tablet): server-rendered Japanese pages over the services' own
HTTP APIs, called with the signed-in staff member's token. The portal holds no personal data of its
own: its database has sessions and sign-ins in progress, nothing about residents."""

from __future__ import annotations

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.portal.api import OPENAPI
from services.portal.chair import ChairPages
from services.portal.chair_admin import ChairAdminPages
from services.portal.crew import CrewPages
from services.portal.hall_sessions import HallSessionPages
from services.portal.reception import ReceptionPages
from services.portal.report import ReportPages
from services.portal.residents import ResidentPages
from services.portal.sessions import INDEXES
from services.portal.signin import SignInPages
from services.portal.web import (
    STATIC_DIR,
    Page,
    error_page,
    not_found,
    page,
    security_headers,
)
from shared.db import Mongo
from shared.operations import Operations

STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".json": "application/json"}


class PortalService(
    ResidentPages,
    ChairPages,
    SignInPages,
    ReceptionPages,
    HallSessionPages,
    CrewPages,
    ChairAdminPages,
    ReportPages,
    Operations,
):
    """The pages come from one mixin per audience (residents, community-hall chairs, signin,
    reception, crew, managers); here: the staff menu and files."""

    name = "portal"
    openapi = OPENAPI

    db = Mongo(indexes=INDEXES)

    # --- home ------------------------------------------------------------------------------

    @http("GET", "/staff")
    @page("reception", "crew", "liaison", "manager", "operator")
    def home(self, page: Page) -> Response:
        return page.render("home.html")

    # --- files -----------------------------------------------------------------------------------

    @http("GET", "/sw.js")
    def service_worker(self, request: Request) -> Response:
        """The crew's tablet keeps its day sheet for use without signal (static/sw.js). Served from
        the root so that it may look after /crew/ pages."""
        response = Response((STATIC_DIR / "sw.js").read_bytes(), mimetype="text/javascript")
        response.headers["Cache-Control"] = "no-cache"
        return security_headers(response)

    @http("GET", "/static/<name>")
    def static(self, request: Request, name: str) -> Response:
        path = (STATIC_DIR / name).resolve()
        if path.parent != STATIC_DIR or not path.is_file() or path.suffix not in STATIC_TYPES:
            return error_page(not_found())
        response = Response(path.read_bytes(), mimetype=STATIC_TYPES[path.suffix])
        response.headers["Cache-Control"] = "public, max-age=3600"
        return security_headers(response)
