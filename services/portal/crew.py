"""The crew's day: the day sheet on the tablet, results per applicant, and the day's calls
(当日連絡), which reception uses too."""

from __future__ import annotations

import datetime as dt

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.portal import views
from services.portal.web import (
    Page,
    PageError,
    accepted,
    day_or_today,
    page,
    redirect,
    reference_or_none,
    refused,
)
from shared import municipality


class CrewPages:
    """The crew's pages (a mixin of PortalService)."""

    db: object  # the portal's database (shared.db.Mongo), given by the service

    # --- the crew's tablet ---------------------------------------------------------------------------

    @http("GET", "/crew/day")
    @page("crew", "reception")
    def crew_day(self, page: Page) -> Response:
        day = day_or_today(page.request.args.get("date"))
        crew_id = page.session.staff.crew_id or page.request.args.get("crew") or municipality.load().crews[0].id
        answer = page.backend.get("scheduling", f"/api/v1/crews/{crew_id}/days/{day.isoformat()}")
        if answer.status == 403:
            raise PageError(403, "この班の予定は表示できません", "ご自分の班の予定をお選びください。")
        if not answer.ok:
            raise refused(answer, "予定を表示できませんでした")
        return page.render(
            "crew/day.html",
            sheet=views.day_sheet(answer.body),
            day=day,
            previous=day - dt.timedelta(days=1),
            following=day + dt.timedelta(days=1),
            results=views.APPLICANT_RESULTS,
            recorded=reference_or_none(page.request.args.get("recorded")),
        )

    @http("POST", "/crew/visits/<visit_id>/result")
    @page("crew", "reception")
    def record_result(self, page: Page, visit_id: str) -> Response:
        form = page.request.form
        known = {value for value, _ in views.APPLICANT_RESULTS}
        applicants = []
        for i in range(10):
            value = form.get(f"applicant_{i}")
            if value is None:
                break
            if value not in known:
                raise PageError(400, "結果を記録できませんでした", "結果をもう一度選んでから送信してください。")
            applicants.append({"result": value})
        body = {"applicants": applicants, "note": form.get("note", ""), "result_id": form.get("result_id") or None}
        answer = page.backend.post("scheduling", f"/api/v1/visits/{visit_id}/done", body)
        if answer.status == 409:
            raise PageError(409, "この訪問の結果は記録済みです", "別の結果に直すときは、受付に連絡してください。")
        if answer.status == 422:
            messages = "、".join(f["ja"] for f in answer.field_errors()) or answer.message()
            raise PageError(
                422, "結果を記録できませんでした", f"{messages} 訪問予定の画面に戻って、もう一度送信してください。"
            )
        if not answer.ok:
            raise refused(answer, "結果を記録できませんでした")
        day = day_or_today(form.get("date"))
        reference = reference_or_none(form.get("reference")) or ""
        return redirect(f"/crew/day?date={day.isoformat()}&recorded={reference}")

    # --- reception and crew: the day's calls (当日連絡) ----------------------------------------------

    @http("GET", "/calls")
    @page("reception", "crew")
    def calls(self, page: Page) -> Response:
        day = day_or_today(page.request.args.get("date"))
        answer = page.backend.get("notification", "/api/v1/call-tasks", date=day.isoformat())
        if not answer.ok:
            raise PageError(
                answer.status, "電話の一覧を表示できませんでした", answer.message() or "もう一度お試しください。"
            )
        tasks = [views.call_task(t) for t in answer.body["call_tasks"]]
        return page.render(
            "calls.html",
            day=day,
            previous=day - dt.timedelta(days=1),
            following=day + dt.timedelta(days=1),
            tasks=tasks,
            open_count=sum(t["status"] == "open" for t in tasks),
            results=views.CALL_RESULTS,
            contacts_available=answer.body["contacts_available"],
        )

    @http("POST", "/calls/<task_id>")
    @page("reception", "crew")
    def record_call(self, page: Page, task_id: str) -> Response:
        result = page.request.form.get("result", "")
        day = day_or_today(page.request.form.get("date"))
        if result not in dict(views.CALL_RESULTS):
            raise PageError(400, "記録できませんでした", "電話の結果を選んでから「記録する」を押してください。")
        answer = page.backend.post("notification", f"/api/v1/call-tasks/{task_id}/result", {"result": result})
        accepted(answer, "記録できませんでした")
        return redirect(f"/calls?date={day.isoformat()}#task-{task_id}")
