"""The progress report as files to hand out: an Excel workbook (one sheet per table, numbers as
numbers) and an A4 PDF (WeasyPrint, with the Noto CJK font embedded), both from the same tables as
the portal's page (shared/report_tables.py)."""

from __future__ import annotations

import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from shared import report_tables
from shared.report_tables import DAYS, INT, PERCENT

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
NUMBER_FORMATS = {INT: "#,##0", DAYS: '0.0"日"', PERCENT: "0.0%"}
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


def file_name(report: dict, suffix: str) -> str:
    return f"mynacar-report-{report['fiscal_year']}-{report['from']}-{report['to']}.{suffix}"


def workbook(report: dict, town_name: str) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in report_tables.tables(report):
        sheet = book.create_sheet(table.sheet)
        sheet.append([f"{town_name} マイナちゃんカー {table.title} {report_tables.period_label(report)}"])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append([column.title for column in table.columns])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E8F1FE")
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row in table.rows:
            sheet.append(row)
        for index, column in enumerate(table.columns, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = max(10, min(28, 2 * len(column.title) + 2))
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                if column.kind in NUMBER_FORMATS:
                    cell.number_format = NUMBER_FORMATS[column.kind]
        sheet.freeze_panes = "B3"
        if table.note:
            sheet.append([])
            sheet.append([table.note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def handout(report: dict, town_name: str, printed_on: str) -> bytes:
    """The A4 handout: the figures, the three charts with their tables, and what they count."""
    from weasyprint import HTML  # imported here: only the report's PDF needs Pango

    html = TEMPLATES.get_template("report.html").render(
        report=report,
        town_name=town_name,
        period=report_tables.period_label(report),
        figures=[(chart, Markup(chart.svg)) for chart in report_tables.figures(report)],
        cell_text=report_tables.cell_text,
        printed_on=printed_on,
    )
    return HTML(string=html).write_pdf()
