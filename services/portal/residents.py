"""The residents' pages (the ingress's public host): the booking form with its questions first, and
each resident's own page by the private link in their e-mails (or the reference and code read out
on the phone): the booking's status and window, what to have ready (持ち物), cancelling.

No sign-in and no session: the answers travel in the form, and the own page is the link itself.
Booking checks everything again, rate-limits by the resident's address and audits each look."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from nameko.web.handlers import http
from pymongo.errors import ConnectionFailure
from werkzeug.wrappers import Request, Response

from services.booking.schemas import RESIDENT_CANCEL_REASONS
from services.portal import apply, forms, japanese, views
from services.portal.backend import Answer, Backend, ServiceUnavailable
from services.portal.oidc import OidcSettings
from services.portal.sessions import STAFF_HOME
from services.portal.web import PageError, redirect, render
from shared import municipality, preparation
from shared.public import client_address
from shared.settings import public_base_url
from shared.validation import normalize

log = logging.getLogger(__name__)

CANCEL_REASONS = dict(
    zip(
        RESIDENT_CANCEL_REASONS,
        ("都合が悪くなった", "市役所の窓口で申請した（申請する）", "申請しないことにした", "その他"),
        strict=True,
    )
)
# The half-days a resident may ask for, in their words.
PERIODS = {"any": "どちらでもよい", "am": "午前", "pm": "午後"}
STATUS_WORDS = {
    "received": "受け付けました。訪問の日時を調整しています",
    "scheduled": "訪問の日時が決まりました",
    "cancelled": "取り消しました",
    "visited": "訪問しました",
}


def office_contact() -> dict:
    city = municipality.load()
    return {"name": city.contact_office, "phone": city.contact_phone, "city": city.name}


def public_render(template: str, status: int = 200, **context: Any) -> Response:
    return render(template, status=status, office=office_contact(), **context)


def public_error(error: PageError) -> Response:
    return public_render("public/error.html", status=error.status, error=error)


def resident_page(handler: Callable[..., Response]) -> Callable[..., Response]:
    """A residents' page: every failure ends on a plain Japanese page with the office's phone
    number, never a stack trace or a sign-in."""

    @functools.wraps(handler)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return handler(self, request, *args, **kwargs)
        except PageError as error:
            return public_error(error)
        except (ServiceUnavailable, ConnectionFailure) as error:
            log.warning("%s: %s", handler.__name__, error)
            return public_error(
                PageError(
                    503,
                    "ただいま混み合っています",
                    "お手数ですが、少し時間をおいてからもう一度お試しください。お急ぎの方はお電話でどうぞ。",
                )
            )
        except Exception:
            log.exception("%s failed", handler.__name__)
            return public_error(
                PageError(500, "申し訳ありません。問題が起きました", "お手数ですが、お電話でお問い合わせください。")
            )

    return wrapper


def link_refused(answer: Answer) -> PageError:
    """Booking said no to a link: expired, altered, gone, or too many tries."""
    code = (answer.body or {}).get("error") if isinstance(answer.body, dict) else None
    if code == "link_expired":
        return PageError(401, "このページの有効期限が切れています", "お手数ですが、お電話でお問い合わせください。")
    if answer.status == 404:
        return PageError(404, "お申し込みの記録がありません", answer.message() or "お電話でお問い合わせください。")
    if answer.status == 429:
        return PageError(429, "しばらくお待ちください", answer.message())
    return PageError(
        401,
        "このページを開けませんでした",
        "メールのリンクが途中で切れているか、正しくありません。"
        "メールのリンクを最後までそのまま開くか、受付番号と確認コードを入力してください。",
    )


def is_staff_host(request: Request) -> bool:
    """The staff host's "/" is the staff menu; everywhere else it is the residents' first page."""
    staff_host = urlsplit(OidcSettings.from_env().base_url).netloc
    return staff_host != urlsplit(public_base_url()).netloc and request.host == staff_host


class ResidentPages:
    """The residents' pages (a mixin of PortalService)."""

    # --- the first page ------------------------------------------------------------------------

    @http("GET", "/")
    @resident_page
    def landing(self, request: Request) -> Response:
        if is_staff_host(request):
            return redirect(STAFF_HOME)
        city = municipality.load()
        return public_render("public/landing.html", visits=city.visits, reasons=city.eligibility.reasons)

    # --- the questions and the form -----------------------------------------------------------------

    @http("GET", "/apply")
    @resident_page
    def apply_start(self, request: Request) -> Response:
        return self._question(apply.Answers(), "postal_code")

    @http("POST", "/apply")
    @resident_page
    def apply_answer(self, request: Request) -> Response:
        form = request.form
        answers = apply.read(form)
        step = form.get("step", "postal_code")
        step = step if step in apply.STEPS else "postal_code"
        if form.get("action") == "edit":  # from a "no": the same question again
            return self._question(answers, step if step != "household" else "moving")
        if form.get("action") == "back":
            if step == "household":
                return self._question(answers, "moving")
            return self._question(answers, apply.previous(step))
        if step == "household":
            return self._public_household(request, answers)
        outcome = apply.check(answers, step)
        if outcome.stop:
            return public_render(
                "public/stop.html", reason=apply.stop_reason(outcome.stop), answers=answers, stopped_at=outcome.step
            )
        if outcome.error:
            return self._question(answers, outcome.step, error=outcome.error, status=422)
        if outcome.step == "household":
            household = forms.new_form()
            household.values["postal_code"] = answers.postal_code
            return self._public_household_page(answers, household)
        return self._question(answers, outcome.step)

    def _question(self, answers: apply.Answers, step: str, error: str = "", status: int = 200) -> Response:
        city = municipality.load()
        if step == "reasons" and not city.eligibility.reasons:
            step = "parking"  # a municipality without reasons asks none
        return public_render(
            "public/question.html",
            status=status,
            step=step,
            answers=answers,
            error=error,
            reasons=city.eligibility.reasons,
            months=city.eligibility.no_move_within_months,
            number=apply.STEPS.index(step) + 1,
            total=len(apply.STEPS),
        )

    def _public_household(self, request: Request, answers: apply.Answers) -> Response:
        outcome = apply.check(answers, "moving")  # the answers came back in hidden fields: check again
        if outcome.stop or outcome.error:
            return self._question(answers, outcome.step, error=outcome.error or "", status=422)
        household = forms.read_form(request.form)
        focus = forms.change_applicants(household, request.form.get("action", "save"))
        if focus is not None:
            return self._public_household_page(answers, household, focus=focus)
        body = forms.booking_body(household, channel="web", eligibility=answers.eligibility(False))
        if body is None:
            return self._public_household_page(answers, household, status=422)
        answer = Backend.for_resident(client_address(request)).post("booking", "/api/v1/bookings", body)
        if answer.status == 422:
            household.add_api_errors(answer.field_errors())
            return self._public_household_page(answers, household, status=422)
        if answer.status == 429:
            raise PageError(429, "しばらくお待ちください", answer.message())
        if not answer.ok:
            raise PageError(answer.status, "お申し込みを受け付けられませんでした", answer.message())
        return redirect(f"/my/{answer.body['link']['token']}?new=1")

    def _public_household_page(
        self, answers: apply.Answers, household: forms.HouseholdForm, status: int = 200, focus: str = ""
    ) -> Response:
        city = municipality.load()
        return public_render(
            "public/household.html",
            status=status,
            answers=answers,
            form=household,
            districts=city.districts,
            max_applicants=forms.MAX_APPLICANTS,
            birth_date_help=japanese.BIRTH_DATE_HELP,
            guardian_age=city.eligibility.guardian_under_age,
            focus=focus,
            number=len(apply.STEPS),
            total=len(apply.STEPS),
        )

    # --- the resident's own page --------------------------------------------------------------------

    @http("GET", "/my")
    @resident_page
    def code_form(self, request: Request) -> Response:
        return public_render("public/code.html", reference="", errors={})

    @http("POST", "/my")
    @resident_page
    def code_submit(self, request: Request) -> Response:
        reference = normalize(request.form.get("reference", "")).strip()[:20]
        code = normalize(request.form.get("code", "")).replace(" ", "").strip()[:20]
        errors = {}
        if not reference:
            errors["reference"] = "受付番号を入力してください。"
        if not code:
            errors["code"] = "確認コードを入力してください。"
        if not errors:
            answer = Backend.for_resident(client_address(request)).post(
                "booking", "/api/v1/links", {"reference": reference, "code": code}
            )
            if answer.ok:
                return redirect(f"/my/{answer.body['token']}")
            if answer.status == 429:
                errors["code"] = answer.message()
            elif answer.status == 422:
                for field in answer.field_errors():
                    name = field.get("field") if field.get("field") in ("reference", "code") else "code"
                    errors[name] = "受付番号は 261201-001、確認コードは 6けたの数字の形です。"
            else:
                errors["code"] = answer.message() or "受付番号または確認コードが違います。"
        return public_render("public/code.html", status=422, reference=reference, errors=errors)

    @http("GET", "/my/<token>")
    @resident_page
    def own_booking(self, request: Request, token: str) -> Response:
        return self._own_page(request, token)

    @http("POST", "/my/<token>/slot")
    @resident_page
    def pick_slot(self, request: Request, token: str) -> Response:
        """The resident picks one of the windows their page offered (first come, first served)."""
        kind, _, rest = request.form.get("choice", "").partition("|")
        if kind == "offer" and rest:
            body: dict = {"offer_id": rest}
        elif kind == "window" and "|" in rest:
            crew_id, start = rest.split("|", 1)
            body = {"crew_id": crew_id, "start": start}
        else:
            return self._own_page(
                request, token, status=422, error="日時を選んでから「この日時にする」を押してください。"
            )
        answer = Backend.for_resident(client_address(request), token).post("booking", "/api/v1/self/slot", body)
        if answer.status in (409, 422):
            return self._own_page(request, token, status=409, error=answer.message() or "ほかの日時をお選びください。")
        if not answer.ok:
            raise link_refused(answer)
        return redirect(f"/my/{token}?fixed=1")

    @http("GET", "/my/<token>/dates")
    @resident_page
    def dates_form(self, request: Request, token: str) -> Response:
        booking = self._own(request, token)
        return self._dates_page(token, booking, {}, [])

    @http("POST", "/my/<token>/dates")
    @resident_page
    def dates_submit(self, request: Request, token: str) -> Response:
        booking = self._own(request, token)
        chosen = {f"day{i}": request.form.get(f"day{i}", "") for i in range(3)}
        chosen |= {f"period{i}": request.form.get(f"period{i}", "any") for i in range(3)}
        wishes = [
            {"date": chosen[f"day{i}"], "period": chosen[f"period{i}"] if chosen[f"period{i}"] in PERIODS else "any"}
            for i in range(3)
            if chosen[f"day{i}"]
        ]
        if not wishes:
            return self._dates_page(token, booking, chosen, ["ご希望の日を1つ以上選んでください。"], status=422)
        answer = Backend.for_resident(client_address(request), token).post(
            "booking", "/api/v1/self/dates", {"preferred": wishes}
        )
        if answer.status in (409, 422):
            errors = [f["ja"] for f in answer.field_errors()] or [answer.message()]
            return self._dates_page(token, booking, chosen, errors, status=answer.status)
        if not answer.ok:
            raise link_refused(answer)
        return redirect(f"/my/{token}?dates=1")

    def _dates_page(self, token: str, booking: dict, chosen: dict, errors: list[str], status: int = 200) -> Response:
        return public_render(
            "public/dates.html",
            status=status,
            token=token,
            booking=booking,
            days=views.wish_days(),
            periods=PERIODS,
            chosen=chosen,
            errors=errors,
        )

    def _own_page(self, request: Request, token: str, status: int = 200, error: str = "") -> Response:
        booking = self._own(request, token)
        choices = None
        if booking["status"] == "received":  # no date yet: what the resident may pick
            answer = Backend.for_resident(client_address(request), token).get("booking", "/api/v1/self/offers")
            choices = views.resident_choices(answer.body) if answer.ok else None
        return public_render(
            "public/own.html",
            status=status,
            token=token,
            booking=booking,
            choices=choices,
            error=error,
            new=request.args.get("new") == "1",
            cancelled=request.args.get("cancelled") == "1",
            fixed=request.args.get("fixed") == "1",
            dates=request.args.get("dates") == "1",
        )

    @http("GET", "/my/<token>/prepare")
    @resident_page
    def prepare(self, request: Request, token: str) -> Response:
        booking = self._own(request, token)
        city = municipality.load()
        return public_render(
            "public/prepare.html",
            token=token,
            booking=booking,
            items=preparation.items_for(city, booking["has_child"]),
            only_if=preparation.ONLY_IF,
        )

    @http("GET", "/my/<token>/cancel")
    @resident_page
    def cancel_form(self, request: Request, token: str) -> Response:
        booking = self._own(request, token)
        return public_render("public/cancel.html", token=token, booking=booking, reasons=CANCEL_REASONS, error="")

    @http("POST", "/my/<token>/cancel")
    @resident_page
    def cancel_submit(self, request: Request, token: str) -> Response:
        reason = request.form.get("reason", "")
        if reason not in CANCEL_REASONS:
            booking = self._own(request, token)
            return public_render(
                "public/cancel.html",
                status=422,
                token=token,
                booking=booking,
                reasons=CANCEL_REASONS,
                error="取り消す理由を選んでください。",
            )
        answer = Backend.for_resident(client_address(request), token).post(
            "booking", "/api/v1/self/cancel", {"reason": reason}
        )
        if not answer.ok:
            raise link_refused(answer)
        return redirect(f"/my/{token}?cancelled=1")

    def _own(self, request: Request, token: str) -> dict:
        """The booking as its own page shows it; a refused link ends on a page that says why."""
        answer = Backend.for_resident(client_address(request), token).get("booking", "/api/v1/self")
        if not answer.ok:
            raise link_refused(answer)
        return views.own_booking(answer.body, STATUS_WORDS)
