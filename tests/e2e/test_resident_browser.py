"""The residents' pages used as a resident (or a family member) uses them: Debian's chromium against
the services as `make run` starts them, axe-core on every page, screenshots at a phone's and a
desktop's width. The questions come first, then the household; the private link in the e-mail
shows the booking and cancels it; reception's screen sees the cancellation."""

from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.async_api import Page, expect

from tests.bus import wait_until
from tests.e2e.browser import PUBLIC_SIZES, check_page, run, sign_in
from tests.factories import booking_body, signed_in

pytestmark = pytest.mark.e2e

OFFICE_PHONE = "0986-23-2111"  # the demo configuration's office number
LINK = re.compile(r"https?://[^\s/]+/my/([A-Za-z0-9._-]+)")


@pytest.fixture
def portal(stack) -> str:
    return stack.url("portal")


async def check(page: Page, name: str) -> None:
    await check_page(page, f"public-{name}", PUBLIC_SIZES)


async def answer_the_questions(page: Page, portal: str, postal_code: str = "885-0021") -> None:
    await page.goto(f"{portal}/apply")
    await page.get_by_label("お住まいの郵便番号を教えてください").fill(postal_code)
    await page.get_by_role("button", name="次へ進む").click()
    await page.get_by_label("高齢のため（おおむね65歳以上）").check()
    await page.get_by_role("button", name="次へ進む").click()
    await (
        page.get_by_role("group", name="ご自宅の近くに、訪問の車を止める場所はありますか").get_by_label("はい").check()
    )
    await page.get_by_role("button", name="次へ進む").click()
    await page.get_by_role("group", name="2か月以内に、引っ越しのご予定はありますか").get_by_label("いいえ").check()
    await page.get_by_role("button", name="次へ進む").click()
    await expect(page.get_by_role("heading", name="申請する方とご連絡先を入力してください")).to_be_visible()


async def fill_applicant(page: Page, index: int, names: tuple[str, str, str, str], birth: str) -> None:
    group = page.get_by_role("group", name=f"申請する方 {index + 1}人目")
    for label, text in zip(("お名前（姓）", "お名前（名）", "フリガナ（姓）", "フリガナ（名）"), names, strict=True):
        await group.get_by_label(label).fill(text)
    await group.get_by_label("生年月日").fill(birth)


def bookings_by_phone(stack, phone: str) -> list[dict]:
    answer = signed_in(stack, "reception").get(f"{stack.url('booking')}/api/v1/bookings", params={"phone": phone})
    return answer.json()["bookings"]


def test_a_resident_books_prints_what_to_prepare_and_cancels_from_the_link_in_the_email(stack, portal):
    email, phone = "fumiko.web@example.jp", "0986-25-7070"
    seen: dict[str, str] = {}

    async def book(page: Page) -> None:
        await page.goto(f"{portal}/")
        await expect(
            page.get_by_role("heading", name="マイナンバーカードの申請を、ご自宅でお手伝いします")
        ).to_be_visible()
        await check(page, "landing")
        await page.get_by_role("link", name="申し込みを始める").click()

        # One question per page; an empty answer is told plainly and focused.
        await check(page, "question-postal-code")
        await page.get_by_role("button", name="次へ進む").click()
        await expect(page.get_by_role("alert")).to_contain_text("郵便番号を入力してください。")
        await check(page, "question-postal-code-error")
        await page.get_by_label("お住まいの郵便番号を教えてください").fill("８８５００２１")  # full-width, as typed
        await page.get_by_role("button", name="次へ進む").click()
        await check(page, "question-reasons")
        await page.get_by_label("介護が必要なため（要介護・要支援の認定）").check()
        await page.get_by_role("button", name="次へ進む").click()
        await check(page, "question-parking")
        await page.get_by_label("はい").check()
        await page.get_by_role("button", name="次へ進む").click()
        await check(page, "question-moving")
        await page.get_by_label("いいえ").check()
        await page.get_by_role("button", name="次へ進む").click()

        # The household: the postal code carried over; a child without a guardian is refused.
        await expect(page.get_by_label("郵便番号")).to_have_value("885-0021")
        await check(page, "household")
        await fill_applicant(page, 0, ("都城", "ふみ子", "みやこのじょう", "ふみこ"), "昭和15年5月5日")
        await page.get_by_role("button", name="申請する方をもう1人追加する").click()
        await fill_applicant(page, 1, ("都城", "大翔", "ミヤコノジョウ", "ヒロト"), "2016-08-01")
        await page.get_by_label("電話番号").fill(phone)
        await page.get_by_label("メールアドレス").fill(email)
        await page.get_by_role("combobox", name=re.compile("お住まいの地区")).select_option(label="姫城")
        await page.get_by_label("ご住所（町名から）").fill("姫城町 6-21")
        await page.get_by_label("上のとおり使うことに同意します").check()
        await page.get_by_role("button", name="この内容で申し込む").click()
        summary = page.get_by_role("alert")
        await expect(summary).to_contain_text("15歳未満の方の申請には、保護者の方の立ち会いが必要です。")
        await expect(page.get_by_label("フリガナ（姓）").first).to_have_value("ミヤコノジョウ")
        await check(page, "household-errors")
        await summary.get_by_role("link").first.click()
        await expect(page.get_by_label("訪問の日に、保護者が立ち会います")).to_be_focused()
        await page.get_by_label("訪問の日に、保護者が立ち会います").check()
        await page.get_by_role("button", name="この内容で申し込む").click()

        # Received: the reference and code to note down, and the way to what to prepare.
        await expect(page.get_by_role("heading", name="お申し込みを受け付けました")).to_be_visible()
        seen["reference"], seen["code"] = [await e.inner_text() for e in await page.locator(".reference").all()]
        await expect(page.locator(".facts")).to_contain_text("受け付けました。訪問の日時を調整しています")
        await expect(page.locator(".facts")).to_contain_text("姫城")
        await expect(page.locator("main")).not_to_contain_text("都城 ふみ子")  # the given name only
        await check(page, "booked")
        await page.get_by_role("link", name="当日ご用意いただくもの（持ち物）").click()
        await expect(page.get_by_role("heading", name="本人確認書類", exact=True)).to_be_visible()
        await expect(page.get_by_role("heading", name=re.compile("保護者の方の本人確認書類"))).to_be_visible()
        await check(page, "prepare")
        # Printed: the page's own content only, on paper.
        await page.emulate_media(media="print")
        await expect(page.locator(".site-header")).to_be_hidden()
        await expect(page.get_by_role("button", name="このページを印刷する")).to_be_hidden()
        pdf = await page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
        await page.emulate_media(media="screen")

    run(book)
    assert re.fullmatch(r"\d{6}-\d{3}", seen["reference"]) and re.fullmatch(r"\d{6}", seen["code"])
    [booking] = bookings_by_phone(stack, phone)
    assert booking["channel"] == "web" and booking["reference"] == seen["reference"]
    assert booking["eligibility"] == {
        "reasons": ["care_needed"],
        "parking": True,
        "moving_soon": False,
        "guardian_present": True,
    }
    assert [a["family_name_kana"] for a in booking["household"]["applicants"]] == ["ミヤコノジョウ"] * 2

    # The acknowledgement holds the private link and the list of what to prepare.
    [mail] = wait_until(lambda: [m for m in stack.mails() if m["To"] == email] or None, timeout=30)
    text = mail.get_content()
    assert "【当日ご用意いただくもの】" in text and "保護者の方の本人確認書類" in text
    link = LINK.search(text)
    assert link, text

    async def cancel(page: Page) -> None:
        await page.goto(link.group(0).replace(link.group(0).split("/my/")[0], portal))
        await expect(page.get_by_role("heading", name="ふみ子 様のお申し込み")).to_be_visible()
        await check(page, "own")
        await page.get_by_role("link", name="お申し込みを取り消す").click()
        await check(page, "cancel")
        await page.get_by_role("button", name="取り消す").click()
        await expect(page.get_by_role("alert")).to_contain_text("取り消す理由を選んでください。")
        await check(page, "cancel-error")
        await page.get_by_label("都合が悪くなった").check()
        await page.get_by_role("button", name="取り消す").click()
        await expect(page.get_by_role("heading", name="お申し込みを取り消しました")).to_be_visible()
        await expect(page.locator(".facts")).to_contain_text("取り消しました")
        await expect(page.get_by_role("link", name="お申し込みを取り消す")).to_have_count(0)
        await check(page, "cancelled")

        # Reception's screen shows it cancelled.
        await sign_in(page, portal, "受付（demo-reception）")
        await page.goto(f"{portal}/reception/bookings/{booking['booking_id']}")
        await expect(page.locator(".summary")).to_contain_text("取消")
        await expect(page.get_by_text("理由：介護が必要なため（要介護・要支援の認定）")).to_be_visible()

    run(cancel)
    [after] = bookings_by_phone(stack, phone)
    assert after["status"] == "cancelled" and after["cancel_reason"] == "resident_request"
    assert after["cancel_detail"] == "schedule_changed"
    # Each look by the link is in the audit log, as the resident's, never as a staff member's.
    entries = (
        signed_in(stack, "manager")
        .get(f"{stack.url('booking')}/api/v1/audit", params={"booking_id": booking["booking_id"]})
        .json()["entries"]
    )
    mine = [e for e in entries if e["role"] == "resident"]
    assert {e["action"] for e in mine} == {"read", "change"}
    assert any(e["purpose"] == "cancel (schedule_changed)" for e in mine)


def test_a_no_to_a_question_stops_with_the_reason_and_the_offices_number(stack, portal):
    async def scenario(page: Page) -> None:
        # A postal code outside the city.
        await page.goto(f"{portal}/apply")
        await page.get_by_label("お住まいの郵便番号を教えてください").fill("880-0805")
        await page.get_by_role("button", name="次へ進む").click()
        await expect(page.get_by_role("heading", name=re.compile("ご利用いただけません"))).to_be_visible()
        await expect(page.locator("main")).to_contain_text("都城市にお住まいの方のためのサービスです。")
        await expect(page.locator("main").get_by_role("link", name=OFFICE_PHONE)).to_have_attribute(
            "href", f"tel:{OFFICE_PHONE}"
        )
        await check(page, "stop-outside")
        # "Change the answer" goes back to the same question with it filled in.
        await page.get_by_role("button", name="答えを直す").click()
        await expect(page.get_by_label("お住まいの郵便番号を教えてください")).to_have_value("880-0805")

        # No place for the car to stop.
        await page.get_by_label("お住まいの郵便番号を教えてください").fill("885-0011")
        await page.get_by_role("button", name="次へ進む").click()
        await page.get_by_label("あてはまるものはない").check()
        await page.get_by_role("button", name="次へ進む").click()
        await expect(page.locator("main")).to_contain_text(
            "市役所の窓口へお越しになるのが難しい方のためのサービスです。"
        )
        await page.get_by_role("button", name="答えを直す").click()
        await page.get_by_label("あてはまるものはない").uncheck()
        await page.get_by_label("障がいがあるため").check()
        await page.get_by_role("button", name="次へ進む").click()
        await page.get_by_label("いいえ").check()
        await page.get_by_role("button", name="次へ進む").click()
        await expect(page.locator("main")).to_contain_text("車を止める場所が必要です。")
        await check(page, "stop-parking")
        # Going back keeps the earlier answers.
        await page.get_by_role("button", name="答えを直す").click()
        await page.get_by_label("はい").check()
        await page.get_by_role("button", name="次へ進む").click()
        await page.get_by_role("button", name="前の質問に戻る").click()
        await expect(page.get_by_label("はい")).to_be_checked()

    run(scenario)


def test_the_questions_and_the_form_work_by_keyboard_alone(stack, portal):
    phone = "0986-25-7171"

    async def scenario(page: Page) -> None:
        await page.goto(f"{portal}/")
        await page.keyboard.press("Tab")  # the skip link first
        await expect(page.get_by_role("link", name="本文へ移動")).to_be_focused()
        await page.goto(f"{portal}/apply")
        await expect(page.get_by_label("お住まいの郵便番号を教えてください")).to_be_focused()
        await page.keyboard.type("885-0021")
        await page.keyboard.press("Enter")
        await page.get_by_label("高齢のため（おおむね65歳以上）").focus()
        await page.keyboard.press("Space")
        await page.keyboard.press("Enter")
        for step in ("ご自宅の近くに、訪問の車を止める場所はありますか", "2か月以内に、引っ越しのご予定はありますか"):
            await expect(page.get_by_role("heading", name=step)).to_be_visible()
            await page.keyboard.press("Tab")  # into the radio group (after the skip link and the site name)
            while not await page.evaluate("document.activeElement.type === 'radio'"):
                await page.keyboard.press("Tab")
            # The first option is はい; for the move question the answer is いいえ (arrow to it).
            await page.keyboard.press("Space" if "車" in step else "ArrowDown")
            await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="申請する方とご連絡先を入力してください")).to_be_visible()
        for label, text in (
            ("お名前（姓）", "都城"),
            ("お名前（名）", "キー子"),
            ("フリガナ（姓）", "ミヤコノジョウ"),
            ("フリガナ（名）", "キーコ"),
            ("生年月日", "S20.1.15"),
            ("電話番号", phone),
            ("ご住所（町名から）", "姫城町 1-1"),
        ):
            await page.get_by_label(re.compile(f"^{re.escape(label)}")).first.focus()
            await page.keyboard.type(text)
        await page.get_by_role("combobox", name=re.compile("お住まいの地区")).focus()
        await page.keyboard.press("ArrowDown")
        await page.get_by_label("上のとおり使うことに同意します").focus()
        await page.keyboard.press("Space")
        await page.get_by_label("ご住所（町名から）").focus()
        await page.keyboard.press("Enter")  # Enter in a field saves, it does not add an applicant
        await expect(page.get_by_role("heading", name="お申し込みを受け付けました")).to_be_visible()

    run(scenario)
    [booking] = bookings_by_phone(stack, phone)
    assert booking["household"]["applicants"][0]["birth_date"] == "1945-01-15"
    assert booking["household"]["address"]["district"] == "himeki"  # the first district in the list


def test_the_phone_code_opens_the_own_page_and_a_bad_or_altered_link_gets_a_japanese_page(stack, portal):
    booked = signed_in(stack, "reception").post(
        f"{stack.url('booking')}/api/v1/bookings",
        json=booking_body(phone="0986-25-7272"),
    )
    assert booked.status_code == 201, booked.text
    reference, link = booked.json()["reference"], booked.json()["link"]

    async def scenario(page: Page) -> None:
        await page.goto(f"{portal}/my")
        await check(page, "code")
        await page.get_by_label("受付番号").fill(reference)
        await page.get_by_label("確認コード").fill("000000" if link["code"] != "000000" else "111111")
        await page.get_by_role("button", name="確認する").click()
        await expect(page.get_by_role("alert")).to_contain_text("受付番号または確認コードが違います")
        await check(page, "code-error")
        await page.get_by_label("確認コード").fill(link["code"])
        await page.get_by_role("button", name="確認する").click()
        await expect(page.get_by_role("heading", name="花子 様のお申し込み")).to_be_visible()

        # A link with one character changed: the Japanese page, with the phone number.
        token = link["token"]
        altered = token[:2] + ("A" if token[2] != "A" else "B") + token[3:]  # the signed id changed
        await page.goto(f"{portal}/my/{altered}")
        await expect(page.get_by_role("heading", name="このページを開けませんでした")).to_be_visible()
        await expect(page.locator("main")).to_contain_text(OFFICE_PHONE)
        await check(page, "link-invalid")

    run(scenario)
    assert requests.get(f"{portal}/my/{link['token'][:-3]}xyz", timeout=5).status_code == 401


def test_an_expired_link_gets_its_own_page(stack, portal, monkeypatch):
    """A link signed LINK_DAYS and a day ago, with the stack's own key (as booking would have)."""
    from services.booking import links
    from shared import sealing

    booked = signed_in(stack, "reception").post(
        f"{stack.url('booking')}/api/v1/bookings",
        json=booking_body(phone="0986-25-7373"),
    )
    monkeypatch.setenv("DATA_KEYS_FILE", str(stack.auth.data_keys_path))
    monkeypatch.delenv("DATA_KEYS", raising=False)
    sealing.reset()
    long_ago = time.time() - (links.link_days() + 1) * 86400
    with monkeypatch.context() as signing_then:
        signing_then.setattr("itsdangerous.timed.TimestampSigner.get_timestamp", lambda self: int(long_ago))
        old = links.token_for(booked.json()["booking_id"])
    sealing.reset()

    async def scenario(page: Page) -> None:
        await page.goto(f"{portal}/my/{old}")
        await expect(page.get_by_role("heading", name="このページの有効期限が切れています")).to_be_visible()
        await check(page, "link-expired")

    run(scenario)


def test_a_resident_picks_a_window_on_their_page_or_asks_for_other_days(stack, portal):
    office = signed_in(stack, "reception")
    made = {}
    for name, phone in (("picks", "0986-25-7474"), ("asks", "0986-25-7575")):
        answer = office.post(f"{stack.url('booking')}/api/v1/bookings", json=booking_body(phone=phone, email=None))
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()
    seen: dict[str, str] = {}

    def visit_of(name: str) -> dict:
        """The booking's visit, or {} while scheduling has not yet heard of it (the event is on its way)."""
        found = office.get(f"{stack.url('scheduling')}/api/v1/visits", params={"booking_id": made[name]["booking_id"]})
        return next(iter(found.json()["visits"]), {})

    wait_until(lambda: visit_of("picks") and visit_of("asks"))

    async def scenario(page: Page) -> None:
        await page.goto(f"{portal}/my/{made['picks']['link']['token']}")
        choices = page.get_by_role("group", name=re.compile("都合のよい日時を1つ選んで"))
        await expect(choices.get_by_role("radio").first).to_be_visible()
        # The expected date, as reception would read it out (ADR 21).
        await expect(page.locator(".expected")).to_contain_text(re.compile(r"\d+月\d+日（.）ごろまで"))
        await check(page, "own-choices")
        await page.get_by_role("button", name="この日時にする").click()
        await expect(page.get_by_role("alert")).to_contain_text("日時を選んでから")
        await check(page, "own-choices-error")
        first = choices.get_by_role("radio").first
        seen["label"] = await page.locator(f"label[for='{await first.get_attribute('id')}'] strong").inner_text()
        await first.check()
        await page.get_by_role("button", name="この日時にする").click()
        await expect(page.get_by_role("heading", name="訪問の日時が決まりました")).to_be_visible()
        await expect(page.locator(".facts")).to_contain_text(seen["label"])
        await expect(page.get_by_role("button", name="この日時にする")).to_have_count(0)  # nothing left to pick
        await check(page, "own-fixed")

        await page.goto(f"{portal}/my/{made['asks']['link']['token']}")
        await page.get_by_role("link", name=re.compile("ご都合のよい日を伝える")).click()
        await expect(page.get_by_role("heading", name="ご都合のよい日を教えてください")).to_be_visible()
        await page.get_by_role("button", name="この希望を伝える").click()
        await expect(page.get_by_role("alert")).to_contain_text("ご希望の日を1つ以上選んでください。")
        await check(page, "dates-error")
        day = page.get_by_role("group", name="第1希望").get_by_label("日にち")
        seen["wish"] = await day.locator("option").nth(2).get_attribute("value")
        await day.select_option(index=2)
        await page.get_by_role("group", name="第1希望").get_by_label("時間帯").select_option(label="午前")
        await check(page, "dates")
        await page.get_by_role("button", name="この希望を伝える").click()
        await expect(page.get_by_role("heading", name="ご希望の日を承りました")).to_be_visible()
        await check(page, "dates-saved")

    run(scenario)
    assert visit_of("picks")["status"] == "scheduled"
    assert visit_of("asks")["preferred"] == [{"date": seen["wish"], "period": "am"}]
