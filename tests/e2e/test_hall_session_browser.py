"""A hall session (集団申請会) as reception and the crew use it: reception opens a session at a
community hall, signs households up on the phone until it is full, and the crew finds the session
on its day sheet with every household under it and records results per person. Real browser (Debian's
chromium), the services as processes, axe-core on every page, screenshots under var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from shared import clock, municipality, workcalendar
from tests.bus import wait_until
from tests.e2e.browser import PUBLIC_SIZES, check_page, run, shoot, sign_in, sign_out
from tests.factories import applicant, booking_body, signed_in

pytestmark = pytest.mark.e2e

RECEPTION = "受付（demo-reception）"
CREW = "訪問班（demo-crew-1）"


def session_day(ahead: int = 41) -> str:
    """A working day far enough ahead that the other browser tests' visits (fixed within the
    booking horizon) do not meet the session."""
    days = list(workcalendar.working_days(clock.today(), ahead, municipality.load().calendar))
    return days[-1].isoformat()


def test_reception_fills_a_hall_session_and_the_crew_records_each_household(stack):
    portal, day = stack.url("portal"), session_day()
    office = signed_in(stack, "reception")
    seen: dict[str, str] = {}

    async def reception(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.get_by_role("link", name=re.compile("^集団申請会")).first.click()
        await check_page(page, "sessions")
        await page.get_by_role("link", name="新しい会を作る").click()

        # Nothing chosen: each missing choice is named, the form keeps what was chosen.
        await page.get_by_role("button", name="この内容で会を作る").click()
        summary = page.get_by_role("alert")
        await expect(summary).to_contain_text("会場を選んでください")
        await expect(summary).to_contain_text("日付を選んでください")
        await check_page(page, "session-form-errors")
        await page.get_by_role("combobox", name=re.compile("^会場")).select_option(label="山田地区公民館")
        await page.get_by_role("combobox", name=re.compile("^日付")).select_option(value=day)
        await page.get_by_label(re.compile("^定員")).fill("3")
        await page.get_by_role("button", name="この内容で会を作る").click()
        await expect(page.get_by_role("alert")).to_contain_text("5 以上 30 以下")
        await expect(page.get_by_role("combobox", name=re.compile("^会場"))).to_have_value("yamada-hall")
        await page.get_by_label(re.compile("^定員")).fill("5")
        await page.get_by_role("button", name="この内容で会を作る").click()
        await expect(page.get_by_text("集団申請会を作りました")).to_be_visible()
        await expect(page.get_by_role("heading", name="集団申請会（山田地区公民館）")).to_be_visible()
        await check_page(page, "session-opened")
        seen["session_id"] = page.url.split("/reception/sessions/")[1].split("?")[0]

        # A household of two on the phone, through the usual form with the session carried along.
        await page.get_by_role("link", name="この会に申し込む（電話受付）").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="新しい申込（集団申請会）")).to_be_visible()
        await expect(page.locator("#session_id")).to_contain_text("山田地区公民館")
        await expect(page.locator("#session_id")).to_contain_text("残り5人分")
        for index, (names, birth) in enumerate(
            [
                (("山田", "花子", "やまだ", "はなこ"), "昭和20年5月1日"),
                (("山田", "一郎", "ヤマダ", "イチロウ"), "1943-02-11"),
            ]
        ):
            if index:
                await page.get_by_role("button", name="申請する方を1人追加する").click()
            for field, text in zip(
                ("family_name", "given_name", "family_name_kana", "given_name_kana"), names, strict=True
            ):
                await page.locator(f"#a{index}_{field}").fill(text)
            await page.locator(f"#a{index}_birth_date").fill(birth)
        await page.get_by_label(re.compile("^電話番号")).fill("0986-64-1111")
        await page.get_by_label(re.compile("^郵便番号")).fill("889-1901")
        await page.get_by_role("combobox", name=re.compile("^地区")).select_option(label="山田")
        await page.get_by_label(re.compile("^住所")).fill("山田町山田 2000")
        await page.get_by_label(re.compile("同意をいただきました")).check()
        await check_page(page, "session-signup-form")
        await page.get_by_role("button", name="この内容で受け付ける").click()
        await expect(page.get_by_text("申し込みました")).to_be_visible()
        seen["reference"] = await page.locator(".reference").inner_text()
        await expect(page.locator(".big")).to_contain_text("山田地区公民館へお越しください")
        await check_page(page, "session-signed-up")

        # Three more on the API fill it; the page then says so and offers no sign-up.
        body = booking_body(applicants=[applicant(i) for i in range(3)], session_id=seen["session_id"])
        answer = office.post(f"{stack.url('booking')}/api/v1/bookings", json={**body, "phone": "0986-64-2222"})
        assert answer.status_code == 201, answer.text
        seen["other"] = answer.json()["reference"]
        await page.reload()
        await expect(page.get_by_text("定員に達しました")).to_be_visible()
        await expect(page.get_by_role("link", name="この会に申し込む（電話受付）")).to_have_count(0)
        await expect(page.get_by_role("row").filter(has_text=seen["reference"])).to_contain_text("日程確定")
        await shoot(page, "session-full")

        # The crew's tablet: the session is one stop, each household under it.
        await sign_out(page)
        await sign_in(page, portal, CREW)
        await page.goto(f"{portal}/crew/day?date={day}")
        hall = page.locator(f"#stop-{seen['session_id']}")
        await expect(hall).to_contain_text("集団申請会（山田地区公民館）")
        await expect(hall).to_contain_text("2世帯・5人（定員5人）")
        await expect(hall).to_contain_text("準備のため")
        household = hall.locator(".session-household").filter(has_text=seen["reference"])
        await expect(household.get_by_role("table", name=re.compile("申請する方（2人）"))).to_contain_text(
            "ヤマダ ハナコ"
        )
        await household.get_by_text("訪問の結果を記録する").click()
        await household.get_by_role("group", name=re.compile("^1人目")).get_by_label("申請済").check()
        await household.get_by_role("group", name=re.compile("^2人目")).get_by_label("書類不足").check()
        await check_page(page, "crew-day-session")
        await household.get_by_role("button", name="結果を送信する").click()
        await expect(page.get_by_text(f"受付番号 {seen['reference']} の結果を記録しました")).to_be_visible()
        await expect(hall.locator(".session-household").filter(has_text=seen["reference"])).to_contain_text(
            "結果を記録済みです"
        )

    run(reception)
    # What the services hold is what the screens showed.
    detail = office.get(f"{stack.url('scheduling')}/api/v1/sessions/{seen['session_id']}").json()
    assert (detail["persons_signed_up"], detail["seats_left"], detail["households_signed_up"]) == (5, 0, 2)
    done = next(v for v in detail["signups"] if v["reference"] == seen["reference"])
    assert done["status"] == "done" and done["result"]["outcome"] == "partial"
    assert [a["result"] for a in done["result"]["applicants"]] == ["applied", "missing_documents"]
    # A sixth person is refused, field by field, and nothing is stored.
    full = office.post(
        f"{stack.url('booking')}/api/v1/bookings",
        json={**booking_body(session_id=seen["session_id"]), "phone": "0986-64-3333"},
    )
    assert full.status_code == 422 and full.json()["fields"][0]["field"] == "session_id"
    assert "定員" in full.json()["fields"][0]["ja"]
    found = office.get(f"{stack.url('booking')}/api/v1/bookings", params={"phone": "0986-64-3333"}).json()
    assert found["bookings"] == []
    # The household heard of the session's date: its booking keeps the window at the hall.
    booking = wait_until(
        lambda: next(
            (
                b
                for b in office.get(f"{stack.url('booking')}/api/v1/bookings", params={"phone": "0986-64-1111"}).json()[
                    "bookings"
                ]
                if b["window"]
            ),
            None,
        )
    )
    assert booking["session_id"] == seen["session_id"] and booking["window"]["venue"] == "yamada-hall"


def test_a_chair_refers_a_neighbour_for_a_session_and_reception_signs_them_up(stack):
    """The chair's form offers the sessions of their district; reception completes the referral
    with the session already chosen, and the neighbour is seated in it."""
    portal, office, email = stack.url("portal"), signed_in(stack, "reception"), "takazaki.chair@example.jp"
    liaison, scheduling = stack.url("liaison"), stack.url("scheduling")
    opened = office.post(
        f"{scheduling}/api/v1/sessions",
        json={
            "venue": "takazaki-hall",
            "crew_id": "crew-1",
            "date": session_day(43),
            "opens": "13:30",
            "closes": "15:30",
            "capacity": 8,
        },
    )
    assert opened.status_code == 201, opened.text
    session_id = opened.json()["session_id"]
    chair = {"name": "高崎 次郎", "email": email, "community_hall": "大牟田公民館", "district": "高崎"}
    assert office.post(f"{liaison}/api/v1/chairs", json=chair).status_code == 201

    async def chair_refers(page: Page) -> None:
        await page.goto(f"{portal}/chair")
        before = [m["Message-ID"] for m in stack.mails() if m["To"] == email]
        await page.get_by_label("メールアドレス").fill(email)
        await page.get_by_role("button", name="ログイン用のリンクを送る").click()
        mail = wait_until(
            lambda: next((m for m in stack.mails() if m["To"] == email and m["Message-ID"] not in before), None)
        )
        await page.goto(re.search(r"https?://\S+/chair/signin/\S+", mail.get_content()).group(0))
        await page.get_by_role("button", name="ログインする").click()
        await page.get_by_role("link", name="近所の方を紹介する").click()
        await page.get_by_role("textbox", name=re.compile("^お名前")).fill("大牟田 トメ")
        await page.get_by_role("textbox", name=re.compile("^電話番号")).fill("0986-62-7777")
        await page.get_by_label("お住まいの地区").select_option(label="高崎")
        sessions = page.get_by_role("group", name=re.compile("^集団申請会への参加"))
        await expect(sessions.get_by_label("会には参加しない（ご自宅への訪問を希望）")).to_be_checked()
        await sessions.get_by_label(re.compile("高崎地区公民館（残り8人分）")).check()
        await page.get_by_label(re.compile("ご本人が、市に")).check()
        await check_page(page, "chair-refer-session", PUBLIC_SIZES)
        await page.get_by_role("button", name="紹介する").click()
        await expect(page.get_by_role("status")).to_contain_text("ご紹介を受け付けました")

    async def reception_completes(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.goto(f"{portal}/reception/referrals")
        row = page.get_by_role("row", name=re.compile("大牟田 トメ"))
        await expect(row).to_contain_text("集団申請会を希望")
        await expect(row).to_contain_text("高崎地区公民館")
        await row.get_by_role("link", name=re.compile("申込を入力する")).click()
        await expect(page.locator("#session_id")).to_contain_text("高崎地区公民館")
        await page.locator("#a0_family_name_kana").fill("おおむた")
        await page.locator("#a0_given_name_kana").fill("とめ")
        await page.locator("#a0_birth_date").fill("昭和9年1月20日")
        await page.get_by_label(re.compile("^郵便番号")).fill("889-4505")
        await page.get_by_label(re.compile("^住所")).fill("高崎町大牟田 88")
        await page.get_by_label(re.compile("同意をいただきました")).check()
        await page.get_by_role("button", name="この内容で受け付ける").click()
        await expect(page.get_by_text("申し込みました")).to_be_visible()
        await expect(page.locator(".big")).to_contain_text("高崎地区公民館へお越しください")

    run(chair_refers)
    run(reception_completes)
    detail = wait_until(
        lambda: (lambda d: d if d["signups"] else None)(office.get(f"{scheduling}/api/v1/sessions/{session_id}").json())
    )
    [signup] = detail["signups"]
    assert detail["seats_left"] == 7 and signup["status"] == "scheduled"
    [booking] = office.get(f"{stack.url('booking')}/api/v1/bookings", params={"phone": "0986-62-7777"}).json()[
        "bookings"
    ]
    assert booking["channel"] == "liaison" and booking["session_id"] == session_id

    async def reception_calls_it_off(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.goto(f"{portal}/reception/sessions/{session_id}")
        await page.get_by_role("button", name="この会を中止する").click()
        await expect(page.get_by_role("alert")).to_contain_text("チェックを入れてください")
        await check_page(page, "session-cancel-error")
        # By keyboard alone: the summary's link leads to the box, Space ticks it, Tab and Enter send.
        await page.get_by_role("alert").get_by_role("link").click()
        await expect(page.locator("#confirm")).to_be_focused()
        await page.keyboard.press("Space")
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("button", name="この会を中止する")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("申し込んでいた1世帯は「未調整の申込」に戻り")
        await expect(page.get_by_role("heading", name=re.compile("集団申請会（高崎地区公民館）"))).to_contain_text(
            "中止"
        )
        await expect(page.get_by_role("button", name="この会を中止する")).to_have_count(0)
        await check_page(page, "session-cancelled")

    # The hall session is called off (a typhoon): the neighbour waits for a home visit again and,
    # without e-mail, is on reception's list to phone with what to say.
    run(reception_calls_it_off)
    visits = f"{scheduling}/api/v1/visits"
    [visit] = office.get(visits, params={"booking_id": booking["booking_id"]}).json()["visits"]
    assert (visit["status"], visit["session_id"], visit["slot"]) == ("unscheduled", None, None)
    notifications = f"{stack.url('notification')}/api/v1/notifications"

    def told():
        found = office.get(notifications, params={"booking_id": booking["booking_id"]}).json()["notifications"]
        return [n for n in found if n["kind"] == "session_cancelled"]

    [message] = wait_until(told)
    assert message["status"] == "to_call"
