"""Reception's and managers' page for community-hall chairs (公民館長の登録): register a chair with
their hall and the e-mail address their sign-in links go to, and disable one who steps down."""

from __future__ import annotations

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.portal.web import Page, accepted, page, redirect, refused
from shared import municipality

CHAIR_FIELDS = ("name", "email", "community_hall", "district")
CHAIR_LABELS = {"name": "お名前", "email": "メールアドレス", "community_hall": "公民館", "district": "地区"}


class ChairAdminPages:
    """A mixin of PortalService."""

    @http("GET", "/staff/chairs")
    @page("reception", "manager")
    def chairs(self, page: Page) -> Response:
        return self._chairs_page(page, {}, {}, added=page.request.args.get("added") == "1")

    @http("POST", "/staff/chairs")
    @page("reception", "manager")
    def add_chair(self, page: Page) -> Response:
        values = {name: str(page.request.form.get(name, "")).strip()[:200] for name in CHAIR_FIELDS}
        errors = {name: f"{CHAIR_LABELS[name]}を入力してください。" for name in CHAIR_FIELDS if not values[name]}
        if not errors:
            answer = page.backend.post("liaison", "/api/v1/chairs", values)
            if answer.status == 422:
                errors = {
                    f["field"]: f"{CHAIR_LABELS.get(f['field'], '入力内容')}：{f['ja']}" for f in answer.field_errors()
                }
            elif not answer.ok:
                raise refused(answer, "登録できませんでした")
        if errors:
            return self._chairs_page(page, values, errors, status=422)
        return redirect("/staff/chairs?added=1")

    @http("POST", "/staff/chairs/<chair_id>/disable")
    @page("reception", "manager")
    def disable_chair_page(self, page: Page, chair_id: str) -> Response:
        accepted(page.backend.post("liaison", f"/api/v1/chairs/{chair_id}/disable"), "無効にできませんでした")
        return redirect("/staff/chairs")

    def _chairs_page(self, page: Page, values: dict, errors: dict, status: int = 200, added: bool = False) -> Response:
        answer = page.backend.get("liaison", "/api/v1/chairs")
        if not answer.ok:
            raise refused(answer, "公民館長の一覧を表示できませんでした")
        districts = {d.id: d.name for d in municipality.load().districts}
        chairs = [{**c, "district_name": districts.get(c["district"], c["district"])} for c in answer.body["chairs"]]
        return page.render(
            "chairs.html",
            status=status,
            chairs=chairs,
            values=values,
            errors=errors,
            added=added,
            districts=municipality.load().districts,
        )
