"""Signing staff in and out with the city's OpenID Connect provider (oidc.py), and the session
that follows (sessions.py)."""

from __future__ import annotations

import datetime as dt
import logging
import time

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.portal import oidc
from services.portal.sessions import STAFF_HOME, Sessions
from services.portal.web import (
    COOKIE,
    Page,
    PageError,
    clear_session_cookie,
    error_page,
    guarded,
    page,
    redirect,
    render,
    set_session_cookie,
)
from shared.auth import verifier
from shared.http import ApiError

log = logging.getLogger(__name__)

_provider: oidc.Provider | None = None


def provider() -> oidc.Provider:
    global _provider
    if _provider is None:
        _provider = oidc.Provider(oidc.OidcSettings.from_env())
    return _provider


def sign_in_failed() -> PageError:
    return PageError(
        400,
        "ログインできませんでした",
        "時間がたちすぎたか、ログインの途中で画面が切り替わりました。もう一度ログインしてください。",
    )


class SignInPages:
    """The sign-in pages of the portal (a mixin of PortalService)."""

    db: object  # the portal's database (shared.db.Mongo), given by the service

    # --- sign-in ---------------------------------------------------------------------------

    @http("GET", "/signin")
    @guarded
    def sign_in(self, request: Request) -> Response:
        sign_in = Sessions(self.db).begin_sign_in(request.args.get("next", STAFF_HOME))
        try:
            url = provider().authorization_url(sign_in.state, sign_in.nonce, sign_in.code_verifier)
        except oidc.SignInFailed as error:
            log.warning("sign-in unavailable: %s", error)
            return error_page(PageError(503, "ログイン画面を開けません", "少し待ってから、もう一度お試しください。"))
        return redirect(url, status=302)

    @http("GET", "/auth/callback")
    @guarded
    def sign_in_callback(self, request: Request) -> Response:
        sessions = Sessions(self.db)
        sign_in = sessions.take_sign_in(request.args.get("state", ""))
        code = request.args.get("code", "")
        if sign_in is None or not code:
            return error_page(sign_in_failed())
        try:
            tokens = provider().exchange(code, sign_in.code_verifier)
            claims = provider().verify_id_token(str(tokens.get("id_token", "")), sign_in.nonce)
            access_token = str(tokens["access_token"])
            member = verifier().verify(access_token, cache=False)
        except (oidc.SignInFailed, ApiError, KeyError) as error:
            log.warning(
                "sign-in refused: %s", type(error).__name__ if not isinstance(error, oidc.SignInFailed) else error
            )
            return error_page(sign_in_failed())
        if member.subject != claims["sub"]:
            return error_page(sign_in_failed())
        expires = dt.datetime.fromtimestamp(float(tokens.get("expires_at") or time.time() + 3600), dt.UTC)
        session_id, _ = sessions.create(member, str(claims.get("name") or member.subject), access_token, expires)
        log.info("signed in: %s (%s)", member.subject, member.role)
        return set_session_cookie(redirect(sign_in.return_to), session_id, self._secure_cookies())

    @http("POST", "/signout")
    @page("reception", "crew", "liaison", "manager", "operator")
    def sign_out(self, page: Page) -> Response:
        page.sessions.end(page.request.cookies.get(COOKIE))
        settings = provider().settings
        target = provider().end_session_url(f"{settings.base_url}/signed-out") or "/signed-out"
        response = clear_session_cookie(redirect(target), self._secure_cookies())
        # The tablet's kept day sheets and results hold residents' details: gone with the session
        # (the page asks first when results are still waiting to be sent).
        response.headers["Clear-Site-Data"] = '"cache", "storage"'
        return response

    @http("GET", "/signed-out")
    @guarded
    def signed_out(self, request: Request) -> Response:
        return render("signed_out.html")

    def _secure_cookies(self) -> bool:
        # Browsers keep Secure cookies on http://127.0.0.1 and localhost too, so always Secure.
        return True
