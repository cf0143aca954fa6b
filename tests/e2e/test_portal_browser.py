"""The staff screens used as reception and the crew use them: a real browser (Debian's chromium) against
the services started as `make run` starts them, signing in through the OpenID Connect flow, with
axe-core on every page and screenshots under var/screenshots/."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.async_api import Page, expect

from tests.bus import wait_until
from tests.e2e.browser import accessibility_violations, check_page, run, shoot, sign_in, sign_out
from tests.factories import booking_body, funnel_period, signed_in

pytestmark = pytest.mark.e2e

RECEPTION = "受付（demo-reception）"
CREW = "訪問班（demo-crew-1）"


@pytest.fixture
def portal(stack) -> str:
    return stack.url("portal")


async def fill_applicant(page: Page, index: int, names: tuple[str, str, str, str], birth: str) -> None:
    for field, text in zip(("family_name", "given_name", "family_name_kana", "given_name_kana"), names, strict=True):
        await page.locator(f"#a{index}_{field}").fill(text)
    await page.locator(f"#a{index}_birth_date").fill(birth)


def bookings_by_phone(stack, phone: str) -> list[dict]:
    answer = signed_in(stack, "reception").get(f"{stack.url('booking')}/api/v1/bookings", params={"phone": phone})
    return answer.json()["bookings"]


def test_reception_books_a_household_by_phone_fixes_an_offer_and_the_crew_sees_it(stack, portal):
    seen: dict[str, str] = {}

    async def reception(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await check_page(page, "menu")

        # The caller's number first: no bookings yet.
        await page.get_by_role("link", name="電話受付").first.click()
        await check_page(page, "phone-search")
        await page.get_by_label("電話番号").fill("0986-22-4141")
        await page.get_by_role("button", name="この番号で探す").click()
        await expect(page.get_by_role("heading", name="この電話番号の申込はありません")).to_be_visible()
        await page.get_by_role("button", name="新しい申込を入力する").click()

        # The household: the number carried over, kana typed in hiragana, a birth date in 和暦.
        await expect(page.get_by_role("heading", name="新しい申込（電話受付）")).to_be_visible()
        await expect(page.locator("#phone")).to_have_value("0986-22-4141")
        await check_page(page, "household-form")
        await fill_applicant(page, 0, ("都城", "花子", "みやこのじょう", "はなこ"), "昭和16年4月12日")
        await page.get_by_role("button", name="申請する方を1人追加する").click()
        await expect(page.get_by_role("group", name="2人目")).to_be_visible()
        await expect(page.locator("#a0_family_name_kana")).to_have_value("ミヤコノジョウ")  # shown back in katakana
        await expect(page.locator("#a1_family_name")).to_be_focused()
        await fill_applicant(page, 1, ("都城", "一郎", "ミヤコノジョウ", "イチロウ"), "1938-09-30")
        await page.get_by_label("郵便番号").fill("885-0000")
        await page.get_by_role("combobox", name=re.compile("^地区")).select_option(label="高崎")
        await page.get_by_label("住所（地区より後ろ）").fill("高崎町大牟田 1234")
        await page.get_by_label("メールアドレス").fill("hanako.browser@example.jp")
        await page.get_by_label("配慮事項").fill("車椅子を使用しています")
        await page.get_by_label(re.compile("同意をいただきました")).check()
        await shoot(page, "household-form-filled")
        await page.get_by_role("button", name="この内容で受け付ける").click()

        # Saved: the reference, then the offers on the same call.
        await expect(page.get_by_text("申込を受け付けました")).to_be_visible()
        seen["reference"] = await page.locator(".reference").inner_text()
        offers = page.get_by_role("radio")
        await expect(offers.first).to_be_visible()
        seen["label"] = await page.locator(".offer__when").first.inner_text()
        seen["day"] = (await offers.first.get_attribute("value")).split("|")[1][:10]
        # What reception reads out before choosing: when the car is expected, counted from today.
        await expect(page.get_by_role("heading", name="お待ちいただく目安")).to_be_visible()
        await expect(page.get_by_text(re.compile(r"ごろまでに伺う見込みです（受付から\d+業務日以内）"))).to_be_visible()
        await check_page(page, "offers")
        await page.get_by_role("button", name="この日時で確定する").click()
        await expect(page.get_by_role("heading", name="日時を確定しました")).to_be_visible()
        await expect(page.locator(".big")).to_have_text(seen["label"])
        await check_page(page, "fixed")

        # The crew's tablet shows the visit on that day, with whom to call.
        await sign_out(page)
        await check_page(page, "signed-out")
        await sign_in(page, portal, CREW)
        await page.goto(f"{portal}/crew/day?date={seen['day']}")
        stop = page.locator(".stop").filter(has_text=seen["reference"])
        await expect(stop).to_be_visible()
        await expect(stop).to_contain_text("高崎")
        await expect(stop).to_contain_text("都城 花子 様")
        await expect(stop).to_contain_text("〒885-0000 高崎 高崎町大牟田 1234")
        await expect(stop).to_contain_text("配慮事項：車椅子を使用しています")
        applicants = stop.get_by_role("table", name=re.compile("申請する方（2人）"))
        await expect(applicants.get_by_role("row")).to_have_count(3)
        await expect(applicants).to_contain_text("ミヤコノジョウ ハナコ")
        await expect(applicants).to_contain_text("ミヤコノジョウ イチロウ")
        await expect(stop.get_by_role("link", name=re.compile("電話する"))).to_have_attribute("href", "tel:0986224141")
        await check_page(page, "crew-day")

    run(reception)
    assert re.fullmatch(r"\d{6}-\d{3}", seen["reference"])
    assert re.fullmatch(r"\d{1,2}月\d{1,2}日（[月火水木金]）\d{1,2}:\d{2}〜\d{1,2}:\d{2} 到着", seen["label"])
    # What was stored is what was said on the phone.
    [booking] = bookings_by_phone(stack, "0986-22-4141")
    household = booking["household"]
    assert booking["channel"] == "phone" and booking["reference"] == seen["reference"]
    assert [a["birth_date"] for a in household["applicants"]] == ["1941-04-12", "1938-09-30"]
    assert [a["given_name_kana"] for a in household["applicants"]] == ["ハナコ", "イチロウ"]
    assert household["needs"] == "車椅子を使用しています"


def booked_and_fixed(stack, phone: str, email: str) -> tuple[str, str]:
    """A two-person booking with a fixed slot, made over the APIs: (visit id, day)."""
    office = signed_in(stack, "reception")
    answer = office.post(f"{stack.url('booking')}/api/v1/bookings", json=booking_body(phone=phone, email=email))
    assert answer.status_code == 201, answer.text
    booking_id = answer.json()["booking_id"]
    visits = f"{stack.url('scheduling')}/api/v1/visits"
    [visit] = wait_until(lambda: office.get(visits, params={"booking_id": booking_id}).json()["visits"])
    offer = office.get(f"{visits}/{visit['visit_id']}/suggestions").json()["suggestions"][0]
    fixed = office.post(f"{visits}/{visit['visit_id']}/slot", json={"crew_id": "crew-1", "start": offer["start"]})
    assert fixed.status_code == 200, fixed.text
    return visit["visit_id"], offer["start"][:10]


def test_the_crew_records_results_per_applicant_without_signal_and_they_are_sent_once_back_online(stack, portal):
    visit_id, day = booked_and_fixed(stack, "0986-22-5151", "offline.family@example.jp")
    office = signed_in(stack, "reception")
    visit_url = f"{stack.url('scheduling')}/api/v1/visits/{visit_id}"

    async def crew(page: Page) -> None:
        await sign_in(page, portal, CREW)
        await page.goto(f"{portal}/crew/day?date={day}")
        await page.evaluate("navigator.serviceWorker.ready")
        await page.reload()  # now under the service worker, which keeps the sheet
        assert await page.evaluate("!!navigator.serviceWorker.controller")

        await page.context.set_offline(True)
        await page.reload()  # no signal: the kept day sheet
        stop = page.locator(f"#stop-{visit_id}")
        await stop.get_by_text("訪問の結果を記録する").click()
        await check_page(page, "crew-result-form")
        await stop.get_by_role("group", name=re.compile("^1人目")).get_by_label("申請済").check()
        await stop.get_by_role("group", name=re.compile("^2人目")).get_by_label("書類不足").check()
        await stop.get_by_label(re.compile("^メモ")).fill("2人目は保険証を探しておくとのこと")
        await stop.get_by_role("button", name="結果を送信する").click()
        await expect(page.locator("#offline-status")).to_contain_text("未送信の結果が1件あります")
        assert office.get(visit_url).json()["status"] == "scheduled"  # nothing sent yet

        async with page.expect_navigation():
            await page.context.set_offline(False)  # signal again: the kept result goes out
        await expect(stop).to_contain_text("結果を記録済みです")
        await expect(page.locator("#offline-status")).to_be_hidden()
        await check_page(page, "crew-day-recorded")

    run(crew)
    visit = office.get(visit_url).json()
    assert visit["status"] == "done" and visit["result"]["outcome"] == "partial"
    assert visit["result"]["persons_applied"] == 1
    assert [a["result"] for a in visit["result"]["applicants"]] == ["applied", "missing_documents"]
    # The note is kept by booking, sealed with the household; scheduling only knows there is one.
    assert visit["result"]["has_note"] is True and "note" not in visit["result"]
    booking = office.get(f"{stack.url('booking')}/api/v1/bookings/{visit['booking_id']}").json()
    assert [n["note"] for n in booking["visit_notes"]] == ["2人目は保険証を探しておくとのこと"]
    # The resident heard of the fixed window by e-mail; the funnel counts the visit.
    assert wait_until(lambda: [m for m in stack.mails() if m["To"] == "offline.family@example.jp"])

    def phone_channel():
        manager = signed_in(stack)  # the office roles: the funnel is the manager's
        rows = manager.get(f"{stack.url('outreach')}/api/v1/funnel", params=funnel_period()).json()["channels"]
        row = next((r for r in rows if r["channel"] == "phone"), {})
        return row if row.get("visited") else None

    # Only this test of the module records a visit: one visited, one person applied.
    row = wait_until(phone_channel, timeout=30)
    assert (row["visited"], row["persons_applied"]) == (1, 1)


def test_a_form_with_mistakes_says_what_to_fix_next_to_each_field_and_keeps_what_was_typed(stack, portal):
    async def mistakes(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.goto(f"{portal}/reception/bookings/new")
        await fill_applicant(page, 0, ("高城", "", "たかじょう", "タロウ"), "昭和70年1月1日")
        await page.get_by_role("textbox", name=re.compile("^電話番号")).fill("0986-22-1")
        await page.get_by_role("button", name="この内容で受け付ける").click()

        summary = page.get_by_role("alert")
        await expect(summary).to_be_focused()  # the person hears the summary first
        for message in (
            "1人目の氏名（名）を入力してください。",
            "昭和にその日付はありません。",
            "電話番号の形式が正しくありません",
            "個人情報の取扱いへの同意が必要です。",
        ):
            await expect(summary).to_contain_text(message)
        await expect(page.locator("#a0_birth_date")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#a0_family_name")).to_have_value("高城")
        await expect(page.locator("#a0_family_name_kana")).to_have_value("タカジョウ")
        assert (await page.title()).startswith("エラー：")
        await check_page(page, "household-form-errors")
        await summary.get_by_role("link", name=re.compile("生年月日")).click()
        await expect(page.locator("#a0_birth_date")).to_be_focused()

    run(mistakes)
    assert bookings_by_phone(stack, "0986-22-1111") == []


def test_a_booking_can_be_taken_and_fixed_with_the_keyboard_alone(stack, portal):
    async def keyboard_only(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.goto(f"{portal}/reception/phone")
        keyboard = page.keyboard

        async def tab_to(element_id: str, limit: int = 60) -> None:
            for _ in range(limit):
                await keyboard.press("Tab")
                if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
                    return
            raise AssertionError(f"Tab never reached #{element_id}")

        await tab_to("phone")
        await keyboard.type("090-5555-0101")
        await keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="この電話番号の申込はありません")).to_be_focused()
        for _ in range(10):
            await keyboard.press("Tab")
            if await page.evaluate("document.activeElement.textContent") == "新しい申込を入力する":
                break
        await keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="新しい申込（電話受付）")).to_be_visible()
        for element_id, text in (
            ("a0_family_name", "山田"),
            ("a0_given_name", "次郎"),
            ("a0_family_name_kana", "やまだ"),
            ("a0_given_name_kana", "じろう"),
            ("a0_birth_date", "S10.1.5"),
            ("postal_code", "8850000"),
        ):
            await tab_to(element_id)
            await keyboard.type(text)
        await tab_to("district")
        for _ in range(14):  # 山田 is the fourteenth district in the list
            await keyboard.press("ArrowDown")
        await expect(page.locator("#district")).to_have_value("yamada")
        await tab_to("address_line")
        await keyboard.type("山田町中霧島 1")
        await tab_to("consent")
        await keyboard.press("Space")
        await keyboard.press("Shift+Tab")
        await keyboard.press("Shift+Tab")  # back in a text field (配慮事項 is a textarea: into 住所)
        await expect(page.locator("#email")).to_be_focused()
        await keyboard.press("Enter")  # Enter in a field saves (not "add an applicant")
        await expect(page.get_by_text("申込を受け付けました")).to_be_visible()
        await tab_to("offer-1")
        await keyboard.press("Tab")
        await keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="日時を確定しました")).to_be_visible()

    run(keyboard_only)
    [booking] = bookings_by_phone(stack, "090-5555-0101")
    assert booking["household"]["applicants"][0]["birth_date"] == "1935-01-05"
    assert booking["household"]["address"]["district"] == "yamada"


def test_a_crew_member_opening_a_reception_page_gets_a_japanese_refusal(stack, portal):
    async def crew(page: Page) -> None:
        await sign_in(page, portal, CREW)
        response = await page.goto(f"{portal}/reception/phone")
        assert response.status == 403
        await expect(page.get_by_role("heading", name="この画面を開く権限がありません")).to_be_visible()
        await check_page(page, "forbidden")
        response = await page.goto(f"{portal}/crew/day?date=not-a-date")
        assert response.status == 400
        await expect(page.get_by_role("heading", name="日付が正しくありません")).to_be_visible()

    run(crew)


def test_signed_out_pages_send_the_person_to_sign_in_and_a_stale_form_is_refused(stack, portal):
    async def stale(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.goto(f"{portal}/reception/phone")
        csrf = await page.locator("input[name=csrf_token]").first.get_attribute("value")
        await sign_out(page)
        await page.goto(f"{portal}/reception/waiting")
        await expect(page.get_by_role("heading", name="ログイン（開発用の認証画面）")).to_be_visible()
        assert await accessibility_violations(page) == []
        # After signing in again, the page asked for before is where the person lands.
        await page.get_by_label(RECEPTION).check()
        await page.get_by_role("button", name="ログイン").click()
        await expect(page.get_by_role("heading", name=re.compile("未調整の申込"))).to_be_visible()
        await check_page(page, "waiting")
        # A form from the old session (its CSRF token) is refused with a page that says what to do.
        answer = await page.request.post(f"{portal}/reception/phone", form={"csrf_token": csrf, "phone": "0986224141"})
        assert answer.status == 400
        assert "画面の有効期限が切れました" in await answer.text()

    run(stale)


def test_pages_are_strict_about_what_they_load_and_where_they_may_be_shown(stack, portal):
    answer = requests.get(f"{portal}/signed-out", timeout=5)
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(f"{portal}/static/portal.css", timeout=5).status_code == 200
    assert requests.get(f"{portal}/static/..%2Fservice.py", timeout=5).status_code == 404


def test_reception_finds_a_booking_by_phone_sees_its_messages_and_cancels_it_with_a_reason(stack, portal):
    visit_id, _ = booked_and_fixed(stack, "0986-22-6161", "cancel.family@example.jp")
    office = signed_in(stack)
    [booking] = bookings_by_phone(stack, "0986-22-6161")
    notifications = f"{stack.url('notification')}/api/v1/notifications"
    wait_until(
        lambda: (
            len(office.get(notifications, params={"booking_id": booking["booking_id"]}).json()["notifications"]) >= 2
        )
    )

    async def reception(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.goto(f"{portal}/reception/phone")
        await page.get_by_label("電話番号").fill("0986226161")
        await page.get_by_role("button", name="この番号で探す").click()
        await expect(page.get_by_role("heading", name="この電話番号で受付中の申込が1件あります")).to_be_visible()
        await page.get_by_role("link", name=booking["reference"]).click()
        await expect(page.get_by_role("heading", name=re.compile(f"^申込 {booking['reference']}"))).to_be_visible()
        history = page.get_by_role("table", name="お知らせの記録")
        await expect(history).to_contain_text("受付のお知らせ")
        await expect(history).to_contain_text("日時確定のお知らせ")
        await expect(page.get_by_role("link", name="日時を変更する")).to_be_visible()
        await check_page(page, "booking")
        await page.get_by_role("button", name="この申込を取り消す").click()
        await expect(page.get_by_role("alert")).to_contain_text("取り消す理由を選んでください。")
        await page.get_by_label("ご本人・ご家族の申し出").check()
        await page.get_by_role("button", name="この申込を取り消す").click()
        await expect(page.get_by_text("この申込を取り消しました")).to_be_visible()
        await expect(page.locator(".summary")).to_contain_text("取消")
        await check_page(page, "booking-cancelled")

    run(reception)
    visit_url = f"{stack.url('scheduling')}/api/v1/visits/{visit_id}"
    assert wait_until(lambda: office.get(visit_url).json()["status"] == "cancelled")
    [cancelled] = bookings_by_phone(stack, "0986-22-6161")
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "resident_request"


def test_the_days_calls_are_listed_with_whom_to_call_and_marked_done(stack, portal):
    _, day = booked_and_fixed(stack, "0986-22-7171", "calls.family@example.jp")
    office = signed_in(stack)
    [booking] = bookings_by_phone(stack, "0986-22-7171")
    tasks = f"{stack.url('notification')}/api/v1/call-tasks"

    def task():
        found = office.get(tasks, params={"date": day}).json()["call_tasks"]
        return next((t for t in found if t["booking_id"] == booking["booking_id"]), None)

    task_id = wait_until(task)["task_id"]

    async def calls(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.goto(f"{portal}/calls?date={day}")
        item = page.locator(f"#task-{task_id}")
        await expect(item).to_contain_text(booking["reference"])
        await expect(item.get_by_role("link", name=re.compile("電話する"))).to_have_attribute("href", "tel:0986227171")
        await check_page(page, "calls")
        await item.get_by_label("連絡がついた").check()
        await item.get_by_role("button", name="記録する").click()
        await expect(page.locator(f"#task-{task_id}")).to_contain_text("済（連絡がついた）")

    run(calls)
    assert task()["status"] == "done" and task()["result"] == "reached"


def test_residents_without_email_are_listed_to_phone_with_what_to_say_until_told(stack, portal):
    office = signed_in(stack)
    answer = office.post(f"{stack.url('booking')}/api/v1/bookings", json=booking_body(phone="0986-22-8181", email=None))
    reference, booking_id = answer.json()["reference"], answer.json()["booking_id"]
    notifications = f"{stack.url('notification')}/api/v1/notifications"
    [message] = wait_until(lambda: office.get(notifications, params={"booking_id": booking_id}).json()["notifications"])
    wait_until(
        lambda: (
            office.get(notifications, params={"booking_id": booking_id}).json()["notifications"][0]["status"]
            == "to_call"
        )
    )

    async def reception(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.get_by_role("link", name="要電話").first.click()
        row = page.locator(f"#message-{message['message_id']}")
        await expect(row).to_contain_text("受付のお知らせ")
        await expect(row).to_contain_text(f"受付番号は {reference} です")
        await expect(row.get_by_role("link", name=re.compile("電話する"))).to_have_attribute("href", "tel:0986228181")
        await check_page(page, "to-call")
        await row.get_by_label("出なかった").check()
        await row.get_by_role("button", name="記録する").click()
        await expect(page.locator(f"#message-{message['message_id']}")).to_contain_text("1回")
        await page.locator(f"#message-{message['message_id']}").get_by_label("お伝えした").check()
        await page.locator(f"#message-{message['message_id']}").get_by_role("button", name="記録する").click()
        await expect(page.locator(f"#message-{message['message_id']}")).to_have_count(0)

    run(reception)
    [done] = office.get(notifications, params={"booking_id": booking_id}).json()["notifications"]
    assert done["status"] == "phoned" and [a["result"] for a in done["phone_attempts"]] == ["no_answer", "told"]


def test_a_batch_plan_is_made_reviewed_by_day_and_fixed_all_at_once(stack, portal):
    office = signed_in(stack)
    booked = []
    for n, district in enumerate(("山田", "山田", "高城")):
        body = booking_body(
            phone=f"0986-22-92{n:02d}", address={"postal_code": "885-0000", "district": district, "line": "1"}
        )
        booked.append(office.post(f"{stack.url('booking')}/api/v1/bookings", json=body).json()["booking_id"])
    visits = f"{stack.url('scheduling')}/api/v1/visits"
    for booking_id in booked:
        wait_until(lambda b=booking_id: office.get(visits, params={"booking_id": b}).json()["visits"])

    async def reception(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.get_by_role("link", name="まとめて計画").first.click()
        await page.get_by_label("何業務日分を計画しますか").fill("0")
        await page.get_by_role("button", name="計画の案を作る").click()
        await expect(page.get_by_role("alert")).to_contain_text("1〜60 で入力してください")
        await page.get_by_label("何業務日分を計画しますか").fill("5")
        await page.get_by_role("button", name="計画の案を作る").click()
        await expect(page.get_by_role("heading", name=re.compile("^計画の案"))).to_be_visible(timeout=60_000)
        await check_page(page, "plan")
        await page.get_by_role("button", name=re.compile("^未確定の案をすべて確定する")).click()
        await expect(page.get_by_role("status")).to_contain_text("件を確定しました")
        await expect(page.get_by_role("button", name=re.compile("^確定する"))).to_have_count(0)
        await check_page(page, "plan-fixed")

    run(reception)
    for booking_id in booked:
        [visit] = office.get(visits, params={"booking_id": booking_id}).json()["visits"]
        assert visit["status"] == "scheduled", visit


def test_an_offer_taken_meanwhile_is_refused_with_fresh_offers_on_the_same_page(stack, portal):
    office = signed_in(stack)
    answer = office.post(f"{stack.url('booking')}/api/v1/bookings", json=booking_body(phone="0986-22-9393"))
    booking_id = answer.json()["booking_id"]
    visits = f"{stack.url('scheduling')}/api/v1/visits"
    wait_until(lambda: office.get(visits, params={"booking_id": booking_id}).json()["visits"])

    async def reception(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.goto(f"{portal}/reception/bookings/{booking_id}/offers")
        first = page.get_by_role("radio").first
        await expect(first).to_be_checked()
        chosen_label = await page.locator(".offer__when").first.inner_text()
        crew_id, start = (await first.get_attribute("value")).split("|")
        # Meanwhile another receptionist gives that very window to another household.
        other = office.post(f"{stack.url('booking')}/api/v1/bookings", json=booking_body(phone="0986-22-9494"))
        other_id = other.json()["booking_id"]
        [other_visit] = wait_until(lambda: office.get(visits, params={"booking_id": other_id}).json()["visits"])
        taken = office.post(f"{visits}/{other_visit['visit_id']}/slot", json={"crew_id": crew_id, "start": start})
        assert taken.status_code == 200, taken.text
        await page.get_by_role("button", name="この日時で確定する").click()
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("日時を確定できませんでした")
        await expect(alert).to_contain_text("新しい候補から選んでください")
        fresh = [await label.inner_text() for label in await page.locator(".offer__when").all()]
        assert fresh and chosen_label not in fresh
        await check_page(page, "offers-clash")
        await page.get_by_role("button", name="この日時で確定する").click()
        await expect(page.get_by_role("heading", name="日時を確定しました")).to_be_visible()

    run(reception)
    [visit] = office.get(visits, params={"booking_id": booking_id}).json()["visits"]
    assert visit["status"] == "scheduled"


def test_the_waiting_list_puts_a_request_at_risk_of_its_bound_first_with_the_reason(stack, portal):
    """A plan that found no room names a request at risk (unit-tested in test_wait_risk); here the
    mark is set in scheduling's database as such a plan leaves it, and reception must see it."""
    import datetime as dt

    import pymongo

    office = signed_in(stack)
    answer = office.post(f"{stack.url('booking')}/api/v1/bookings", json=booking_body(phone="0986-22-9595"))
    booking_id = answer.json()["booking_id"]
    visits = f"{stack.url('scheduling')}/api/v1/visits"
    [visit] = wait_until(lambda: office.get(visits, params={"booking_id": booking_id}).json()["visits"])
    client = pymongo.MongoClient(stack.database_uri, serverSelectionTimeoutMS=5000)
    [database] = [name for name in client.list_database_names() if name.endswith("scheduling")]
    risk = {"reason": "over_capacity", "plan_id": "e2e", "said_at": dt.datetime.now(dt.UTC)}
    client[database].visits.update_one({"_id": visit["visit_id"]}, {"$set": {"wait_risk": risk}})
    listed = office.get(visits, params={"at_risk": "true"}).json()["visits"]
    assert [v["visit_id"] for v in listed] == [visit["visit_id"]]

    async def reception(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.get_by_role("link", name="未調整の申込").first.click()
        notice = page.get_by_role("note")
        await expect(notice).to_contain_text("上限の20業務日を超えるおそれがある申込（1件）")
        await expect(notice).to_contain_text(f"{visit['reference']}（高崎・上限")
        await expect(notice).to_contain_text("申込が多く、上限の日までに車の空きがありません")
        row = page.get_by_role("row").filter(has_text=visit["reference"])
        await expect(row).to_contain_text("上限超えのおそれ")
        await check_page(page, "waiting-at-risk")
        await page.goto(f"{portal}/reception/bookings/{booking_id}/offers")
        await expect(page.get_by_role("note")).to_contain_text("を超えるおそれがあります")
        await check_page(page, "offers-at-risk")

    run(reception)
    client[database].visits.update_one({"_id": visit["visit_id"]}, {"$set": {"wait_risk": None}})
