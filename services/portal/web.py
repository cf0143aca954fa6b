"""Pages over nameko's @http: templates, the session cookie, CSRF, security headers, and errors that
end on a Japanese page saying what to do (never a stack trace)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pymongo.errors import ConnectionFailure
from werkzeug.wrappers import Request, Response

from services.portal import japanese
from services.portal.backend import Answer, Backend, ServiceUnavailable
from services.portal.oidc import OidcSettings
from services.portal.sessions import STAFF_HOME, Session, Sessions
from shared import clock, municipality
from shared.validation import MOBILE_EXAMPLE

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
COOKIE = "mynacar_session"

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters.update(day_label=japanese.day_label, era=japanese.era_of)


def _phone_examples() -> str:
    """The phone field's hint: the municipality's office number and a mobile one (its file)."""
    return f"{municipality.load().contact_phone}、{MOBILE_EXAMPLE}"


_templates.globals["phone_examples"] = _phone_examples


class PageError(Exception):
    """An answer that is a page: status, title and what the person should do."""

    def __init__(self, status: int, title: str, advice: str) -> None:
        super().__init__(title)
        self.status, self.title, self.advice = status, title, advice


def forbidden() -> PageError:
    return PageError(
        403,
        "この画面を開く権限がありません",
        "担当の業務の画面からお使いください。権限が必要な場合は、システム管理者にご相談ください。",
    )


def not_found() -> PageError:
    return PageError(404, "お探しのページが見つかりません", "メニューからもう一度お選びください。")


def expired_form() -> PageError:
    return PageError(
        400,
        "画面の有効期限が切れました",
        "入力内容は保存されていません。メニューから開き直して、もう一度操作してください。",
    )


def unavailable() -> PageError:
    return PageError(
        503,
        "ただいまシステムが混み合っています",
        "内容は保存されていない可能性があります。少し待ってから、もう一度お試しください。",
    )


@functools.cache
def _provider_origin() -> str:
    """Signing out posts a form that ends at the provider: form-action must allow it (browsers apply
    form-action to the redirects a submission follows)."""
    parts = urlsplit(OidcSettings.from_env().issuer)
    return f"{parts.scheme}://{parts.netloc}"


def accepted(answer: Answer, title: str) -> Answer:
    """The answer if the service said yes; otherwise the page to show: 404 as not found, any other
    refusal in the service's own Japanese words (refused)."""
    if answer.status == 404:
        raise not_found()
    if not answer.ok:
        raise refused(answer, title)
    return answer


def refused(answer: Answer, title: str) -> PageError:
    """A service said no (or something unexpected): its own Japanese words, or "try again"."""
    return PageError(answer.status, title, answer.message() or "もう一度お試しください。")


def security_headers(response: Response) -> Response:
    """A strict policy: our own styles and scripts only, no inline script, no framing."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
        f"manifest-src 'self'; worker-src 'self'; form-action 'self' {_provider_origin()}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def render(template: str, status: int = 200, **context: Any) -> Response:
    html = _templates.get_template(template).render(**context)
    return security_headers(Response(html, status=status, mimetype="text/html"))


def redirect(location: str, status: int = 303) -> Response:
    return security_headers(Response("", status=status, headers={"Location": location}))


def error_page(error: PageError, session: Session | None = None) -> Response:
    return render("error.html", status=error.status, error=error, session=session)


class Page:
    """What a page handler gets: the request, the signed-in member's session, and the services."""

    def __init__(self, request: Request, session: Session, sessions: Sessions) -> None:
        self.request = request
        self.session = session
        self.sessions = sessions
        self.backend = Backend(session.access_token, scheme=session.scheme)

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return render(template, status=status, session=self.session, **context)


def broken() -> PageError:
    return PageError(
        500,
        "システムで問題が起きました",
        "内容は保存されていない可能性があります。少し待ってからもう一度お試しください。"
        "続くときは、システムの担当者に連絡してください。",
    )


def guarded(handler: Callable[..., Response]) -> Callable[..., Response]:
    """A page that needs no session still ends on a Japanese page, never a stack trace: a bug is
    logged and answered with a plain apology (500)."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return handler(*args, **kwargs)
        except Exception:
            log.exception("%s failed", handler.__name__)
            return error_page(broken())

    return wrapper


def page(*roles: str, sign_in: str = "", on_error: Callable[..., Response] | None = None) -> Callable:
    """A page for staff holding one of `roles`. No session: off to sign in (then back here). A POST
    must carry the session's CSRF token. The services' refusals become pages: 401 (the token ran
    out) signs in again, 403 is the Japanese refusal, 5xx or silence says try again.
    `sign_in` and `on_error`: where a community-hall chair signs in, and their pages' look."""
    show_error = on_error or error_page

    def decorate(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            session = None
            try:
                sessions = Sessions(self.db)
                session = sessions.load(request.cookies.get(COOKIE))
                if session is None:
                    if sign_in:
                        return redirect(sign_in)
                    target = request.full_path if request.method == "GET" else STAFF_HOME
                    return redirect(f"/signin?next={_quote(target.rstrip('?'))}")
                if not session.staff.has(*roles):
                    raise forbidden()
                if request.method == "POST" and not session.csrf_ok(request.form.get("csrf_token")):
                    raise expired_form()
                return handler(self, Page(request, session, sessions), *args, **kwargs)
            except PageError as error:
                return show_error(error, session)
            except (ServiceUnavailable, ConnectionFailure) as error:
                log.warning("%s: %s", handler.__name__, error)
                return show_error(unavailable(), session)
            except Exception:
                log.exception("%s failed", handler.__name__)
                return show_error(broken(), session)

        return wrapper

    return decorate


def _quote(path: str) -> str:
    return quote(path, safe="/")


def set_session_cookie(response: Response, session_id: str, secure: bool) -> Response:
    response.set_cookie(COOKIE, session_id, httponly=True, secure=secure, samesite="Lax", path="/")
    return response


def clear_session_cookie(response: Response, secure: bool) -> Response:
    response.delete_cookie(COOKIE, httponly=True, secure=secure, samesite="Lax", path="/")
    return response


def reference_or_none(text: str | None) -> str | None:
    """A booking reference (e.g. 261201-001) to show back, or nothing: never echo other input."""
    return text if text and re.fullmatch(r"\d{6}-\d{3}", text) else None


def day_or_today(text: str | None) -> dt.date:
    """The day a page asks for (?date=2026-12-03), or today; a bad one is a 400 page."""
    if text:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise PageError(400, "日付が正しくありません", "日付は 2026-12-03 の形で指定してください。") from None
        if dt.date(2000, 1, 1) <= day <= dt.date(2199, 12, 31):
            return day
        raise PageError(400, "日付が正しくありません", "その日付の予定はありません。")
    return clock.today()
