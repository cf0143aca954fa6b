"""Hall sessions (集団申請会) on reception's screens: the sessions ahead with their seats, opening a
new one in a crew's day, and one session's sign-ups. Households are signed up through the usual
phone form (reception.py), which carries the session along."""

from __future__ import annotations

from dataclasses import dataclass, field

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.portal import views
from services.portal.web import Page, PageError, accepted, not_found, page, redirect, reference_or_none, refused
from shared import municipality

LABELS = {
    "venue": "会場",
    "date": "日付",
    "opens": "始まりの時刻",
    "closes": "終わりの時刻",
    "capacity": "定員",
    "crew_id": "担当する班",
    "form": "入力内容",
}
TIMES = [f"{hour:02d}:{minute:02d}" for hour in range(9, 17) for minute in (0, 30)] + ["17:00"]
WORKING_DAYS_OFFERED = 60


@dataclass
class SessionForm:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def error_list(self) -> list[tuple[str, str]]:
        """(field, what to fix) in the form's order; the label leads unless the message names it."""
        summary = []
        for name in (n for n in LABELS if n in self.errors):
            message = self.errors[name]
            summary.append((name, message if message.startswith(LABELS[name]) else f"{LABELS[name]}：{message}"))
        return summary


def read_form(form: object) -> SessionForm:
    values = {name: str(form.get(name, "")).strip()[:64] for name in LABELS if name != "form"}  # type: ignore[attr-defined]
    return SessionForm(values=values)


def session_body(session_form: SessionForm) -> dict | None:
    """The scheduling API's body, or None with the form's errors filled in (a field left empty)."""
    values = session_form.values
    for name in ("venue", "date", "opens", "closes", "capacity"):
        if not values.get(name):
            verb = "入力してください" if name == "capacity" else "選んでください"
            session_form.errors[name] = f"{LABELS[name]}を{verb}。"
    capacity = values.get("capacity", "")
    if capacity and not capacity.isdigit():
        session_form.errors["capacity"] = "定員は 5〜30 の数字で入力してください。"
    if session_form.errors:
        return None
    return {
        "venue": values["venue"],
        "crew_id": values["crew_id"] or municipality.load().crews[0].id,
        "date": values["date"],
        "opens": values["opens"],
        "closes": values["closes"],
        "capacity": int(capacity),
    }


class HallSessionPages:
    """Reception's pages for hall sessions (a mixin of PortalService)."""

    db: object

    @http("GET", "/reception/sessions")
    @page("reception")
    def hall_sessions(self, page: Page) -> Response:
        answer = page.backend.get("scheduling", "/api/v1/sessions", days=120)
        if not answer.ok:
            raise refused(answer, "集団申請会の一覧を表示できませんでした")
        found = [views.hall_session(s) for s in answer.body["sessions"]]
        return page.render("reception/sessions.html", sessions=found)

    @http("GET", "/reception/sessions/new")
    @page("reception")
    def hall_session_form(self, page: Page) -> Response:
        return self._session_form(page, SessionForm(values={"opens": "10:00", "closes": "12:00", "capacity": "8"}))

    @http("POST", "/reception/sessions/new")
    @page("reception")
    def open_hall_session(self, page: Page) -> Response:
        session_form = read_form(page.request.form)
        body = session_body(session_form)
        if body is None:
            return self._session_form(page, session_form, status=422)
        answer = page.backend.post("scheduling", "/api/v1/sessions", body)
        if answer.status == 422:
            for error in answer.field_errors():
                name = error.get("field", "")
                session_form.errors[name if name in LABELS else "form"] = str(error.get("ja", ""))
            if not session_form.errors:  # not a working day: the date is what to change
                session_form.errors["date"] = answer.message()
            return self._session_form(page, session_form, status=422)
        if answer.status == 409:
            session_form.errors["date"] = (
                f"{answer.message()} 班のほかの訪問と重ならない日か時刻を選んでください"
                "（会場での準備のため、始まりの30分前に着く必要があります）。"
            )
            return self._session_form(page, session_form, status=409)
        if not answer.ok:
            raise refused(answer, "集団申請会を作れませんでした")
        return redirect(f"/reception/sessions/{answer.body['session_id']}?opened=1")

    @http("GET", "/reception/sessions/<session_id>")
    @page("reception")
    def hall_session(self, page: Page, session_id: str) -> Response:
        return self._session_page(page, session_id)

    def _session_page(self, page: Page, session_id: str, status: int = 200, error: str | None = None) -> Response:
        answer = page.backend.get("scheduling", f"/api/v1/sessions/{session_id}")
        if answer.status in (404, 422):
            raise not_found()
        found = accepted(answer, "集団申請会を表示できませんでした").body
        moved = page.request.args.get("cancelled", "")
        return page.render(
            "reception/session.html",
            status=status,
            hall=views.hall_session(found),
            signups=[views.visit(v) for v in found["signups"]],
            opened=page.request.args.get("opened") == "1",
            added=reference_or_none(page.request.args.get("added")),
            moved=int(moved) if moved.isdigit() else None,
            error=error,
        )

    @http("POST", "/reception/sessions/<session_id>/cancel")
    @page("reception")
    def cancel_hall_session(self, page: Page, session_id: str) -> Response:
        if page.request.form.get("confirm") != "yes":
            return self._session_page(
                page, session_id, status=422, error="中止してよいことを確かめて、チェックを入れてください。"
            )
        answer = page.backend.post("scheduling", f"/api/v1/sessions/{session_id}/cancel")
        if answer.status == 404:
            raise not_found()
        found = accepted(answer, "集団申請会を中止できませんでした").body
        return redirect(f"/reception/sessions/{session_id}?cancelled={int(found['households_moved'])}")

    def _session_form(self, page: Page, session_form: SessionForm, status: int = 200) -> Response:
        city = municipality.load()
        return page.render(
            "reception/session_form.html",
            status=status,
            form=session_form,
            venues=[(v.id, v.name) for v in city.venues],
            crews=[(c.id, c.name) for c in city.crews],
            days=views.wish_days(WORKING_DAYS_OFFERED),
            times=[(t, t) for t in TIMES],
        )


def shown_session(page: Page, session_id: str) -> dict | None:
    """The session shown above the household form; None when it cannot be read now (booking still
    checks the seat when the form is sent)."""
    answer = page.backend.get("scheduling", f"/api/v1/sessions/{session_id}")
    return views.hall_session(answer.body) if answer.ok else None


def session_for_form(page: Page, session_id: str) -> dict:
    """The session a household is being signed up to, for the phone form's notice; refuses one that
    no longer takes sign-ups before reception types a whole household."""
    answer = page.backend.get("scheduling", f"/api/v1/sessions/{session_id}")
    if answer.status in (404, 422):
        raise not_found()
    found = accepted(answer, "集団申請会を表示できませんでした").body
    if not found["open_for_signups"] or found["seats_left"] < 1:
        raise PageError(
            409,
            "この集団申請会には申し込めません",
            "定員に達したか、申込を締め切りました。ほかの日の会か、ご自宅への訪問をご案内ください。",
        )
    return views.hall_session(found)
