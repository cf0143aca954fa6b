"""The progress report from events spread over months: each figure below is worked out by hand from
the events sent (the working days counted on a calendar, 文化の日 and 春分の日 included)."""

import datetime as dt
import io
import subprocess

import pytest
from openpyxl import load_workbook

from services.outreach.service import OutreachService
from shared import clock, events
from tests.factories import event, hold_clock, json_request, request_received, response_json, worker

TODAY = dt.datetime(2026, 12, 1, 10, 0, tzinfo=clock.JST)


@pytest.fixture
def service(db, monkeypatch):
    hold_clock(monkeypatch, TODAY)
    return worker(OutreachService, db)


def at(day: str, envelope: dict) -> dict:
    """The event as if it had happened at noon on `day` (JST)."""
    return {**envelope, "occurred_at": f"{day}T12:00:00+09:00"}


def booked(service, booking_id: str, day: str, channel: str, district: str) -> None:
    service.on_request_received(at(day, request_received(booking_id, channel=channel, district=district)))


def visited(service, booking_id: str, day: str, outcome: str, persons: int, district: str = "himeki") -> dict:
    done = {
        "visit_id": f"v-{booking_id}",
        "booking_id": booking_id,
        "crew_id": "crew-1",
        "date": dt.date.fromisoformat(day),
        "district": district,
        "outcome": outcome,
        "persons_applied": persons,
    }
    envelope = at(day, event(events.VISIT_DONE, done))
    service.on_visit_done(envelope)
    return envelope


def slot(service, booking_id: str, day: str, recovered: bool) -> None:
    start = dt.datetime.fromisoformat(f"{day}T10:00:00+09:00")
    payload = {
        "visit_id": f"v-{booking_id}",
        "booking_id": booking_id,
        "crew_id": "crew-1",
        "start": start,
        "end": start,
        "window_start": start,
        "window_end": start,
        "district": "takazaki",
        "household_size": 1,
        "recovered": recovered,
    }
    service.on_slot_fixed(at(day, event(events.SLOT_FIXED, payload)))


def cancelled(service, booking_id: str, day: str) -> None:
    service.on_request_cancelled(
        at(day, event(events.REQUEST_CANCELLED, {"booking_id": booking_id, "reason": "resident_request"}))
    )


def the_year(service) -> None:
    # Booked in 2025年度 (20 March 2026, 春分の日), visited on 6 April: a visit of 2026年度, waited
    # 23-27 Mar (5), 30-31 Mar (2), 1-3 Apr (3), 6 Apr (1) = 11 working days.
    booked(service, "b-march", "2026-03-20", "phone", "takazaki")
    visited(service, "b-march", "2026-04-06", "completed", 1, "takazaki")
    # Booked Wed 28 Oct, visited Wed 4 Nov: 29, 30 Oct, 2 Nov, (3 Nov 文化の日), 4 Nov = 4.
    booked(service, "b-oct", "2026-10-28", "phone", "himeki")
    visited(service, "b-oct", "2026-11-04", "completed", 2)
    # Booked Mon 2 Nov on the web, met on 16 Nov (4-6, 9-13, 16 Nov = 9), one of two applied; the
    # other applied at a second visit on 30 Nov (a visit, but not a second wait).
    booked(service, "b-web", "2026-11-02", "web", "himeki")
    visited(service, "b-web", "2026-11-16", "partial", 1)
    visited(service, "b-web", "2026-11-30", "completed", 1)
    # Booked and cancelled in November.
    booked(service, "b-cancel", "2026-11-05", "phone", "takazaki")
    cancelled(service, "b-cancel", "2026-11-06")
    # A window another household freed, taken on 12 Nov; nobody at home on 13 Nov.
    booked(service, "b-recover", "2026-11-10", "phone", "takazaki")
    slot(service, "b-recover", "2026-11-12", recovered=True)
    visited(service, "b-recover", "2026-11-13", "absent", 0, "takazaki")


def report(service, **query):
    answer = service.get_report(json_request(method="GET", query=query))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return response_json(answer)


def test_each_month_counts_what_happened_in_it(service):
    the_year(service)
    figures = report(service)
    assert (figures["fiscal_year"], figures["from"], figures["to"]) == (2026, "2026-04", "2026-12")
    months = {m["month"]: m for m in figures["months"]}
    assert list(months) == [f"2026-{n:02d}" for n in range(4, 13)]  # the running 年度, up to this month
    assert months["2026-04"] == {
        "month": "2026-04",
        "requests": 0,
        "visits": 1,
        "persons_applied": 1,
        "cancellations": 0,
        "slots_recovered": 0,
        "median_wait_days": 11,
        "longest_wait_days": 11,
    }
    assert months["2026-10"]["requests"] == 1 and months["2026-10"]["visits"] == 0
    assert months["2026-11"] == {
        "month": "2026-11",
        "requests": 3,
        "visits": 3,  # 4, 16 and 30 Nov; the absent one is no visit
        "persons_applied": 4,
        "cancellations": 1,
        "slots_recovered": 1,
        "median_wait_days": 6.5,  # of 4 and 9
        "longest_wait_days": 9,
    }
    assert months["2026-12"]["requests"] == 0 and months["2026-12"]["median_wait_days"] is None
    assert figures["total"]["persons_applied"] == 5 and figures["total"]["median_wait_days"] == 9  # 4, 9, 11
    assert figures["total"]["target"] == 2380  # the demo config's districts


def test_channels_and_districts_split_the_same_figures(service):
    the_year(service)
    figures = report(service)
    channels = {c["channel"]: c for c in figures["channels"]}
    assert set(channels) == {"phone", "web"}
    assert (channels["phone"]["requests"], channels["phone"]["persons_applied"]) == (3, 3)
    assert (channels["web"]["requests"], channels["web"]["visits"], channels["web"]["persons_applied"]) == (1, 2, 2)
    november = {c["channel"]: c["months"][7] for c in figures["channels"]}
    assert november["web"]["month"] == "2026-11" and november["web"]["median_wait_days"] == 9
    districts = {d["district"]: d for d in figures["districts"]}
    himeki = districts["himeki"]
    assert (himeki["name"], himeki["group"], himeki["target"]) == ("姫城", 1450, 260)
    assert himeki["persons_applied"] == 4 and himeki["progress"] == round(4 / 260, 4)
    assert (himeki["median_wait_days"], himeki["longest_wait_days"]) == (6.5, 9)
    takazaki = districts["takazaki"]
    assert (takazaki["requests"], takazaki["cancellations"], takazaki["slots_recovered"]) == (2, 1, 1)
    assert districts["yamada"]["requests"] == 0 and districts["yamada"]["progress"] == 0
    for kind in ("channels", "districts"):  # the parts add up to the whole, month by month
        for i, month in enumerate(figures["months"]):
            for name in ("requests", "visits", "persons_applied", "cancellations", "slots_recovered"):
                assert sum(part["months"][i][name] for part in figures[kind]) == month[name]


def test_a_range_of_months_and_another_year(service):
    the_year(service)
    november = report(service, **{"from": "2026-11", "to": "2026-11"})
    assert [m["month"] for m in november["months"]] == ["2026-11"] and november["total"]["requests"] == 3
    last_year = report(service, year="2025")
    assert (last_year["from"], last_year["to"]) == ("2025-04", "2026-03")  # a past 年度: all of it
    assert last_year["total"]["requests"] == 1 and last_year["months"][-1]["requests"] == 1
    assert last_year["total"]["target"] is None  # the config has no targets for 2025年度


def test_a_redelivered_visit_counts_once(service):
    booked(service, "b-1", "2026-11-02", "phone", "himeki")
    envelope = visited(service, "b-1", "2026-11-04", "completed", 2)
    service.on_visit_done(envelope)
    assert report(service)["total"]["persons_applied"] == 2


@pytest.mark.parametrize(
    "query, field",
    [
        ({"from": "2026-13"}, "from"),
        ({"from": "April"}, "from"),
        ({"year": "2026", "from": "2026-03"}, "from"),  # March 2026 is 2025年度
        ({"from": "2026-05", "to": "2027-04"}, "to"),  # crosses into 2027年度
        ({"from": "2026-09", "to": "2026-05"}, "to"),
        ({"year": "26xx"}, "year"),
    ],
)
def test_bad_periods_are_refused_field_by_field(service, query, field):
    answer = service.get_report(json_request(method="GET", query=query))
    assert answer.status_code == 422
    [error] = response_json(answer)["fields"]
    assert error["field"] == field and error["ja"] and error["en"]


def test_the_workbook_has_a_sheet_per_table_with_numbers_as_numbers(service):
    the_year(service)
    answer = service.get_report_workbook(json_request(method="GET", query={"year": "2026"}))
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == 'attachment; filename="mynacar-report-2026-2026-04-2026-12.xlsx"'
    book = load_workbook(io.BytesIO(answer.get_data()))
    assert book.sheetnames == ["月別", "経路別・月別", "経路別", "地区別", "地区別・月別"]
    monthly = book["月別"]
    assert [c.value for c in monthly[2]][:4] == ["月", "申込", "訪問", "申請者数"]
    november = next(row for row in monthly.iter_rows(values_only=True) if row[0] == "2026年11月")
    assert november[1:8] == (3, 3, 4, 1, 1, 6.5, 9)
    himeki = next(row for row in book["地区別"].iter_rows(values_only=True) if row[0] == "姫城")
    assert himeki[1:5] == (1450, 260, 4, round(4 / 260, 4))
    assert book["地区別"]["E3"].number_format == "0.0%"


def test_the_handout_is_an_a4_pdf_with_the_figures_in_japanese(service, tmp_path):
    the_year(service)
    answer = service.get_report_handout(json_request(method="GET", query={"year": "2026"}))
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(answer.get_data())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans-CJK-JP" in fonts and all(" yes " in line for line in fonts.splitlines()[2:])  # embedded
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "都城市 マイナちゃんカー 実績報告" in text and "2026年度（2026年4月〜2026年12月）" in text
    by_channel, *_, monthly = [line.split() for line in text.splitlines() if line.strip().startswith("2026年11月")]
    assert by_channel[1:] == ["2", "2", "4"]  # 電話, ウェブ, 合計 (its first page)
    assert monthly[1:8] == ["3", "3", "4", "1", "1", "6.5日", "9日"]  # the monthly table (its last page)
