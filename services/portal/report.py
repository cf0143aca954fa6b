"""The manager's progress report (実績報告): the outreach report's charts and tables for a 年度 and
some of its months, and its Excel and PDF files passed through from outreach's API."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from markupsafe import Markup
from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.portal.web import Page, PageError, page, refused, security_headers
from shared import clock, report_tables
from shared.workcalendar import FISCAL_YEAR_FIRST_MONTH, fiscal_year

YEARS_SHOWN = 5  # the 年度 the filter offers: this one and the four before
FILE_SUFFIXES = ("xlsx", "pdf")


def _filters(args: dict, this_year: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The form's 年度 and month numbers as the API's year, from and to (YYYY-MM); months are chosen
    within the 年度, so a range never crosses one. Anything unreadable is an error for its field."""
    errors: list[tuple[str, str]] = []
    year_text = args.get("year") or str(this_year)
    if not re.fullmatch(r"[0-9]{4}", year_text) or not this_year - YEARS_SHOWN < int(year_text) <= this_year + 1:
        return {}, [("year", "年度を一覧から選んでください。")]
    year, query = int(year_text), {"year": year_text}
    for name in ("from", "to"):
        text = args.get(name) or ""
        if not text:
            continue
        if not re.fullmatch(r"[0-9]{1,2}", text) or not 1 <= int(text) <= 12:
            errors.append((name, "月を一覧から選んでください。"))
            continue
        month = int(text)
        query[name] = f"{year if month >= FISCAL_YEAR_FIRST_MONTH else year + 1}-{month:02d}"
    if not errors and query.get("from", "") > query.get("to", "9999"):
        errors.append(("to", "終わりの月は、始めの月と同じか後の月を選んでください。"))
    return query, errors


def _fiscal_order(month: int) -> int:
    return (month - FISCAL_YEAR_FIRST_MONTH) % 12


class ReportPages:
    """The report's pages (a mixin of PortalService)."""

    @http("GET", "/staff/report")
    @page("manager")
    def report(self, page: Page) -> Response:
        this_year = fiscal_year(clock.today())
        query, errors = _filters(page.request.args, this_year)
        chosen = {name: page.request.args.get(name, "") for name in ("year", "from", "to")}
        chosen["year"] = chosen["year"] or str(this_year)
        context = {
            "years": list(range(this_year, this_year - YEARS_SHOWN, -1)),
            "months": [(m, f"{m}月") for m in sorted(range(1, 13), key=_fiscal_order)],
            "chosen": chosen,
        }
        if errors:
            return page.render("report.html", status=422, errors=errors, report=None, **context)
        answer = page.backend.get("outreach", "/api/v1/report", **query)
        if answer.status == 422:
            fields = [(f["field"], f["ja"]) for f in answer.field_errors()]
            return page.render("report.html", status=422, errors=fields, report=None, **context)
        if not answer.ok:
            raise refused(answer, "実績報告を表示できませんでした")
        figures = answer.body
        same_filters = urlencode({name: value for name, value in chosen.items() if value})
        return page.render(
            "report.html",
            errors=[],
            report=figures,
            period=report_tables.period_label(figures),
            figures=[(chart, Markup(chart.svg)) for chart in report_tables.figures(figures)],
            channels_table=report_tables.by_channel(figures),
            details=report_tables.by_district_per_month(figures),
            cell_text=report_tables.cell_text,
            downloads={s: f"/staff/report.{s}?{same_filters}" for s in FILE_SUFFIXES},
            **context,
        )

    @http("GET", "/staff/report.<suffix>")
    @page("manager")
    def report_file(self, page: Page, suffix: str) -> Response:
        if suffix not in FILE_SUFFIXES:
            raise PageError(404, "ファイルが見つかりません", "実績報告の画面から、もう一度お選びください。")
        query, errors = _filters(page.request.args, fiscal_year(clock.today()))
        if errors:
            raise PageError(422, "ファイルを作れませんでした", errors[0][1])
        download = page.backend.download("outreach", f"/api/v1/report.{suffix}", **query)
        if download.status != 200:
            raise refused(download.answer(), "ファイルを作れませんでした")
        response = Response(download.content, mimetype=download.content_type)
        response.headers["Content-Disposition"] = download.disposition
        return security_headers(response)
