"""The manager's progress report as a manager uses it: a real browser on a stack of its own (so the
figures are exactly what this module made), the 年度 switched, the Excel and the PDF downloaded and
read back (openpyxl, pdftotext) to the same figures as the page, axe on every page, by keyboard."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, expect

from shared import clock
from shared.workcalendar import fiscal_year
from tests.bus import wait_until
from tests.e2e.browser import SCREENSHOTS, check_page, run, sign_in
from tests.factories import booking_body, signed_in

pytestmark = pytest.mark.e2e

MANAGER = "管理者（demo-manager）"


@pytest.fixture(scope="module")
def portal(stack) -> str:
    return stack.url("portal")


@pytest.fixture(scope="module")
def year_of_work(stack) -> dict:
    """Three bookings by phone and one on the web; one visited (2 people applied), one cancelled."""
    office = signed_in(stack, "reception")
    visits = f"{stack.url('scheduling')}/api/v1/visits"
    made = []
    for n, channel in enumerate(("phone", "phone", "phone", "web")):
        body = booking_body(channel=channel, phone=f"0986-23-70{n:02d}", email=None)
        answer = office.post(f"{stack.url('booking')}/api/v1/bookings", json=body)
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["booking_id"])
    [visit] = wait_until(lambda: office.get(visits, params={"booking_id": made[0]}).json()["visits"])
    offer = office.get(f"{visits}/{visit['visit_id']}/suggestions").json()["suggestions"][0]
    fixed = office.post(
        f"{visits}/{visit['visit_id']}/slot", json={"crew_id": offer["crew_id"], "start": offer["start"]}
    )
    assert fixed.status_code == 200, fixed.text
    done = office.post(f"{visits}/{visit['visit_id']}/done", json={"outcome": "completed", "persons_applied": 2})
    assert done.status_code == 200, done.text
    cancel = office.post(
        f"{stack.url('booking')}/api/v1/bookings/{made[1]}/cancel", json={"reason": "resident_request"}
    )
    assert cancel.status_code == 200, cancel.text
    # The report up to the visit's month (the visit was recorded ahead of its day: a test's liberty).
    visit_day = dt.date.fromisoformat(offer["start"][:10])
    year = fiscal_year(visit_day)
    requests = 4 if fiscal_year(clock.today()) == year else 0  # booked in the 年度 before, near its end
    manager = signed_in(stack, "manager")
    to = visit_day.strftime("%Y-%m")

    def settled() -> dict | None:
        answer = manager.get(f"{stack.url('outreach')}/api/v1/report", params={"year": year, "to": to})
        total = answer.json()["total"]
        return total if (total["requests"], total["persons_applied"]) == (requests, 2) else None

    wait_until(settled, timeout=30)
    return {"query": f"year={year}&to={visit_day.month}", "year": year, "requests": requests}


def page_rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.strip().splitlines()]


def same(text: str, value: float | None) -> bool:
    """A cell as the page writes it ("1,234", "6.5日", "0.8%" to one decimal, "—") against the
    workbook's number."""
    if text == "—" or value is None:
        return text == "—" and value is None
    if text.endswith("%"):
        return abs(value * 100 - float(text[:-1])) <= 0.05 + 1e-9
    return float(text.rstrip("日").replace(",", "")) == value


def same_rows(shown: list[str], stored: tuple) -> bool:
    return len(stored) >= len(shown) and all(same(text, value) for text, value in zip(shown, stored, strict=False))


def test_a_manager_reads_the_report_switches_the_year_and_downloads_both_files(stack, portal, year_of_work):
    year = year_of_work["year"]
    downloaded: dict[str, Path] = {}
    shown: dict[str, list[list[str]]] = {}

    async def manager(page: Page) -> None:
        await sign_in(page, portal, MANAGER)
        await page.get_by_role("link", name=re.compile("^実績報告")).first.click()
        this_year = fiscal_year(clock.today())
        await expect(page.get_by_role("heading", name=re.compile(f"{this_year}年度"))).to_be_visible()
        await page.goto(f"{portal}/staff/report?{year_of_work['query']}")
        figures = page.locator(".key-figures")
        await expect(figures).to_contain_text("申請者数2人")
        await expect(figures).to_contain_text(f"申込{year_of_work['requests']}件")
        await expect(page.get_by_role("img", name="月別の申請者数（申込の経路別）")).to_be_visible()
        await check_page(page, "report")
        monthly = page.get_by_role("table", name="月別の実績（グラフの数値）")
        shown["monthly"] = page_rows(await monthly.evaluate(TABLE_AS_TEXT))
        districts = page.get_by_role("table", name="地区別の進捗（グラフの数値）")
        shown["districts"] = page_rows(await districts.evaluate(TABLE_AS_TEXT))

        for suffix, label in (("xlsx", "Excel でダウンロード"), ("pdf", "PDF（A4・配布用）でダウンロード")):
            async with page.expect_download() as info:
                await page.get_by_role("link", name=re.compile(label)).click()
            download = await info.value
            assert download.suggested_filename.endswith(f".{suffix}")
            target = SCREENSHOTS / f"report.{suffix}"
            await download.save_as(target)
            downloaded[suffix] = target

        # By keyboard alone: the previous 年度, which has nothing yet.
        await page.locator("#year").focus()
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Tab")  # 始めの月
        await page.keyboard.press("Tab")  # 終わりの月
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("button", name="表示する")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name=re.compile(f"{year - 1}年度"))).to_be_visible()
        await expect(page.locator(".key-figures")).to_contain_text("申請者数0人")
        await check_page(page, "report-last-year")

        # Months the wrong way round: said at the top, next to the field, nothing else shown.
        await page.locator("#year").select_option(str(year))
        await page.locator("#from").select_option("9")
        await page.locator("#to").select_option("5")
        await page.get_by_role("button", name="表示する").click()
        summary = page.get_by_role("alert")
        await expect(summary).to_contain_text("終わりの月は、始めの月と同じか後の月を選んでください。")
        await expect(page.locator("#to")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator(".key-figures")).to_have_count(0)
        await check_page(page, "report-error")

    run(manager)

    # The page's figures: 申込, 訪問, 申請者数, 取消, キャンセル待ち; and the same in the workbook and the PDF.
    total_row = next(row for row in shown["monthly"] if row[0] == "合計")
    expected = year_of_work["requests"]
    assert total_row[1:6] == [str(expected), "1", "2", "1" if expected else "0", "0"]
    book = load_workbook(io.BytesIO(downloaded["xlsx"].read_bytes()))
    for sheet, rows in (("月別", shown["monthly"]), ("地区別", shown["districts"])):
        stored = {row[0]: row[1:] for row in book[sheet].iter_rows(min_row=3, values_only=True) if row[0]}
        for row in rows:
            assert same_rows(row[1:], stored[row[0]]), (sheet, row, stored[row[0]])

    text = subprocess.run(["pdftotext", "-layout", str(downloaded["pdf"]), "-"], capture_output=True, text=True).stdout
    pdf_rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    assert pdf_rows["合計"][1:8] == total_row[1:8]  # the last 合計 is the monthly table's
    for row in shown["districts"]:
        assert pdf_rows[row[0]][1:] == row[1:], row[0]
    # The handout's first page as a person sees it (README).
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(downloaded["pdf"]), str(SCREENSHOTS / "report-pdf")],
        check=True,
    )


# A table's rows as tab-separated cells, header row left out.
TABLE_AS_TEXT = """(table) => [...table.tBodies[0].rows]
  .map((row) => [...row.cells].map((cell) => cell.innerText.trim()).join("\\t")).join("\\n")"""
