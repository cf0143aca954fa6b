"""Reception's pages (受付): a phone call from search to a fixed slot, a booking's page, the
residents to phone, batch plans and the waiting list."""

from __future__ import annotations

import time

from marshmallow import ValidationError
from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.portal import forms, japanese, views
from services.portal.hall_sessions import session_for_form, shown_session
from services.portal.web import (
    Page,
    PageError,
    accepted,
    not_found,
    page,
    redirect,
    refused,
)
from shared import municipality, preparation
from shared.validation import japanese as japanese_message
from shared.validation import normalize_phone, phone_message

VISIT_WAIT_SECONDS = 5  # a new booking's visit appears once scheduling has the event
OFFERS = 5


class ReceptionPages:
    """Reception's pages (a mixin of PortalService)."""

    db: object  # the portal's database (shared.db.Mongo), given by the service

    # --- reception: a phone call ---------------------------------------------------------------

    @http("GET", "/reception/phone")
    @page("reception")
    def phone_search_form(self, page: Page) -> Response:
        return page.render("reception/phone.html", phone="", error=None, found=None, referred=[])

    @http("POST", "/reception/phone")
    @page("reception")
    def phone_search(self, page: Page) -> Response:
        typed = page.request.form.get("phone", "").strip()
        try:
            phone = normalize_phone(typed)
        except ValidationError:
            return page.render(
                "reception/phone.html",
                status=422,
                phone=typed,
                error=japanese_message(phone_message()),
                found=None,
                referred=[],
            )
        answer = page.backend.get("booking", "/api/v1/bookings", phone=phone)
        if not answer.ok:
            raise refused(answer, "検索できませんでした")
        found = [views.booking_summary(b) for b in answer.body["bookings"]]
        referred = [views.short_referral(r) for r in answer.body.get("referrals_waiting", [])]
        return page.render("reception/phone.html", phone=typed, error=None, found=found, referred=referred)

    @http("GET", "/reception/bookings/new")
    @page("reception")
    def booking_form(self, page: Page) -> Response:
        referral_id = page.request.args.get("referral")
        if referral_id:
            referral = self._waiting_referral(page, referral_id)
            return self._household_page(page, forms.referral_form(referral), referral=referral)
        session_id = page.request.args.get("session", "")[:64]
        # Refused at once when the session is full or closed, before reception types a household.
        hall = session_for_form(page, session_id) if session_id else None
        return self._household_page(page, forms.new_form(session_id=session_id), hall=hall)

    # --- reception: referrals from community-hall chairs ---------------------------------------

    @http("GET", "/reception/referrals")
    @page("reception")
    def referrals(self, page: Page) -> Response:
        answer = page.backend.get("booking", "/api/v1/short-referrals")
        if not answer.ok:
            raise refused(answer, "紹介の一覧を表示できませんでした")
        sessions = page.backend.get("scheduling", "/api/v1/sessions", days=120)
        halls = {s["session_id"]: views.hall_session(s) for s in (sessions.body or {}).get("sessions", [])}
        return page.render(
            "reception/referrals.html",
            referrals=[views.short_referral(r) for r in answer.body["referrals"]],
            reasons=views.REFERRAL_CLOSE_REASONS,
            halls=halls if sessions.ok else {},
        )

    @http("POST", "/reception/referrals/<referral_id>/close")
    @page("reception")
    def close_referral(self, page: Page, referral_id: str) -> Response:
        reason = page.request.form.get("reason", "")
        if reason not in dict(views.REFERRAL_CLOSE_REASONS):
            raise PageError(400, "見送りにできませんでした", "理由を選んでから「見送りにする」を押してください。")
        accepted(
            page.backend.post("booking", f"/api/v1/short-referrals/{referral_id}/close", {"reason": reason}),
            "見送りにできませんでした",
        )
        return redirect("/reception/referrals")

    def _waiting_referral(self, page: Page, referral_id: str) -> dict:
        answer = page.backend.get("booking", "/api/v1/short-referrals")
        if not answer.ok:
            raise refused(answer, "紹介を表示できませんでした")
        found = next((r for r in answer.body["referrals"] if r["referral_id"] == referral_id), None)
        if found is None:
            raise PageError(
                404, "この紹介は見つかりません", "すでに申込を入力した可能性があります。紹介の一覧をご確認ください。"
            )
        return found

    @http("POST", "/reception/bookings/new")
    @page("reception")
    def booking_submit(self, page: Page) -> Response:
        action = page.request.form.get("action", "save")
        if action == "start":  # from the phone search: the caller's number carried in the form, not a URL
            return self._household_page(page, forms.new_form(phone=page.request.form.get("phone", "")[:40]))
        household = forms.read_form(page.request.form)
        referral = (
            self._waiting_referral(page, household.values["referral_id"]) if household.values["referral_id"] else None
        )
        if action == "drop_session":  # the household would rather be visited at home
            household.values["session_id"] = ""
            return self._household_page(page, household, referral=referral)
        focus = forms.change_applicants(household, action)
        if focus is not None:
            return self._household_page(page, household, focus=focus, referral=referral)
        body = forms.booking_body(household)
        if body is None:
            return self._household_page(page, household, status=422, referral=referral)
        answer = page.backend.post("booking", "/api/v1/bookings", body)
        if answer.status == 422:
            household.add_api_errors(answer.field_errors())
            return self._household_page(page, household, status=422, referral=referral)
        if not answer.ok:
            raise refused(answer, "申込を保存できませんでした")
        if household.values["session_id"]:  # its date is the session's: nothing to arrange
            return redirect(f"/reception/sessions/{household.values['session_id']}?added={answer.body['reference']}")
        return redirect(f"/reception/bookings/{answer.body['booking_id']}/offers?new=1")

    def _household_page(
        self,
        page: Page,
        household: forms.HouseholdForm,
        status: int = 200,
        focus: str = "",
        referral: dict | None = None,
        hall: dict | None = None,
    ) -> Response:
        """The household form; `hall`: the session it signs up to, when the caller has read it."""
        session_id = household.values.get("session_id")
        if hall is None and session_id:
            hall = shown_session(page, session_id)
        return page.render(
            "reception/household.html",
            status=status,
            form=household,
            referral=referral,
            hall=hall,
            districts=municipality.load().districts,
            max_applicants=forms.MAX_APPLICANTS,
            birth_date_help=japanese.BIRTH_DATE_HELP,
            focus=focus,
        )

    # --- reception: offers on the same call --------------------------------------------------

    @http("GET", "/reception/bookings/<booking_id>/offers")
    @page("reception")
    def offers(self, page: Page, booking_id: str) -> Response:
        new = page.request.args.get("new") == "1"
        return self._offers_page(page, booking_id, self._visit_of(page, booking_id, wait=new), new=new)

    @http("POST", "/reception/bookings/<booking_id>/offers")
    @page("reception")
    def fix_offer(self, page: Page, booking_id: str) -> Response:
        visit = self._visit_of(page, booking_id)
        if visit is None:
            raise not_found()
        crew_id, _, start = page.request.form.get("offer", "").partition("|")
        if not crew_id or not start:
            return self._offers_page(
                page, booking_id, visit, error="日時を選んでから「この日時で確定する」を押してください。"
            )
        answer = page.backend.post(
            "scheduling", f"/api/v1/visits/{visit['visit_id']}/slot", {"crew_id": crew_id, "start": start}
        )
        if answer.status == 409:
            fresh = [views.offer(o) for o in answer.body.get("suggestions", [])]
            return self._offers_page(
                page,
                booking_id,
                visit,
                status=409,
                offers=fresh,
                error=f"{answer.message()} 新しい候補から選んでください。",
            )
        if not answer.ok:
            raise refused(answer, "日時を確定できませんでした")
        return page.render("reception/fixed.html", visit=views.visit(answer.body))

    def _visit_of(self, page: Page, booking_id: str, wait: bool = False) -> dict | None:
        """The booking's visit. A just-made booking's (`wait`) appears within moments, once
        scheduling has the booking event, so wait for it briefly; any other is there or not."""
        deadline = time.monotonic() + (VISIT_WAIT_SECONDS if wait else 0)
        while True:
            answer = page.backend.get("scheduling", "/api/v1/visits", booking_id=booking_id)
            if answer.status == 422:
                raise not_found()
            visits = (answer.body or {}).get("visits") or []
            if visits or time.monotonic() > deadline:
                return visits[0] if visits else None
            time.sleep(0.25)

    def _offers_page(
        self,
        page: Page,
        booking_id: str,
        visit: dict | None,
        status: int = 200,
        offers: list | None = None,
        error: str | None = None,
        new: bool = False,
    ) -> Response:
        booking = accepted(page.backend.get("booking", f"/api/v1/bookings/{booking_id}"), "申込を表示できませんでした")
        if visit is not None and offers is None and visit["status"] in ("unscheduled", "scheduled"):
            answer = page.backend.get("scheduling", f"/api/v1/visits/{visit['visit_id']}/suggestions", limit=OFFERS)
            offers = [views.offer(o) for o in (answer.body or {}).get("suggestions", [])] if answer.ok else []
        return page.render(
            "reception/offers.html",
            status=status,
            booking=views.booking_summary(booking.body),
            visit=views.visit(visit) if visit else None,
            offers=offers or [],
            error=error,
            new=new,
        )

    # --- reception: one booking ------------------------------------------------------------------

    @http("GET", "/reception/bookings/<booking_id>")
    @page("reception")
    def booking_page(self, page: Page, booking_id: str) -> Response:
        return self._booking_page(page, booking_id)

    @http("POST", "/reception/bookings/<booking_id>/cancel")
    @page("reception")
    def cancel_booking(self, page: Page, booking_id: str) -> Response:
        reason = page.request.form.get("reason", "")
        if reason not in dict(views.CANCEL_REASONS):
            return self._booking_page(page, booking_id, status=422, error="取り消す理由を選んでください。")
        answer = page.backend.post("booking", f"/api/v1/bookings/{booking_id}/cancel", {"reason": reason})
        accepted(answer, "取り消せませんでした")
        return redirect(f"/reception/bookings/{booking_id}?cancelled=1")

    def _booking_page(self, page: Page, booking_id: str, status: int = 200, error: str | None = None) -> Response:
        booking = accepted(page.backend.get("booking", f"/api/v1/bookings/{booking_id}"), "申込を表示できませんでした")
        visits = (page.backend.get("scheduling", "/api/v1/visits", booking_id=booking_id).body or {}).get("visits")
        sent = page.backend.get("notification", "/api/v1/notifications", booking_id=booking_id)
        return page.render(
            "reception/booking.html",
            status=status,
            booking=views.booking_summary(booking.body),
            visit=views.visit(visits[0]) if visits else None,
            messages=[views.message(m) for m in (sent.body or {}).get("notifications", [])] if sent.ok else [],
            reasons=views.CANCEL_REASONS,
            error=error,
            cancelled=page.request.args.get("cancelled") == "1",
        )

    # --- reception: residents to phone because e-mail could not reach them (要電話) ------------------

    @http("GET", "/reception/to-call")
    @page("reception")
    def to_call(self, page: Page) -> Response:
        waiting = []
        for status in ("to_call", "failed"):
            answer = page.backend.get("notification", "/api/v1/notifications", status=status, limit=200)
            if not answer.ok:
                raise PageError(
                    answer.status, "一覧を表示できませんでした", answer.message() or "もう一度お試しください。"
                )
            waiting += answer.body["notifications"]
        rows = []
        for found in sorted(waiting, key=lambda m: m["created_at"]):
            booking = page.backend.get("booking", f"/api/v1/bookings/{found['booking_id']}")
            if not booking.ok or not (booking.body.get("household") or {}):
                continue  # cancelled and erased, or gone: nobody to phone
            summary = views.booking_summary(booking.body)
            rows.append(
                {
                    **views.message(found),
                    "booking": summary,
                    "phone": booking.body["household"]["phone"],
                    "script": views.phone_script(found, summary["reference"], summary["link_code"]),
                    "preparation": preparation.as_text(
                        municipality.load(), any(a["child"] for a in summary["applicants"])
                    ),
                }
            )
        return page.render("reception/to_call.html", rows=rows, results=views.PHONED_RESULTS)

    @http("POST", "/reception/to-call/<message_id>")
    @page("reception")
    def phoned(self, page: Page, message_id: str) -> Response:
        result = page.request.form.get("result", "")
        if result not in dict(views.PHONED_RESULTS):
            raise PageError(400, "記録できませんでした", "電話の結果を選んでから「記録する」を押してください。")
        answer = page.backend.post("notification", f"/api/v1/notifications/{message_id}/phoned", {"result": result})
        if answer.status == 404:
            raise not_found()
        if not answer.ok and answer.status != 409:  # 409: recorded already (another receptionist)
            raise refused(answer, "記録できませんでした")
        return redirect("/reception/to-call")

    # --- reception: batch plans (まとめて計画) -----------------------------------------------------

    @http("GET", "/reception/plans")
    @page("reception")
    def plan_form(self, page: Page) -> Response:
        return page.render("reception/plan_form.html", error=None, days="10")

    @http("POST", "/reception/plans")
    @page("reception")
    def make_plan(self, page: Page) -> Response:
        days = page.request.form.get("days", "").strip()
        if not days.isdigit() or not 1 <= int(days) <= 60:
            return page.render(
                "reception/plan_form.html",
                status=422,
                error="計画する業務日の数を 1〜60 で入力してください。",
                days=days,
            )
        answer = page.backend.post("scheduling", "/api/v1/plans", {"days": int(days)})
        if not answer.ok:
            raise refused(answer, "計画を作成できませんでした")
        return redirect(f"/reception/plans/{answer.body['plan_id']}")

    @http("GET", "/reception/plans/<plan_id>")
    @page("reception")
    def plan_page(self, page: Page, plan_id: str) -> Response:
        return self._plan_page(page, plan_id)

    @http("POST", "/reception/plans/<plan_id>/fix")
    @page("reception")
    def fix_proposals(self, page: Page, plan_id: str) -> Response:
        """Fixes one proposal (its button) or every proposal still open ("すべて確定")."""
        found = page.backend.get("scheduling", f"/api/v1/plans/{plan_id}")
        if found.status in (404, 422):
            raise not_found()
        waiting = self._waiting(page)
        chosen = page.request.form.get("visit_id")
        proposals = [
            p for p in found.body["proposals"] if p["visit_id"] in waiting and (not chosen or p["visit_id"] == chosen)
        ]
        fixed, clashes = 0, []
        for proposal in proposals:
            answer = page.backend.post(
                "scheduling",
                f"/api/v1/visits/{proposal['visit_id']}/slot",
                {"crew_id": proposal["crew_id"], "start": proposal["window_start"]},
            )
            if answer.ok:
                fixed += 1
            else:
                clashes.append(waiting[proposal["visit_id"]]["reference"])
        return self._plan_page(page, plan_id, fixed=fixed, clashes=clashes)

    def _waiting(self, page: Page) -> dict[str, dict]:
        answer = page.backend.get("scheduling", "/api/v1/visits", status="unscheduled", limit=500)
        return {v["visit_id"]: v for v in (answer.body or {}).get("visits", [])} if answer.ok else {}

    def _plan_page(self, page: Page, plan_id: str, fixed: int | None = None, clashes: list | None = None) -> Response:
        found = page.backend.get("scheduling", f"/api/v1/plans/{plan_id}")
        if found.status in (404, 422):
            raise not_found()
        if not found.ok:
            raise refused(found, "計画を表示できませんでした")
        return page.render(
            "reception/plan.html", plan=views.plan(found.body, self._waiting(page)), fixed=fixed, clashes=clashes or []
        )

    # --- reception: lists ------------------------------------------------------------------------

    @http("GET", "/reception/waiting")
    @page("reception")
    def waiting(self, page: Page) -> Response:
        answer = page.backend.get("scheduling", "/api/v1/visits", status="unscheduled", limit=500)
        if not answer.ok:
            raise refused(answer, "一覧を表示できませんでした")
        city = municipality.load()
        waiting = [views.visit(v) for v in answer.body["visits"]]
        return page.render("reception/waiting.html", visits=waiting, wait_bound=city.visits.max_wait_working_days)
