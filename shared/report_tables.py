"""The progress report's tables and charts, in Japanese, from outreach's report JSON: one definition
for the portal's page, the Excel workbook and the PDF handout, so the three show the same figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from shared import charts, labels

INT, DAYS, PERCENT, TEXT = "int", "days", "percent", "text"

COUNT_COLUMNS = (
    ("requests", "申込"),
    ("visits", "訪問"),
    ("persons_applied", "申請者数"),
    ("cancellations", "取消"),
    ("slots_recovered", "キャンセル待ちで埋まった枠"),
)
WAIT_COLUMNS = (("median_wait_days", "待ち日数（中央値）"), ("longest_wait_days", "最長の待ち日数"))


@dataclass(frozen=True)
class Column:
    title: str
    kind: str  # INT, DAYS, PERCENT or TEXT: how a cell is written, and its Excel number format


@dataclass(frozen=True)
class Table:
    key: str  # also the HTML id
    title: str
    sheet: str  # the workbook's sheet name (31 characters at most)
    columns: tuple[Column, ...]
    rows: list[list[Any]]
    note: str = ""


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: str
    table: Table


def month_label(month: str, with_year: bool = True) -> str:
    day = dt.date.fromisoformat(f"{month}-01")
    return f"{day.year}年{day.month}月" if with_year else f"{day.month}月"


def cell_text(value: Any, kind: str) -> str:
    """A cell as the page and the PDF write it ("—" where there is nothing to measure)."""
    if value is None:
        return "—"
    if kind == PERCENT:
        return f"{value * 100:.1f}%"
    if kind == DAYS:
        return f"{value:.1f}".rstrip("0").rstrip(".") + "日"
    if kind == INT:
        return f"{value:,}"
    return str(value)


def period_label(report: dict) -> str:
    return f"{report['fiscal_year']}年度（{month_label(report['from'])}〜{month_label(report['to'])}）"


def _counts_and_waits(row: dict) -> list[Any]:
    return [row[key] for key, _ in COUNT_COLUMNS + WAIT_COLUMNS]


def _count_columns() -> tuple[Column, ...]:
    return tuple(Column(t, INT) for _, t in COUNT_COLUMNS) + tuple(Column(t, DAYS) for _, t in WAIT_COLUMNS)


def monthly(report: dict) -> Table:
    rows = [[month_label(m["month"]), *_counts_and_waits(m)] for m in report["months"]]
    rows.append(["合計", *_counts_and_waits(report["total"])])
    return Table(
        "monthly",
        "月別の実績",
        "月別",
        (Column("月", TEXT), *_count_columns()),
        rows,
        "待ち日数は、申込の日から訪問の日までの業務日数です（土日祝日・年末年始を除く）。",
    )


def by_channel_per_month(report: dict) -> Table:
    channels = report["channels"]
    rows = []
    for i, month in enumerate(report["months"]):
        values = [c["months"][i]["persons_applied"] for c in channels]
        rows.append([month_label(month["month"]), *values, sum(values)])
    rows.append(["合計", *[c["persons_applied"] for c in channels], report["total"]["persons_applied"]])
    columns = (Column("月", TEXT), *(Column(labels.channel(c["channel"]), INT) for c in channels), Column("合計", INT))
    return Table("channels-monthly", "申込の経路別・月別の申請者数", "経路別・月別", columns, rows)


def by_channel(report: dict) -> Table:
    rows = [[labels.channel(c["channel"]), *_counts_and_waits(c)] for c in report["channels"]]
    return Table("channels", "申込の経路別の実績", "経路別", (Column("経路", TEXT), *_count_columns()), rows)


def by_district(report: dict) -> Table:
    group = report["target_group"] or "対象者数"
    keys = ("group", "target", "persons_applied", "progress", "requests", "visits", "cancellations")
    keys += ("slots_recovered", "median_wait_days", "longest_wait_days")
    rows = [[d["name"], *(d[key] for key in keys)] for d in report["districts"]]
    columns = (
        Column("地区", TEXT),
        Column(group, INT),
        Column("年度の目標（人）", INT),
        Column("申請者数", INT),
        Column("目標に対する進捗", PERCENT),
        Column("申込", INT),
        Column("訪問", INT),
        Column("取消", INT),
        Column("キャンセル待ちで埋まった枠", INT),
        *(Column(t, DAYS) for _, t in WAIT_COLUMNS),
    )
    return Table(
        "districts",
        "地区別の進捗",
        "地区別",
        columns,
        rows,
        "進捗は、表示している月の申請者数を年度の目標で割ったものです。",
    )


def by_district_per_month(report: dict) -> Table:
    rows = [
        [month_label(m["month"]), d["name"], *_counts_and_waits(m)] for d in report["districts"] for m in d["months"]
    ]
    columns = (Column("月", TEXT), Column("地区", TEXT), *_count_columns())
    return Table("districts-monthly", "地区別・月別の実績", "地区別・月別", columns, rows)


def tables(report: dict) -> list[Table]:
    """Every table, in the order of the workbook's sheets."""
    return [
        monthly(report),
        by_channel_per_month(report),
        by_channel(report),
        by_district(report),
        by_district_per_month(report),
    ]


def figures(report: dict) -> list[Chart]:
    """The three charts, each with the table that carries its numbers."""
    months = [month_label(m["month"], with_year=False) for m in report["months"]]
    channel_series = [
        charts.Series(labels.channel(c["channel"]), [m["persons_applied"] for m in c["months"]])
        for c in report["channels"]
    ]
    wait_series = [
        charts.Series("中央値", [m["median_wait_days"] for m in report["months"]]),
        charts.Series("最長", [m["longest_wait_days"] for m in report["months"]]),
    ]
    district_rows = [(d["name"], d["persons_applied"], d["target"]) for d in report["districts"]]
    return [
        Chart(
            "chart-channels",
            "月別の申請者数（申込の経路別）",
            charts.column_chart("chart-channels", "月別の申請者数（申込の経路別）", months, channel_series, "人"),
            by_channel_per_month(report),
        ),
        Chart(
            "chart-districts",
            "地区別の申請者数と年度の目標",
            charts.progress_chart("chart-districts", "地区別の申請者数と年度の目標", district_rows, "人"),
            by_district(report),
        ),
        Chart(
            "chart-waits",
            "月別の待ち日数（申込から訪問まで）",
            charts.column_chart(
                "chart-waits", "月別の待ち日数（申込から訪問まで）", months, wait_series, "日", stacked=False
            ),
            monthly(report),
        ),
    ]
