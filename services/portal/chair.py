"""Community-hall chairs' pages (公民館長用ページ, on the public host): sign in with a link e-mailed
to the address the city registered, refer a neighbour with a short form, and follow each referral
from 紹介 to 訪問済. Chairs are volunteers, not city staff: their session is the liaison channel's
(services/liaison/chairs.py), and they see only their own referrals, by name and status."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import urlsplit

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.portal import views
from services.portal.backend import Backend
from services.portal.residents import office_contact, public_error, public_render, resident_page
from services.portal.sessions import Session, Sessions
from services.portal.web import (
    COOKIE,
    Page,
    PageError,
    clear_session_cookie,
    page,
    redirect,
    refused,
    set_session_cookie,
)
from shared import municipality
from shared.auth import Staff
from shared.public import client_address
from shared.validation import normalize

log = logging.getLogger(__name__)

SCHEME = "ChairSession"
ROLE = "chair"  # the portal's own word for a chair's session; no staff page lets it in
# Where a referral stands, in the chair's words, in order.
STEPS = (("referred", "紹介"), ("booked", "受付"), ("slot_fixed", "日程確定"), ("visited", "訪問済"))
# Why reception closed a referral without a booking, as the chair reads it.
CLOSED_WORDS = {
    "declined": "ご本人が希望されませんでした",
    "unreachable": "お電話がつながりませんでした",
    "already_booked": "すでにお申し込み済みでした",
    "applied_elsewhere": "ほかの方法で申請されました",
}
SHORT_FIELDS = ("name", "phone", "district", "memo", "consent", "session_id")
SHORT_LABELS = {
    "name": "お名前",
    "phone": "電話番号",
    "district": "地区",
    "memo": "メモ",
    "consent": "ご本人の同意",
    "session_id": "集団申請会",
}


def chair_error(error: PageError, session: Session | None = None) -> Response:
    """The residents' plain error page. A 401 means the chair's session with the channel ended
    (signed out elsewhere, expired, or the chair disabled): the cookie goes too, so /chair asks for
    a new link instead of sending the chair round in a circle."""
    response = public_error(error)
    return clear_session_cookie(response, True) if error.status == 401 else response


def chair_page(handler: Any) -> Any:
    """A chair's page: their session or off to /chair; errors in the residents' plain look."""
    return page(ROLE, sign_in="/chair", on_error=chair_error)(handler)


def _for_visitor(request: Request) -> Backend:
    return Backend.for_resident(client_address(request))


def _from_this_site(request: Request) -> bool:
    """The browser says the form came from this site (Sec-Fetch-Site, else Origin); a request
    that says neither (an old browser, a script) is let through, as its link is still one-time."""
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None:
        return fetched_from in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _short_form_errors(answer_fields: list[dict]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in answer_fields:
        name = str(error.get("field", ""))
        name = name if name in SHORT_LABELS else "name"
        errors.setdefault(name, f"{SHORT_LABELS[name]}：{error.get('ja', '')}")
    return errors


class ChairPages:
    """The chairs' pages (a mixin of PortalService)."""

    db: Any

    @http("GET", "/chair")
    @resident_page
    def chair_start(self, request: Request) -> Response:
        session = Sessions(self.db).load(request.cookies.get(COOKIE))
        if session is not None and session.staff.has(ROLE):
            return redirect("/chair/referrals")
        return public_render("chair/signin.html", email="", errors={}, signed_out=request.args.get("signed_out") == "1")

    @http("POST", "/chair/link")
    @resident_page
    def chair_link(self, request: Request) -> Response:
        email = normalize(request.form.get("email", ""))[:120]
        if not email:
            errors = {"email": "メールアドレスを入力してください。"}
            return public_render("chair/signin.html", status=422, email=email, errors=errors, signed_out=False)
        answer = _for_visitor(request).post("liaison", "/api/v1/chair-links", {"email": email})
        if answer.status == 422:
            errors = {"email": "メールアドレスの形式が正しくありません（例: name@example.jp）。"}
            return public_render("chair/signin.html", status=422, email=email, errors=errors, signed_out=False)
        if answer.status != 202:
            raise PageError(
                answer.status, "メールを送れませんでした", answer.message() or "少し待ってからお試しください。"
            )
        return public_render("chair/link_sent.html", email=email)

    @http("GET", "/chair/signin/<token>")
    @resident_page
    def chair_confirm(self, request: Request, token: str) -> Response:
        # A button, not an automatic sign-in: mail scanners that open links would use the one-time link up.
        return public_render("chair/confirm.html", token=token[:100])

    @http("POST", "/chair/signin/<token>")
    @resident_page
    def chair_sign_in(self, request: Request, token: str) -> Response:
        if not _from_this_site(request):
            # Another site posting someone's link would sign the visitor in as that chair.
            advice = "メールのリンクを開き、このページのボタンを押してください。"
            raise PageError(403, "ログインできませんでした", advice)
        answer = _for_visitor(request).post("liaison", "/api/v1/chair-sessions", {"token": token[:100]})
        if answer.status in (401, 422):
            raise PageError(
                401,
                "このリンクは使えません",
                "リンクは15分間、1回だけ使えます。公民館長用ページの入口から、もう一度リンクを送ってください。",
            )
        if answer.status != 201:
            raise refused(answer, "ログインできませんでした")
        chair = answer.body["chair"]
        member = Staff(subject=chair["chair_id"], roles=frozenset({ROLE}), liaison_id=chair["chair_id"])
        expires = dt.datetime.fromisoformat(answer.body["expires_at"])
        name = f"{chair['name']}（{chair['community_hall']}）"
        session_id, _ = Sessions(self.db).create(member, name, answer.body["session_token"], expires, scheme=SCHEME)
        log.info("chair signed in: %s", chair["chair_id"])
        return set_session_cookie(redirect("/chair/referrals"), session_id, True)

    @http("GET", "/chair/referrals")
    @chair_page
    def chair_referrals(self, page: Page) -> Response:
        answer = page.backend.get("liaison", "/api/v1/referrals")
        if not answer.ok:
            raise refused(answer, "紹介の一覧を表示できませんでした")
        rows = [
            {
                "name": r["name"] or "（お名前なし）",
                "day": dt.datetime.fromisoformat(r["created_at"]).strftime("%-m月%-d日"),
                "step": next((i for i, (status, _) in enumerate(STEPS) if status == r["status"]), 0),
                "closed": CLOSED_WORDS.get(r["closed_reason"] or "", "") if r["status"] == "closed" else "",
            }
            for r in answer.body["referrals"]
        ]
        return page.render(
            "chair/referrals.html",
            office=office_contact(),
            rows=rows,
            steps=STEPS,
            referred=page.request.args.get("referred") == "1",
        )

    @http("GET", "/chair/referrals/new")
    @chair_page
    def chair_refer_form(self, page: Page) -> Response:
        return self._refer_page(page, {}, {})

    @http("POST", "/chair/referrals/new")
    @chair_page
    def chair_refer(self, page: Page) -> Response:
        form = page.request.form
        values = {name: str(form.get(name, "")).strip()[:300] for name in SHORT_FIELDS}
        errors = {
            name: f"{SHORT_LABELS[name]}を{'選んで' if name == 'district' else '入力して'}ください。"
            for name in ("name", "phone", "district")
            if not values[name]
        }
        if values["consent"] != "yes":
            errors["consent"] = "ご本人が紹介に同意されたことを確かめて、チェックを入れてください。"
        if errors:
            return self._refer_page(page, values, errors, status=422)
        body = {**{k: values[k] for k in ("name", "phone", "district", "memo")}, "consent": True}
        if values["session_id"]:
            body["session_id"] = values["session_id"][:64]
        answer = page.backend.post("liaison", "/api/v1/referrals/short", body)
        if answer.status == 422:
            return self._refer_page(page, values, _short_form_errors(answer.field_errors()), status=422)
        if not answer.ok:
            raise refused(answer, "紹介を送れませんでした")
        return redirect("/chair/referrals?referred=1")

    @http("POST", "/chair/signout")
    @chair_page
    def chair_sign_out(self, page: Page) -> Response:
        page.backend.post("liaison", "/api/v1/chair-signout")
        page.sessions.end(page.request.cookies.get(COOKIE))
        return clear_session_cookie(redirect("/chair?signed_out=1"), True)

    def _refer_page(self, page: Page, values: dict, errors: dict, status: int = 200) -> Response:
        return page.render(
            "chair/refer.html",
            status=status,
            office=office_contact(),
            values=values,
            errors=errors,
            districts=municipality.load().districts,
            halls=self._hall_sessions(page),
        )

    @staticmethod
    def _hall_sessions(page: Page) -> list[dict]:
        """Sessions in the chair's district a neighbour may join; none shown while unavailable (the
        chair can still refer for a home visit)."""
        answer = page.backend.get("liaison", "/api/v1/hall-sessions")
        return [views.hall_session(s) for s in answer.body["sessions"]] if answer.ok else []
